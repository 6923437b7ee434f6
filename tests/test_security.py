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


def test_an_error_rolls_back_everything_the_request_wrote(app, client, therapist, db):
    from clinic import audit
    from clinic.extensions import db as _db
    from clinic.models import AuditAction, Client

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/write-then-fail")
    def write_then_fail():
        written = Client(full_name="Half Written", date_of_birth=therapist.created_at.date(), therapist_id=therapist.id)
        _db.session.add(written)
        _db.session.flush()
        audit.record(AuditAction.CREATE, client=written)
        raise RuntimeError("boom")

    response = client.get("/write-then-fail")
    assert response.status_code == 500 and "Nothing was saved" in text(response)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("path", ["/api/write-then-fail", "/clients/write-then-fail.json"])
def test_an_error_under_api_or_on_a_json_url_is_a_json_500_and_rolls_back(database_url, therapist, db, path):
    from clinic import audit
    from clinic.extensions import db as _db
    from clinic.models import AuditAction, Client
    from tests.conftest import build_app

    app = build_app(database_url, PROPAGATE_EXCEPTIONS=False)  # let the app's 500 handler answer, as in production
    seen_after_the_error = []

    @app.route(path)
    def write_then_fail():
        written = Client(full_name="Half Written", date_of_birth=therapist.created_at.date(), therapist_id=therapist.id)
        _db.session.add(written)
        _db.session.flush()
        audit.record(AuditAction.CREATE, client=written)
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
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
