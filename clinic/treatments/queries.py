"""Finding a client's sessions for the session pages (a client's history as a whole: clinic.history)."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import abort

from clinic.clock import clinic_today, to_local, to_utc
from clinic.extensions import db
from clinic.models import Client, SessionDraft, TreatmentSession, User
from clinic.rules import NEAR_SESSION_MINUTES


def find_by_token(client: Client, token: str | None) -> TreatmentSession | None:
    """The session already stored from this form, if any."""
    if not token:
        return None
    return db.session.scalar(
        sa.select(TreatmentSession).where(
            TreatmentSession.submission_token == token, TreatmentSession.client_id == client.id
        )
    )


def token_used_for_another_client(client: Client, token: str | None) -> bool:
    """Whether a session of another client was stored from a form with this token."""
    if not token:
        return False
    used = sa.exists().where(TreatmentSession.submission_token == token, TreatmentSession.client_id != client.id)
    return db.session.scalar(sa.select(used)) or False


def get_session_for(client: Client, session_id: int) -> TreatmentSession:
    """A session of this (already access-checked) client, or 404."""
    session = db.session.get(TreatmentSession, session_id)
    if session is None or session.client_id != client.id:
        abort(404)
    return session


def sessions_near(
    client: Client, started_at: datetime, exclude_id: int | None = None, exclude_token: str | None = None
) -> list[TreatmentSession]:
    """The client's other sessions starting within NEAR_SESSION_MINUTES of this (UTC) start."""
    margin = timedelta(minutes=NEAR_SESSION_MINUTES)
    query = sa.select(TreatmentSession).where(
        TreatmentSession.client_id == client.id,
        TreatmentSession.started_at > started_at - margin,
        TreatmentSession.started_at < started_at + margin,
    )
    if exclude_id is not None:
        query = query.where(TreatmentSession.id != exclude_id)
    if exclude_token:
        query = query.where(TreatmentSession.submission_token != exclude_token)
    return list(db.session.scalars(query.order_by(TreatmentSession.started_at)))


def therapists_last_today(therapist: User) -> TreatmentSession | None:
    """The therapist's latest session logged for today (clinic day), for "after the last session"."""
    start = to_utc(datetime.combine(clinic_today(), datetime.min.time()))
    return db.session.scalar(
        sa.select(TreatmentSession)
        .where(TreatmentSession.therapist_id == therapist.id, TreatmentSession.started_at >= start)
        .order_by(TreatmentSession.started_at.desc())
        .limit(1)
    )


def end_of(session: TreatmentSession) -> datetime:
    """When a session ended, in clinic time and without a zone (as the form's field holds it)."""
    return to_local(session.started_at + timedelta(minutes=session.length_minutes)).replace(tzinfo=None)


def find_draft(user: User, client: Client, scope: str) -> SessionDraft | None:
    return db.session.scalar(
        sa.select(SessionDraft).where(
            SessionDraft.user_id == user.id, SessionDraft.client_id == client.id, SessionDraft.scope == scope
        )
    )
