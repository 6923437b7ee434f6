"""Booking, moving and changing appointments (audited, flushed, never committed), double bookings, the feed."""

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from clinic import audit
from clinic.clock import to_utc
from clinic.concurrency import check_version, editing
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.models import Appointment, AuditAction, Client, User
from clinic.models.appointment import HOLDS_TIME
from clinic.rules import APPOINTMENT_LENGTH_RANGE, FEED_AHEAD_DAYS, FEED_PAST_DAYS


def values_from(form, therapist_id: int) -> dict[str, Any]:
    return {
        "client_id": form.client.data,
        "therapist_id": therapist_id,
        "starts_at": to_utc(form.start.data),
        "length_minutes": form.length_minutes.data,
        "status": form.status.data,
        "note": form.note.data or "",
    }


def conflicts(values: dict[str, Any], exclude_id: int | None = None) -> list[Appointment]:
    """Appointments that overlap this one for the same therapist or the same client (cancelled and no-shows
    hold no time). The widest possible appointment bounds the search; the exact overlap is checked here."""
    if values["status"] not in HOLDS_TIME:
        return []
    start = values["starts_at"]
    end = start + timedelta(minutes=values["length_minutes"])
    query = (
        sa.select(Appointment)
        .where(
            sa.or_(Appointment.therapist_id == values["therapist_id"], Appointment.client_id == values["client_id"]),
            Appointment.status.in_(list(HOLDS_TIME)),
            Appointment.starts_at < end,
            Appointment.starts_at > start - timedelta(minutes=APPOINTMENT_LENGTH_RANGE[1]),
        )
        .options(joinedload(Appointment.client), joinedload(Appointment.therapist))
        .order_by(Appointment.starts_at)
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return [other for other in db.session.scalars(query) if other.ends_at > start]


def create_appointment(values: dict[str, Any], overlaps: list[Appointment]) -> Appointment:
    appointment = Appointment(**values)
    db.session.add(appointment)
    db.session.flush()
    details: dict[str, Any] = {
        "starts_at": appointment.starts_at.isoformat(),
        "length_minutes": appointment.length_minutes,
        "therapist": appointment.therapist_id,
    }
    if overlaps:
        details["double_booked_with"] = [other.id for other in overlaps]
    audit.record(
        AuditAction.CREATE,
        client=db.session.get(Client, appointment.client_id),
        entity_type="appointment",
        entity_id=appointment.id,
        details=details,
    )
    return appointment


def update_appointment(
    appointment: Appointment, values: dict[str, Any], version: str | None, overlaps: list[Appointment]
) -> dict[str, list]:
    """Move, re-assign or change an appointment; every change audited as [old, new]."""
    check_version(appointment, version)
    with editing():
        changes = audit.apply_changes(appointment, values)
        if changes:
            appointment.updated_at = utcnow()
            details: dict[str, Any] = {"changes": changes}
            if overlaps:
                details["double_booked_with"] = [other.id for other in overlaps]
            audit.record(
                AuditAction.UPDATE,
                client=appointment.client,
                entity_type="appointment",
                entity_id=appointment.id,
                details=details,
            )
    return changes


def set_status(appointment: Appointment, status: str, version: str | None) -> bool:
    """One tap: arrived, cancelled, no-show. A completed appointment with its session keeps that status."""
    check_version(appointment, version)
    with editing():
        if appointment.session_id is not None or appointment.status == status:
            return False
        old = appointment.status
        appointment.status = status
        appointment.updated_at = utcnow()
        audit.record(
            AuditAction.UPDATE,
            client=appointment.client,
            entity_type="appointment",
            entity_id=appointment.id,
            details={"changes": {"status": [old, status]}},
        )
    return True


def record_view(appointment: Appointment) -> None:
    """Committed at once in a transaction of its own (audit.record_read): call only from a view that reads."""
    audit.record_read(AuditAction.VIEW, client=appointment.client, entity_type="appointment", entity_id=appointment.id)


def record_day_view(day: str, appointments: list[Appointment]) -> None:
    """One event for a page that shows several clients' contraindications and plans: which clients, which day."""
    if appointments:
        audit.record(
            AuditAction.VIEW,
            entity_type="day",
            details={"date": day, "clients": sorted({appointment.client_id for appointment in appointments})},
        )


# --- the calendar feed ---


def initials(name: str) -> str:
    """ "Daniel Whitford" -> "D.W.": enough for the therapist, little for anyone who sees their phone."""
    return "".join(f"{part[0].upper()}." for part in name.split() if part[:1].isalpha()) or "?"


def feed_appointments(user: User) -> list[tuple[int, datetime, int, str]]:
    """(id, start, length in minutes, client name) of the feed's appointments: the columns only (a feed of a busy
    therapist holds hundreds of appointments, read on every calendar refresh)."""
    now = utcnow()
    return list(
        db.session.execute(
            sa.select(Appointment.id, Appointment.starts_at, Appointment.length_minutes, Client.full_name)
            .join(Client, Client.id == Appointment.client_id)
            .where(
                Appointment.therapist_id == user.id,
                Appointment.status.in_(list(HOLDS_TIME)),
                Appointment.starts_at >= now - timedelta(days=FEED_PAST_DAYS),
                Appointment.starts_at < now + timedelta(days=FEED_AHEAD_DAYS),
            )
            .order_by(Appointment.starts_at, Appointment.id)
        ).tuples()
    )


def _ical_time(moment: datetime) -> str:
    """The UTC form (20260301T093000Z), written with a format string: strftime costs twice as much, twice per
    event of a feed of hundreds."""
    at = moment.astimezone(UTC)
    return f"{at.year:04d}{at.month:02d}{at.day:02d}T{at.hour:02d}{at.minute:02d}{at.second:02d}Z"


def _ical_text(value: str) -> str:
    """RFC 5545 TEXT escaping (backslash, semicolon, comma, line breaks)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _ical_fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    if len(line.encode()) <= 75:
        return line
    parts, current = [], ""
    for character in line:
        if len((current + character).encode()) > (75 if not parts else 74):
            parts.append(current)
            current = ""
        current += character
    parts.append(current)
    return "\r\n ".join(parts)


def calendar_feed(user: User, appointments: list[tuple[int, datetime, int, str]], host: str) -> bytes:
    """An iCalendar file: times in UTC and the client's initials, nothing else (no name, note or clinical data).
    Written as text lines (the icalendar library's object model cost about 0.1 ms per property on a
    600-appointment feed); the tests parse it back with icalendar."""
    stamp = _ical_time(utcnow())
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Knotwork//appointment book//EN",
        "VERSION:2.0",
        "X-WR-CALNAME:Knotwork appointments",
    ]
    host = _ical_text(host)  # an id is digits: only the host can need escaping, once for every event
    summaries: dict[str, str] = {}  # by client name: a feed repeats a few clients hundreds of times
    for appointment_id, starts_at, length_minutes, client_name in appointments:
        summary = summaries.get(client_name)
        if summary is None:
            summary = summaries[client_name] = _ical_fold(f"SUMMARY:{_ical_text(initials(client_name))}")
        lines += [
            "BEGIN:VEVENT",
            _ical_fold(f"UID:appointment-{appointment_id}@{host}"),
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ical_time(starts_at)}",
            f"DTEND:{_ical_time(starts_at + timedelta(minutes=length_minutes))}",
            summary,
            "STATUS:CONFIRMED",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def record_feed_read(user: User) -> None:
    audit.record(AuditAction.EXPORT, entity_type="calendar_feed", entity_id=user.id, user=user)


def parse_local(raw: str | None) -> datetime | None:
    try:
        return datetime.strptime(raw or "", "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
