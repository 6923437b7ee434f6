from datetime import datetime, timedelta

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf.csrf import generate_csrf

from clinic import audit, db_types, logins
from clinic.auth import bp
from clinic.auth.forms import CodeForm, LoginForm
from clinic.auth.services import authenticate, check_second_factor, complete_login, safe_next_url
from clinic.extensions import db
from clinic.models import AuditAction, User
from clinic.rules import TWO_FACTOR_STEP_MINUTES

# Between the password and the code: who, since when, and where to go after. Not a login: current_user is
# still anonymous, so this state reaches nothing but the code page.
PENDING = "pending_login"


def _refused(template: str, form, result):
    flash(result.error, "error")
    response = render_template(template, form=form)
    if result.wait:
        return response, 429, {"Retry-After": str(result.wait)}
    return response, 401


def _after_login(target: str | None):
    return redirect(safe_next_url(target) or url_for("appointments.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("appointments.home"))
    form = LoginForm()
    if form.validate_on_submit():
        address = request.remote_addr or ""
        result = authenticate(form.email.data, form.password.data, address, logins.known_device(form.email.data))
        if result.user is None:
            db.session.commit()
            return _refused("auth/login.html", form, result)
        user = result.user
        if user.two_factor_enabled:
            session.clear()
            session[PENDING] = {
                "user": user.id,
                "token": user.session_token,
                "since": db_types.utcnow().isoformat(),
                "next": request.args.get("next") or "",
            }
            db.session.commit()
            return redirect(url_for("auth.code"))
        complete_login(user, "")
        db.session.commit()
        flash(f"Welcome, {user.name}.", "success")
        return logins.remember_device(_after_login(request.args.get("next")), user.email)
    return render_template("auth/login.html", form=form)


def _pending_user() -> tuple[User | None, dict]:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None, {}
    try:
        since = datetime.fromisoformat(pending["since"])
        user = db.session.get(User, int(pending["user"]))
    except (KeyError, TypeError, ValueError):
        return None, {}
    fresh = db_types.utcnow() - since <= timedelta(minutes=TWO_FACTOR_STEP_MINUTES)
    if user is None or not user.active or user.session_token != pending.get("token") or not fresh:
        return None, {}
    return user, pending


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    """The second step of a login, for those with two-factor login on."""
    if current_user.is_authenticated:
        return redirect(url_for("appointments.home"))
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash("Please log in with your email and password first.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        result = check_second_factor(user, form.code.data, request.remote_addr or "", logins.known_device(user.email))
        if result.user is None:
            db.session.commit()
            return _refused("auth/code.html", form, result)
        complete_login(user, result.method)
        db.session.commit()
        flash(f"Welcome, {user.name}.", "success")
        return logins.remember_device(_after_login(pending.get("next")), user.email)
    return render_template("auth/code.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record(AuditAction.LOGOUT)
    # The session's record ends, so a copy of this cookie (on any device) is worthless; other devices stay.
    logins.end_this()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/auth/form-token")
def form_token():
    """A fresh CSRF token for a form that has been open a long time (see form-guard.js): 401 when the
    login has ended, so the page can say so without losing what was typed."""
    if not current_user.is_authenticated:
        return jsonify(error="Unauthorized", message="You are logged out."), 401
    return jsonify(csrf_token=generate_csrf())


@bp.route("/auth/logged-back-in")
@login_required
def logged_back_in():
    return render_template("auth/logged_back_in.html")
