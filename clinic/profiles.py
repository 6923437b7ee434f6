"""Who stands behind a record: the clinic's details (one row) and a therapist's professional profile.
The owner edits both (admin feature); each person edits their own profile (account feature); the physician
summary and the FHIR export read them here."""

from typing import Any

from clinic import audit, logins
from clinic.extensions import db
from clinic.models import AuditAction, ClinicSettings, User


def clinic_settings() -> ClinicSettings:
    """The clinic's name, address and phone; an empty, unsaved row until the owner fills them in."""
    return db.session.get(ClinicSettings, 1) or ClinicSettings(id=1, name="", address="", phone="")


def update_clinic_settings(values: dict[str, Any]) -> dict[str, list]:
    settings = clinic_settings()
    if settings not in db.session:
        db.session.add(settings)
    changes = audit.apply_changes(
        settings, {field: (values[field] or "").strip() for field in ClinicSettings.EDITABLE_FIELDS}
    )
    if changes:
        db.session.flush()
        audit.record(AuditAction.UPDATE, entity_type="clinic", entity_id=1, details={"changes": changes})
    return changes


def update_profile(user: User, values: dict[str, Any]) -> dict[str, list]:
    """A person's name, credentials, registration number and phone, audited as [old, new]."""
    changes = audit.apply_changes(user, {field: (values[field] or "").strip() for field in User.PROFILE_FIELDS})
    if changes:
        audit.record(AuditAction.UPDATE, entity_type="user", entity_id=user.id, details={"changes": changes})
        db.session.flush()
    return changes


def change_password(user: User, password: str) -> int:
    """The person's own new password: set (a new session token logs every other device out, and their session
    records end), no longer one someone else chose, and audited. Returns how many other sessions ended."""
    user.set_password(password)
    user.must_change_password = False
    ended = logins.end_others(user, "password changed")
    audit.record(
        AuditAction.UPDATE, entity_type="user", entity_id=user.id, details={"changes": {"password": "changed"}}
    )
    db.session.flush()
    return ended
