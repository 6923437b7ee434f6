from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from clinic import two_factor
from clinic.admin import bp
from clinic.admin.forms import AuditFilterForm, ClinicForm, ResetPasswordForm, TwoFactorPolicyForm, UserForm
from clinic.admin.services import (
    audit_csv_rows,
    audit_events,
    audit_filter_choices,
    audit_page,
    client_name,
    create_user,
    list_users,
    matching_clients,
    record_audit_export,
    record_read,
    reset_password,
    set_active,
    with_client_name,
)
from clinic.admin.services import (
    reset_two_factor as turn_off_two_factor,
)
from clinic.changes import readable, user_names
from clinic.extensions import db
from clinic.forms import ConfirmForm, ProfileForm, as_choices
from clinic.kb import knowledge_base
from clinic.models import User
from clinic.params import int_arg
from clinic.periods import PeriodError, parse_period, period_args, utc_bounds
from clinic.profiles import clinic_settings, update_clinic_settings, update_profile
from clinic.throttle import locked_emails


@bp.before_request
@login_required
def require_admin():
    if not current_user.is_admin:
        abort(404)


@bp.route("/users")
def users():
    record_read("accounts")
    return render_template("admin/users.html", users=list_users(), confirm_form=ConfirmForm(), locked=locked_emails())


@bp.route("/users/new", methods=["GET", "POST"])
def create():
    form = UserForm()
    if form.validate_on_submit():
        user = create_user(form.email.data, form.name.data, form.password.data, form.role.data)
        db.session.commit()
        flash(f"Account for {user.name} created.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form)


@bp.route("/users/<int:user_id>/active", methods=["GET", "POST"])
def toggle_active(user_id: int):
    """GET asks first (what deactivating does, with one button to confirm); POST does it."""
    user = db.get_or_404(User, user_id)
    if request.method == "GET":
        if user.id == current_user.id:
            flash("You can't deactivate your own account.", "error")
            return redirect(url_for("admin.users"))
        return render_template("admin/confirm_active.html", user=user, form=ConfirmForm())
    if ConfirmForm().validate_on_submit():
        if user.id == current_user.id:
            flash("You can't deactivate your own account.", "error")
        else:
            set_active(user, not user.active)
            db.session.commit()
            flash(f"{user.name} is now {'active' if user.active else 'deactivated'}.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def password(user_id: int):
    user = db.get_or_404(User, user_id)
    if user.id == current_user.id:
        return _own_account()
    form = ResetPasswordForm()
    if form.validate_on_submit():
        reset_password(user, form.password.data)
        db.session.commit()
        flash(f"New password set for {user.name}; their other sessions were ended.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/password.html", form=form, user=user, two_factor_form=ConfirmForm(formdata=None))


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
def reset_two_factor(user_id: int):
    """For a person who lost both their phone and their recovery codes: two-factor login off (and their sessions
    ended); they set it up again at their next login where the clinic requires it."""
    user = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        return _own_account()
    if turn_off_two_factor(user):
        db.session.commit()
        flash(f"Two-factor login of {user.name} is off; they were logged out everywhere.", "success")
    return redirect(url_for("admin.users"))


def _own_account():
    """The owner's own password and second factor are changed at /account, which asks the current password:
    a stolen owner session alone must not be enough to lock the owner out or remove their second factor."""
    flash("Change your own password and two-factor login on your account page.", "info")
    return redirect(url_for("account.index"))


def _filter(field):
    """A filter's value, or none when it was refused (an unknown user or client, a number out of range)."""
    return None if field.errors else field.data


@bp.route("/audit")
def audit_log():
    form = AuditFilterForm(formdata=request.args)
    form.user.choices = as_choices(audit_filter_choices()["user"])
    valid = form.validate()
    dates = (form.date_from.data, form.date_to.data) if valid else (None, None)
    client_id = form.client.data if valid and not form.client.errors else None
    name = (form.client_name.data or "").strip() if valid else ""
    chosen = client_name(client_id) if client_id else None
    if chosen is not None and name and name != chosen:
        chosen = client_id = None  # the name was changed after choosing: the typed words filter
    query = audit_events(_filter(form.user), _filter(form.action), client_id, *dates)
    if name and chosen is None:
        query = with_client_name(query, name)
    elif chosen is not None:
        form.client_name.data = chosen
    page = audit_page(query, current_app.config["AUDIT_PER_PAGE"], int_arg("before"), int_arg("after"))
    kb = knowledge_base()
    shown = {event.id: readable(event, kb) for event in page.items}
    names = user_names(event.entity_id for event in page.items if event.entity_type == "user")
    filters = {
        "user": form.user.data or None,
        "action": form.action.data or None,
        "client": client_id or None,
        "client_name": name or None,
        "date_from": form.date_from.data.isoformat() if dates[0] else None,
        "date_to": form.date_to.data.isoformat() if dates[1] else None,
    }
    # The log holds health data in its old and new values: the owner's reading of it is logged too.
    shown_ids = {"events": [page.items[-1].id, page.items[0].id]} if page.items else {}
    record_read("audit log", {**shown_ids, **{k: v for k, v in filters.items() if v}})
    export_url = url_for("admin.audit_export", **period_args(*dates))
    return render_template(
        "admin/audit.html", form=form, page=page, shown=shown, names=names, filters=filters, export_url=export_url
    )


@bp.route("/audit/export")
def audit_export():
    """The audit log of a period (`?from=&to=`, clinic days, both optional) as CSV, streamed; itself audited."""
    try:
        date_from, date_to = parse_period(request.args)
        start, end = utc_bounds(date_from, date_to)
    except (PeriodError, OverflowError) as error:
        abort(400, description=str(error) if isinstance(error, PeriodError) else "That date is out of range.")
    record_audit_export(date_from, date_to)
    db.session.commit()
    name = f"audit-log_{date_from or 'start'}_{date_to or 'now'}"  # dates print as YYYY-MM-DD
    return Response(
        audit_csv_rows(db.engine, start, end),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@bp.route("/audit/clients.json")
def audit_clients():
    """The client filter's suggestions as one types: a few names that hold every typed word."""
    found = matching_clients(request.args.get("q", "")[:120])
    if found:  # names and dates of birth are client data: who looked them up is logged
        record_read("client search", {"clients": [client.id for client in found]})
    return jsonify(
        clients=[
            {"id": client.id, "name": client.full_name, "born": client.date_of_birth.isoformat()} for client in found
        ]
    )


@bp.route("/clinic", methods=["GET", "POST"])
def clinic():
    """The clinic's name, address and phone, printed at the head of every physician summary."""
    form = ClinicForm(obj=clinic_settings())
    if form.validate_on_submit():
        changes = update_clinic_settings(form.data)
        db.session.commit()
        flash("Clinic details saved." if changes else "Nothing had changed.", "success")
        return redirect(url_for("admin.clinic"))
    policy = TwoFactorPolicyForm(formdata=None, require_two_factor=two_factor.required())
    return render_template("admin/clinic.html", form=form, policy=policy)


@bp.route("/clinic/two-factor", methods=["POST"])
def two_factor_policy():
    """Require two-factor login of everyone: each person without it is sent to set it up at their next request."""
    form = TwoFactorPolicyForm()
    if not form.validate_on_submit():
        abort(400)
    changed = two_factor.set_required(bool(form.require_two_factor.data))
    db.session.commit()
    if not changed:
        flash("Nothing had changed.", "success")
    elif form.require_two_factor.data:
        flash("Two-factor login is now required of everyone.", "success")
    else:
        flash("Two-factor login is now optional.", "success")
    return redirect(url_for("admin.clinic"))


@bp.route("/users/<int:user_id>/profile", methods=["GET", "POST"])
def profile(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        changes = update_profile(user, form.data)
        db.session.commit()
        flash(f"Profile of {user.name} saved." if changes else "Nothing had changed.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/profile.html", form=form, user=user)
