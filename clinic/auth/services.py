"""Login with throttling kept in the database, so it holds across workers and hosts."""
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from clinic import audit
from clinic.extensions import db
from clinic.models import AuditAction, LoginFailure, User
from clinic.db_types import utcnow
from clinic.models.user import normalise_email, verify_dummy_password

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
    config = current_app.config
    now = utcnow()
    user = find_user_by_email(email)
    too_many = TOO_MANY_ATTEMPTS.format(minutes=config["LOGIN_LOCK_MINUTES"])

    if _address_is_throttled(address):
        _record_failure(user, email, address, "address throttled")
        return LoginResult(None, too_many)
    if user is not None and user.is_locked(now):
        _record_failure(user, email, address, "account locked")
        return LoginResult(None, too_many)

    if user is None:
        verify_dummy_password(password)
        valid = False
    else:
        valid = user.check_password(password) and user.active
    if not valid:
        _record_failure(user, email, address, "bad credentials")
        if user is not None and _count_account_failure(user) >= config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
            return LoginResult(None, too_many)
        return LoginResult(None, BAD_CREDENTIALS)

    user.failed_logins = 0
    user.locked_until = None
    audit.record(AuditAction.LOGIN, user=user)
    return LoginResult(user)


def _address_is_throttled(address: str) -> bool:
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_ADDRESS_WINDOW_MINUTES"])
    failures = db.session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure)
        .where(LoginFailure.address == address, LoginFailure.at >= since)
    )
    return failures >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def _count_account_failure(user: User) -> int:
    """Increment in SQL, so two workers failing at once both count."""
    count = db.session.scalar(
        sa.update(User).where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    )
    db.session.refresh(user)
    return count


def _record_failure(user: User | None, email: str, address: str, reason: str) -> None:
    window = timedelta(minutes=current_app.config["LOGIN_ADDRESS_WINDOW_MINUTES"])
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.at < utcnow() - window))
    db.session.add(LoginFailure(address=address))
    audit.record(
        AuditAction.FAILED_LOGIN,
        user=user,
        attempted_email="" if user else normalise_email(email)[:254],
        details={"reason": reason},
    )


def safe_next_url(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative '//' or '/\\' tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
