from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from clinic.access import get_client_for
from clinic.booking import client_visits, next_visits
from clinic.clients import bp
from clinic.clients.forms import AdminClientForm, ClientForm, ShareForm, SharingForm
from clinic.clients.services import (
    ClientListPage,
    archive_client,
    create_client,
    listed_clients,
    possible_duplicates,
    record_list_view,
    record_view,
    search_clients,
    set_sharing,
    therapists,
    unarchive_client,
    update_client,
)
from clinic.clock import clinic_today
from clinic.concurrency import StaleRecordError
from clinic.extensions import db
from clinic.figures import figures
from clinic.forms import ConfirmForm, as_choices
from clinic.history import NewestFirstPage, last_session, last_visits, recent_start, sessions_in_period
from clinic.intakes import client_panel
from clinic.kb import knowledge_base
from clinic.models import User
from clinic.outcomes import client_progress
from clinic.params import int_arg
from clinic.periods import PeriodError, parse_period, period_args
from clinic.rules import RECENT_SESSIONS
from clinic.views import archived_refusal


@bp.before_request
@login_required
def require_login():
    """Every client URL needs a login."""


ARCHIVED_MATCHES = 10  # archived clients listed under the results of a search


@bp.route("/")
def index():
    text = request.args.get("q", "")
    archived = request.args.get("show") == "archived"
    page = ClientListPage(
        query=search_clients(current_user, text, archived),
        page=int_arg("page") or 1,
        per_page=current_app.config["CLIENTS_PER_PAGE"],
        error_out=False,
    )
    # A search of active clients also finds archived ones, listed apart, as the search hint says.
    also_archived = (
        listed_clients(search_clients(current_user, text, archived=True), ARCHIVED_MATCHES)
        if text.strip() and not archived
        else []
    )
    listed = [client.id for client in [*page.items, *also_archived]]
    record_list_view(text, archived, page.page, listed)
    return render_template(
        "clients/index.html",
        page=page,
        q=text,
        archived=archived,
        also_archived=also_archived,
        today=clinic_today(),  # ages on the clinic's today, read once for the page rather than once a row
        visits=last_visits(listed),
        next_visits=next_visits(listed),
    )


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = _client_form()
    if form.validate_on_submit():
        duplicates = possible_duplicates(current_user, form.full_name.data, form.date_of_birth.data)
        if duplicates and not form.add_anyway.data:
            # A warning, not a refusal: twins and namesakes exist. Nothing typed is lost.
            return render_template("clients/form.html", form=form, client=None, duplicates=duplicates), 409
        therapist = _chosen_therapist(form) if current_user.is_admin else current_user
        client = create_client(form.data, therapist)
        db.session.commit()
        flash(f"{client.full_name} was added.", "success")
        return redirect(url_for("clients.detail", client_id=client.id))
    return render_template("clients/form.html", form=form, client=None)


@bp.route("/<int:client_id>")
def detail(client_id: int):
    client = get_client_for(current_user, client_id)
    record_view(client)
    try:
        date_from, date_to = parse_period(request.args)
        period_error = ""
    except PeriodError as error:
        date_from = date_to = None
        period_error = str(error)
    # No period asked for: a long record opens on its latest RECENT_SESSIONS sessions ("All time" shows all).
    recent = None
    if date_from is None and date_to is None and not period_error and request.args.get("all") != "1":
        recent = recent_start(client, RECENT_SESSIONS)
        date_from = recent
    # The period applies to every part of the page: the table, the figures and the charts.
    history = sessions_in_period(client, date_from, date_to)
    sessions = NewestFirstPage(
        page=int_arg("page") or 1, per_page=current_app.config["SESSIONS_PER_PAGE"], error_out=False, records=history
    )
    # An open-ended period that holds sessions holds the latest one.
    latest = history[-1] if history and date_to is None else last_session(client)
    state = client_progress(client, history, whole_record=date_from is None and date_to is None)
    kb = knowledge_base()
    return render_template(
        "clients/detail.html",
        client=client,
        sessions=sessions,
        confirm_form=ConfirmForm(),
        period={
            "from": date_from,
            "to": date_to,
            "error": period_error,
            "raw": request.args,
            "args": period_args(date_from, date_to),
            "recent": {"sessions": RECENT_SESSIONS, "from": recent} if recent else None,
        },
        progress=state,
        history_count=len(history),
        figures=figures(history, kb, state),
        visits=client_visits(client, latest),
        intake_panel=client_panel(client, history, kb, date_from, date_to),
    )


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
def edit(client_id: int):
    client = get_client_for(current_user, client_id)
    if client.is_archived:
        return archived_refusal("editing", url_for("clients.detail", client_id=client.id))
    form = ClientForm(obj=client)
    if request.method == "GET":
        form.version.data = str(client.version)
        record_view(client)  # the form shows the whole record
    if form.validate_on_submit():
        try:
            changes = update_client(client, form.data, form.version.data)
        except StaleRecordError:
            db.session.rollback()
            flash(
                "Someone else saved changes to this client while you were editing. "
                "Your changes are still below; open the client in a new tab to compare, then save again.",
                "error",
            )
            db.session.refresh(client)
            form.version.data = str(client.version)
            return render_template("clients/form.html", form=form, client=client), 409
        db.session.commit()
        flash("Changes saved." if changes else "Nothing had changed.", "success")
        return redirect(url_for("clients.detail", client_id=client.id))
    return render_template("clients/form.html", form=form, client=client)


@bp.route("/<int:client_id>/archive", methods=["GET", "POST"])
def archive(client_id: int):
    client = get_client_for(current_user, client_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        archive_client(client)
        db.session.commit()
        flash(f"{client.full_name} was archived. Their records are kept; restore them any time.", "success")
        return redirect(url_for("clients.index"))
    record_view(client, "archive confirmation")
    return render_template("clients/archive.html", client=client, form=form)


@bp.route("/<int:client_id>/unarchive", methods=["POST"])
def unarchive(client_id: int):
    client = get_client_for(current_user, client_id)
    if ConfirmForm().validate_on_submit():
        unarchive_client(client)
        db.session.commit()
        flash(f"{client.full_name} was restored.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))


@bp.route("/<int:client_id>/sharing", methods=["GET", "POST"])
def sharing(client_id: int):
    """The owner assigns any client and shares it; a therapist shares their own client with colleagues (to
    cover for them) and takes it back. A colleague the client is only shared with may not pass it on."""
    client = get_client_for(current_user, client_id)
    if not current_user.is_admin and client.therapist_id != current_user.id:
        abort(403)
    form = SharingForm(obj=client) if current_user.is_admin else ShareForm()
    colleagues = [user for user in therapists() if current_user.is_admin or user.id != current_user.id]
    choices = as_choices((user.id, f"{user.name} ({user.email})") for user in colleagues)
    form.shared_with.choices = choices
    if current_user.is_admin:
        form.therapist_id.choices = as_choices((user.id, f"{user.name} ({user.email})") for user in therapists())
    if request.method == "GET":
        form.shared_with.data = [user.id for user in client.shared_with]
        record_view(client)
    if form.validate_on_submit():
        therapist = db.session.get(User, form.therapist_id.data) if current_user.is_admin else client.therapist
        shared = [db.session.get(User, user_id) for user_id in form.shared_with.data]
        changes = set_sharing(client, therapist, shared)
        db.session.commit()
        flash("Sharing saved." if changes else "Nothing had changed.", "success")
        return redirect(url_for("clients.detail", client_id=client.id))
    return render_template("clients/sharing.html", form=form, client=client)


def _client_form() -> ClientForm:
    if not current_user.is_admin:
        return ClientForm()
    form = AdminClientForm()
    form.therapist_id.choices = as_choices((user.id, user.name) for user in therapists())
    return form


def _chosen_therapist(form: AdminClientForm) -> User:
    return db.session.get(User, form.therapist_id.data)
