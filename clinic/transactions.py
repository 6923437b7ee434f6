"""How a request's transaction ends when the view did not end it: one that only read is committed, not rolled back.

The two are the same for the data (nothing was written), but not for psycopg: a rollback makes it drop every
statement it has prepared on the connection, so on PostgreSQL no statement of a page was ever prepared (each
request ends its reads with a rollback, and psycopg prepares a statement on its fifth use). Planned afresh each
time, a page's 10-16 statements cost 1-2.5 ms more (the client list's own query took 0.7-1.1 ms to plan).

Anything else is left to the rollback that ends the request: a statement other than a SELECT (an insert, an update,
a lock), changes not yet flushed, or an error. PostgreSQL (psycopg) only: SQLite's driver keeps its own statement
cache whatever the ending, so there the commit would only add work."""

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from clinic.extensions import db

WROTE = "knotwork_wrote"  # in a connection's info: a statement other than a SELECT ran in its transaction
CONNECTION = "knotwork_connection"  # in a session's info: the connection of its transaction


def _reading(connection: sa.Connection) -> None:
    connection.info[WROTE] = False  # the info outlives the transaction (it is the pooled connection's)


def _note_writes(connection: sa.Connection, _cursor, statement: str, *_args) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


@sa.event.listens_for(Session, "after_begin")
def _remember_connection(session: Session, _transaction, connection: sa.Connection) -> None:
    session.info[CONNECTION] = connection


def only_read() -> bool:
    """The request's session has a transaction open on the database in which nothing was written or is waiting
    to be."""
    if not db.session.registry.has():  # the request used no session (making one now would cost every such page)
        return False
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    connection = session.info.get(CONNECTION)
    return connection is not None and not connection.closed and connection.info.get(WROTE) is False


def register(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.driver != "psycopg":
        return
    sa.event.listen(engine, "begin", _reading)
    sa.event.listen(engine, "before_cursor_execute", _note_writes)

    @app.teardown_appcontext  # registered after Flask-SQLAlchemy's, so it runs before the session is removed
    def _commit_reads(error: BaseException | None = None) -> None:
        if error is None and only_read():
            session = db.session()
            # Loaded values stay loaded, as when the session is simply closed: a streamed response (an export) reads
            # its records after this teardown, detached from the session.
            session.expire_on_commit = False
            try:
                session.commit()
            except sa.exc.SQLAlchemyError:  # a broken connection: nothing was written, and the session is removed next
                current_app.logger.warning("ending a read-only transaction failed", exc_info=True)
                db.session.rollback()
