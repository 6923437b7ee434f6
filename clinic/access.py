"""Who may see which client. Anyone else gets 404 on every URL that names the client: never a hint it exists."""

import sqlalchemy as sa
from flask import abort
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.visitors import InternalTraversal

from clinic.audit import in_id_range, record_denied
from clinic.extensions import db
from clinic.models import Client, User, client_shares


def visible_clients(user: User) -> sa.Select:
    """The owner (admin) sees every client; a therapist their own and those shared with them."""
    query = sa.select(Client)
    return query if user.is_admin else _seen_by(query, user.id)


def contains_text(column, text: str):
    """`column` holds `text` anywhere, ignoring case. Both sides lower-cased then LIKE, rather than ILIKE, which
    PostgreSQL runs several times slower (a therapist's search read every client's name with it: 5 ms of 4,000);
    SQLite's ILIKE is this very expression. LIKE's own characters in `text` match only themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(column).like(sa.func.lower(f"%{escaped}%"), escape="\\")


def name_has_words(words: list[str]):
    """A client's name holds each of `words`, in any order."""
    return sa.and_(*(contains_text(Client.full_name, word) for word in words))


def _seen_by(query: sa.Select, user_id: int | sa.BindParameter) -> sa.Select:
    shared_ids = sa.select(client_shares.c.client_id).where(client_shares.c.user_id == user_id)
    return query.where(sa.or_(Client.therapist_id == user_id, InList(Client.id, shared_ids)))


class InList(sa.ColumnElement[bool]):
    """`column IN (select)`, which PostgreSQL runs as `column = ANY(ARRAY(select))`: the list read first, so an OR
    beside it can use both indexes. As IN, PostgreSQL tests each row against the subquery instead: a therapist's
    client count read all 4,000 clients of the clinic (2 ms, growing with the clinic) rather than their 200."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a condition in itself: SQLite would otherwise write it as `(...) = 1`
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("select", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column, select: sa.Select) -> None:
        self.column = coercions.expect(roles.ExpressionElementRole, column)  # an ORM attribute as its column
        self.select = select

    @property
    def _from_objects(self) -> list:
        return self.column._from_objects  # the column's table, for a statement that names nothing else


@compiles(InList)
def _in_list(element: InList, compiler, **kw) -> str:
    return compiler.process(element.column.in_(element.select), **kw)


@compiles(InList, "postgresql")
def _in_array(element: InList, compiler, **kw) -> str:
    subquery = compiler.process(element.select.scalar_subquery(), **kw)
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY{subquery})"


# Built once (with bind parameters), for the access check every client's page makes: building it cost more than
# running it.
_ONE_CLIENT = sa.select(Client).where(Client.id == sa.bindparam("client_id"))
_ONE_CLIENT_SEEN_BY = _seen_by(_ONE_CLIENT, sa.bindparam("user_id"))


def get_client_for(user: User, client_id: int) -> Client:
    """The client if this user may see it; otherwise 404."""
    if user.is_admin:
        client = db.session.scalar(_ONE_CLIENT, {"client_id": client_id})
    else:
        client = db.session.scalar(_ONE_CLIENT_SEEN_BY, {"client_id": client_id, "user_id": user.id})
    if client is None:
        exists = (
            db.session.scalar(sa.select(Client.id).where(Client.id == client_id)) if in_id_range(client_id) else None
        )
        record_denied(user, "client", client_id, client_id=exists)
        abort(404)
    return client
