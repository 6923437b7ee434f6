"""A person's own page: their professional profile, their password, two-factor login, where they are logged in,
and their private calendar feed (whose controls post to the appointments feature)."""

from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from clinic import logins
from clinic import two_factor as tfa
from clinic.account import bp
from clinic.account.forms import ChangePasswordForm, DisableTwoFactorForm, EnableTwoFactorForm, RecoveryCodesForm
from clinic.extensions import db
from clinic.forms import ConfirmForm, ProfileForm
from clinic.models import LoginSession
from clinic.profiles import change_password, update_profile

ENROL_SECRET = "enrol_totp_secret"  # the secret being set up, until a code from the app confirms it


@bp.before_request
@login_required
def require_login():
    """Only the person themselves, logged in."""


def _me():
    return current_user._get_current_object()


def _page(status=200, **forms):
    user = _me()
    return (
        render_template(
            "account/index.html",
            profile_form=forms.get("profile_form") or ProfileForm(obj=user, formdata=None),
            password_form=forms.get("password_form") or ChangePasswordForm(formdata=None),
            disable_form=forms.get("disable_form") or DisableTwoFactorForm(formdata=None, prefix="disable"),
            codes_form=forms.get("codes_form") or RecoveryCodesForm(formdata=None, prefix="codes"),
            feed_form=ConfirmForm(formdata=None),
            session_form=ConfirmForm(formdata=None),
            sessions=logins.live_sessions(user),
            device_name=logins.device_name,
            this_session=logins.current_key(),
            codes_left=tfa.recovery_codes_left(user) if user.two_factor_enabled else 0,
            two_factor_required=tfa.required(),
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
    changes = update_profile(_me(), form.data)
    db.session.commit()
    flash("Profile saved." if changes else "Nothing had changed.", "success")
    return redirect(url_for("account.index"))


@bp.route("/password")
def password_page():
    """The password form on its own: where a person whose password someone else set is kept until they change it."""
    return render_template("account/password.html", form=ChangePasswordForm(formdata=None))


@bp.route("/password", methods=["POST"])
def password():
    form = ChangePasswordForm()
    user = _me()
    if not form.validate_on_submit():
        if user.must_change_password:
            return render_template("account/password.html", form=form), 400
        return _page(password_form=form, status=400)
    ended = change_password(user, form.password.data)
    db.session.commit()
    logins.relogin(user)  # this device stays logged in, under the new session token
    flash(
        "Password changed." + (f" {ended} other session(s) were ended." if ended else ""),
        "success",
    )
    return redirect(url_for("account.index"))


# --- two-factor login ---------------------------------------------------------------------------------------


def _enrol_page(form: EnableTwoFactorForm, status: int = 200):
    secret = session.get(ENROL_SECRET)
    if not isinstance(secret, str):
        secret = tfa.new_secret()
        session[ENROL_SECRET] = secret
    uri = tfa.provisioning_uri(secret, _me())
    return (
        render_template(
            "account/two_factor.html",
            form=form,
            qr=tfa.qr_data_uri(uri),
            secret=tfa.grouped(secret),
            required=tfa.required(),
        ),
        status,
    )


@bp.route("/two-factor/setup")
def two_factor():
    """Set up two-factor login: a QR code (and the key as text) for the app, then a code to confirm."""
    if _me().two_factor_enabled:
        return redirect(url_for("account.index", _anchor="two-factor"))
    return _enrol_page(EnableTwoFactorForm(formdata=None))


@bp.route("/two-factor/setup", methods=["POST"])
def two_factor_enable():
    user = _me()
    if user.two_factor_enabled:
        return redirect(url_for("account.index", _anchor="two-factor"))
    form = EnableTwoFactorForm()
    secret = session.get(ENROL_SECRET)
    if not form.validate_on_submit() or not isinstance(secret, str):
        return _enrol_page(form, 400)
    codes = tfa.enable(user, secret, form.code.data)
    if codes is None:
        form.code.errors.append(
            "That is not the code the app shows now. Check the app's clock, then try the next code."
        )
        return _enrol_page(form, 400)
    db.session.commit()
    session.pop(ENROL_SECRET, None)
    return render_template("account/recovery_codes.html", codes=codes, first=True)


@bp.route("/two-factor/disable", methods=["POST"])
def two_factor_disable():
    form = DisableTwoFactorForm(prefix="disable")
    if not _me().two_factor_enabled:
        return redirect(url_for("account.index"))
    if not form.validate_on_submit():
        return _page(disable_form=form, status=400)
    tfa.disable(_me())
    db.session.commit()
    if tfa.required():
        flash("Two-factor login is off. The clinic requires it: set it up again with your new phone or app.", "info")
        return redirect(url_for("account.two_factor"))
    flash("Two-factor login is off.", "success")
    return redirect(url_for("account.index", _anchor="two-factor"))


@bp.route("/two-factor/recovery-codes", methods=["POST"])
def recovery_codes():
    form = RecoveryCodesForm(prefix="codes")
    if not _me().two_factor_enabled:
        return redirect(url_for("account.index"))
    if not form.validate_on_submit():
        return _page(codes_form=form, status=400)
    codes = tfa.new_recovery_codes(_me())
    tfa.audit_new_codes(_me())
    db.session.commit()
    return render_template("account/recovery_codes.html", codes=codes, first=False)


# --- where I am logged in -------------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
def end_session(session_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    record = db.session.get(LoginSession, session_id)
    if record is None or record.user_id != current_user.id or record.ended_at is not None:
        abort(404)
    this_device = record.key == logins.current_key()
    logins.end(record, "ended by the person")
    db.session.commit()
    if this_device:
        flash("You are logged out.", "info")
        return redirect(url_for("auth.login"))
    flash("That session was ended.", "success")
    return redirect(url_for("account.index", _anchor="sessions"))


@bp.route("/sessions/end-others", methods=["POST"])
def end_other_sessions():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    ended = logins.end_others(_me(), "ended by the person")
    db.session.commit()
    flash(f"{ended} other session(s) ended." if ended else "No other session was open.", "success")
    return redirect(url_for("account.index", _anchor="sessions"))
