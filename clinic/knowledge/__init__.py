from flask import Blueprint

bp = Blueprint("knowledge", __name__)

from clinic.knowledge import routes  # noqa: E402,F401  (routes register themselves on bp)
