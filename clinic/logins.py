"""Logins as server-side records (DESIGN 9). Each login on a device is a LoginSession row whose random key
is kept in the signed session cookie; a request whose key names no live row (ended by the person, by a
password change, or past the idle or the absolute lifetime) is logged out. Also the gate that keeps a
person who must first change their password, or set up two-factor login, on those pages."""

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user
from itsdangerous import BadData, URLSafeTimedSerializer

from clinic import audit, db_types, two_factor
from clinic.extensions import db
from clinic.models import AuditAction, ClinicSettings, LoginSession, User
from clinic.models.user import normalise_email
from clinic.rules import LOGIN_DEVICE_DAYS, SESSION_ABSOLUTE_HOURS, SESSION_TOUCH_SECONDS
from clinic.security import STATIC_ENDPOINTS

SESSION_KEY = "login_session"  # the key in Flask's session cookie

# What a person who must change their password, or must set up two-factor login, may still reach.
PASSWORD_PAGES = {"account.password_page", "account.password"}
TWO_FACTOR_PAGES = {"account.two_factor", "account.two_factor_enable"}
ALWAYS_OPEN = {"auth.logout", "auth.form_token", "auth.login"}


def absolute_lifetime() -> timedelta:
    return current_app.config.get("SESSION_ABSOLUTE_LIFETIME", timedelta(hours=SESSION_ABSOLUTE_HOURS))


def _user_agent() -> str:
    return (request.user_agent.string or "")[:255]


def begin(user: User) -> LoginSession:
    """Log the person in on this device with a fresh session: nothing from before carries over."""
    session.clear()
    now = db_types.utcnow()
    record = LoginSession(
        key=secrets.token_urlsafe(32),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        user_agent=_user_agent(),
        address=(request.remote_addr or "")[:45],
    )
    db.session.add(record)
    db.session.flush()
    session.permanent = True  # the idle timeout applies
    login_user(user)
    session[SESSION_KEY] = record.key
    return record


def relogin(user: User) -> None:
    """After the person's login id changed (password change): keep this device's session record."""
    key = session.get(SESSION_KEY)
    permanent = session.permanent
    login_user(user)
    session.permanent = permanent
    if key:
        session[SESSION_KEY] = key


def _expired(record: LoginSession, now: datetime) -> bool:
    return (
        record.ended_at is not None
        or now - record.created_at > absolute_lifetime()
        or now - record.last_seen_at > current_app.permanent_session_lifetime + timedelta(seconds=SESSION_TOUCH_SECONDS)
    )


# Built once: this runs on every logged-in request, and building the statement cost more than running it.
_LOGIN_QUERY = (
    sa.select(User, LoginSession, ClinicSettings)
    .join(LoginSession, sa.and_(LoginSession.user_id == User.id, LoginSession.key == sa.bindparam("key")))
    .outerjoin(ClinicSettings, ClinicSettings.id == 1)
    .where(User.id == sa.bindparam("user_id"))
)


def load_login(user_id: int) -> tuple[User, LoginSession] | None:
    """The user and this request's session record (by the cookie's key), in one statement; None when either is
    missing. The clinic's settings come along in the same row: the two-factor gate reads them on every page
    (`db.session.get(ClinicSettings, 1)` then finds them in the identity map), and `g` holds them for the request
    so the identity map (weakly referencing) keeps them. Saves two statements per logged-in request (issue 16)."""
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        return None
    row = db.session.execute(_LOGIN_QUERY, {"user_id": user_id, "key": key}).first()
    if row is None:
        return None
    g.clinic_settings = row.ClinicSettings
    return row.User, row.LoginSession


def current_record(user: User, record: LoginSession | None = None) -> LoginSession | None:
    """This request's live session record for the user, touched at most once a minute; None when there is none
    (never made, ended, expired, another user's, or a cookie carried to a browser that identifies otherwise).
    `record`: the one `load_login` read with the user, else it is looked up by the cookie's key."""
    if record is None:
        key = session.get(SESSION_KEY)
        if not isinstance(key, str):
            return None
        record = db.session.scalar(sa.select(LoginSession).where(LoginSession.key == key))
    elif record.key != session.get(SESSION_KEY):
        return None
    now = db_types.utcnow()
    if record is None or record.user_id != user.id or _expired(record, now):
        return None
    if record.user_agent != _user_agent():
        return None
    if (now - record.last_seen_at).total_seconds() >= SESSION_TOUCH_SECONDS:
        _touch(record.id, now)
    return record


def _touch(record_id: int, now: datetime) -> None:
    """Note the session was seen, in a transaction of its own: the request's own changes are the view's to
    commit, and a GET commits nothing. Best effort: a busy database only delays the note to a later request."""
    try:
        with db.engine.begin() as connection:
            connection.execute(sa.update(LoginSession).where(LoginSession.id == record_id).values(last_seen_at=now))
    except sa.exc.OperationalError:
        current_app.logger.warning("could not note that login session %s was seen", record_id)


BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str) -> str:
    """A browser's self-description read as a person says it: "Firefox on Linux"."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


def live_sessions(user: User) -> list[LoginSession]:
    now = db_types.utcnow()
    rows = db.session.scalars(
        sa.select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    )
    return [record for record in rows if not _expired(record, now)]


def current_key() -> str | None:
    return session.get(SESSION_KEY)


def end(record: LoginSession, reason: str) -> None:
    record.ended_at = db_types.utcnow()
    audit.record(
        AuditAction.LOGOUT,
        entity_type="login_session",
        entity_id=record.id,
        details={"ended": reason},
    )
    db.session.flush()


def end_others(user: User, reason: str) -> int:
    """End every live session of the user but this device's; how many were ended."""
    keep = current_key()
    ended = 0
    for record in live_sessions(user):
        if record.key != keep:
            end(record, reason)
            ended += 1
    return ended


def end_this(reason: str = "logout") -> None:
    key = current_key()
    if key:
        record = db.session.scalar(sa.select(LoginSession).where(LoginSession.key == key))
        if record is not None and record.ended_at is None:
            record.ended_at = db_types.utcnow()
            db.session.flush()


def prune(user: User) -> None:
    """Forget this user's sessions that ended or expired more than a day ago."""
    cutoff = db_types.utcnow() - absolute_lifetime() - timedelta(days=1)
    db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.created_at < cutoff))


def init_gate(app: Flask) -> None:
    @app.before_request
    def keep_to_the_required_page():
        """A person whose password was set by someone else, or who has no second factor where the clinic requires
        one, reaches only the page that puts it right (and logging out) until it is done."""
        if request.endpoint in STATIC_ENDPOINTS:  # the same for everyone: no need to know who asks
            return None
        # Loading the user here, first thing, also notes the session as seen before the view writes anything.
        if not current_user.is_authenticated or request.endpoint in ALWAYS_OPEN:
            return None
        if current_user.must_change_password:
            if request.endpoint in PASSWORD_PAGES:
                return None
            return redirect(url_for("account.password_page"))
        if not current_user.two_factor_enabled and request.endpoint not in TWO_FACTOR_PAGES and two_factor.required():
            return redirect(url_for("account.two_factor"))
        return None


# --- known browsers: a signed cookie set at each completed login, so strangers' failures cannot lock the person out

DEVICE_COOKIE = "knotwork_device"


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="knotwork-login-device")


def _account_tag(email: str) -> str:
    """Which account a device cookie is for, without putting the email in the cookie."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]


def known_device(email: str) -> str:
    """This browser's id when it completed a login to this account within LOGIN_DEVICE_DAYS, else ""."""
    raw = request.cookies.get(DEVICE_COOKIE, "")
    try:
        data = _device_signer().loads(raw, max_age=LOGIN_DEVICE_DAYS * 86400) if raw else None
    except BadData:
        return ""
    if not isinstance(data, dict) or data.get("account") != _account_tag(email):
        return ""
    return str(data.get("device", ""))[:32]


def remember_device(response, email: str):
    """Mark this browser as known to the account (a new id at each login, so its own failures start again)."""
    value = _device_signer().dumps({"account": _account_tag(email), "device": secrets.token_hex(16)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=LOGIN_DEVICE_DAYS * 86400,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
    return response
