from flask import Blueprint

# No URL prefix: the book lives under /appointments/, but the therapist's day is "/" and the feed /calendar/.
bp = Blueprint("appointments", __name__)

from clinic.appointments import routes  # noqa: E402,F401  (routes register themselves on bp)
