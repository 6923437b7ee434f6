"""Fixtures. The suite runs on SQLite by default; with KNOTWORK_TEST_POSTGRES set to a server URL
(e.g. postgresql://postgres@127.0.0.1:5432/postgres) it makes a throwaway database there and drops it after."""

import contextlib
import contextvars
import os
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import HealthCheck, settings

from clinic import create_app
from clinic.extensions import db as _db
from clinic.models import Role
from tests.factories import make_user, reset_sequence
from tests.helpers import clinic_today, login_fast

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")

# Property tests check values, never speed: a busy 2-core CI machine must not fail them for taking long.
settings.register_profile("knotwork", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("knotwork")
POSTGRES_SERVER = os.environ.get("KNOTWORK_TEST_POSTGRES")


# The app's settings that a developer's or a server's shell may have exported. Each test starts without them
# (a test that is about one sets it itself); CLINIC_TIMEZONE stays, since ./test.sh runs the suite in a
# far-off zone on purpose.
APP_SETTINGS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "KNOTWORK_CONFIG",
    "KNOWLEDGE_DIR",
    "TRUSTED_PROXY_HOPS",
    "FLASK_APP",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USE_TLS",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_FROM",
)


@pytest.fixture(autouse=True)
def _no_app_settings_from_the_shell(monkeypatch):
    for name in APP_SETTINGS:
        monkeypatch.delenv(name, raising=False)


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server would: its own app context, `g` and
    database session, instead of sharing the one the test holds open."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(self._open_and_read, *args, **kwargs)

    def _open_and_read(self, *args, **kwargs):
        # A streamed body (the exports) runs inside the request's context while it is read: a server reads it
        # in the same thread, so read it here, in the context the request ran in.
        response = super().open(*args, **kwargs)
        if response.is_streamed:
            response.make_sequence()
        return response


def build_app(database_url: str, **overrides):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, **overrides})
    app.test_client_class = IsolatedClient
    return app


def migrate(database_url: str) -> None:
    app = build_app(database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        _db.engine.dispose()


@contextlib.contextmanager
def throwaway_postgres_database(prefix: str, migrated: bool = True):
    """A new PostgreSQL database on the test server (migrated unless asked for an empty one), and its URL;
    dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    server = psycopg.conninfo.conninfo_to_dict(POSTGRES_SERVER.replace("postgresql+psycopg", "postgresql"))
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://{server.get('user', 'postgres')}@{server.get('host', '127.0.0.1')}:{server.get('port', 5432)}/{name}"
    try:
        if migrated:
            migrate(url)
        yield url
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL database for this run, dropped at the end."""
    with throwaway_postgres_database("knotwork_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file; each test gets a copy, so tests never share data."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(request, tmp_path) -> str:
    if POSTGRES_SERVER:
        return request.getfixturevalue("postgres_url")
    path = tmp_path / "test.sqlite3"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url):
    reset_sequence()  # a fresh database: the factories number from 1 whatever ran before
    app = build_app(database_url)
    with app.app_context():
        yield app
        _db.session.remove()
        if POSTGRES_SERVER:
            _truncate_all()
        _db.engine.dispose()


def _truncate_all() -> None:
    tables = ", ".join(table.name for table in _db.metadata.sorted_tables)
    with _db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def therapist(app):
    return make_user(Role.THERAPIST, name="Maya Test", email="maya@clinic.example")


@pytest.fixture
def other_therapist(app):
    return make_user(Role.THERAPIST, name="Otto Other", email="otto@clinic.example")


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN, name="Ada Admin", email="ada@clinic.example")


@pytest.fixture
def therapist_client(client, therapist):
    """A test client logged in as `therapist`."""
    login_fast(client, therapist)
    return client


@pytest.fixture
def admin_client(client, admin):
    login_fast(client, admin)
    return client


@pytest.fixture
def today(app):
    """Today on the clinic's clock (CLINIC_TIMEZONE), as the app reckons it: never the host's date."""
    return clinic_today()


class FrozenClock:
    """The app's UTC clock (clinic.db_types.utcnow) held still, moved only by `advance`."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Freeze the time the login delays, session lifetimes and TOTP codes are reckoned by, so a test of a
    1-second delay does not depend on how fast the machine is."""
    from clinic import db_types

    clock = FrozenClock(db_types.utcnow())
    monkeypatch.setattr(db_types, "utcnow", clock)
    return clock
