"""A person's own page: their professional profile, their password and their private calendar feed (whose
controls post to the appointments feature). Later sections (two-factor login) are added the same way."""

from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, login_user

from clinic.account import bp
from clinic.account.forms import ChangePasswordForm
from clinic.extensions import db
from clinic.forms import ConfirmForm, ProfileForm
from clinic.profiles import change_password, update_profile


@bp.before_request
@login_required
def require_login():
    """Only the person themselves, logged in."""


def _page(profile_form: ProfileForm | None = None, password_form: ChangePasswordForm | None = None, status=200):
    user = current_user._get_current_object()
    return (
        render_template(
            "account/index.html",
            profile_form=profile_form or ProfileForm(obj=user, formdata=None),
            password_form=password_form or ChangePasswordForm(formdata=None),
            feed_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.route("")
def index():
    return _page()


@bp.route("/profile", methods=["POST"])
def profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(profile_form=form, status=400)
    changes = update_profile(current_user._get_current_object(), form.data)
    db.session.commit()
    flash("Profile saved." if changes else "Nothing had changed.", "success")
    return redirect(url_for("account.index"))


@bp.route("/password", methods=["POST"])
def password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form, status=400)
    user = current_user._get_current_object()
    user.set_password(form.password.data)  # a new session token: every other device is logged out
    change_password(user)
    db.session.commit()
    permanent = session.permanent
    login_user(user)  # this device stays logged in, under the new token
    session.permanent = permanent
    flash("Password changed. You were logged out everywhere else.", "success")
    return redirect(url_for("account.index"))
