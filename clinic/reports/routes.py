from flask import Response, abort, jsonify, render_template, request, stream_with_context
from flask_login import current_user, login_required

from clinic.access import get_client_for
from clinic.clock import clinic_today
from clinic.extensions import db
from clinic.history import export_batches, span, summary_points, summary_sessions, therapists_of
from clinic.kb import knowledge_base
from clinic.periods import PeriodError, parse_period, period_args
from clinic.reports import bp
from clinic.reports.services import (
    FHIR_MIMETYPE,
    FHIR_RELEASE,
    covered_span,
    export_filename,
    fhir_bundle,
    point_aggregates,
    record_export,
    record_summary_view,
    sessions_csv,
    summary_context,
    summary_outcomes,
)


@bp.before_request
@login_required
def require_login():
    """Reports carry client data: login, and the client check in each view gives 404 to anyone else."""


def _client_and_period(client_id: int):
    client = get_client_for(current_user, client_id)
    try:
        date_from, date_to = parse_period(request.args)
    except PeriodError as error:
        abort(400, description=str(error))
    return client, date_from, date_to


@bp.route("/clients/<int:client_id>/summary")
def summary(client_id: int):
    client, date_from, date_to = _client_and_period(client_id)
    # The audit row is committed before the history is loaded, so the commit expires nothing the page reads.
    record_summary_view(client, date_from, date_to)
    db.session.commit()
    sessions = summary_sessions(client, date_from, date_to)  # without points: read as tuples below
    kb = knowledge_base()
    points = summary_points(client, date_from, date_to)
    muscles, muscle_outcomes, statuses = point_aggregates(sessions, points, kb)
    context = summary_context(client, sessions, kb, date_from, date_to, muscles)
    return render_template(
        "reports/summary.html",
        period=period_args(date_from, date_to),
        today=clinic_today(),
        outcomes=summary_outcomes(client, sessions, muscle_outcomes, statuses, date_from, date_to),
        **context,
    )


@bp.route("/clients/<int:client_id>/summary/printed", methods=["POST"])
def summary_printed(client_id: int):
    """Called by the summary page when it is printed (or saved as PDF), for the audit log."""
    client, date_from, date_to = _client_and_period(client_id)
    record_summary_view(client, date_from, date_to, printed=True)
    db.session.commit()
    return jsonify(recorded=True)


@bp.route("/clients/<int:client_id>/export.csv")
def export_csv(client_id: int):
    client, date_from, date_to = _client_and_period(client_id)
    count, first, last = span(client, date_from, date_to)
    record_export(client, "csv", count, period_args(date_from, date_to))
    db.session.commit()  # the export is on record before any of it leaves
    name = export_filename(client, *covered_span(first, last, date_from, date_to), "sessions.csv")
    body = sessions_csv(client, export_batches(client, date_from, date_to), knowledge_base())
    return Response(
        stream_with_context(body),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(name)},
    )


@bp.route("/clients/<int:client_id>/export.fhir.json")
def export_fhir(client_id: int):
    client, date_from, date_to = _client_and_period(client_id)
    count, first, last = span(client, date_from, date_to)
    record_export(client, "fhir", count, period_args(date_from, date_to))
    db.session.commit()  # the export is on record before any of it leaves
    name = export_filename(client, *covered_span(first, last, date_from, date_to), f"fhir-{FHIR_RELEASE}.json")
    therapists = therapists_of(client, date_from, date_to)
    body = fhir_bundle(client, therapists, export_batches(client, date_from, date_to), knowledge_base())
    return Response(
        stream_with_context(body),
        content_type=FHIR_MIMETYPE,
        headers={"Content-Disposition": attachment(name)},
    )


def attachment(filename: str) -> str:
    """A download header; export_filename() makes names of ASCII letters, digits, '-', '_' and '.' only."""
    return f'attachment; filename="{filename}"'
