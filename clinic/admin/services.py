"""Account management and the audit log query."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from clinic import audit
from clinic.extensions import db
from clinic.models import AuditAction, AuditEvent, Client, LoginFailure, Role, User
from clinic.models.user import new_session_token, normalise_email
from clinic.periods import period_args, utc_bounds
from clinic.throttle import clear_failures
from clinic.views import neutralise


def email_taken(email: str) -> bool:
    return db.session.scalar(sa.select(User.id).where(User.email == normalise_email(email))) is not None


def create_user(email: str, name: str, password: str, role: str = Role.THERAPIST) -> User:
    if role not in {r.value for r in Role}:
        raise ValueError(f"unknown role {role!r}")
    user = User(email=email, name=name.strip(), role=role)
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


def reset_password(user: User, password: str) -> None:
    user.set_password(password)  # also ends the user's sessions
    clear_failures(user.email)  # and unlocks the account
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


def record_read(what: str, details: dict[str, Any] | None = None) -> None:
    """The owner read a page of accounts or of the audit log itself."""
    audit.record_read(AuditAction.VIEW, entity_type=what, details=details)


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


EXPORT_COLUMNS = (
    "id",
    "at",
    "user_id",
    "user",
    "attempted_email",
    "action",
    "entity_type",
    "entity_id",
    "client_id",
    "client",
    "details",
    "address",
    "prev_hash",
    "hash",
)
EXPORT_BATCH = 1000


def record_audit_export(date_from: date | None, date_to: date | None) -> None:
    audit.record(AuditAction.EXPORT, entity_type="audit export", details={"period": period_args(date_from, date_to)})


def audit_csv_rows(engine: sa.Engine, start: datetime | None, end: datetime | None) -> Iterator[str]:
    """The audit log between two UTC times as CSV lines, oldest first, read in batches by id so memory stays
    flat however long the log. Each row keeps its `prev_hash` and `hash`, so a copy can be checked on its own.
    It reads on a connection of its own, so it needs no request context while the response streams."""
    yield _csv_line(EXPORT_COLUMNS)
    users, clients = sa.orm.aliased(User), sa.orm.aliased(Client)
    query = (
        sa.select(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.user_id,
            users.name,
            AuditEvent.attempted_email,
            AuditEvent.action,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.client_id,
            clients.full_name,
            AuditEvent.details,
            AuditEvent.address,
            AuditEvent.prev_hash,
            AuditEvent.hash,
        )
        .outerjoin(users, users.id == AuditEvent.user_id)
        .outerjoin(clients, clients.id == AuditEvent.client_id)
        .order_by(AuditEvent.id)
        .limit(EXPORT_BATCH)
    )
    if start:
        query = query.where(AuditEvent.at >= start)
    if end:
        query = query.where(AuditEvent.at <= end)
    last_id = 0
    with engine.connect() as connection:
        while rows := connection.execute(query.where(AuditEvent.id > last_id)).all():
            for row in rows:
                values = list(row)
                values[1] = row.at.isoformat()
                values[10] = json.dumps(row.details, ensure_ascii=False, sort_keys=True)
                yield _csv_line(values)
            last_id = rows[-1].id


def _csv_line(values: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["" if value is None else neutralise(value) for value in values])
    return buffer.getvalue()
