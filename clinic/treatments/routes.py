"""Logging, reading and editing a client's sessions. Every session URL names the client: 404 for anyone who may not
see them. And the session form's kit, the knowledge base's part of the form, public like the knowledge pages."""

import re

from flask import abort, current_app, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from clinic.access import get_client_for
from clinic.booking import appointment_to_log, complete_with_session
from clinic.changes import readable, record_history
from clinic.clock import clinic_today, local_now, to_local, to_utc
from clinic.concurrency import StaleRecordError
from clinic.extensions import db
from clinic.history import last_session
from clinic.intakes import newest_since_last_session, session_pain_regions
from clinic.kb import knowledge_base
from clinic.models import Appointment, Client, TreatmentSession
from clinic.models.draft import NEW_SESSION
from clinic.params import parse_record_id
from clinic.templating import format_datetime
from clinic.treatments import bp
from clinic.treatments.forms import SessionForm, session_form
from clinic.treatments.mapping import fill_form, form_values, repeat_points
from clinic.treatments.page import KIT_VERSION_LENGTH, form_kit, form_page
from clinic.treatments.queries import (
    find_by_token,
    find_draft,
    get_session_for,
    sessions_near,
    token_used_for_another_client,
)
from clinic.treatments.services import (
    clean_draft_fields,
    create_session,
    discard_draft,
    new_submission_token,
    record_form_view,
    record_view,
    same_as_stored,
    save_draft,
    update_session,
)
from clinic.views import archived_refusal

SESSIONS = "/clients/<int:client_id>/sessions"
# The buttons that make the form work without JavaScript: they rebuild the page, they never save.
REBUILD_BUTTONS = ("suggest", "add_point", "add_row")
DEFAULT_LENGTH_MINUTES = 60
KIT_CACHE = "public, max-age=31536000, immutable"
KIT_VERSION = re.compile(f"[0-9a-f]{{{KIT_VERSION_LENGTH}}}")


@bp.before_request
def require_login():
    """Every session URL needs a login; the client check in each view gives 404 to anyone else. The form's kit
    does not: it holds the public knowledge base alone, as the knowledge pages do, one copy for everyone; and a
    form whose login has ended meanwhile still gets its picker."""
    if request.endpoint == "treatments.form_kit" or current_user.is_authenticated:
        return None
    return current_app.login_manager.unauthorized()  # what @login_required answers


@bp.route("/session-form-kit/<version>", endpoint="form_kit")
def form_kit_document(version: str):
    """The session form's kit (page.form_kit) for the form's script. The current version is kept by the browser
    for a year; an older one (a form opened before a new knowledge base was deployed) gets the current kit,
    checked again on each use. Anything not shaped like a version is not one: 404."""
    if not KIT_VERSION.fullmatch(version):
        abort(404)
    kit = form_kit(knowledge_base())
    response = make_response(kit.body)
    response.headers["Cache-Control"] = KIT_CACHE if version == kit.version else "no-cache"
    response.set_etag(kit.version)
    return response.make_conditional(request)


@bp.route(f"{SESSIONS}/new", methods=["GET", "POST"])
def create(client_id: int):
    client = get_client_for(current_user, client_id)
    if client.is_archived:
        return archived_refusal("logging a session", url_for("clients.detail", client_id=client.id))
    appointment = appointment_to_log(current_user, client, request.args.get("appointment"))
    if appointment is not None and appointment.session_id is not None and request.method == "GET":
        flash("A session was already logged from this appointment.", "info")
        return redirect(url_for("treatments.detail", client_id=client.id, session_id=appointment.session_id))
    draft = find_draft(current_user, client, NEW_SESSION)
    form = _form_from(draft)
    if request.method == "GET":
        record_form_view(client)
        if not _restoring(draft):
            _prefill_new(form, client, appointment)
    elif _rebuild_requested():
        _rebuild(form)
    elif form.validate_on_submit() and not _too_near(form, client, None):
        return _store_new(form, client, appointment)
    return _render_form(form, client, session=None, draft=draft)


def _restoring(draft) -> bool:
    return bool(draft and request.method == "GET" and request.args.get("draft"))


def _form_from(draft) -> SessionForm:
    """The form; on `?draft=1`, rebuilt from the therapist's own draft exactly as it was being typed."""
    if _restoring(draft):
        return session_form(knowledge_base(), clinic_today(), formdata=MultiDict(_pairs(draft.fields)))
    return session_form(knowledge_base(), clinic_today())


def _pairs(fields: dict) -> list[tuple[str, str]]:
    return [(name, value) for name, values in fields.items() for value in values]


def _too_near(form: SessionForm, client: Client, session: TreatmentSession | None) -> bool:
    """Another session of this client starts within NEAR_SESSION_MINUTES: ask once before saving."""
    if form.confirm_near.data:
        return False
    near = sessions_near(
        client,
        to_utc(form.started_at.data),
        exclude_id=session.id if session else None,
        exclude_token=form.submission_token.data,  # this very form, sent twice: the double-submit check answers
    )
    form.near_sessions = near
    return bool(near)


def _prefill_new(form: SessionForm, client: Client, appointment: Appointment | None = None) -> None:
    form.submission_token.data = new_submission_token()
    form.started_at.data = local_now()
    form.length_minutes.data = DEFAULT_LENGTH_MINUTES
    if appointment is not None:  # logged from the book: the appointment's date, time and length
        form.started_at.data = to_local(appointment.starts_at)
        form.length_minutes.data = appointment.length_minutes
        if not appointment.is_open:
            flash(f"This appointment is {appointment.status}: the session will be saved without changing it.", "info")
    previous = last_session(client) if request.args.get("repeat") else None
    if previous:
        repeat_points(form, previous)
        form.pain_regions.data = list(previous.pain_regions)
        flash("The points of the last session are filled in; enter this visit's pressure, pain and responses.", "info")
    _prefill_from_intake(form, client)


def _prefill_from_intake(form: SessionForm, client: Client) -> None:
    """The client's intake sent since the last session starts the form: where it hurts and the pain before."""
    intake = newest_since_last_session(client)
    if intake is None:
        return
    form.pain_regions.data = session_pain_regions(intake)
    form.pain_before.data = intake.pain_now
    flash(
        f"Pain before and the areas are filled in from the client's intake of {format_datetime(intake.submitted_at)}; "
        "check them with the client.",
        "info",
    )


def _store_new(form: SessionForm, client: Client, appointment: Appointment | None = None):
    """Store the session once, however often the form is sent (double clicks, Back and Save again)."""
    existing = find_by_token(client, form.submission_token.data)
    if existing is None and token_used_for_another_client(client, form.submission_token.data):
        return _token_conflict(form, client)
    if existing is None:
        try:
            session = create_session(client, current_user, form.submission_token.data, form_values(form))
            if appointment is not None and appointment.is_open:
                complete_with_session(appointment, session)
            discard_draft(current_user, client, NEW_SESSION)
            db.session.commit()
        except IntegrityError:
            # The same form was submitted twice at once and the other request stored it first.
            db.session.rollback()
            existing = find_by_token(client, form.submission_token.data)
            if existing is None:
                if token_used_for_another_client(client, form.submission_token.data):
                    return _token_conflict(form, client)
                raise
        else:
            flash("Session saved.", "success")
            return redirect(url_for("treatments.detail", client_id=client.id, session_id=session.id))
    if not same_as_stored(existing, form_values(form)):
        # Back, a change, Save again: keep the changes and offer them as an edit of the stored session.
        flash(
            "This session was already saved. Your changes are below: press Save to store them as an edit "
            "of that session.",
            "info",
        )
        form.version.data = str(existing.version)
        return _render_form(form, client, existing)
    flash("This session was already saved; it was not stored twice.", "info")
    return redirect(url_for("treatments.detail", client_id=client.id, session_id=existing.id))


def _token_conflict(form: SessionForm, client: Client):
    """The form's token saved a session of another client (a form copied or resent to another client's address):
    a conflict, answered with the typed session and a fresh token, never stored under the other client."""
    flash(
        "This form was already used to save a session for another client, so it was not saved here. "
        "Your entries are below: check they belong to this client, then press Save again.",
        "error",
    )
    form.submission_token.data = new_submission_token()
    return _render_form(form, client, session=None), 409


@bp.route(f"{SESSIONS}/<int:session_id>")
def detail(client_id: int, session_id: int):
    client = get_client_for(current_user, client_id)
    session = get_session_for(client, session_id)
    record_view(session)
    kb = knowledge_base()
    history = [(event, readable(event, kb)) for event in record_history("session", session.id)]
    return render_template("treatments/detail.html", client=client, session=session, kb=kb, history=history)


@bp.route(f"{SESSIONS}/<int:session_id>/edit", methods=["GET", "POST"])
def edit(client_id: int, session_id: int):
    client = get_client_for(current_user, client_id)
    session = get_session_for(client, session_id)
    if client.is_archived:
        return archived_refusal(
            "editing their sessions", url_for("treatments.detail", client_id=client.id, session_id=session.id)
        )
    draft = find_draft(current_user, client, str(session.id))
    form = _form_from(draft)
    if request.method == "GET":
        if not _restoring(draft):
            fill_form(form, session)
        record_view(session)
    elif _rebuild_requested():
        _rebuild(form)
    elif form.validate_on_submit() and not _too_near(form, client, session):
        try:
            changes = update_session(session, form_values(form), form.version.data)
            discard_draft(current_user, client, str(session.id))
        except StaleRecordError:
            db.session.rollback()
            if same_as_stored(session, form_values(form)):
                flash("Changes saved.", "success")  # a second click on Save: the first one stored it
                return redirect(url_for("treatments.detail", client_id=client.id, session_id=session.id))
            flash(
                "This session was changed by someone else while you were editing. Your changes are still below; "
                "check the saved version in another tab, then save again.",
                "error",
            )
            db.session.refresh(session)
            form.version.data = str(session.version)
            return _render_form(form, client, session, draft=draft), 409
        db.session.commit()
        flash("Changes saved." if changes else "Nothing had changed.", "success")
        return redirect(url_for("treatments.detail", client_id=client.id, session_id=session.id))
    return _render_form(form, client, session, draft=draft)


@bp.route(f"{SESSIONS}/draft", methods=["POST"])
def draft_save(client_id: int):
    """The form's script keeps the therapist's draft here as they type (JSON, with the CSRF header)."""
    client = get_client_for(current_user, client_id)
    body = request.get_json(silent=True) or {}
    scope = _draft_scope(client, body.get("scope"))
    fields = clean_draft_fields(body.get("fields"))
    if fields is None:
        return jsonify(error="fields must be an object of field names to lists of text"), 400
    draft = save_draft(current_user, client, scope, fields)
    db.session.commit()
    return jsonify(saved_at=draft.updated_at.isoformat())


@bp.route(f"{SESSIONS}/draft/discard", methods=["POST"])
def draft_discard(client_id: int):
    """Throw away the user's own draft (a form post, or JSON from the script); 404 when they have none."""
    client = get_client_for(current_user, client_id)
    body = request.get_json(silent=True) if request.is_json else request.form
    scope = _draft_scope(client, (body or {}).get("scope"))
    if not discard_draft(current_user, client, scope):
        abort(404)
    db.session.commit()
    if request.is_json:
        return jsonify(discarded=True)
    flash("The draft was discarded.", "info")
    if scope == NEW_SESSION:
        return redirect(url_for("treatments.create", client_id=client.id))
    return redirect(url_for("treatments.edit", client_id=client.id, session_id=int(scope)))


def _draft_scope(client: Client, scope) -> str:
    """ "new", or the id of a session of this client (404 for any other)."""
    if scope in (None, "", NEW_SESSION):
        return NEW_SESSION
    session_id = parse_record_id(scope)
    if session_id is None:
        abort(400)
    return str(get_session_for(client, session_id).id)


def _rebuild_requested() -> bool:
    return any(request.form.get(button) for button in REBUILD_BUTTONS)


def _rebuild(form: SessionForm) -> None:
    """Suggest muscles (the page does that from the ticked regions), or add a suggested point or an empty row."""
    point = request.form.get("add_point")
    if point:
        form.add_point({"trigger_point": point})  # the side is chosen on the row, never carried over
    elif request.form.get("add_row"):
        form.add_point()


def _render_form(form: SessionForm, client: Client, session: TreatmentSession | None, draft=None):
    if not form.points.entries or not form.points.entries[-1].form.is_blank():
        form.add_point()  # always one empty row to fill in
    action = url_for("treatments.edit", client_id=client.id, session_id=session.id) if session else ""
    scope = str(session.id) if session else NEW_SESSION
    return render_template(
        "treatments/form.html",
        form=form,
        client=client,
        session=session,
        action=action,
        draft=draft if draft and not _restoring(draft) else None,
        draft_scope=scope,
        **form_page(form, knowledge_base(), client, current_user, scope),
    )
