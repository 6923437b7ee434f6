"""Appointments as other features need them: who may see one, the day's book, a client's next and last visit,
the session logged from an appointment, and the calendar feed's token. The book's own pages: clinic.appointments."""

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from clinic import audit
from clinic.access import visible_clients
from clinic.clock import to_local, to_utc
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.models import Appointment, AppointmentStatus, AuditAction, Client, TreatmentSession, User
from clinic.models.appointment import OPEN
from clinic.params import parse_record_id
from clinic.rules import REBOOK_DAYS

# --- who may see an appointment: whoever may see its client (the owner sees all) ---


def visible_appointments(user: User) -> sa.Select:
    query = sa.select(Appointment)
    if user.is_admin:
        return query
    return query.where(Appointment.client_id.in_(visible_clients(user).with_only_columns(Client.id)))


def get_appointment_for(user: User, appointment_id: int) -> Appointment:
    """The appointment if this user may see its client; otherwise 404."""
    appointment = db.session.scalar(
        visible_appointments(user)
        .where(Appointment.id == appointment_id)
        .options(joinedload(Appointment.client), joinedload(Appointment.therapist))
    )
    if appointment is None:
        audit.record_denied(user, "appointment", appointment_id)
        abort(404)
    return appointment


# --- a day or a week of the book ---


def local_day_bounds(first: date, days: int = 1) -> tuple[datetime, datetime]:
    """UTC bounds of whole clinic days: a day the clocks change on is 23 or 25 hours long."""
    return to_utc(datetime.combine(first, time())), to_utc(datetime.combine(first + timedelta(days=days), time()))


def appointments_between(
    viewer: User, start: datetime, end: datetime, therapist_ids: Iterable[int] | None = None
) -> list[Appointment]:
    """Appointments the viewer may see starting in [start, end), with client and therapist: one query however
    many there are."""
    query = (
        visible_appointments(viewer)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .options(joinedload(Appointment.client), joinedload(Appointment.therapist))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if therapist_ids is not None:
        query = query.where(Appointment.therapist_id.in_(list(therapist_ids)))
    return list(db.session.scalars(query))


def last_plans(client_ids: Iterable[int]) -> dict[int, sa.Row]:
    """Each client's latest session as the day's list shows it (`started_at`, `plan`), in one query for any
    number of clients: two columns, not whole session records with every note."""
    ids = sorted(set(client_ids))
    if not ids:
        return {}
    ranked = (
        sa.select(
            TreatmentSession.client_id,
            TreatmentSession.started_at,
            TreatmentSession.plan,
            sa.func.row_number()
            .over(
                partition_by=TreatmentSession.client_id,
                order_by=(TreatmentSession.started_at.desc(), TreatmentSession.id.desc()),
            )
            .label("rank"),
        )
        .where(TreatmentSession.client_id.in_(ids))
        .subquery()
    )
    latest = sa.select(ranked.c.client_id, ranked.c.started_at, ranked.c.plan).where(ranked.c.rank == 1)
    return {row.client_id: row for row in db.session.execute(latest)}


# --- a client's next and last visit ---


def upcoming(query: sa.Select) -> sa.Select:
    return query.where(Appointment.starts_at >= utcnow(), Appointment.status.in_(list(OPEN)))


def next_visits(client_ids: Iterable[int]) -> dict[int, datetime]:
    """The next booked appointment of each client, in one query."""
    ids = sorted(set(client_ids))
    if not ids:
        return {}
    query = upcoming(
        sa.select(Appointment.client_id, sa.func.min(Appointment.starts_at)).where(Appointment.client_id.in_(ids))
    ).group_by(Appointment.client_id)
    return {client_id: _aware(starts) for client_id, starts in db.session.execute(query)}


def _aware(moment: datetime) -> datetime:
    """Aggregates skip the column type, so SQLite hands back a naive (UTC) value."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def client_visits(client: Client, last: TreatmentSession | None) -> dict:
    """What the client page shows: the next booked appointment, the last session (`last`: the caller has read
    it), and a suggested next booking."""
    following = db.session.scalar(
        upcoming(sa.select(Appointment).where(Appointment.client_id == client.id))
        .options(joinedload(Appointment.therapist))
        .order_by(Appointment.starts_at)
        .limit(1)
    )
    return {"next": following, "last": last, "suggested": suggested_next_visit(last) if last else None}


_EVERY = re.compile(r"\b(?:every|in|after)\s+(\d{1,2}|one|two|three|four|six)\s+(day|week|month)s?\b", re.I)
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "six": 6}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 28}
_KEYWORDS = (("fortnight", 14), ("biweekly", 14), ("weekly", 7), ("monthly", 28), ("tomorrow", 1))


def rebook_days(plan: str) -> int:
    """The interval a plan names ("weekly", "in 2 weeks", "every 10 days"); REBOOK_DAYS when it names none."""
    match = _EVERY.search(plan or "")
    if match:
        number = match.group(1).lower()
        return int(_WORDS.get(number, number)) * _UNIT_DAYS[match.group(2).lower()]
    lowered = (plan or "").lower()
    for word, days in _KEYWORDS:
        if word in lowered:
            return days
    return REBOOK_DAYS


def suggested_next_visit(last: TreatmentSession) -> dict:
    """The next visit the plan asks for: the same time of day, after the plan's interval, never in the past."""
    local = to_local(last.started_at)
    days = rebook_days(last.plan)
    start = local + timedelta(days=days)
    today = to_local(utcnow()).date()
    while start.date() <= today:
        start += timedelta(days=days)
    return {"start": start, "length_minutes": last.length_minutes, "days": days}


# --- a session logged from an appointment ---


def appointment_to_log(user: User, client: Client, raw_id: str | None) -> Appointment | None:
    """The appointment named by ?appointment= on the session form; 404 if it is not this client's or hidden."""
    if raw_id is None:
        return None
    appointment_id = parse_record_id(raw_id)
    if appointment_id is None:
        abort(404)
    appointment = get_appointment_for(user, appointment_id)
    if appointment.client_id != client.id:
        abort(404)
    return appointment


def complete_with_session(appointment: Appointment, session: TreatmentSession) -> None:
    """Link the session to its appointment and mark the appointment completed, in the session's transaction."""
    old = appointment.status
    appointment.status = AppointmentStatus.COMPLETED
    appointment.session = session
    appointment.updated_at = utcnow()
    db.session.flush()
    audit.record(
        AuditAction.UPDATE,
        client=appointment.client,
        entity_type="appointment",
        entity_id=appointment.id,
        details={"changes": {"status": [old, appointment.status.value]}, "session": session.id},
    )


# --- the private calendar feed ---


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_calendar_token(user: User) -> str:
    """A new feed address (256 random bits); only its hash is stored, so the old address stops working."""
    token = secrets.token_urlsafe(32)
    user.calendar_token_hash = _hash(token)
    user.calendar_token_created_at = utcnow()
    db.session.flush()
    audit.record(AuditAction.UPDATE, entity_type="calendar_feed", entity_id=user.id, details={"feed": "made"})
    return token


def revoke_calendar_token(user: User) -> None:
    user.calendar_token_hash = None
    user.calendar_token_created_at = None
    db.session.flush()
    audit.record(AuditAction.UPDATE, entity_type="calendar_feed", entity_id=user.id, details={"feed": "revoked"})


def user_for_calendar_token(token: str) -> User | None:
    if not token:
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_token_hash == _hash(token)))
    return user if user is not None and user.active else None
