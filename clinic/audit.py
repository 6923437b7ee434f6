"""Writing the audit log. Services call `record`; the view's commit stores the event with the change.
The chain (see clinic/models/audit.py) is checked by `verify_chain`; denied attempts are kept by `store_denied`."""

from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from flask_login import current_user

from clinic.concurrency import flush_or_stale
from clinic.extensions import db
from clinic.models import AuditAction, AuditEvent, Client, User
from clinic.models.audit import GENESIS_HASH, HASHED_FIELDS, AuditChainStart, append, canonical_time, event_hash


def record(
    action: AuditAction,
    *,
    client: Client | None = None,
    entity_type: str = "",
    entity_id: int | None = None,
    details: dict[str, Any] | None = None,
    user: User | None = None,
    attempted_email: str = "",
) -> AuditEvent:
    """Append an event in the request's transaction (the view's commit stores it with the change)."""
    event = AuditEvent(**_fields(action, client, entity_type, entity_id, details, user, attempted_email))
    db.session.add(event)
    flush_or_stale()  # the flush may carry a versioned update made before: a stale one is a conflict
    return event


def record_read(
    action: AuditAction,
    *,
    client: Client | None = None,
    entity_type: str = "",
    entity_id: int | None = None,
    details: dict[str, Any] | None = None,
    user: User | None = None,
) -> None:
    """Append an event in a short transaction of its own, committed at once: for a page that only reads, so the
    chain's lock is not held while the page renders and the request's loaded records are not expired by a commit
    (and read again). Only for views that write nothing else: the request's own transaction is left as it is.
    A Core insert on a connection of its own (no ORM unit of work: this runs on every page that shows client data)."""
    fields = _fields(action, client, entity_type, entity_id, details, user, "")
    with db.engine.begin() as connection:
        append(connection, fields)


def _fields(
    action: AuditAction,
    client: Client | None,
    entity_type: str,
    entity_id: int | None,
    details: dict[str, Any] | None,
    user: User | None,
    attempted_email: str,
) -> dict[str, Any]:
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    if client is not None and not entity_type:
        entity_type, entity_id = "client", client.id
    return {
        "action": action,
        "user_id": user.id if user else None,
        "attempted_email": attempted_email,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "client_id": client.id if client else None,
        "details": details or {},
        "address": (request.remote_addr or "") if has_request_context() else "",
    }


def apply_changes(record: Any, values: dict[str, Any]) -> dict[str, list]:
    """Set each value on the record; return what changed as {field: [old, new]}, ready for the audit log."""
    changes = {}
    for field, new in values.items():
        old = getattr(record, field)
        if old != new:
            changes[field] = [_jsonable(old), _jsonable(new)]
            setattr(record, field, new)
    return changes


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found: how many events it checked, the last good one, and the first broken one."""

    checked: int
    head_id: int | None
    head_hash: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(connection: sa.Connection | None = None, batch: int = 5000) -> ChainReport:
    """Walk the audit log in id order and check each event's hash and its link to the event before.

    Finds an edited event (its hash no longer matches its fields), a removed one (the next event's `prev_hash`
    names a hash that is not the one before it), and one inserted afterwards (a hash that does not fit, or a
    time earlier than the event before). Events removed from the end leave no trace in the chain itself: compare
    the head (printed by `flask audit verify`) with one kept elsewhere, e.g. beside each backup."""
    connection = connection or db.session.connection()
    legacy_until = connection.execute(sa.select(sa.func.max(AuditChainStart.legacy_until_id))).scalar() or 0
    table = AuditEvent.__table__
    columns = [table.c[name] for name in HASHED_FIELDS] + [table.c.prev_hash, table.c.hash]
    prev, prev_at, last_id, checked = GENESIS_HASH, None, 0, 0
    while True:
        rows = connection.execute(
            sa.select(*columns).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            return ChainReport(checked, last_id or None, prev)
        for row in rows:
            fields = row._asdict()
            at = fields["at"] if fields["at"].tzinfo else fields["at"].replace(tzinfo=UTC)
            problem = ""
            if row.prev_hash != prev:
                problem = "it does not follow the entry before it (an entry was removed or inserted here)"
            elif row.hash != event_hash(fields, row.prev_hash):
                problem = "its contents do not match its hash (it was changed or forged)"
            elif prev_at is not None and at < prev_at and row.id > legacy_until:
                problem = f"it is dated {canonical_time(at)}, before the entry before it ({canonical_time(prev_at)})"
            if problem:
                return ChainReport(checked, last_id or None, prev, broken_id=row.id, reason=problem)
            prev, prev_at, last_id, checked = row.hash, at, row.id, checked + 1


def record_denied(user: User, entity_type: str, entity_id: int | None, client_id: int | None = None) -> None:
    """Note, for the error handler, a record this user asked for and may not see; it records the attempt as
    `denied` after rolling back the request's work, so the entry is kept although the request fails (404)."""
    g.audit_denied = {"user_id": user.id, "entity_type": entity_type, "entity_id": entity_id, "client_id": client_id}


def store_denied() -> None:
    """Called by the 404 handler: commit the `denied` entry noted by `record_denied`, if any."""
    denied = g.pop("audit_denied", None)
    if denied is None:
        return
    try:
        db.session.rollback()
        _store_denied(denied)
    except sa.exc.SQLAlchemyError:
        # The 404 is still the answer; the failure to keep the entry goes to the server's log.
        db.session.rollback()
        current_app.logger.exception("could not record a denied attempt: %s", denied)


def _store_denied(denied: dict[str, Any]) -> None:
    client = db.session.get(Client, denied["client_id"]) if denied["client_id"] is not None else None
    record(
        AuditAction.DENIED,
        user=db.session.get(User, denied["user_id"]),
        entity_type=denied["entity_type"],
        entity_id=in_id_range(denied["entity_id"]),
        client=client,
        details={"path": request.path[:500], "method": request.method},
    )
    db.session.commit()


def in_id_range(number: int | None) -> int | None:
    """An id from a URL as the column can hold it (a URL may carry any number of digits)."""
    return number if number is not None and -(2**31) <= number < 2**31 else None
