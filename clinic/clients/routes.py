from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from clinic.access import get_client_for
from clinic.booking import client_visits, next_visits
from clinic.clients import bp
from clinic.clients.forms import AdminClientForm, ClientForm, SharingForm
from clinic.clients.services import (
    archive_client,
    create_client,
    record_view,
    search_clients,
    set_sharing,
    therapists,
    unarchive_client,
    update_client,
)
from clinic.concurrency import StaleRecordError
from clinic.extensions import db
from clinic.figures import figures
from clinic.forms import ConfirmForm, as_choices
from clinic.history import first_session, newest_first, sessions_in_period
from clinic.intakes import client_panel
from clinic.kb import knowledge_base
from clinic.models import User
from clinic.outcomes import progress
from clinic.periods import PeriodError, parse_period, period_args
from clinic.views import archived_refusal


@bp.before_request
@login_required
def require_login():
    """Every client URL needs a login."""


@bp.route("/")
def index():
    text = request.args.get("q", "")
    archived = request.args.get("show") == "archived"
    page = db.paginate(
        search_clients(current_user, text, archived),
        per_page=current_app.config["CLIENTS_PER_PAGE"],
        error_out=False,
    )
    visits = next_visits(client.id for client in page.items)
    return render_template("clients/index.html", page=page, q=text, archived=archived, next_visits=visits)


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = _client_form()
    if form.validate_on_submit():
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
    db.session.commit()
    sessions = db.paginate(newest_first(client), per_page=current_app.config["SESSIONS_PER_PAGE"], error_out=False)
    try:
        date_from, date_to = parse_period(request.args)
        period_error = ""
    except PeriodError as error:
        date_from = date_to = None
        period_error = str(error)
    history = sessions_in_period(client, date_from, date_to)
    first_visit = first_session(client)
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
        },
        progress=progress(history, first_visit),
        history_count=len(history),
        figures=figures(history, kb, first_visit),
        visits=client_visits(client),
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
        db.session.commit()
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
    if not current_user.is_admin:
        abort(404)
    client = get_client_for(current_user, client_id)
    form = SharingForm(obj=client)
    choices = as_choices((user.id, f"{user.name} ({user.email})") for user in therapists())
    form.therapist_id.choices = choices
    form.shared_with.choices = choices
    if request.method == "GET":
        form.shared_with.data = [user.id for user in client.shared_with]
        record_view(client)
        db.session.commit()
    if form.validate_on_submit():
        therapist = db.session.get(User, form.therapist_id.data)
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
