"""Failed logins, counted in the database so every worker and host sees the same count, per typed email
(whether or not an account has it, so a delay reveals nothing) and per address. They slow logins down and
never lock: once the free failures are spent, each next attempt waits 2^(n - free) seconds after the last
failure, at most LOGIN_MAX_DELAY_SECONDS, and is answered "try again in N s" without checking the password.
A browser that has logged in to the account before (`logins.known_device`) is slowed only by its own failures,
so a stranger who knows an email, or shares an address, cannot keep the person out of their usual browser.
Wrong intake links likewise, per address, so the intake tokens cannot be guessed."""

import hashlib
import math
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from clinic import db_types
from clinic.extensions import db
from clinic.models import IntakeMiss, LoginFailure
from clinic.models.user import normalise_email
from clinic.rules import (
    INTAKE_MISS_WINDOW_MINUTES,
    INTAKE_MISSES_PER_ADDRESS,
    LOGIN_FAILURE_WINDOW_MINUTES,
    LOGIN_FREE_FAILURES_PER_ACCOUNT,
    LOGIN_FREE_FAILURES_PER_ADDRESS,
    LOGIN_MAX_DELAY_SECONDS,
)


def delay_after(failures: int, free: int) -> int:
    """Seconds to wait after the last of this many failures: none until the free ones are spent, then 1, 2, 4 ..."""
    if failures < free:
        return 0
    return min(LOGIN_MAX_DELAY_SECONDS, 2 ** (failures - free))


def _window_start() -> datetime:
    return db_types.utcnow() - timedelta(minutes=LOGIN_FAILURE_WINDOW_MINUTES)


def _failures(condition) -> tuple[int, datetime | None]:
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(LoginFailure.at)).where(condition, LoginFailure.at >= _window_start())
    ).one()
    last = row[1]
    if last is not None and last.tzinfo is None:  # SQLite returns the aggregate without its zone
        last = last.replace(tzinfo=UTC)
    return row[0], last


def _remaining(failures: int, last: datetime | None, free: int) -> int:
    delay = delay_after(failures, free)
    if not delay or last is None:
        return 0
    left = (last + timedelta(seconds=delay) - db_types.utcnow()).total_seconds()
    return max(0, math.ceil(left))


def claim_attempt(email: str) -> None:
    """Take this email's attempts one at a time until the request commits, so that parallel guesses each see the
    failures before them instead of all passing the check while the first password is being hashed.
    PostgreSQL: an advisory lock on the email's hash; SQLite: the database's write lock."""
    key = int.from_bytes(hashlib.sha256(normalise_email(email).encode()).digest()[:8], "big", signed=True)
    db_types.lock_until_commit(db.session.connection(), key, "login_failures")


def login_wait(email: str, address: str, device: str = "") -> int:
    """Seconds before this email may be tried from this address (0: now). The account's delay follows the
    account to any browser it has not logged in from; the address's needs many more failures (a clinic shares
    one). A known browser (`device`) waits only after failures of its own."""
    if device:
        return _remaining(*_failures(LoginFailure.device == device), LOGIN_FREE_FAILURES_PER_ACCOUNT)
    email = normalise_email(email)
    account = _remaining(*_failures(LoginFailure.email == email), LOGIN_FREE_FAILURES_PER_ACCOUNT)
    place = _remaining(*_failures(LoginFailure.address == address), LOGIN_FREE_FAILURES_PER_ADDRESS)
    return max(account, place)


def record_failure(email: str, address: str, device: str = "") -> None:
    db.session.add(LoginFailure(email=normalise_email(email), address=address, device=device, at=db_types.utcnow()))
    db.session.flush()


def failures_of(email: str) -> int:
    """Failed logins for this email within the window."""
    return _failures(LoginFailure.email == normalise_email(email))[0]


def locked_emails() -> set[str]:
    """Emails whose logins are slowed down right now (their free failures spent within the window)."""
    rows = db.session.execute(
        sa.select(LoginFailure.email)
        .where(LoginFailure.at >= _window_start(), LoginFailure.email != "")
        .group_by(LoginFailure.email)
        .having(sa.func.count() >= LOGIN_FREE_FAILURES_PER_ACCOUNT)
    )
    return {row.email for row in rows}


def clear_failures(email: str) -> None:
    """A successful login or a password reset starts the count again; old rows are pruned on the way."""
    db.session.execute(
        sa.delete(LoginFailure).where(
            sa.or_(LoginFailure.email == normalise_email(email), LoginFailure.at < _window_start())
        )
    )


def intake_misses(address: str) -> int:
    """Intake URLs with a token naming no usable link, from this address within the window."""
    since = db_types.utcnow() - timedelta(minutes=INTAKE_MISS_WINDOW_MINUTES)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(IntakeMiss).where(IntakeMiss.address == address, IntakeMiss.at >= since)
    )


def intake_guessing(address: str) -> bool:
    """True once an address has tried too many wrong intake links: it is refused until the window passes."""
    return intake_misses(address) >= INTAKE_MISSES_PER_ADDRESS


def record_intake_miss(address: str) -> None:
    """Count a wrong intake link; rows older than the window are pruned on the way."""
    oldest = db_types.utcnow() - timedelta(minutes=INTAKE_MISS_WINDOW_MINUTES)
    db.session.execute(sa.delete(IntakeMiss).where(IntakeMiss.at < oldest))
    db.session.add(IntakeMiss(address=address))
    db.session.flush()
