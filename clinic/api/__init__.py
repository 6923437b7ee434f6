from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from clinic.api import routes  # noqa: E402,F401  (routes register themselves on bp)
