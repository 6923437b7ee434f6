from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from clinic.account import routes  # noqa: E402,F401  (routes register themselves on bp)
