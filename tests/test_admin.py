import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.models import AuditEvent, User
from clinic.rules import LOGIN_FREE_FAILURES_PER_ACCOUNT
from clinic.templating import format_datetime
from tests.factories import PASSWORD, make_audit_event, make_client
from tests.helpers import (
    csrf_token,
    element,
    element_text,
    field_error,
    flashes,
    input_value,
    login_fast,
    login_via_form,
    parse,
    submit,
    text,
    words,
)

NEW_USER = {
    "name": "Nora New",
    "email": "Nora@Clinic.example",
    "role": "therapist",
    "password": "a-long-password",
    "confirm": "a-long-password",
}


def test_admin_pages_are_404_for_therapists(therapist_client, therapist):
    for url in ["/admin/users", "/admin/users/new", f"/admin/users/{therapist.id}/password", "/admin/audit"]:
        assert therapist_client.get(url).status_code == 404, url
    response = submit(therapist_client, "/clients/", {}, action=f"/admin/users/{therapist.id}/active")
    assert response.status_code == 404


def test_admin_pages_need_login(client):
    assert client.get("/admin/users").status_code == 302


def test_admin_adds_a_therapist_who_can_log_in(admin_client, client, db):
    response = submit(admin_client, "/admin/users/new", NEW_USER)
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "nora@clinic.example"))
    assert user.role == "therapist" and user.password_hash.startswith("$argon2")
    new_browser = client.application.test_client()
    assert login_via_form(new_browser, "nora@clinic.example", "a-long-password").status_code == 302


def test_add_account_validation_keeps_input(admin_client, admin):
    response = submit(admin_client, "/admin/users/new", {**NEW_USER, "email": admin.email.upper(), "confirm": "other"})
    html = text(response)
    assert "already exists" in field_error(html, "email") and field_error(html, "confirm") == "The passwords differ."
    assert input_value(html, "name") == "Nora New"


def test_short_password_refused(admin_client):
    response = submit(admin_client, "/admin/users/new", {**NEW_USER, "password": "short", "confirm": "short"})
    assert response.status_code == 200
    assert field_error(response, "password") == "The password needs at least 10 characters."


def test_deactivate_logs_the_user_out_and_blocks_login(admin_client, client, therapist, db):
    therapist_browser = client.application.test_client()
    login_fast(therapist_browser, therapist)
    assert therapist_browser.get("/clients/").status_code == 200
    response = submit(admin_client, "/admin/users", {}, action=f"/admin/users/{therapist.id}/active")
    assert response.status_code == 302
    db.session.refresh(therapist)
    assert not therapist.active
    assert therapist_browser.get("/clients/").status_code == 302
    assert login_via_form(therapist_browser, therapist.email, PASSWORD).status_code == 401
    # Reactivate.
    submit(admin_client, "/admin/users", {}, action=f"/admin/users/{therapist.id}/active")
    db.session.refresh(therapist)
    assert therapist.active


def test_deactivating_and_reactivating_an_account_is_audited(admin_client, admin, therapist, db):
    toggle = f"/admin/users/{therapist.id}/active"
    for _ in ("deactivate", "reactivate"):
        assert submit(admin_client, "/admin/users", {}, action=toggle).status_code == 302
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action != "view").order_by(AuditEvent.id)))
    assert [
        (event.action, event.user_id, event.entity_type, event.entity_id, event.client_id, event.details)
        for event in events
    ] == [
        ("update", admin.id, "user", therapist.id, None, {"changes": {"active": [True, False]}}),
        ("update", admin.id, "user", therapist.id, None, {"changes": {"active": [False, True]}}),
    ]


def test_admin_cannot_deactivate_self(admin_client, admin, db):
    submit(admin_client, "/admin/users", {}, action=f"/admin/users/{admin.id}/active")
    db.session.refresh(admin)
    assert admin.active
    assert flashes(admin_client.get("/admin/users")) == ["You can't deactivate your own account."]
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action != "view")) is None


def test_reset_password_unlocks_and_is_audited(admin_client, therapist, db, app):
    therapist_browser = app.test_client()
    for _ in range(LOGIN_FREE_FAILURES_PER_ACCOUNT):
        login_via_form(therapist_browser, therapist.email, "wrong-password")
    assert status_of(admin_client, therapist) == "Slowed by failed logins"
    page = f"/admin/users/{therapist.id}/password"
    response = submit(admin_client, page, {"password": "fresh-password-1", "confirm": "fresh-password-1"})
    assert response.status_code == 302
    db.session.refresh(therapist)
    assert therapist.check_password("fresh-password-1")
    assert status_of(admin_client, therapist) == "Active Must change password"
    assert login_via_form(therapist_browser, therapist.email, "fresh-password-1").status_code == 302
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "update"))
    assert event.details == {"changes": {"password": "reset"}} and event.entity_id == therapist.id


def status_of(browser, user) -> str:
    """The Status column of the user's row on the accounts page."""
    for row in parse(browser.get("/admin/users")).select("table tbody tr"):
        cells = [words(cell) for cell in row.find_all("td")]
        if cells[1] == user.email:
            return cells[3]
    raise AssertionError(f"no row for {user.email}")


def test_missing_user_is_404(admin_client):
    assert admin_client.get("/admin/users/999/password").status_code == 404


def test_audit_log_lists_newest_first_with_filters(admin_client, admin, therapist, other_therapist, db):
    first = make_client(therapist, full_name="First Client")
    second = make_client(other_therapist, full_name="Second Client")
    therapist_browser = admin_client.application.test_client()
    login_fast(therapist_browser, therapist)
    therapist_browser.get(f"/clients/{first.id}")
    admin_client.get(f"/clients/{second.id}")

    def records(url):
        return [words(row.select("td")[3]) for row in parse(admin_client.get(url)).select("table.audit tbody tr")]

    assert records("/admin/audit") == ["Second Client", "First Client"]
    assert records(f"/admin/audit?user={therapist.id}") == ["First Client"]
    assert records(f"/admin/audit?client={second.id}") == ["Second Client"]
    by_action = admin_client.get("/admin/audit?action=archive")
    assert records("/admin/audit?action=archive") == []
    assert element_text(by_action, ".empty") == "No events match these filters."


def test_audit_log_pages_newest_first(admin_client, admin, app, db):
    per_page = app.config["AUDIT_PER_PAGE"]
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    # Stored oldest first, each a minute after the last: entity ids 1 .. per_page + 3. Updates, so that the
    # owner's own reading of the log (a view, recorded too) stays out of the filtered pages.
    for n in range(1, per_page + 4):
        make_audit_event(
            action="update", user_id=admin.id, entity_type="session", entity_id=n, at=start + timedelta(minutes=n)
        )

    def audit_page(url):
        page = parse(admin_client.get(url))
        rows = [words(row.select("td")[0]) for row in page.select("table.audit tbody tr")]
        pager = element(page, "nav.pager")
        links = {link["rel"][0]: link["href"] for link in pager.select("a[rel]")}
        return rows, links

    def shown(n):  # each event's time, as the page writes it on the clinic's clock
        return format_datetime(start + timedelta(minutes=n))

    # Keyset paging: older and newer from the last and first event shown; the log is never counted.
    rows, links = audit_page("/admin/audit?action=update")
    assert rows == [shown(n) for n in range(per_page + 3, 3, -1)]
    oldest_shown = per_page + 3 - per_page + 1  # entity (and id) of the page's last row
    assert links == {"next": f"/admin/audit?before={oldest_shown}&action=update"}
    rows, links = audit_page(links["next"])
    assert rows == [shown(3), shown(2), shown(1)]
    assert links == {"prev": "/admin/audit?after=3&action=update"}
    rows, links = audit_page(links["prev"])
    assert rows == [shown(n) for n in range(per_page + 3, 3, -1)]
    assert links == {"next": f"/admin/audit?before={oldest_shown}&action=update"}
    # The filters travel with the pager links.
    _, links = audit_page(f"/admin/audit?action=update&user={admin.id}")
    assert links == {"next": f"/admin/audit?before={oldest_shown}&user={admin.id}&action=update"}


def test_audit_log_pages_events_of_the_same_moment_without_skipping_or_repeating(admin_client, admin, app, db):
    """Events stored in one instant are ordered by id: paging through them shows each exactly once."""
    app.config["AUDIT_PER_PAGE"] = 3
    moment = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for n in range(8):
        make_audit_event(action="update", user_id=admin.id, entity_type="session", entity_id=n, at=moment)
    seen, url, pages = [], "/admin/audit?action=update", 0
    while url:
        page = parse(admin_client.get(url))
        seen += [words(row.select("td")[3]) for row in page.select("table.audit tbody tr")]
        older = page.select_one('nav.pager a[rel="next"]')
        url, pages = (older["href"] if older else None), pages + 1
    assert pages == 3 and len(seen) == 8


@pytest.mark.parametrize("cursor", ["before=abc", "before=999999", "after=-4", "before=99999999999999999999"])
def test_audit_log_with_a_bad_or_unknown_page_cursor_shows_the_newest(admin_client, admin, db, cursor):
    make_audit_event(action="update", user_id=admin.id, entity_type="session", entity_id=1)
    page = parse(admin_client.get(f"/admin/audit?action=update&{cursor}"))
    assert len(page.select("table.audit tbody tr")) == 1


def test_audit_log_client_filter_is_typed_not_a_list_of_every_client(admin_client, admin, therapist, db):
    """No select of every client: a text field; the typed words filter, a chosen client (its id) too, and a
    small JSON look-up offers matching names as one types."""
    ana = make_client(therapist, full_name="Ana Lopez")
    anabel = make_client(therapist, full_name="Anabel Ruiz")
    bob = make_client(therapist, full_name="Bob Stone")
    for person in (ana, anabel, bob):
        make_audit_event(action="view", user_id=admin.id, entity_type="client", client_id=person.id)

    def records(url):
        return [words(row.select("td")[3]) for row in parse(admin_client.get(url)).select("table.audit tbody tr")]

    page = parse(admin_client.get("/admin/audit"))
    assert page.select("select[name=client]") == [] and page.select("option") != []
    assert element(page, "input[name=client_name]")["list"] == "audit-client-matches"
    assert records("/admin/audit?client_name=ana") == ["Anabel Ruiz", "Ana Lopez"]
    assert records("/admin/audit?client_name=lopez+ana") == ["Ana Lopez"]
    assert records("/admin/audit?client_name=nobody") == []
    chosen = admin_client.get(f"/admin/audit?client={anabel.id}&client_name=Anabel+Ruiz")
    assert [words(row.select("td")[3]) for row in parse(chosen).select("table.audit tbody tr")] == ["Anabel Ruiz"]
    assert element(chosen, "input[name=client_name]")["value"] == "Anabel Ruiz"

    found = admin_client.get("/admin/audit/clients.json?q=AN")
    assert found.headers["Cache-Control"] == "no-store"
    assert [c["name"] for c in found.get_json()["clients"]] == ["Ana Lopez", "Anabel Ruiz"]
    assert admin_client.get("/admin/audit/clients.json?q=").get_json() == {"clients": []}


def test_the_owner_looking_up_client_names_is_recorded(admin_client, admin, therapist, db):
    ana = make_client(therapist, full_name="Ana Lopez")
    assert admin_client.get("/admin/audit/clients.json?q=nobody").get_json() == {"clients": []}
    assert audit_reads(db, "client search") == []  # nothing shown, nothing to record
    admin_client.get("/admin/audit/clients.json?q=ana")
    [search] = audit_reads(db, "client search")
    assert (search.user_id, search.details) == (admin.id, {"clients": [ana.id]})


def test_audit_client_look_up_is_for_the_owner_only(therapist_client, therapist):
    make_client(therapist, full_name="Ana Lopez")
    assert therapist_client.get("/admin/audit/clients.json?q=ana").status_code == 404


def test_audit_log_ignores_bad_filter_values(admin_client):
    assert admin_client.get("/admin/audit?user=abc&action=nonsense").status_code == 200


def test_audit_log_reads_like_the_session_history_and_names_people(admin_client, admin, therapist, db):
    from datetime import UTC, datetime

    from bs4 import BeautifulSoup

    from tests.factories import make_session

    record = make_client(therapist, full_name="Audit Client")
    session = make_session(record)
    point = {
        "trigger_point": "upper-trapezius/1",
        "side": "right",
        "pressure_seconds": 60,
        "pain": 6,
        "release_felt": False,
        "local_twitch": False,
        "referral_reproduced": False,
        "note": "x" * 150,
    }
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    make_audit_event(
        at=at,
        action="update",
        user_id=therapist.id,
        entity_type="session",
        entity_id=session.id,
        client_id=record.id,
        details={"changes": {"points": [[point] * 5, [point] * 4 + [{**point, "pain": 8}]]}},
    )
    make_audit_event(
        at=at,
        action="update",
        user_id=admin.id,
        entity_type="user",
        entity_id=therapist.id,
        details={"changes": {"active": [True, False]}},
    )
    make_audit_event(
        at=at,
        action="view",
        user_id=therapist.id,
        entity_type="summary",
        entity_id=record.id,
        client_id=record.id,
        details={"period": {}, "printed": False},
    )
    soup = BeautifulSoup(text(admin_client.get("/admin/audit")), "html.parser")
    rows = {
        row.select_one("[data-label=Record]").get_text(" ", strip=True): row
        for row in soup.select("table.audit tbody tr")
    }
    edit = rows["Session of Audit Client"]
    links = [a["href"] for a in edit.select("[data-label=Record] a")]
    assert links == [f"/clients/{record.id}/sessions/{session.id}", f"/clients/{record.id}"]
    details = edit.select_one("[data-label=Details]")
    assert [li.get_text(" ", strip=True) for li in details.select("ul.changes > li")] == [
        "Changed Upper trapezius, point 1 (right) : compression pain 6/10 → 8/10"
    ]
    assert len(details.get_text()) < 200, "not two raw lists of point records"
    account = rows["Account of Maya Test"]
    assert account.select_one("[data-label=Who]").get_text(strip=True) == "Ada Admin"
    assert account.select_one("[data-label=Details]").get_text(" ", strip=True) == "Active : yes → no"
    summary = rows["Summary of Audit Client"]
    assert summary.select_one("[data-label=Details]").get_text(strip=True) == "Physician summary viewed, all sessions"
    assert "user #" not in soup.get_text() and "printed: False" not in soup.get_text()


def test_audit_log_filters_by_date_range(admin_client, admin, therapist, db):
    from datetime import UTC, datetime

    from bs4 import BeautifulSoup

    for day in (1, 10, 20):
        make_audit_event(
            at=datetime(2026, 3, day, 12, tzinfo=UTC), action="login", user_id=therapist.id, details={"day": day}
        )

    def days(query: str) -> list[str]:
        soup = BeautifulSoup(text(admin_client.get(f"/admin/audit?action=login&{query}")), "html.parser")
        return [" ".join(cell.get_text().split()[:2]) for cell in soup.select("table.audit [data-label=When]")]

    assert days("date_from=2026-03-05&date_to=2026-03-15") == ["10 Mar"]
    assert days("date_from=2026-03-10") == ["20 Mar", "10 Mar"]
    assert days("date_to=2026-03-01") == ["1 Mar"]


def test_audit_log_refuses_a_bad_date_range_beside_the_field(admin_client, therapist, db):
    from bs4 import BeautifulSoup

    response = admin_client.get("/admin/audit?date_from=2026-03-10&date_to=2026-03-01")
    soup = BeautifulSoup(text(response), "html.parser")
    assert response.status_code == 200
    assert soup.select_one("#date_to-error").get_text(strip=True) == "The end date is before the start date."
    assert (
        soup.select_one("#date_from")["value"] == "2026-03-10" and soup.select_one("#date_to")["value"] == "2026-03-01"
    )
    soup = BeautifulSoup(text(admin_client.get("/admin/audit?date_from=yesterday")), "html.parser")
    assert soup.select_one("#date_from-error") is not None and soup.select_one("#date_from")["value"] == "yesterday"


def test_deactivate_asks_first_and_a_cancel_changes_nothing(admin_client, therapist, db):
    from bs4 import BeautifulSoup

    users = BeautifulSoup(text(admin_client.get("/admin/users")), "html.parser")
    assert users.select("table form") == [], "no one-click deactivation"
    link = users.find("a", string="Deactivate…")
    assert link["href"] == f"/admin/users/{therapist.id}/active"
    page = BeautifulSoup(text(admin_client.get(link["href"])), "html.parser")
    assert page.h1.get_text() == "Deactivate Maya Test?"
    assert page.select_one("main form button[type=submit]").get_text() == "Deactivate Maya Test"
    db.session.refresh(therapist)
    assert therapist.active, "looking at the question changes nothing"
    response = submit(admin_client, link["href"], {})
    assert response.status_code == 302
    db.session.refresh(therapist)
    assert not therapist.active


def test_the_deactivate_question_is_the_owners_and_needs_csrf(client, admin_client, admin, therapist, db):
    assert admin_client.get("/admin/users/9999/active").status_code == 404
    assert admin_client.get(f"/admin/users/{admin.id}/active").status_code == 302  # not for oneself
    assert admin_client.post(f"/admin/users/{therapist.id}/active").status_code == 400
    db.session.refresh(therapist)
    assert therapist.active, "a POST without the CSRF token does nothing"
    login_fast(admin_client, therapist)
    assert admin_client.get(f"/admin/users/{therapist.id}/active").status_code == 404


def audit_reads(db, what):
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == what).order_by(AuditEvent.id)))


def test_the_owner_reading_the_log_and_the_accounts_is_recorded(admin_client, admin, db):
    first, last = (make_audit_event(action="login", user_id=admin.id, entity_type="user") for _ in range(2))
    assert admin_client.get("/admin/audit?action=login").status_code == 200
    assert admin_client.get("/admin/users").status_code == 200
    [log] = audit_reads(db, "audit log")
    assert (log.action, log.user_id) == ("view", admin.id)
    assert log.details == {"events": [first.id, last.id], "action": "login"}  # the events shown, oldest and newest
    [accounts] = audit_reads(db, "accounts")
    assert (accounts.action, accounts.user_id) == ("view", admin.id)


def export_rows(response) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text(response))))


def test_audit_export_streams_a_period_as_csv_and_is_itself_audited(admin_client, admin, therapist, db, runner):
    record = make_client(therapist, full_name="=Export Ellis")
    for day in (1, 10, 20):
        make_audit_event(
            at=datetime(2026, 3, day, 12, tzinfo=UTC),
            action="view",
            user_id=therapist.id,
            client_id=record.id,
            entity_type="client",
            entity_id=record.id,
            details={"day": day},
        )
    page = parse(admin_client.get("/admin/audit?date_from=2026-03-05&date_to=2026-03-15"))
    link = element(page, "a[download]")["href"]
    assert link == "/admin/audit/export?from=2026-03-05&to=2026-03-15"
    response = admin_client.get(link)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    assert 'filename="audit-log_2026-03-05_2026-03-15.csv"' in response.headers["Content-Disposition"]
    [row] = export_rows(response)
    stored = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.at == datetime(2026, 3, 10, 12, tzinfo=UTC))
    ).one()
    assert row["id"] == str(stored.id) and row["user"] == "Maya Test" and row["action"] == "view"
    assert row["client"] == "'=Export Ellis", "a cell that a spreadsheet would run is made plain text"
    assert row["details"] == '{"day": 10}' and (row["prev_hash"], row["hash"]) == (stored.prev_hash, stored.hash)
    [export] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert (export.user_id, export.entity_type, export.details) == (
        admin.id,
        "audit export",
        {"period": {"from": "2026-03-05", "to": "2026-03-15"}},
    )
    # Without a period: everything, oldest first, the export's own entry included; the chain still holds.
    every = export_rows(admin_client.get("/admin/audit/export"))
    ids = [int(row["id"]) for row in every]
    assert ids == sorted(ids) and len(ids) == db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert (every[-1]["action"], every[-1]["entity_type"], every[-1]["details"]) == (
        "export",
        "audit export",
        '{"period": {}}',
    )
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_audit_export_reads_in_batches(admin_client, admin, db, monkeypatch):
    from clinic.admin import services

    monkeypatch.setattr(services, "EXPORT_BATCH", 2)
    for n in range(5):
        make_audit_event(action="login", user_id=admin.id, details={"n": n})
    response = admin_client.get("/admin/audit/export")
    chunks = list(response.response)  # what the server writes: the header, then one chunk per batch of rows
    rows = export_rows(response)
    assert [row["details"] for row in rows[:5]] == [json.dumps({"n": n}) for n in range(5)]
    assert len(chunks) == 1 + -(-len(rows) // 2)


def test_audit_export_is_for_the_owner_and_refuses_a_bad_period(client, admin_client, therapist, db):
    assert admin_client.get("/admin/audit/export?from=2026-03-10&to=2026-03-01").status_code == 400
    assert admin_client.get("/admin/audit/export?from=yesterday").status_code == 400
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export")) is None
    login_fast(client, therapist)
    assert client.get("/admin/audit/export").status_code == 404


def test_audit_export_of_a_period_without_entries_is_the_header_only(admin_client, admin, db):
    make_audit_event(action="update", user_id=admin.id, entity_type="user", entity_id=admin.id)
    response = admin_client.get("/admin/audit/export?from=2001-01-01&to=2001-01-31")
    assert response.status_code == 200 and export_rows(response) == []
    assert text(response).startswith("id,at,user_id,")


def test_the_owner_changes_their_own_password_and_second_factor_only_at_their_account_page(admin_client, admin, db):
    """/account asks the current password; the admin pages do not, so they refuse the owner's own account."""
    response = admin_client.get(f"/admin/users/{admin.id}/password")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    before = db.session.scalar(sa.select(User.password_hash).where(User.id == admin.id))
    token = csrf_token(admin_client, "/admin/users")
    sent = {"csrf_token": token, "password": "a-new-long-passphrase", "confirm": "a-new-long-passphrase"}
    assert admin_client.post(f"/admin/users/{admin.id}/password", data=sent).headers["Location"] == "/account"
    answer = admin_client.post(f"/admin/users/{admin.id}/two-factor/reset", data={"csrf_token": token})
    assert answer.headers["Location"] == "/account"
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.id == admin.id)) == before
