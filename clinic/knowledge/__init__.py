"""Public pages over the knowledge base (clinic.kb): the muscle list, a muscle's page and the symptom checker."""

from flask import Blueprint

bp = Blueprint("knowledge", __name__)

from clinic.knowledge import routes  # noqa: E402,F401  (routes register themselves on bp)
