from flask import Blueprint

bp = Blueprint("treatments", __name__, url_prefix="/clients/<int:client_id>/sessions")

from clinic.treatments import routes  # noqa: E402,F401  (routes register themselves on bp)
