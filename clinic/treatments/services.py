"""Storing treatment sessions: one transaction for a session and its points, audited, never doubled."""

import secrets
from typing import Any

import sqlalchemy as sa
from flask import abort, url_for
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectChoice

from clinic import audit
from clinic.clients.services import flush_or_stale
from clinic.clock import clinic_today, to_local, to_utc
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.knowledge.figure import focus_viewbox
from clinic.knowledge.loader import KnowledgeBase
from clinic.models import AuditAction, Client, PointTreatment, TreatmentSession, User
from clinic.models.treatment import ADVISED_MAX_COMPRESSION_PAIN, ADVISED_PRESSURE
from clinic.treatments.forms import SessionForm

POINT_FIELDS = ("side", "pressure_seconds", "pain", "release_felt", "local_twitch", "referral_reproduced", "note")


class StaleSessionError(Exception):
    """The session changed since the form was opened."""


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


def session_form(kb: KnowledgeBase, **kwargs) -> SessionForm:
    regions = [(region.id, region.name) for region in kb.regions.values()]
    points = [SelectChoice("", "— choose a trigger point —")] + [
        SelectChoice(point.id, f"{muscle.name} {point.number}: {point.location}", optgroup=muscle.name)
        for point_id, (muscle, point) in kb.trigger_points.items()
    ]
    return SessionForm(region_choices=regions, point_choices=points, today=clinic_today(), **kwargs)


def form_values(form: SessionForm) -> dict[str, Any]:
    """What the validated form says, ready to store: UTC time, and only the rows that were filled in."""
    values = {field: form[field].data for field in TreatmentSession.EDITABLE_FIELDS}
    values["started_at"] = to_utc(form.started_at.data)
    values["pain_regions"] = list(dict.fromkeys(form.pain_regions.data))
    for text in ("subjective", "objective", "assessment", "plan"):
        values[text] = values[text] or ""
    values["points"] = [
        {"trigger_point_id": point.trigger_point.data, **{name: point[name].data for name in POINT_FIELDS}}
        for point in form.filled_points()
    ]
    for point in values["points"]:
        point["note"] = point["note"] or ""
    return values


def fill_form(form: SessionForm, session: TreatmentSession, with_points: bool = True) -> None:
    for field in TreatmentSession.EDITABLE_FIELDS:
        form[field].data = getattr(session, field)
    form.started_at.data = to_local(session.started_at)
    form.version.data = str(session.version)
    form.submission_token.data = session.submission_token
    if with_points:
        for point in session.points:
            form.add_point({"trigger_point": point.trigger_point_id, **{f: getattr(point, f) for f in POINT_FIELDS}})


def repeat_points(form: SessionForm, previous: TreatmentSession) -> None:
    """Most follow-ups treat the same points: copy where and how long, not this visit's responses or pain."""
    for point in previous.points:
        form.add_point(
            {"trigger_point": point.trigger_point_id, "side": point.side, "pressure_seconds": point.pressure_seconds}
        )


def find_by_token(client: Client, token: str | None) -> TreatmentSession | None:
    """The session already stored from this form, if any."""
    if not token:
        return None
    return db.session.scalar(
        sa.select(TreatmentSession).where(
            TreatmentSession.submission_token == token, TreatmentSession.client_id == client.id
        )
    )


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
    if version != str(session.version):
        raise StaleSessionError
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
    flush_or_stale(StaleSessionError)
    return changes


def same_as_stored(session: TreatmentSession, values: dict[str, Any]) -> bool:
    """Whether the form says exactly what is stored (a second click on Save, a resubmitted page)."""
    values = dict(values)
    points = values.pop("points")
    return all(getattr(session, field) == value for field, value in values.items()) and [
        point.as_record() for point in session.points
    ] == [PointTreatment(**point).as_record() for point in points]


def get_session_for(client: Client, session_id: int) -> TreatmentSession:
    """A session of this (already access-checked) client, or 404."""
    session = db.session.get(TreatmentSession, session_id)
    if session is None or session.client_id != client.id:
        abort(404)
    return session


def record_view(session: TreatmentSession) -> None:
    audit.record(AuditAction.VIEW, client=session.client, entity_type="session", entity_id=session.id)


def last_session(client: Client) -> TreatmentSession | None:
    return db.session.scalar(
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at.desc(), TreatmentSession.id.desc())
        .limit(1)
    )


def client_sessions(client: Client, with_points: bool = False) -> sa.Select:
    """The client's sessions, newest first (served by the client-and-date index)."""
    query = (
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at.desc(), TreatmentSession.id.desc())
    )
    if with_points:
        query = query.options(selectinload(TreatmentSession.points), joinedload(TreatmentSession.therapist))
    return query


def treated_muscles(session: TreatmentSession, kb: KnowledgeBase) -> list[str]:
    """Names of the muscles treated in a session, each once, in the order treated."""
    names = [
        kb.trigger_points[point.trigger_point_id][0].name
        if point.trigger_point_id in kb.trigger_points
        else point.trigger_point_id
        for point in session.points
    ]
    return list(dict.fromkeys(names))


def session_form_data(kb: KnowledgeBase) -> dict[str, Any]:
    """What the form's script needs about every trigger point, passed as a JSON block (no inline script)."""
    return {
        "points": {
            point_id: {
                "muscle": muscle.name,
                "number": point.number,
                "location": point.location,
                "url": url_for("knowledge.muscle", slug=muscle.slug),
                "primary": muscle.refers_to.primary,
                "secondary": muscle.refers_to.secondary,
                "viewBox": focus_viewbox(muscle.refers_to.primary + muscle.refers_to.secondary),
            }
            for point_id, (muscle, point) in kb.trigger_points.items()
        },
        "muscles": {muscle.slug: [point.id for point in muscle.trigger_points] for muscle in kb.muscles.values()},
        "regionNames": kb.region_names,
        "api": url_for("api.symptom_checker"),
        "advisedPressure": list(ADVISED_PRESSURE),
        "advisedMaxPain": ADVISED_MAX_COMPRESSION_PAIN,
    }
