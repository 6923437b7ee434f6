from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from clinic import audit
from clinic.auth import bp
from clinic.auth.forms import LoginForm
from clinic.auth.services import authenticate, safe_next_url
from clinic.extensions import db
from clinic.models import AuditAction
from clinic.models.user import new_session_token


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("appointments.home"))
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(form.email.data, form.password.data, request.remote_addr or "")
        db.session.commit()
        if result.user is None:
            flash(result.error, "error")
            return render_template("auth/login.html", form=form), 401
        session.clear()  # a fresh session: nothing from before login carries over
        session.permanent = True
        login_user(result.user)
        flash(f"Welcome, {result.user.name}.", "success")
        return redirect(safe_next_url(request.args.get("next")) or url_for("appointments.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record(AuditAction.LOGOUT)
    # Sessions live in signed cookies: a new token makes any copy of this one (on any device) worthless.
    current_user.session_token = new_session_token()
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
