"""Storing treatment sessions: one transaction for a session and its points, audited, never doubled."""

import secrets
from typing import Any

from clinic import audit
from clinic.concurrency import check_version, editing
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.models import AuditAction, Client, PointTreatment, SessionDraft, TreatmentSession, User
from clinic.treatments.queries import find_draft


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


def create_session(client: Client, therapist: User, token: str, values: dict[str, Any]) -> TreatmentSession:
    values = dict(values)
    points = values.pop("points")
    session = TreatmentSession(client=client, therapist=therapist, submission_token=token, **values)
    session.points = [PointTreatment(position=index, **point) for index, point in enumerate(points)]
    db.session.add(session)
    db.session.flush()
    audit.record(
        AuditAction.CREATE, client=client, entity_type="session", entity_id=session.id, details={"points": len(points)}
    )
    return session


def update_session(session: TreatmentSession, values: dict[str, Any], version: str | None) -> dict[str, Any]:
    """Apply an edit and audit every change as [old, new]; the points are compared as whole lists."""
    check_version(session, version)
    with editing():
        values = dict(values)
        new_points = values.pop("points")
        changes: dict[str, Any] = audit.apply_changes(session, values)
        old_records = [point.as_record() for point in session.points]
        replacement = [PointTreatment(position=index, **point) for index, point in enumerate(new_points)]
        new_records = [point.as_record() for point in replacement]
        if old_records != new_records:
            changes["points"] = [old_records, new_records]
            session.points = replacement
        if changes:
            session.updated_at = utcnow()
            audit.record(
                AuditAction.UPDATE,
                client=session.client,
                entity_type="session",
                entity_id=session.id,
                details={"changes": changes},
            )
    return changes


def same_as_stored(session: TreatmentSession, values: dict[str, Any]) -> bool:
    """Whether the form says exactly what is stored (a second click on Save, a resubmitted page)."""
    values = dict(values)
    points = values.pop("points")
    return all(getattr(session, field) == value for field, value in values.items()) and [
        point.as_record() for point in session.points
    ] == [PointTreatment(**point).as_record() for point in points]


def record_view(session: TreatmentSession) -> None:
    """Committed at once in a transaction of its own (audit.record_read): call only from a view that reads."""
    audit.record_read(AuditAction.VIEW, client=session.client, entity_type="session", entity_id=session.id)


def record_form_view(client: Client) -> None:
    """The session form shows the client's contraindications (and, repeating, the last session's points).
    Committed at once in a transaction of its own (audit.record_read): call only from a view that reads."""
    audit.record_read(AuditAction.VIEW, client=client)


# --- drafts: the form's state while a therapist works; never written to the audit log (it is not a record) ---

# What a draft never keeps: the request's CSRF token and the buttons that rebuild the page.
NOT_IN_DRAFT = frozenset({"csrf_token", "save", "suggest", "add_point", "add_row", "confirm_near"})
DRAFT_LIMITS = {"fields": 400, "values": 60, "chars": 5000}


def clean_draft_fields(raw: Any) -> dict[str, list[str]] | None:
    """The form fields a draft may keep ({name: [values]}), or None when the body is not that shape."""
    if not isinstance(raw, dict) or len(raw) > DRAFT_LIMITS["fields"]:
        return None
    fields: dict[str, list[str]] = {}
    for name, values in raw.items():
        if not isinstance(name, str) or len(name) > 80:
            return None
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or len(values) > DRAFT_LIMITS["values"]:
            return None
        if not all(isinstance(value, str) and len(value) <= DRAFT_LIMITS["chars"] for value in values):
            return None
        if name not in NOT_IN_DRAFT:
            fields[name] = values
    return fields


def save_draft(user: User, client: Client, scope: str, fields: dict[str, list[str]]) -> SessionDraft:
    draft = find_draft(user, client, scope)
    if draft is None:
        draft = SessionDraft(user_id=user.id, client_id=client.id, scope=scope)
        db.session.add(draft)
    draft.fields = fields
    draft.updated_at = utcnow()
    db.session.flush()
    return draft


def discard_draft(user: User, client: Client, scope: str) -> bool:
    draft = find_draft(user, client, scope)
    if draft is None:
        return False
    db.session.delete(draft)
    db.session.flush()
    return True
