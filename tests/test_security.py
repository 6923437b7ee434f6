"""Security baseline (DESIGN section 9) checked over every route the app has, so new URLs are covered too."""

from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from clinic.models import AuditEvent
from clinic.security import PUBLIC_ENDPOINTS, STATIC_ENDPOINTS
from tests.factories import make_client, make_session
from tests.helpers import csrf_token, login_fast, text


def rules_naming_a_client(app):
    return [rule for rule in app.url_map.iter_rules() if "client_id" in rule.arguments]


def build(rule, **values) -> str:
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<int:{name}>", str(value))
    return path


@pytest.fixture
def hidden_record(other_therapist):
    client = make_client(other_therapist, full_name="Hidden Hartley")
    session = make_session(client)
    return client, session


def test_every_url_naming_a_client_is_404_for_a_therapist_who_may_not_see_it(app, client, therapist, hidden_record, db):
    record, session = hidden_record
    login_fast(client, therapist)
    token = csrf_token(client, "/clients/")
    rules = rules_naming_a_client(app)
    assert len(rules) >= 8
    tried = []
    for rule in rules:
        url = build(rule, client_id=record.id, session_id=session.id)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 404, (method, url)
            assert "Hidden Hartley" not in text(response)
            if "<" not in url:  # a URL that names something this test did not make matches no route
                tried.append((method, url))
    # Each attempt is kept as `denied`, naming the client; nothing else but the read of the list (for the token).
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.details["method"], e.details["path"]) for e in events if e.action == "denied"] == tried
    assert {(e.action, e.user_id, e.client_id) for e in events if e.action == "denied"} == {
        ("denied", therapist.id, record.id)
    }
    assert [(e.action, e.entity_type) for e in events if e.action != "denied"] == [("view", "client list")]


def test_every_page_for_a_logged_in_user_is_not_cached_and_has_the_headers(app, admin_client, therapist, db):
    record = make_client(therapist)
    session = make_session(record)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in STATIC_ENDPOINTS:
            continue
        url = build(rule, client_id=record.id, session_id=session.id, user_id=therapist.id)
        if "<" in url:
            url = url.replace("<slug>", "infraspinatus")
        response = admin_client.get(url)
        assert response.headers.get("Cache-Control") == "no-store", url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        checked += 1
    assert checked >= 15


def test_public_pages_may_be_cached_only_without_a_login(client):
    for url in ["/knowledge/", "/knowledge/infraspinatus", "/symptom-checker", "/api/muscles"]:
        response = client.get(url)
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
        assert "Set-Cookie" not in response.headers, url
    assert {rule.endpoint for rule in client.application.url_map.iter_rules()} >= PUBLIC_ENDPOINTS


class _ScriptCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.problems.append("inline <script>")
        self.problems += [f"{tag} {name}=" for name in attributes if name.startswith("on") or name == "style"]


def test_no_inline_script_handler_or_style_on_any_page(app, admin_client, therapist):
    record = make_client(therapist)
    session = make_session(record)
    pages = [
        "/clients/",
        f"/clients/{record.id}",
        "/clients/new",
        f"/clients/{record.id}/edit",
        f"/clients/{record.id}/sessions/new",
        f"/clients/{record.id}/sessions/{session.id}",
        f"/clients/{record.id}/sessions/{session.id}/edit",
        "/admin/users",
        "/admin/audit",
        "/knowledge/",
        "/knowledge/infraspinatus",
        "/symptom-checker?regions=heel",
        "/login",
    ]
    for url in pages:
        checker = _ScriptCheck()
        checker.feed(text(admin_client.get(url)))
        assert checker.problems == [], (url, checker.problems)


def _write_a_client_and_its_audit_event(therapist) -> None:
    """What a view writes before it fails: a client and its audit event, flushed but not committed."""
    from clinic import audit
    from clinic.extensions import db as _db
    from clinic.models import AuditAction, Client

    written = Client(full_name="Half Written", date_of_birth=therapist.created_at.date(), therapist_id=therapist.id)
    _db.session.add(written)
    _db.session.flush()
    audit.record(AuditAction.CREATE, client=written)


def _assert_nothing_kept(db) -> None:
    from clinic.models import Client

    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_an_error_rolls_back_everything_the_request_wrote(app, client, therapist, db):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/write-then-fail")
    def write_then_fail():
        _write_a_client_and_its_audit_event(therapist)
        raise RuntimeError("boom")

    response = client.get("/write-then-fail")
    assert response.status_code == 500 and "Nothing was saved" in text(response)
    _assert_nothing_kept(db)


@pytest.mark.parametrize("path", ["/api/write-then-fail", "/clients/write-then-fail.json"])
def test_an_error_under_api_or_on_a_json_url_is_a_json_500_and_rolls_back(database_url, therapist, db, path):
    from clinic.extensions import db as _db
    from clinic.models import Client
    from tests.conftest import build_app

    app = build_app(database_url, PROPAGATE_EXCEPTIONS=False)  # let the app's 500 handler answer, as in production
    seen_after_the_error = []

    @app.route(path)
    def write_then_fail():
        _write_a_client_and_its_audit_event(therapist)
        raise RuntimeError("boom")

    @app.after_request
    def look_at_the_session(response):
        # Still inside the failed request: what its own database session sees once the handler has run.
        seen_after_the_error.append(_db.session.scalar(sa.select(sa.func.count()).select_from(Client)))
        return response

    response = app.test_client().get(path)
    assert response.status_code == 500 and response.is_json
    assert response.get_json() == {
        "error": "Internal Server Error",
        "message": "Something went wrong; nothing was saved.",
    }
    assert seen_after_the_error == [0], "the handler rolled the request's session back"
    _assert_nothing_kept(db)


def test_a_stale_write_no_view_answered_is_the_409_page_and_rolls_back(app, client, therapist, db):
    """The safety net behind the edit views: StaleDataError from anywhere is a 409, with the write rolled back."""
    from sqlalchemy.orm.exc import StaleDataError

    @app.route("/write-then-stale")
    def write_then_stale():
        _write_a_client_and_its_audit_event(therapist)
        raise StaleDataError("UPDATE statement on table 'clients' expected to update 1 row(s); 0 were matched.")

    response = client.get("/write-then-stale")
    assert response.status_code == 409 and "Someone else saved first" in text(response)
    _assert_nothing_kept(db)


# --- files and request size ---------------------------------------------------------------------------------


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_the_database_its_wal_and_the_instance_folder_are_private(tmp_path):
    """A new SQLite database is 0600 and SQLite gives its WAL and shared-memory files the same mode, even under
    a umask that would let everyone read them; instance/ is 0700."""
    import os
    from pathlib import Path

    from clinic.extensions import db as _db
    from tests.conftest import build_app

    path = tmp_path / "new" / "clinic.sqlite3"
    old_umask = os.umask(0o022)
    try:
        app = build_app(f"sqlite:///{path}")
        assert _mode(path) == 0o600
        with app.app_context():
            with _db.engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE probe (id INTEGER)"))
                connection.execute(sa.text("INSERT INTO probe VALUES (1)"))
                files = {found.name: _mode(found) for found in path.parent.iterdir()}
            _db.engine.dispose()
    finally:
        os.umask(old_umask)
    assert files == {"clinic.sqlite3": 0o600, "clinic.sqlite3-wal": 0o600, "clinic.sqlite3-shm": 0o600}
    assert _mode(Path(app.instance_path)) == 0o700


def test_existing_files_in_instance_are_tightened_at_start_up(tmp_path):
    """An installation made before this check (0644 files, a 0755 folder) is made private when the app starts;
    a relative SQLite path lies in instance/."""
    from flask import Flask

    from clinic.security import protect_instance_files

    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    for name in ("secret_key", "knotwork.sqlite3", "knotwork.sqlite3-wal"):
        (instance / name).write_text("x")
        (instance / name).chmod(0o644)
    app = Flask("probe", instance_path=str(instance))
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///knotwork.sqlite3"
    protect_instance_files(app)
    assert _mode(instance) == 0o700
    assert {name: _mode(instance / name) for name in ("secret_key", "knotwork.sqlite3", "knotwork.sqlite3-wal")} == {
        "secret_key": 0o600,
        "knotwork.sqlite3": 0o600,
        "knotwork.sqlite3-wal": 0o600,
    }


def test_run_sh_makes_its_files_private():
    """run.sh sets the umask before it makes instance/ and the secret key (and tightens them if they exist)."""
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "run.sh").read_text().splitlines()
    umask = script.index("umask 077")
    assert umask < min(number for number, line in enumerate(script) if "instance" in line and "#" not in line[:2])
    assert "chmod 600 instance/secret_key" in script and "mkdir -p instance && chmod 700 instance" in script


def test_a_request_over_the_size_limit_is_a_413_page_and_nothing_is_read(app, therapist_client, therapist, db):
    from clinic.models import Client

    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 1024 * 1024
    token = csrf_token(therapist_client, "/clients/new")
    response = therapist_client.post(
        "/clients/new",
        data={"csrf_token": token, "full_name": "Big Body", "date_of_birth": "1980-01-02", "notes": "x" * limit},
    )
    assert response.status_code == 413 and "Too much to send at once" in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    record = make_client(therapist)
    json_response = therapist_client.post(
        f"/clients/{record.id}/sessions/draft",
        json={"scope": "new", "fields": {"notes": ["x" * limit]}},
        headers={"X-CSRFToken": token},
    )
    assert json_response.status_code == 413 and json_response.is_json


def test_hsts_is_sent_in_production_only(client, tmp_path, monkeypatch):
    from clinic import create_app

    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setenv("SECRET_KEY", "a-production-secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    production = create_app("production")
    header = production.test_client().get("/login").headers["Strict-Transport-Security"]
    assert header == f"max-age={365 * 24 * 3600}"
