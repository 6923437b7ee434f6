from flask import Blueprint

bp = Blueprint("reports", __name__)

from clinic.reports import routes  # noqa: E402,F401  (routes register themselves on bp)
