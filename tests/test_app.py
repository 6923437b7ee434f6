import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from clinic import config, create_app
from clinic.clock import clinic_zone
from clinic.config import ConfigError
from clinic.extensions import db as _db
from clinic.kb import KnowledgeBaseError
from tests.helpers import text


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_flags(client, therapist):
    from tests.factories import PASSWORD
    from tests.helpers import login_via_form

    response = login_via_form(client, therapist.email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_404_page_is_html_and_json_under_api(client):
    page = client.get("/nowhere")
    assert page.status_code == 404 and "Not found" in text(page)
    api = client.get("/api/nowhere")
    assert api.status_code == 404 and api.is_json and api.get_json()["error"] == "Not Found"


@pytest.fixture
def environment(monkeypatch):
    """A clean slate: none of the app's variables set, whatever the shell running the tests exports."""
    for name in (
        "KNOTWORK_CONFIG",
        "SECRET_KEY",
        "DATABASE_URL",
        "KNOWLEDGE_DIR",
        "CLINIC_TIMEZONE",
        "TRUSTED_PROXY_HOPS",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("secret", [None, ""])
def test_production_refuses_to_start_without_secret_key(environment, database_url, secret):
    environment.setenv("DATABASE_URL", database_url)
    if secret is not None:
        environment.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set in production"):
        create_app("production")


def test_production_cookie_is_secure(environment, database_url):
    environment.setenv("SECRET_KEY", "s3cret")
    environment.setenv("DATABASE_URL", database_url)
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SECRET_KEY"] == "s3cret"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert app.config["DEMO_DATA_ALLOWED"] is False


def test_production_is_chosen_by_knotwork_config(environment, database_url):
    environment.setenv("KNOTWORK_CONFIG", "production")
    environment.setenv("DATABASE_URL", database_url)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    environment.setenv("SECRET_KEY", "s3cret")
    assert create_app().config["SESSION_COOKIE_SECURE"] is True


def test_unknown_config_name_stops_start_up(environment):
    environment.setenv("KNOTWORK_CONFIG", "staging")
    with pytest.raises(RuntimeError, match="KNOTWORK_CONFIG must be one of development, testing, production"):
        create_app()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_database_url_switches_to_psycopg(environment, scheme):
    environment.setenv("DATABASE_URL", f"{scheme}://postgres@127.0.0.1:5432/knotwork")
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://postgres@127.0.0.1:5432/knotwork"
    with app.app_context():
        assert _db.engine.url.drivername == "postgresql+psycopg"


def test_default_database_is_sqlite_in_instance(environment):
    environment.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/knotwork")
    assert create_app("development").config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    environment.delenv("DATABASE_URL")
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///knotwork.sqlite3"
    with app.app_context():
        assert _db.engine.url.database == os.path.join(app.instance_path, "knotwork.sqlite3")


def test_each_create_app_reads_the_environment_again(environment):
    environment.setenv("KNOTWORK_CONFIG", "testing")
    environment.setenv("CLINIC_TIMEZONE", "Europe/Berlin")
    environment.setenv("TRUSTED_PROXY_HOPS", "2")
    berlin = create_app()
    environment.setenv("CLINIC_TIMEZONE", "America/New_York")
    environment.setenv("TRUSTED_PROXY_HOPS", "0")
    new_york = create_app()
    assert (berlin.config["CLINIC_TIMEZONE"], new_york.config["CLINIC_TIMEZONE"]) == (
        "Europe/Berlin",
        "America/New_York",
    )
    assert (berlin.config["TRUSTED_PROXY_HOPS"], new_york.config["TRUSTED_PROXY_HOPS"]) == (2, 0)
    with berlin.app_context():
        assert clinic_zone().key == "Europe/Berlin"
    with new_york.app_context():
        assert clinic_zone().key == "America/New_York"


def test_defaults_when_nothing_is_set(environment):
    app = create_app("testing")
    assert app.config["CLINIC_TIMEZONE"] == "UTC"
    assert app.config["TRUSTED_PROXY_HOPS"] == 0
    assert Path(app.config["KNOWLEDGE_DIR"]) == Path(__file__).resolve().parent.parent / "knowledge"


def test_knowledge_dir_comes_from_the_environment(environment, tmp_path):
    environment.setenv("KNOWLEDGE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(KnowledgeBaseError, match="nowhere/regions.yaml"):
        create_app("testing")


def test_testing_config_never_reads_database_url(environment):
    environment.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/production")
    assert create_app("testing").config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"

    class Watched(dict):
        """An environment that remembers which variables were asked for."""

        def __init__(self, **values):
            super().__init__(**values)
            self.read: set[str] = set()

        def get(self, key, default=None):
            self.read.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            self.read.add(key)
            return super().__getitem__(key)

    environ = Watched(DATABASE_URL="postgresql://postgres@127.0.0.1:5432/production")
    config.TestConfig(environ)
    assert "DATABASE_URL" not in environ.read and "CLINIC_TIMEZONE" in environ.read


@pytest.mark.parametrize("hops", ["two", "1.5", "-1"])
def test_bad_trusted_proxy_hops_stops_start_up_with_a_clear_message(environment, hops):
    environment.setenv("TRUSTED_PROXY_HOPS", hops)
    with pytest.raises(
        ConfigError, match=f"TRUSTED_PROXY_HOPS must be a whole number, 0 or more \\(got '{re.escape(hops)}'\\)"
    ):
        create_app("testing")


def test_flask_command_with_bad_setting_prints_one_line_not_a_traceback(environment):
    env = {**os.environ, "KNOTWORK_CONFIG": "testing", "TRUSTED_PROXY_HOPS": "two"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app.py", "routes"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Error: TRUSTED_PROXY_HOPS must be a whole number, 0 or more (got 'two')" in result.stderr
    assert "Traceback" not in result.stderr


def test_sqlite_connections_use_wal_and_busy_timeout(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite-only settings")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_unknown_clinic_time_zone_stops_start_up(database_url):
    with pytest.raises(RuntimeError, match="CLINIC_TIMEZONE"):
        create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "CLINIC_TIMEZONE": "Mars/Olympus"})


def test_every_audit_action_and_role_is_accepted_by_the_database(db, therapist):
    from clinic import audit
    from clinic.models import AuditAction, Role
    from tests.factories import make_user

    for action in AuditAction:
        audit.record(action, user=therapist)
    for role in Role:
        make_user(role)
    db.session.commit()


def test_production_freezes_start_up_objects_and_again_after_warm_up(environment, database_url):
    """Production moves start-up objects out of the garbage collector's sight (and once more after the first
    requests); other configs leave the collector alone (a test suite makes many apps)."""
    import gc

    import clinic

    gc.unfreeze()
    try:
        testing = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
        assert gc.get_freeze_count() == 0
        environment.setenv("DATABASE_URL", database_url)
        environment.setenv("SECRET_KEY", "x" * 64)
        app = create_app("production")
        after_start = gc.get_freeze_count()
        assert after_start > 0
        client = app.test_client()
        for _ in range(clinic.GC_FREEZE_AFTER_REQUESTS - 1):
            client.get("/api/regions")
        gc.unfreeze()
        client.get("/api/regions")  # the warm-up's last request freezes again
        assert gc.get_freeze_count() > 0
        for _ in range(3):
            gc.unfreeze()
            client.get("/api/regions")  # and never again
            assert gc.get_freeze_count() == 0
        assert testing is not None
    finally:
        gc.unfreeze()
