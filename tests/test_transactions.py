"""On PostgreSQL a request's transaction that only read ends with a commit (psycopg keeps its prepared statements;
SQLite's endings are unchanged); anything that wrote, or was about to, still ends with a rollback and leaves nothing
behind, on both."""

from datetime import date

import pytest
import sqlalchemy as sa

from clinic.extensions import db
from clinic.models import Client
from tests.factories import make_client

# Each test opens an app context of its own, as a request does (the fixtures' context stays open around the test):
# its teardown is what ends the transaction.
BORN = date(1980, 1, 1)


@pytest.fixture
def endings(app):
    """How each transaction on the app's engine ended, in order: "commit" or "rollback"."""
    seen: list[str] = []
    listeners = [("commit", lambda _conn: seen.append("commit")), ("rollback", lambda _conn: seen.append("rollback"))]
    for name, listener in listeners:
        sa.event.listen(db.engine, name, listener)
    yield seen
    for name, listener in listeners:
        sa.event.remove(db.engine, name, listener)


@pytest.fixture
def read_ending(app) -> str:
    return "commit" if db.engine.dialect.driver == "psycopg" else "rollback"


def _stored_names() -> list[str]:
    with db.engine.connect() as connection:
        return list(connection.scalars(sa.select(Client.full_name).order_by(Client.id)))


def test_a_page_that_only_reads_ends_its_transaction_with_a_commit(therapist_client, endings, read_ending):
    response = therapist_client.get("/account/password")
    assert response.status_code == 200
    assert endings == [read_ending]


def test_reads_in_a_request_context_of_their_own_are_committed(app, therapist, endings, read_ending):
    with app.app_context(), app.test_request_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    assert endings == [read_ending]


def test_a_flushed_insert_that_was_not_committed_is_rolled_back(app, therapist, endings):
    with app.app_context(), app.test_request_context():
        db.session.add(Client(full_name="Never Saved", date_of_birth=BORN, therapist_id=therapist.id))
        db.session.flush()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1
    assert endings == ["rollback"]
    assert _stored_names() == []


def test_changes_waiting_to_be_flushed_are_not_committed(app, therapist, endings):
    person = make_client(therapist, full_name="Ana Lopez")
    endings.clear()
    with app.app_context(), app.test_request_context():
        client = db.session.get(Client, person.id)
        client.full_name = "Changed But Not Saved"
        with db.session.no_autoflush:
            db.session.scalar(sa.select(Client.id).where(Client.id == person.id))
    assert "commit" not in endings
    assert _stored_names() == ["Ana Lopez"]


def test_a_request_that_failed_is_rolled_back(app, therapist, endings):
    with pytest.raises(RuntimeError), app.app_context(), app.test_request_context():
        db.session.scalar(sa.select(sa.func.count()).select_from(Client))
        raise RuntimeError("the view failed")
    assert endings == ["rollback"]


def test_a_write_made_through_core_on_the_session_is_rolled_back(app, therapist, endings):
    table = Client.__table__
    with app.app_context(), app.test_request_context():
        db.session.execute(
            sa.insert(table).values(full_name="Core Insert", date_of_birth=BORN, therapist_id=therapist.id)
        )
    assert endings == ["rollback"]
    assert _stored_names() == []


@pytest.fixture
def app_log(app, monkeypatch, caplog):
    """What the app logged. Its logger is listened to directly: alembic's logging setup, when a test has run a
    migration in this process, disables the loggers that existed then."""
    monkeypatch.setattr(app.logger, "disabled", False)
    app.logger.addHandler(caplog.handler)
    yield caplog
    app.logger.removeHandler(caplog.handler)


@pytest.fixture
def postgresql_only(read_ending):
    if read_ending != "commit":
        pytest.skip("reads are committed on PostgreSQL only")


def test_a_read_only_transaction_that_cannot_commit_is_rolled_back_and_logged(
    app, therapist, endings, postgresql_only, monkeypatch, app_log
):
    def broken_commit():
        raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    with app.app_context(), app.test_request_context():
        db.session.scalar(sa.select(sa.func.count()).select_from(Client))
        monkeypatch.setattr(db.session(), "commit", broken_commit)
    assert endings == ["rollback"]
    assert "ending a read-only transaction failed" in app_log.text


def test_a_teardown_that_cannot_ask_the_database_still_lets_the_session_be_removed(
    app, therapist, endings, postgresql_only, monkeypatch, app_log
):
    """A view that caught a dropped connection and answered anyway: the check fails, and the request still ends
    (no error out of the teardown, the session removed and rolled back)."""
    from clinic import transactions

    def connection_gone():
        raise sa.exc.PendingRollbackError("the connection was lost")

    monkeypatch.setattr(transactions, "wrote_nothing", connection_gone)
    with app.app_context(), app.test_request_context():
        db.session.scalar(sa.select(sa.func.count()).select_from(Client))
        session = db.session()
    assert endings == ["rollback"]
    assert not session.in_transaction(), "Flask-SQLAlchemy removed (closed) the session after ours"
    assert "ending a read-only transaction failed" in app_log.text


@pytest.fixture
def write_through_a_select(app, postgresql_only):
    """A function that inserts a row, called by a statement that starts with SELECT."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE probe_writes (v integer)")
        connection.exec_driver_sql(
            "CREATE FUNCTION probe_write() RETURNS integer LANGUAGE sql AS 'INSERT INTO probe_writes VALUES (1) RETURNING v'"
        )
    yield
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP FUNCTION probe_write()")
        connection.exec_driver_sql("DROP TABLE probe_writes")


def test_a_write_made_by_a_select_is_rolled_back(app, therapist, endings, write_through_a_select):
    endings.clear()  # the fixture's own
    with app.app_context(), app.test_request_context():
        assert db.session.scalar(sa.text("SELECT probe_write()")) == 1
    assert endings == ["rollback"]
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM probe_writes")) == 0
