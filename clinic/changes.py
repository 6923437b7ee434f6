"""The audit log read by people: what an edit changed, in words, and what a view or an export covered.

Built from what audit events store in `details`: `{"changes": {field: [old, new]}}` for edits (a session's
points as two whole lists of point records, see `PointTreatment.as_record`), a plain string for a change
that has no values to show (`{"password": "reset"}`), and a few facts for other events (`{"points": 3}` on
a new session, `{"format", "sessions", "period"}` on an export, `{"period", "printed"}` on a summary). Rows
written before this module existed read the same way: nothing here needs richer details than those.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from clinic.extensions import db
from clinic.kb import KnowledgeBase, sides
from clinic.models import AuditAction, AuditEvent, User
from clinic.templating import format_date, format_datetime

LABELS = {
    # sessions
    "started_at": "Date and time",
    "length_minutes": "Length",
    "pain_before": "Pain before",
    "pain_after": "Pain after",
    "pain_regions": "Pain reported in",
    "stress_before": "Stress before",
    "stress_after": "Stress after",
    "heart_rate_before": "Heart rate before",
    "heart_rate_after": "Heart rate after",
    "systolic_before": "Systolic pressure before",
    "systolic_after": "Systolic pressure after",
    "diastolic_before": "Diastolic pressure before",
    "diastolic_after": "Diastolic pressure after",
    "overload_cause": "Suspected overload",
    "subjective": "Subjective",
    "objective": "Objective",
    "assessment": "Assessment",
    "plan": "Plan",
    "points": "Treated points",
    # a treated point
    "side": "side",
    "pressure_seconds": "pressure",
    "pain": "compression pain",
    "release_felt": "release felt",
    "local_twitch": "local twitch",
    "referral_reproduced": "referral reproduced",
    "note": "note",
    # clients
    "full_name": "Name",
    "date_of_birth": "Date of birth",
    "phone": "Phone",
    "email": "Email",
    "address": "Address",
    "physician_name": "Physician",
    "physician_contact": "Physician's contact",
    "health_history": "Health history",
    "medications": "Medications",
    "contraindications": "Contraindications",
    "consent_date": "Consent signed",
    "notes": "Notes",
    "therapist": "Therapist",
    "shared_with": "Shared with",
    # accounts and the clinic
    "active": "Active",
    "password": "Password",
    "failed_logins": "Failed logins",
    "name": "Name",
    "credentials": "Credentials",
    "registration_number": "Registration number",
    "role": "Role",
}
UNITS = {
    "length_minutes": " min",
    "pressure_seconds": " s",
    "pain_before": "/10",
    "pain_after": "/10",
    "pain": "/10",
    "stress_before": "/10",
    "stress_after": "/10",
    "heart_rate_before": " bpm",
    "heart_rate_after": " bpm",
    **{f"{kind}_{when}": " mmHg" for kind in ("systolic", "diastolic") for when in ("before", "after")},
}
POINT_FIELDS = (
    "side",
    "pressure_seconds",
    "pain",
    "release_felt",
    "local_twitch",
    "referral_reproduced",
    "note",
)
EMPTY = "(empty)"


@dataclass
class Difference:
    """One line of a readable change: `kind` is changed, added, removed or set (a change without values)."""

    label: str
    kind: str = "changed"
    old: str = ""
    new: str = ""
    parts: list["Difference"] = field(default_factory=list)  # a changed point: its fields


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def show(name: str, value: Any, kb: KnowledgeBase | None = None) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "pain_regions" and isinstance(value, list):
        return ", ".join(_region(kb, region) for region in value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, str) and name in {"started_at", "date_of_birth", "consent_date"}:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if len(value) == 10:
            return format_date(moment.date())
        return format_datetime(moment) if moment.tzinfo else moment.strftime("%-d %b %Y, %H:%M")
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, str) and name in {"side", "overload_cause"}:
        return value
    return f"{value}{UNITS.get(name, '')}"


def _region(kb: KnowledgeBase | None, region: str) -> str:
    return sides.label(region, kb.region_names if kb else {})


def point_name(record: dict[str, Any], kb: KnowledgeBase | None) -> str:
    found = kb.point(record.get("trigger_point", "")) if kb else None
    name = found.name if found else record.get("trigger_point", "?")
    return f"{name} ({record.get('side', '?')})"


def differences(changes: dict[str, Any], kb: KnowledgeBase | None = None) -> list[Difference]:
    """`{"field": [old, new]}` as readable lines; the points field as points added, removed and changed."""
    lines = []
    for name, change in changes.items():
        if isinstance(change, str):
            lines.append(Difference(label(name), "set", new=change))
        elif name == "points" and _is_point_lists(change):
            lines.extend(point_differences(change[0], change[1], kb))
        elif name == "pain_regions" and isinstance(change, list | tuple) and len(change) == 2:
            lines.extend(_region_differences(change[0] or [], change[1] or [], kb))
        elif isinstance(change, list | tuple) and len(change) == 2:
            lines.append(Difference(label(name), "changed", show(name, change[0], kb), show(name, change[1], kb)))
        else:
            lines.append(Difference(label(name), "set", new=show(name, change, kb)))
    return lines


def _is_point_lists(change: Any) -> bool:
    return (
        isinstance(change, list | tuple)
        and len(change) == 2
        and all(isinstance(side, list) and all(isinstance(p, dict) for p in side) for side in change)
    )


def _region_differences(old: list[str], new: list[str], kb: KnowledgeBase | None) -> list[Difference]:
    added = [region for region in new if region not in old]
    removed = [region for region in old if region not in new]
    lines = []
    if added:
        lines.append(Difference(label("pain_regions"), "added", new=show("pain_regions", added, kb)))
    if removed:
        lines.append(Difference(label("pain_regions"), "removed", old=show("pain_regions", removed, kb)))
    return lines or [
        Difference(label("pain_regions"), "changed", show("pain_regions", old, kb), show("pain_regions", new, kb))
    ]


def point_differences(
    old: list[dict[str, Any]], new: list[dict[str, Any]], kb: KnowledgeBase | None = None
) -> list[Difference]:
    """Pair the points of two versions of a session: first the same trigger point on the same side, then the
    same trigger point (its side changed); what is left was removed or added. Reordering alone is no change."""
    old_left, new_left = list(old), list(new)
    pairs = []
    for same in (
        lambda a, b: (a.get("trigger_point"), a.get("side")) == (b.get("trigger_point"), b.get("side")),
        lambda a, b: a.get("trigger_point") == b.get("trigger_point"),
    ):
        for before in list(old_left):
            match = next((after for after in new_left if same(before, after)), None)
            if match is not None:
                pairs.append((before, match))
                old_left.remove(before)
                new_left.remove(match)
    lines = []
    for before, after in pairs:
        parts = [
            Difference(label(name), "changed", show(name, before.get(name), kb), show(name, after.get(name), kb))
            for name in POINT_FIELDS
            if before.get(name) != after.get(name)
        ]
        if parts:
            lines.append(Difference(point_name(before, kb), "changed", parts=parts))
    lines += [Difference(point_name(p, kb), "removed", old=_point_values(p, kb)) for p in old_left]
    lines += [Difference(point_name(p, kb), "added", new=_point_values(p, kb)) for p in new_left]
    return lines


def _point_values(record: dict[str, Any], kb: KnowledgeBase | None) -> str:
    values = [show("pressure_seconds", record.get("pressure_seconds")), f"pain {show('pain', record.get('pain'))}"]
    values += [label(name) for name in ("release_felt", "local_twitch", "referral_reproduced") if record.get(name)]
    if record.get("note"):
        values.append(f"note: {record['note']}")
    return ", ".join(values)


# --- what other events covered ----------------------------------------------------------------------------


def _period(period: dict[str, str] | None) -> str:
    period = period or {}
    start, end = period.get("from"), period.get("to")
    if not start and not end:
        return "all sessions"
    shown = {key: format_date(date.fromisoformat(value)) for key, value in period.items() if value}
    if start and end:
        return f"{shown['from']} – {shown['to']}"
    return f"from {shown['from']}" if start else f"up to {shown['to']}"


def summary_line(event: AuditEvent | sa.Row) -> str:
    """What an event other than an edit was about, in words ("" when there is nothing to add)."""
    details = event.details or {}
    kind = event.entity_type
    if kind == "summary":
        what = "Physician summary printed or saved as PDF" if details.get("printed") else "Physician summary viewed"
        return f"{what}, {_period(details.get('period'))}"
    if kind == "export":
        sessions = details.get("sessions")
        count = f"{sessions} session{'' if sessions == 1 else 's'}" if sessions is not None else ""
        fmt = {"csv": "CSV", "fhir": "FHIR R4B"}.get(details.get("format", ""), details.get("format", ""))
        return ", ".join(part for part in (f"{fmt} export", count, _period(details.get("period"))) if part)
    if kind == "pain-history":
        return f"Pain history (JSON), {_period(details.get('period'))}"
    if kind == "session" and event.action == AuditAction.CREATE and "points" in details:
        points = details["points"]
        return f"Session logged with {points} point{'' if points == 1 else 's'}"
    if kind == "user" and event.action == AuditAction.CREATE:
        return ", ".join(f"{label(k).lower()}: {v}" for k, v in details.items() if k in {"email", "role"})
    plain = [(k, v) for k, v in details.items() if k != "changes"]
    return "; ".join(f"{label(k)}: {show(k, v)}" for k, v in plain)


def readable(event: AuditEvent | sa.Row, kb: KnowledgeBase | None = None) -> dict[str, Any]:
    """An event (or a row with its action, entity_type and details) as templates show it: its differences, or a
    line saying what it covered."""
    changes = (event.details or {}).get("changes")
    if isinstance(changes, dict):
        return {"differences": differences(changes, kb), "summary": ""}
    return {"differences": [], "summary": summary_line(event)}


# --- the history of one record ------------------------------------------------------------------------------


def record_history(entity_type: str, entity_id: int) -> list[AuditEvent]:
    """Who created and changed a record, and when, oldest first (views are not part of a record's history)."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id == entity_id,
                AuditEvent.action.in_([AuditAction.CREATE, AuditAction.UPDATE, AuditAction.ARCHIVE]),
            )
            .order_by(AuditEvent.at, AuditEvent.id)
            .options(selectinload(AuditEvent.user))
        )
    )


def user_names(ids: Iterable[int]) -> dict[int, str]:
    """Names of the accounts an audit page mentions, in one query."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(wanted))).tuples().all())
