"""Writing the audit log. Services call `record`; the view's commit stores the event with the change."""

from datetime import date
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from clinic.concurrency import flush_or_stale
from clinic.extensions import db
from clinic.models import AuditAction, AuditEvent, Client, User


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
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    if client is not None and not entity_type:
        entity_type, entity_id = "client", client.id
    event = AuditEvent(
        action=action,
        user_id=user.id if user else None,
        attempted_email=attempted_email,
        entity_type=entity_type,
        entity_id=entity_id,
        client_id=client.id if client else None,
        details=details or {},
        address=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(event)
    flush_or_stale()  # the flush may carry a versioned update made before: a stale one is a conflict
    return event


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
