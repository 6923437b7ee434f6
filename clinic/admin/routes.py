from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from clinic.admin import bp
from clinic.admin.forms import AuditFilterForm, ClinicForm, ResetPasswordForm, UserForm
from clinic.admin.services import (
    audit_events,
    audit_filter_choices,
    create_user,
    list_users,
    reset_password,
    set_active,
)
from clinic.changes import readable, user_names
from clinic.extensions import db
from clinic.forms import ConfirmForm, ProfileForm, as_choices
from clinic.kb import knowledge_base
from clinic.models import User
from clinic.params import int_arg
from clinic.profiles import clinic_settings, update_clinic_settings, update_profile
from clinic.throttle import locked_emails


@bp.before_request
@login_required
def require_admin():
    if not current_user.is_admin:
        abort(404)


@bp.route("/users")
def users():
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
    form = ResetPasswordForm()
    if form.validate_on_submit():
        reset_password(user, form.password.data)
        db.session.commit()
        flash(f"New password set for {user.name}; their other sessions were ended.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/password.html", form=form, user=user)


def _filter(field):
    """A filter's value, or none when it was refused (an unknown user or client, a number out of range)."""
    return None if field.errors else field.data


@bp.route("/audit")
def audit_log():
    form = AuditFilterForm(formdata=request.args)
    choices = audit_filter_choices()
    form.user.choices = as_choices(choices["user"])
    form.client.choices = as_choices(choices["client"])
    valid = form.validate()
    dates = (form.date_from.data, form.date_to.data) if valid else (None, None)
    page = db.paginate(
        audit_events(*(_filter(field) for field in (form.user, form.action, form.client)), *dates),
        page=int_arg("page") or 1,
        per_page=current_app.config["AUDIT_PER_PAGE"],
        error_out=False,
    )
    kb = knowledge_base()
    shown = {event.id: readable(event, kb) for event in page.items}
    names = user_names(event.entity_id for event in page.items if event.entity_type == "user")
    filters = {
        "user": form.user.data or None,
        "action": form.action.data or None,
        "client": form.client.data or None,
        "date_from": form.date_from.data.isoformat() if dates[0] else None,
        "date_to": form.date_to.data.isoformat() if dates[1] else None,
    }
    return render_template("admin/audit.html", form=form, page=page, shown=shown, names=names, filters=filters)


@bp.route("/clinic", methods=["GET", "POST"])
def clinic():
    """The clinic's name, address and phone, printed at the head of every physician summary."""
    form = ClinicForm(obj=clinic_settings())
    if form.validate_on_submit():
        changes = update_clinic_settings(form.data)
        db.session.commit()
        flash("Clinic details saved." if changes else "Nothing had changed.", "success")
        return redirect(url_for("admin.clinic"))
    return render_template("admin/clinic.html", form=form)


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
