from flask import Blueprint

# No url_prefix: the session URLs name their client (routes.SESSIONS); the form's kit names no one.
bp = Blueprint("treatments", __name__)

from clinic.treatments import routes  # noqa: E402,F401  (routes register themselves on bp)
