"""Finding a client's sessions for the session pages (a client's history as a whole: clinic.history)."""

import sqlalchemy as sa
from flask import abort

from clinic.extensions import db
from clinic.models import Client, TreatmentSession


def find_by_token(client: Client, token: str | None) -> TreatmentSession | None:
    """The session already stored from this form, if any."""
    if not token:
        return None
    return db.session.scalar(
        sa.select(TreatmentSession).where(
            TreatmentSession.submission_token == token, TreatmentSession.client_id == client.id
        )
    )


def get_session_for(client: Client, session_id: int) -> TreatmentSession:
    """A session of this (already access-checked) client, or 404."""
    session = db.session.get(TreatmentSession, session_id)
    if session is None or session.client_id != client.id:
        abort(404)
    return session
