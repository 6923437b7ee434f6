"""The schema exists only through migrations: they must build it on an empty database and match the models."""
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
