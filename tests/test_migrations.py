"""The schema exists only through migrations: they must build it on an empty database and match the models."""

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from clinic.extensions import db as _db
from tests.conftest import MIGRATIONS


def test_models_and_migrations_agree(app, db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, _db.metadata)
    assert differences == [], f"models and migrations differ; run `flask db migrate`: {differences}"


def test_downgrade_to_base_and_upgrade_again(app, db):
    downgrade(directory=MIGRATIONS, revision="base")
    with db.engine.connect() as connection:
        tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        assert "clients" in db.inspect(connection).get_table_names()


def test_upgrade_keeps_existing_records(app, db):
    """Upgrading a database that already holds clients and an audit trail loses nothing."""
    import sqlalchemy as sa

    downgrade(directory=MIGRATIONS, revision="0002")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (id, email, name, role, password_hash, active, failed_logins, session_token, created_at) "
                "VALUES (1, 'a@clinic.example', 'A', 'therapist', 'x', true, 0, 't', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO clients (id, full_name, date_of_birth, phone, email, address, physician_name, physician_contact, "
                "health_history, medications, contraindications, notes, therapist_id, created_at, updated_at) VALUES "
                "(1, 'Kept Client', '1980-01-01', '', '', '', '', '', '', '', '', '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO audit_events (at, user_id, attempted_email, action, entity_type, client_id, details, address) "
                "VALUES (CURRENT_TIMESTAMP, 1, '', 'view', 'client', 1, '{}', '')"
            )
        )
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT full_name, version FROM clients")).all() == [("Kept Client", 1)]
        assert connection.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() == 1


def test_the_client_name_index_is_on_the_lower_cased_name(app, db):
    """Autogenerate cannot compare expression indexes on SQLite: check the functional index itself."""
    import sqlalchemy as sa

    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            sql = connection.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = 'ix_clients_lower_full_name'"))
        else:
            sql = connection.scalar(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_clients_lower_full_name'")
            )
    assert sql is not None
    # SQLite keeps the statement as written; PostgreSQL adds a cast: lower((full_name)::text).
    assert re.search(r"lower\(\(?full_name\)?(::text)?\)", sql.lower().replace('"', "")), sql


def test_a_records_history_is_read_through_the_entity_index(app, db):
    """The History card of a session page reads one record's events: by an index, not a scan of the audit log."""
    import sqlalchemy as sa

    from clinic.changes import record_history

    with db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            names = connection.scalars(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_events'"))
            assert "ix_audit_events_entity_at" in set(names)
            return
    statements = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        record_history("session", 1)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = next(item for item in statements if "FROM audit_events" in item[0])
    with db.engine.connect() as connection:
        plan = " ".join(str(row) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "ix_audit_events_entity_at" in plan, plan
