from flask import Blueprint

bp = Blueprint("charts", __name__)

from clinic.charts import routes  # noqa: E402,F401  (routes register themselves on bp)
