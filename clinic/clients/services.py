"""Finding clients and changing them, each change written to the audit log (who may see a client: clinic.access)."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from clinic import audit
from clinic.access import visible_clients
from clinic.concurrency import check_version, flush_or_stale
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.models import AuditAction, Client, Role, User
from clinic.precautions import known

NULLABLE_FIELDS = {"consent_date"}


def search_clients(user: User, text: str = "", archived: bool = False) -> sa.Select:
    query = visible_clients(user).where(Client.archived_at.is_not(None) if archived else Client.archived_at.is_(None))
    text = text.strip()
    if text:
        condition = Client.full_name.ilike(f"%{_escape_like(text)}%", escape="\\")
        born = _parse_date(text)
        if born is not None:
            condition = sa.or_(condition, Client.date_of_birth == born)
        query = query.where(condition)
    return query.order_by(sa.func.lower(Client.full_name), Client.id).options(selectinload(Client.therapist))


def therapists() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.role == Role.THERAPIST, User.active.is_(True)).order_by(User.name)
        )
    )


def create_client(data: dict[str, Any], therapist: User) -> Client:
    client = Client(therapist=therapist, **_editable(data))
    db.session.add(client)
    db.session.flush()
    audit.record(AuditAction.CREATE, client=client, details={"full_name": client.full_name})
    return client


def update_client(client: Client, data: dict[str, Any], version: str | None) -> dict[str, list]:
    """Apply the edit and audit each changed field as [old, new]. Raises StaleRecordError for a stale form."""
    check_version(client, version)
    changes = audit.apply_changes(client, _editable(data))
    if changes:
        audit.record(AuditAction.UPDATE, client=client, details={"changes": changes})
    flush_or_stale()
    return changes


def set_sharing(client: Client, therapist: User, shared_with: list[User]) -> dict[str, list]:
    changes = {}
    if client.therapist_id != therapist.id:
        changes["therapist"] = [client.therapist.email, therapist.email]
        client.therapist = therapist
    old_shared = sorted(user.email for user in client.shared_with)
    new_shared = sorted(user.email for user in shared_with if user.id != therapist.id)
    if old_shared != new_shared:
        changes["shared_with"] = [old_shared, new_shared]
        client.shared_with = [user for user in shared_with if user.id != therapist.id]
    if changes:
        audit.record(AuditAction.UPDATE, client=client, details={"changes": changes})
    db.session.flush()
    return changes


def archive_client(client: Client) -> None:
    if client.is_archived:
        return
    client.archived_at = utcnow()
    audit.record(AuditAction.ARCHIVE, client=client)
    db.session.flush()


def unarchive_client(client: Client) -> None:
    if not client.is_archived:
        return
    client.archived_at = None
    audit.record(AuditAction.UNARCHIVE, client=client)
    db.session.flush()


def record_view(client: Client) -> None:
    audit.record(AuditAction.VIEW, client=client)


def _editable(data: dict[str, Any]) -> dict[str, Any]:
    values = {field: data[field] for field in Client.EDITABLE_FIELDS if field in data}
    if "precautions" in values:
        values["precautions"] = known(values["precautions"])  # the fixed list's order, so an edit compares equal
    # Optional text fields are stored as "" rather than NULL: one empty value, not two.
    return {field: ("" if value is None and field not in NULLABLE_FIELDS else value) for field, value in values.items()}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
