"""Account management and the audit log query."""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from clinic import audit, logins, two_factor
from clinic.access import name_has_words
from clinic.extensions import db
from clinic.models import AuditAction, AuditEvent, Client, LoginFailure, Role, User
from clinic.models.user import new_session_token, normalise_email
from clinic.periods import period_args, utc_bounds
from clinic.throttle import clear_failures
from clinic.views import neutralise


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


def reset_two_factor(user: User) -> bool:
    """Two-factor login off for a person who lost both their phone and their recovery codes, and their sessions
    ended (they enrol again at their next login where the clinic requires it). False when it was already off."""
    if not user.two_factor_enabled:
        return False
    two_factor.disable(user)
    user.session_token = new_session_token()
    for record in logins.live_sessions(user):
        logins.end(record, "two-factor reset")
    db.session.flush()
    return True


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
    """The log's events as its page lists them, newest first: rows of the event's columns with the person's name
    (`user_name`) and the client's (`client_name`) joined in, rather than events with whole user and client rows
    (password hashes, health history) loaded beside them."""
    query = (
        sa.select(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.user_id,
            User.name.label("user_name"),
            AuditEvent.attempted_email,
            AuditEvent.action,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.client_id,
            Client.full_name.label("client_name"),
            AuditEvent.details,
            AuditEvent.address,
        )
        .select_from(AuditEvent)
        .outerjoin(User, AuditEvent.user_id == User.id)
        .outerjoin(Client, AuditEvent.client_id == Client.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
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
    """The user filter's choices (a clinic has tens of people; its clients, thousands, are typed: see
    `matching_clients`)."""
    users = db.session.execute(sa.select(User.id, User.name).order_by(User.name))
    return {"user": [(0, "Anyone")] + [(row.id, row.name) for row in users]}


CLIENT_MATCHES = 10  # names the audit log's client filter offers as one types


def matching_clients(text: str, limit: int = CLIENT_MATCHES) -> list[Client]:
    """Clients whose name holds every typed word, for the client filter's suggestions (archived ones too:
    their records are in the log)."""
    if not text.split():
        return []
    return list(
        db.session.scalars(
            sa.select(Client)
            .where(name_has_words(text.split()))
            .order_by(sa.func.lower(Client.full_name), Client.id)
            .limit(limit)
        )
    )


def client_name(client_id: int) -> str | None:
    """The name of the client the log is filtered to (None: no such client)."""
    return db.session.scalar(sa.select(Client.full_name).where(Client.id == client_id))


def with_client_name(query: sa.Select, text: str) -> sa.Select:
    """Events of the clients whose name holds every typed word (the filter typed without choosing one)."""
    return query.where(AuditEvent.client_id.in_(sa.select(Client.id).where(name_has_words(text.split()))))


@dataclass
class AuditPage:
    """One page of the log, newest first, and where the neighbouring pages start: `older` and `newer` are the
    ids to page from (None: nothing that way). Keyset paging: no count of the whole log, ever."""

    items: list[sa.Row]  # rows of `audit_events`
    older: int | None
    newer: int | None


# Row values, (at, id) > (t, n), rather than "at > t or (at = t and id > n)": both databases read the (at, id)
# index from the cursor on, where the OR form made SQLite walk every newer entry first (45 ms -> 5 ms half-way
# down a million-entry log).
def _position(event_at, event_id):
    return sa.tuple_(
        sa.bindparam(None, event_at, type_=AuditEvent.at.type), sa.bindparam(None, event_id, type_=sa.Integer)
    )


def _newer_than(event_at, event_id):
    return sa.tuple_(AuditEvent.at, AuditEvent.id) > _position(event_at, event_id)


def _older_than(event_at, event_id):
    return sa.tuple_(AuditEvent.at, AuditEvent.id) < _position(event_at, event_id)


def audit_page(query: sa.Select, per_page: int, before: int | None = None, after: int | None = None) -> AuditPage:
    """The page of `query` (newest first) older than event `before`, or newer than event `after`, or the
    newest: per_page + 1 rows read, the extra one saying whether there is more that way."""
    cursor_id = before or after
    cursor = None
    if cursor_id is not None:
        cursor = db.session.execute(sa.select(AuditEvent.at, AuditEvent.id).where(AuditEvent.id == cursor_id)).first()
    if cursor is None:
        before = after = None
    if after is not None:
        rows = db.session.execute(
            query.where(_newer_than(*cursor)).order_by(None).order_by(AuditEvent.at, AuditEvent.id).limit(per_page + 1)
        ).all()
        more_newer = len(rows) > per_page
        items = rows[:per_page][::-1]
        return AuditPage(items, items[-1].id if items else cursor.id, items[0].id if more_newer and items else None)
    rows = db.session.execute((query.where(_older_than(*cursor)) if before else query).limit(per_page + 1)).all()
    items = rows[:per_page]
    older = items[-1].id if len(rows) > per_page else None
    newer = None
    if before is not None:  # is anything that matches newer than the top of this page?
        top = items[0] if items else cursor
        newer_ids = query.order_by(None).with_only_columns(AuditEvent.id).where(_newer_than(top.at, top.id)).limit(1)
        newer = top.id if db.session.scalar(newer_ids) is not None else None
    return AuditPage(items, older, newer)


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


_export_users, _export_clients = sa.orm.aliased(User), sa.orm.aliased(Client)
# Built once: the export adds only its period and id bounds.
_EXPORT_QUERY = (
    sa.select(
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.user_id,
        _export_users.name,
        AuditEvent.attempted_email,
        AuditEvent.action,
        AuditEvent.entity_type,
        AuditEvent.entity_id,
        AuditEvent.client_id,
        _export_clients.full_name,
        AuditEvent.details,
        AuditEvent.address,
        AuditEvent.prev_hash,
        AuditEvent.hash,
    )
    .outerjoin(_export_users, _export_users.id == AuditEvent.user_id)
    .outerjoin(_export_clients, _export_clients.id == AuditEvent.client_id)
    .order_by(AuditEvent.id)
)


def audit_csv_rows(engine: sa.Engine, start: datetime | None, end: datetime | None) -> Iterator[str]:
    """The audit log between two UTC times as CSV lines, oldest first, read in batches by id so memory stays
    flat however long the log. Each row keeps its `prev_hash` and `hash`, so a copy can be checked on its own.
    It reads on a connection of its own, so it needs no request context while the response streams. Yielded
    a batch at a time (the header first): one write to the socket per batch, not per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield _drain(buffer)
    query = _EXPORT_QUERY.limit(EXPORT_BATCH)
    in_period = []
    if start:
        in_period.append(AuditEvent.at >= start)
    if end:
        in_period.append(AuditEvent.at <= end)
    last_id = 0
    with engine.connect() as connection:
        if in_period:
            # Batches go by id: the period's first and last ids, found on the time index, keep each batch from
            # walking the log by id up to the period (a day of a million-entry log: 93 ms -> a few).
            first, last = connection.execute(
                sa.select(sa.func.min(AuditEvent.id), sa.func.max(AuditEvent.id)).where(*in_period)
            ).one()
            if first is None:
                return
            query = query.where(*in_period, AuditEvent.id <= last)
            last_id = first - 1
        while rows := connection.execute(query.where(AuditEvent.id > last_id)).all():
            for row in rows:
                values = list(row)
                values[1] = row.at.isoformat()
                values[10] = _details_json(row.details)
                writer.writerow(["" if value is None else neutralise(value) for value in values])
            yield _drain(buffer)
            last_id = rows[-1].id


_details_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode  # json.dumps() makes one per call


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
