"""Account management and the audit log query."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from clinic import audit, logins
from clinic.extensions import db
from clinic.models import AuditAction, AuditEvent, Client, LoginFailure, Role, User
from clinic.models.user import new_session_token, normalise_email
from clinic.periods import utc_bounds
from clinic.throttle import clear_failures


def email_taken(email: str) -> bool:
    return db.session.scalar(sa.select(User.id).where(User.email == normalise_email(email))) is not None


def create_user(
    email: str, name: str, password: str, role: str = Role.THERAPIST, *, must_change_password: bool = True
) -> User:
    """A new account. Its password was chosen by someone else (the owner, or whoever ran `flask users`), so the
    person must change it at first login; only the published demo accounts are made without that."""
    if role not in {r.value for r in Role}:
        raise ValueError(f"unknown role {role!r}")
    user = User(email=email, name=name.strip(), role=role, must_change_password=must_change_password)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(
        AuditAction.CREATE, entity_type="user", entity_id=user.id, details={"email": user.email, "role": user.role}
    )
    return user


def set_active(user: User, active: bool) -> None:
    if user.active == active:
        return
    user.active = active
    user.session_token = new_session_token()  # a deactivated account is logged out everywhere
    audit.record(
        AuditAction.UPDATE, entity_type="user", entity_id=user.id, details={"changes": {"active": [not active, active]}}
    )
    db.session.flush()


def reset_password(user: User, password: str, *, by_someone_else: bool = True) -> None:
    """A password set for the person: it ends their sessions, forgets their failed logins and, when someone
    else chose it, must be changed at their next login."""
    user.set_password(password)  # also ends the user's sessions
    user.must_change_password = by_someone_else
    for record in logins.live_sessions(user):
        logins.end(record, "password reset")
    clear_failures(user.email)  # and lifts any delay
    audit.record(AuditAction.UPDATE, entity_type="user", entity_id=user.id, details={"changes": {"password": "reset"}})
    db.session.flush()


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def unlock(user: User) -> int:
    """Clear the user's failed logins, which lifts a lock at once; returns how many there were."""
    failures = db.session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure).where(LoginFailure.email == user.email)
    )
    clear_failures(user.email)
    if failures:
        audit.record(
            AuditAction.UPDATE,
            entity_type="user",
            entity_id=user.id,
            details={"changes": {"failed_logins": [failures, 0]}},
        )
    db.session.flush()
    return failures


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.active.desc(), User.name)))


def audit_events(
    user_id: int | None = None,
    action: str | None = None,
    client_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> sa.Select:
    query = (
        sa.select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .options(selectinload(AuditEvent.user), selectinload(AuditEvent.client))
    )
    if user_id:
        query = query.where(AuditEvent.user_id == user_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if client_id:
        query = query.where(AuditEvent.client_id == client_id)
    start, end = utc_bounds(date_from, date_to)
    if start:
        query = query.where(AuditEvent.at >= start)
    if end:
        query = query.where(AuditEvent.at <= end)
    return query


def audit_filter_choices() -> dict[str, list[tuple[Any, str]]]:
    users = db.session.execute(sa.select(User.id, User.name).order_by(User.name))
    clients = db.session.execute(sa.select(Client.id, Client.full_name).order_by(Client.full_name))
    return {
        "user": [(0, "Anyone")] + [(row.id, row.name) for row in users],
        "client": [(0, "Any client")] + [(row.id, row.full_name) for row in clients],
    }
