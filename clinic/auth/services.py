"""Login with throttling kept in the database, so it holds across workers and hosts."""

from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from clinic import audit
from clinic.extensions import db
from clinic.models import AuditAction, LoginFailure, User
from clinic.models.user import normalise_email, verify_dummy_password
from clinic.throttle import clear_failures, recent_failures

BAD_CREDENTIALS = "Email or password is incorrect."
TOO_MANY_ATTEMPTS = "Too many failed attempts. Please wait {minutes} minutes and try again, or ask an admin."


@dataclass
class LoginResult:
    user: User | None
    error: str = ""


def load_user(login_id: str) -> User | None:
    user_id, _, token = login_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str, address: str) -> LoginResult:
    """Check a login. Every refusal costs one password hash and says the same for known and unknown emails."""
    config = current_app.config
    email = normalise_email(email)[:254]
    user = find_user_by_email(email)
    too_many = TOO_MANY_ATTEMPTS.format(minutes=config["LOGIN_LOCK_MINUTES"])

    throttled = (
        recent_failures(address=address) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
        or recent_failures(email=email) >= config["LOGIN_MAX_FAILURES"]
    )
    if throttled:
        verify_dummy_password(password)
        _audit_failure(user, email, "throttled")
        return LoginResult(None, too_many)

    if user is None:
        verify_dummy_password(password)
        valid = False
    else:
        valid = user.check_password(password) and user.active
    if not valid:
        db.session.add(LoginFailure(email=email, address=address))
        db.session.flush()
        _audit_failure(user, email, "bad credentials")
        if recent_failures(email=email) >= config["LOGIN_MAX_FAILURES"]:
            return LoginResult(None, too_many)
        return LoginResult(None, BAD_CREDENTIALS)

    clear_failures(email)
    audit.record(AuditAction.LOGIN, user=user)
    return LoginResult(user)


def _audit_failure(user: User | None, email: str, reason: str) -> None:
    audit.record(AuditAction.FAILED_LOGIN, user=user, attempted_email="" if user else email, details={"reason": reason})


def safe_next_url(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative '//' or '/\\' tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Checked on the very string redirected to: a backslash, a control character (a browser drops tab and
    # newline, so "/\t/host" becomes "//host") could turn the path into another host.
    if "\\" in target or any(ord(character) < 0x20 or ord(character) == 0x7F for character in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
