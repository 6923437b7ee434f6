import pytest

from clinic import create_app
from clinic.config import ProductionConfig
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


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig()


def test_production_cookie_is_secure(monkeypatch, database_url):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SECRET_KEY"] == "s3cret"


def test_database_url_switches_to_psycopg(monkeypatch):
    from clinic.config import _database_url

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/knotwork")
    assert _database_url("sqlite://") == "postgresql+psycopg://postgres@127.0.0.1:5432/knotwork"


def test_default_database_is_sqlite_in_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///knotwork.sqlite3"


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
