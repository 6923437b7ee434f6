"""Login with throttling kept in the database, so it holds across workers and hosts."""

from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa

from clinic import audit, logins, throttle, two_factor
from clinic.extensions import db
from clinic.models import AuditAction, User
from clinic.models.user import normalise_email, verify_dummy_password

BAD_CREDENTIALS = "Email or password is incorrect."
BAD_CODE = "That code is not right, or was used already. Type the current code from your app, or a recovery code."
TRY_LATER = "Too many failed attempts. Try again in {seconds} s."


@dataclass
class LoginResult:
    user: User | None
    error: str = ""
    wait: int = 0  # seconds before the next attempt may be checked (a refusal without checking)
    method: str = ""  # how the second step was passed: "code" or "recovery code"


def load_user(login_id: str) -> User | None:
    user_id, _, token = login_id.partition(":")
    if not user_id.isdigit():
        return None
    loaded = logins.load_login(int(user_id))  # the user and this device's session record, in one statement
    if loaded is None:  # no such user, or no session record under the cookie's key: logged out
        return None
    user, record = loaded
    if not user.active or user.session_token != token:
        return None
    if logins.current_record(user, record) is None:  # ended, expired, or another browser's: logged out
        return None
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str, address: str, device: str = "") -> LoginResult:
    """Check the password step of a login. While failed attempts make this email or address wait, the answer is
    "try again in N s" without checking the password; otherwise every refusal costs one password hash and says
    the same for known and unknown emails. Failures are cleared only when the whole login succeeds."""
    email = normalise_email(email)[:254]
    throttle.claim_attempt(email)
    user = find_user_by_email(email)
    wait = throttle.login_wait(email, address, device)
    if wait:
        _audit_failure(user, email, "throttled")
        return LoginResult(None, TRY_LATER.format(seconds=wait), wait)

    if user is None:
        verify_dummy_password(password)
        valid = False
    else:
        valid = user.check_password(password) and user.active
    if not valid:
        throttle.record_failure(email, address, device)
        _audit_failure(user, email, "bad credentials")
        return LoginResult(None, BAD_CREDENTIALS)
    return LoginResult(user)


def check_second_factor(user: User, code: str, address: str, device: str = "") -> LoginResult:
    """The code step: a code from the person's app (each works once) or a recovery code (each works once),
    throttled like the password step and counted against the same email."""
    throttle.claim_attempt(user.email)
    wait = throttle.login_wait(user.email, address, device)
    if wait:
        _audit_failure(user, user.email, "throttled")
        return LoginResult(None, TRY_LATER.format(seconds=wait), wait)
    method = "code" if two_factor.looks_like_totp(code) else "recovery code"
    valid = two_factor.check_code(user, code) if method == "code" else two_factor.redeem_recovery_code(user, code)
    if not valid or not user.active:
        throttle.record_failure(user.email, address, device)
        _audit_failure(user, user.email, "bad code")
        return LoginResult(None, BAD_CODE)
    return LoginResult(user, method=method)


def complete_login(user: User, method: str) -> None:
    """Both steps passed: a fresh session on this device, the failed attempts forgotten, the login audited."""
    logins.begin(user)
    logins.prune(user)
    throttle.clear_failures(user.email)
    audit.record(AuditAction.LOGIN, user=user, details={"second_factor": method} if method else None)


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
