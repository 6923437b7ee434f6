"""A client's session record read back, for the pages, charts and reports that show it."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from clinic.extensions import db
from clinic.models import Client, TreatmentSession
from clinic.periods import utc_bounds


def newest_first(client: Client) -> sa.Select:
    """The client's sessions, newest first, with points and therapist (served by the client-and-date index)."""
    return (
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at.desc(), TreatmentSession.id.desc())
        .options(selectinload(TreatmentSession.points), joinedload(TreatmentSession.therapist))
    )


def sessions_in_period(
    client: Client, date_from: date | None = None, date_to: date | None = None
) -> list[TreatmentSession]:
    """The client's sessions, oldest first, with their points: two queries however many there are."""
    query = (
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == client.id)
        .options(selectinload(TreatmentSession.points))
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
    )
    start, end = utc_bounds(date_from, date_to)
    if start:
        query = query.where(TreatmentSession.started_at >= start)
    if end:
        query = query.where(TreatmentSession.started_at <= end)
    return list(db.session.scalars(query))


def first_session(client: Client) -> TreatmentSession | None:
    """The client's first session ever: the baseline, whatever period is being looked at."""
    return db.session.scalar(
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
        .limit(1)
    )


def last_session(client: Client) -> TreatmentSession | None:
    return db.session.scalar(
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at.desc(), TreatmentSession.id.desc())
        .limit(1)
    )
