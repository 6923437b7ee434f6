from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from clinic.clients.services import get_client_for
from clinic.clients.services import record_view as record_client_view
from clinic.clock import local_now
from clinic.extensions import db
from clinic.knowledge.services import knowledge_base, rank_candidates
from clinic.models import Client
from clinic.treatments import bp
from clinic.treatments.forms import PointForm
from clinic.treatments.services import (
    StaleSessionError,
    create_session,
    fill_form,
    find_by_token,
    form_values,
    get_session_for,
    last_session,
    new_submission_token,
    record_view,
    repeat_points,
    same_as_stored,
    session_form,
    session_form_data,
    update_session,
)
from clinic.views import archived_refusal

SUGGESTIONS = 6  # muscles suggested from the reported pain regions


@bp.before_request
@login_required
def require_login():
    """Every session URL needs a login; the client check in each view gives 404 to anyone else."""


@bp.route("/new", methods=["GET", "POST"])
def create(client_id: int):
    client = get_client_for(current_user, client_id)
    if client.is_archived:
        return archived_refusal("logging a session", url_for("clients.detail", client_id=client.id))
    kb = knowledge_base()
    form = session_form(kb)
    if request.method == "GET":
        record_client_view(client)  # the form shows the contraindications (and, repeating, the last points)
        db.session.commit()
        form.submission_token.data = new_submission_token()
        form.started_at.data = local_now()
        form.length_minutes.data = 60
        previous = last_session(client)
        if previous and request.args.get("repeat"):
            repeat_points(form, previous)
            form.pain_regions.data = list(previous.pain_regions)
            flash(
                "The points of the last session are filled in; enter this visit's pressure, pain and responses.", "info"
            )
    elif _rebuilds_form(form):
        pass
    elif form.validate_on_submit():
        existing = find_by_token(client, form.submission_token.data)
        if existing is None:
            try:
                session = create_session(client, current_user, form.submission_token.data, form_values(form))
                db.session.commit()
            except IntegrityError:
                # The same form was submitted twice at once and the other request stored it first.
                db.session.rollback()
                existing = find_by_token(client, form.submission_token.data)
                if existing is None:
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
    return _render_form(form, client, session=None)


@bp.route("/<int:session_id>")
def detail(client_id: int, session_id: int):
    client = get_client_for(current_user, client_id)
    session = get_session_for(client, session_id)
    record_view(session)
    db.session.commit()
    kb = knowledge_base()
    return render_template("treatments/detail.html", client=client, session=session, kb=kb)


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
def edit(client_id: int, session_id: int):
    client = get_client_for(current_user, client_id)
    session = get_session_for(client, session_id)
    if client.is_archived:
        return archived_refusal(
            "editing their sessions", url_for("treatments.detail", client_id=client.id, session_id=session.id)
        )
    form = session_form(knowledge_base())
    if request.method == "GET":
        fill_form(form, session)
        record_view(session)
        db.session.commit()
    elif _rebuilds_form(form):
        pass
    elif form.validate_on_submit():
        try:
            changes = update_session(session, form_values(form), form.version.data)
        except StaleSessionError:
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
            return _render_form(form, client, session), 409
        db.session.commit()
        flash("Changes saved." if changes else "Nothing had changed.", "success")
        return redirect(url_for("treatments.detail", client_id=client.id, session_id=session.id))
    return _render_form(form, client, session)


def _rebuilds_form(form) -> bool:
    """The no-JavaScript buttons: suggest muscles, add a suggested point or another empty row, without saving."""
    if request.form.get("suggest"):
        return True
    point = request.form.get("add_point")
    if point:
        form.add_point({"trigger_point": point, "side": _last_side(form)})
        return True
    if request.form.get("add_row"):
        form.add_point({"side": _last_side(form)})
        return True
    return False


def _last_side(form) -> str:
    filled = form.filled_points()
    return filled[-1].side.data if filled else "right"


def _render_form(form, client: Client, session):
    if not form.points.entries or not form.points.entries[-1].form.is_blank():
        form.add_point({"side": _last_side(form)})  # always one empty row to fill in
    kb = knowledge_base()
    blank_row = PointForm(prefix="points-__index__-")
    blank_row.trigger_point.choices = form.point_choices
    point_names = {
        point_id: f"{muscle.name}, point {point.number}" for point_id, (muscle, point) in kb.trigger_points.items()
    }
    return render_template(
        "treatments/form.html",
        form=form,
        client=client,
        session=session,
        kb=kb,
        action=url_for("treatments.edit", client_id=client.id, session_id=session.id) if session else "",
        suggestions=rank_candidates(kb, [r for r in form.pain_regions.data or [] if r in kb.regions])[:SUGGESTIONS],
        blank_row=blank_row,
        point_names=point_names,
        page_data=session_form_data(kb),
    )
