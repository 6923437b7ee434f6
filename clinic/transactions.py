"""How a request's transaction ends when the view did not end it, on PostgreSQL: one that wrote nothing is committed,
not rolled back.

The two are the same for the data, but not for psycopg: a rollback makes it drop every statement it has prepared on
the connection, so no statement of a page was ever prepared (each request ended its reads with a rollback, and
psycopg prepares a statement on its fifth use). Planned afresh each time, a page's 10-16 statements cost 1-2.5 ms
more (the client list's own query took 0.7-1.1 ms to plan).

PostgreSQL itself says whether the transaction wrote: it gives a transaction an id at its first write of any kind (a
row, a table, a row lock), however the statement was sent. Changes not yet flushed, or an error, also leave the
ending to the rollback, as before. SQLite's driver keeps its own statement cache whatever the ending: there nothing
changes."""

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from clinic.extensions import db

CONNECTION = "knotwork_connection"  # in a session's info: the connection of its transaction
WROTE_NOTHING = sa.text("SELECT pg_current_xact_id_if_assigned() IS NULL")  # the one statement of the ending


@sa.event.listens_for(Session, "after_begin")
def _remember_connection(session: Session, _transaction, connection: sa.Connection) -> None:
    session.info[CONNECTION] = connection


def wrote_nothing() -> bool:
    """The request's session has a transaction open on the database in which nothing was written or is waiting
    to be."""
    if not db.session.registry.has():  # the request used no session (making one now would cost every such page)
        return False
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    connection = session.info.get(CONNECTION)
    if connection is None or connection.closed or not connection.in_transaction():
        return False
    return connection.scalar(WROTE_NOTHING) is True


def register(app: Flask) -> None:
    with app.app_context():
        driver = db.engine.dialect.driver
    if driver != "psycopg":
        return

    @app.teardown_appcontext  # registered after Flask-SQLAlchemy's, so it runs before the session is removed
    def _commit_reads(error: BaseException | None = None) -> None:
        if error is not None:
            return
        # Broad on purpose: a teardown that raises skips the ones after it, the session's removal among them.
        try:
            if wrote_nothing():
                session = db.session()
                # Loaded values stay loaded, as when the session is simply closed: a streamed response (an export)
                # reads its records after this teardown, detached from the session.
                session.expire_on_commit = False
                session.commit()
        except Exception:
            current_app.logger.warning("ending a read-only transaction failed", exc_info=True)
