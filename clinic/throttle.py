"""Failed logins, counted in the database so every worker and host sees the same count: per typed email
(whether or not an account has it, so a lock reveals nothing) and per address. Wrong intake links likewise,
per address, so the intake tokens cannot be guessed."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.models import IntakeMiss, LoginFailure
from clinic.models.user import normalise_email
from clinic.rules import INTAKE_MISS_WINDOW_MINUTES, INTAKE_MISSES_PER_ADDRESS


def recent_failures(*, email: str | None = None, address: str | None = None) -> int:
    config = current_app.config
    if email is not None:
        condition = LoginFailure.email == email
        window = config["LOGIN_LOCK_MINUTES"]
    else:
        condition = LoginFailure.address == address
        window = config["LOGIN_ADDRESS_WINDOW_MINUTES"]
    since = utcnow() - timedelta(minutes=window)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure).where(condition, LoginFailure.at >= since)
    )


def locked_emails() -> set[str]:
    """Emails locked out right now by failed logins."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    rows = db.session.execute(
        sa.select(LoginFailure.email)
        .where(LoginFailure.at >= since)
        .group_by(LoginFailure.email)
        .having(sa.func.count() >= config["LOGIN_MAX_FAILURES"])
    )
    return {row.email for row in rows}


def clear_failures(email: str) -> None:
    """A successful login or a password reset starts the count again; old rows are pruned on the way."""
    config = current_app.config
    oldest = utcnow() - timedelta(minutes=max(config["LOGIN_LOCK_MINUTES"], config["LOGIN_ADDRESS_WINDOW_MINUTES"]))
    db.session.execute(
        sa.delete(LoginFailure).where(sa.or_(LoginFailure.email == normalise_email(email), LoginFailure.at < oldest))
    )


def intake_misses(address: str) -> int:
    """Intake URLs with a token naming no usable link, from this address within the window."""
    since = utcnow() - timedelta(minutes=INTAKE_MISS_WINDOW_MINUTES)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(IntakeMiss).where(IntakeMiss.address == address, IntakeMiss.at >= since)
    )


def intake_guessing(address: str) -> bool:
    """True once an address has tried too many wrong intake links: it is refused until the window passes."""
    return intake_misses(address) >= INTAKE_MISSES_PER_ADDRESS


def record_intake_miss(address: str) -> None:
    """Count a wrong intake link; rows older than the window are pruned on the way."""
    oldest = utcnow() - timedelta(minutes=INTAKE_MISS_WINDOW_MINUTES)
    db.session.execute(sa.delete(IntakeMiss).where(IntakeMiss.at < oldest))
    db.session.add(IntakeMiss(address=address))
    db.session.flush()
