from flask import Blueprint

bp = Blueprint("clients", __name__, url_prefix="/clients")

from clinic.clients import routes  # noqa: E402,F401  (routes register themselves on bp)
