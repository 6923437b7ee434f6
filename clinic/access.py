"""Who may see which client. Anyone else gets 404 on every URL that names the client: never a hint it exists."""

import sqlalchemy as sa
from flask import abort

from clinic.audit import in_id_range, record_denied
from clinic.extensions import db
from clinic.models import Client, User, client_shares


def visible_clients(user: User) -> sa.Select:
    """The owner (admin) sees every client; a therapist their own and those shared with them."""
    query = sa.select(Client)
    if user.is_admin:
        return query
    shared_ids = sa.select(client_shares.c.client_id).where(client_shares.c.user_id == user.id)
    return query.where(sa.or_(Client.therapist_id == user.id, Client.id.in_(shared_ids)))


def get_client_for(user: User, client_id: int) -> Client:
    """The client if this user may see it; otherwise 404."""
    client = db.session.scalar(visible_clients(user).where(Client.id == client_id))
    if client is None:
        exists = (
            db.session.scalar(sa.select(Client.id).where(Client.id == client_id)) if in_id_range(client_id) else None
        )
        record_denied(user, "client", client_id, client_id=exists)
        abort(404)
    return client
