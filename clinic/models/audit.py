"""The append-only audit log, chained: each event carries the hash of the one before it.

Every event is chained by `chain`, whether written through the ORM (any session: in `before_flush`) or with a
Core insert (`append`): under a lock (PostgreSQL: a
transaction-scoped advisory lock; SQLite: the database's write lock, taken before the last event is read), the
event gets the next id, a time no earlier than the last event's, the last event's hash as `prev_hash` and its own
`hash`, a SHA-256 over a canonical JSON of its fields and `prev_hash`. `clinic.audit.verify_chain()` checks it.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from itertools import count
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from clinic.db_types import UTCDateTime, lock_until_commit, one_of, utcnow
from clinic.extensions import db
from clinic.models.client import Client
from clinic.models.user import User

GENESIS_HASH = "0" * 64  # the `prev_hash` of the first event
# Any fixed number: the key of the PostgreSQL advisory lock that serializes appends to the chain.
CHAIN_LOCK_KEY = 0x6B6E6F74  # "knot"


class AuditAction(StrEnum):
    LOGIN = "login"
    FAILED_LOGIN = "failed_login"
    LOGOUT = "logout"
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    EXPORT = "export"
    DENIED = "denied"  # a record asked for that this user may not see (they got a 404)


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.CheckConstraint(one_of("action", AuditAction), name="action_valid"),
        # The log is read newest first, a page at a time (keyset on time and id), alone or per user or client.
        sa.Index("ix_audit_events_at_id", "at", "id"),
        sa.Index("ix_audit_events_user_at", "user_id", "at", "id"),
        sa.Index("ix_audit_events_client_at", "client_id", "at", "id"),
        # One record's history (the History card of a session, client or appointment page), oldest first.
        sa.Index("ix_audit_events_entity_at", "entity_type", "entity_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # What was typed at a failed login, when it matches no account.
    attempted_email: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[str] = mapped_column(sa.String(20), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(40), default="")
    entity_id: Mapped[int | None]
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    address: Mapped[str] = mapped_column(sa.String(45), default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    user: Mapped[User | None] = relationship()
    client: Mapped[Client | None] = relationship()


class AuditChainStart(db.Model):
    """Where the chain began (migration 0009): events up to `legacy_until_id` were written before there was a
    lock, so their times may be out of order by a few seconds; `verify_chain` checks times only after them.
    At most one row; none on a database created after 0009."""

    __tablename__ = "audit_chain_start"

    id: Mapped[int] = mapped_column(primary_key=True)
    legacy_until_id: Mapped[int] = mapped_column(sa.Integer)


# The fields a hash covers, in the order of the canonical JSON (keys are sorted anyway).
HASHED_FIELDS = (
    "id",
    "at",
    "user_id",
    "attempted_email",
    "action",
    "entity_type",
    "entity_id",
    "client_id",
    "details",
    "address",
)


def canonical_time(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC when read without the column type
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) over the canonical JSON of an event's fields and the previous event's hash."""
    values = {name: fields[name] for name in HASHED_FIELDS}
    values["at"] = canonical_time(values["at"])
    if isinstance(values["details"], str):  # a raw read of the JSON column
        values["details"] = json.loads(values["details"])
    values["prev_hash"] = prev_hash
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper, _connection, target: AuditEvent) -> None:
    raise AppendOnlyError(f"audit event {target.id} is append-only")


# Built once: it runs at every append (on every page that shows client data).
_HEAD_QUERY = (
    sa.select(AuditEvent.__table__.c.id, AuditEvent.__table__.c.at, AuditEvent.__table__.c.hash)
    .order_by(AuditEvent.__table__.c.id.desc())
    .limit(1)
)
_INSERT = sa.insert(AuditEvent.__table__)


def _chain_head(connection: sa.Connection) -> tuple[int, datetime | None, str]:
    """Lock the chain for this transaction, then read its last event: (id, at, hash)."""
    lock_until_commit(connection, CHAIN_LOCK_KEY, "audit_events")  # no other append can follow the last event read
    last = connection.execute(_HEAD_QUERY).first()
    if last is None:
        return 0, None, GENESIS_HASH
    return last.id, last.at, last.hash


def _id_source(connection: sa.Connection, last_id: int) -> Callable[[], int]:
    if connection.dialect.name == "postgresql":
        # Taken under the lock, so ids grow in chain order (a rolled-back append only leaves a gap).
        return lambda: connection.execute(_NEXT_ID).scalar_one()
    return count(last_id + 1).__next__


_NEXT_ID = sa.text("SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))")


def append(connection: sa.Connection, fields: dict[str, Any]) -> dict[str, Any]:
    """Append one event to the chain with a Core insert, in the connection's transaction (the caller commits):
    for a write that needs no ORM session. `fields`: the event's own fields (action, user_id, ...); the chain's
    are filled in as for an event written through the ORM. Returns the row as inserted."""
    row = chain(connection, [fields])[0]
    connection.execute(_INSERT, row)
    return row


def chain(connection: sa.Connection, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events' fields, in append order, completed for the chain after its last event (see `link`). Takes the
    chain's lock until the connection's transaction ends."""
    last_id, last_at, prev = _chain_head(connection)
    if last_at is not None and last_at.tzinfo is None:
        last_at = last_at.replace(tzinfo=UTC)
    return list(link(events, prev, last_at, _id_source(connection, last_id)))


def link(
    events: Iterable[dict[str, Any]], prev_hash: str, last_at: datetime | None, next_id: Callable[[], int]
) -> Iterator[dict[str, Any]]:
    """Events' fields, in append order, as the chain's rows after an event with `prev_hash` and time `last_at`: the
    defaults, an id from `next_id`, a time no earlier than the event before, `prev_hash` and `hash`. The one
    definition of a chained row, for the app's appends and for `flask demo large`'s bulk rows."""
    for fields in events:
        row = _with_defaults(fields)
        if row["at"] is None:
            # Never earlier than the event before: a clock that steps back must not look like a back-dated entry.
            now = utcnow()
            row["at"] = max(now, last_at) if last_at is not None else now
        row["id"] = next_id()
        row["prev_hash"] = prev_hash
        row["hash"] = prev_hash = event_hash(row, prev_hash)
        last_at = row["at"]
        yield row


# What an event's fields are when not given (the ORM's column defaults are applied only at the insert, after the
# hash is made); `details` is a fresh {} each time.
_FIELD_DEFAULTS: dict[str, Any] = {
    "at": None,
    "user_id": None,
    "attempted_email": "",
    "entity_type": "",
    "entity_id": None,
    "client_id": None,
    "address": "",
}


def _with_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    row = {name: default if fields.get(name) is None else fields[name] for name, default in _FIELD_DEFAULTS.items()}
    row["action"] = fields["action"]
    row["details"] = {} if fields.get("details") is None else fields["details"]
    return row


# The fields the chain fills in on an ORM-written event.
_CHAINED_FIELDS = (*HASHED_FIELDS, "prev_hash", "hash")


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, _context, _instances) -> None:
    new = sorted(
        (obj for obj in session.new if isinstance(obj, AuditEvent)), key=lambda obj: sa.inspect(obj).insert_order
    )
    if not new:
        return
    connection = session.connection(bind_arguments={"mapper": AuditEvent.__mapper__})
    rows = chain(connection, [{name: getattr(obj, name) for name in HASHED_FIELDS} for obj in new])
    for audit_event, row in zip(new, rows, strict=True):
        for name in _CHAINED_FIELDS:
            setattr(audit_event, name, row[name])
