"""Client intake before the visit (DESIGN 11): the therapist's one-time links and reading views, and the
client's own form at /intake/<token>, which needs no login."""

from flask import Blueprint

bp = Blueprint("intake", __name__)

from clinic.intake import routes  # noqa: E402,F401  (routes register themselves on bp)
