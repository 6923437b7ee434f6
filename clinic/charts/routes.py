from flask import current_app, jsonify, request, send_file
from flask_login import current_user, login_required

from clinic import audit
from clinic.access import get_client_for
from clinic.charts import bp
from clinic.charts.services import pain_history_json
from clinic.extensions import db
from clinic.history import pain_history_rows
from clinic.intakes import intakes_in_period
from clinic.kb import knowledge_base
from clinic.models import AuditAction
from clinic.periods import PeriodError, parse_period, period_args

PLOTLY_JS = "plotly.min.js"


@bp.route("/clients/<int:client_id>/pain-history.json")
@login_required
def history(client_id: int):
    client = get_client_for(current_user, client_id)
    try:
        date_from, date_to = parse_period(request.args)
    except PeriodError as error:
        return jsonify(error="Bad Request", message=str(error)), 400
    sessions, points = pain_history_rows(client, date_from, date_to)
    body = pain_history_json(client, sessions, points, knowledge_base(), intakes_in_period(client, date_from, date_to))
    audit.record(
        AuditAction.VIEW,
        client=client,
        entity_type="pain-history",
        entity_id=client.id,
        details={"period": period_args(date_from, date_to)},
    )
    db.session.commit()
    # Compact and in the document's own key order (jsonify sorts every object's keys: a third of the time for a
    # 1,000-session record).
    return current_app.response_class(body, mimetype="application/json")


@bp.route("/vendor/plotly.min.js")
def plotly_js():
    """plotly.js as shipped inside the plotly Python package: served from here, never from a CDN."""
    import plotly

    path = current_app.config.get("PLOTLY_JS_PATH") or f"{plotly.__path__[0]}/package_data/{PLOTLY_JS}"
    return send_file(path, mimetype="text/javascript", max_age=86400)
