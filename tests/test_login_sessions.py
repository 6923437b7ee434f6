"""Logins as server-side records: listed at /account, ended by the person (one, or all others), by logging out
or by a password change; refused once ended, past the absolute lifetime or idle, or in another browser."""

from datetime import timedelta

import sqlalchemy as sa

from clinic.db_types import utcnow
from clinic.models import AuditEvent, ClinicSettings, LoginSession
from clinic.rules import SESSION_ABSOLUTE_HOURS
from tests.factories import PASSWORD
from tests.helpers import count_queries, flashes, login_fast, login_via_form, parse, submit

PHONE = {
    "HTTP_USER_AGENT": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Version/18.0 Mobile/15E148 Safari/604.1"
}
LAPTOP = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "REMOTE_ADDR": "192.0.2.44"}


def device(app, environ: dict):
    browser = app.test_client()
    browser.environ_base.update(environ)
    return browser


def records(db, user) -> list[LoginSession]:
    db.session.rollback()
    return db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id).order_by("id")).all()


def shift(db, record: LoginSession, **ago: timedelta) -> None:
    for column, delta in ago.items():
        setattr(record, column, getattr(record, column) - delta)
    db.session.commit()


def listed(page) -> list[dict]:
    return [
        {"id": int(item["data-session"]), "this": item.has_attr("data-this-session"), "text": item.get_text(" ")}
        for item in parse(page).select("ul.login-sessions li")
    ]


def test_a_login_makes_a_session_record_bound_into_the_cookie(app, client, therapist, db):
    browser = device(app, LAPTOP)
    login_via_form(browser, therapist.email, PASSWORD)
    [record] = records(db, therapist)
    assert record.user_agent == LAPTOP["HTTP_USER_AGENT"] and record.address == "192.0.2.44"
    assert record.ended_at is None and utcnow() - record.created_at < timedelta(minutes=1)
    with browser.session_transaction() as session:
        assert session["login_session"] == record.key and len(record.key) >= 40


def test_account_lists_active_sessions_and_marks_this_one(app, therapist, db):
    phone, laptop = device(app, PHONE), device(app, LAPTOP)
    login_via_form(phone, therapist.email, PASSWORD)
    login_via_form(laptop, therapist.email, PASSWORD)
    shown = listed(laptop.get("/account"))
    assert len(shown) == 2
    [this] = [s for s in shown if s["this"]]
    assert "Firefox on Linux" in this["text"] and "192.0.2.44" in this["text"] and "(this device)" in this["text"]
    assert any("Safari on iPhone" in s["text"] and not s["this"] for s in shown)


def test_ending_another_session_refuses_it_on_the_next_request(app, therapist, db):
    phone, laptop = device(app, PHONE), device(app, LAPTOP)
    login_via_form(phone, therapist.email, PASSWORD)
    login_via_form(laptop, therapist.email, PASSWORD)
    assert phone.get("/clients/").status_code == 200
    [other] = [s for s in listed(laptop.get("/account")) if not s["this"]]
    response = submit(laptop, "/account", {}, action=f"/account/sessions/{other['id']}/end")
    assert response.status_code == 302
    answer = phone.get("/clients/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert laptop.get("/clients/").status_code == 200, "this device stays logged in"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "login_session"))
    assert (event.action, event.entity_id, event.details) == ("logout", other["id"], {"ended": "ended by the person"})


def test_ending_all_other_sessions(app, therapist, db):
    phones = [device(app, PHONE) for _ in range(2)]
    laptop = device(app, LAPTOP)
    for browser in [*phones, laptop]:
        login_via_form(browser, therapist.email, PASSWORD)
    response = submit(laptop, "/account", {}, action="/account/sessions/end-others")
    assert flashes(laptop.get(response.headers["Location"])) == ["2 other session(s) ended."]
    assert [phone.get("/clients/").status_code for phone in phones] == [302, 302]
    assert laptop.get("/clients/").status_code == 200
    assert [s["this"] for s in listed(laptop.get("/account"))] == [True]


def test_another_persons_session_cannot_be_ended(app, therapist, other_therapist, db):
    theirs = device(app, PHONE)
    login_via_form(theirs, other_therapist.email, PASSWORD)
    [record] = records(db, other_therapist)
    mine = app.test_client()
    login_fast(mine, therapist)
    assert submit(mine, "/account", {}, action=f"/account/sessions/{record.id}/end").status_code == 404
    assert theirs.get("/clients/").status_code == 200


def test_ending_needs_csrf(app, therapist, db):
    browser = device(app, LAPTOP)
    login_via_form(browser, therapist.email, PASSWORD)
    [record] = records(db, therapist)
    assert browser.post(f"/account/sessions/{record.id}/end").status_code == 400
    assert records(db, therapist)[0].ended_at is None


def test_an_ended_session_is_refused_even_from_a_copied_cookie(app, therapist, db):
    browser = device(app, LAPTOP)
    login_via_form(browser, therapist.email, PASSWORD)
    copy = device(app, LAPTOP)
    copy.set_cookie("session", browser.get_cookie("session").value)
    assert copy.get("/clients/").status_code == 200
    submit(browser, "/clients/", {}, action="/logout")
    assert records(db, therapist)[0].ended_at is not None
    assert copy.get("/clients/").status_code == 302


def test_a_cookie_carried_to_another_browser_is_refused(app, therapist, db):
    browser = device(app, LAPTOP)
    login_via_form(browser, therapist.email, PASSWORD)
    stolen = device(app, PHONE)
    stolen.set_cookie("session", browser.get_cookie("session").value)
    assert stolen.get("/clients/").status_code == 302
    assert browser.get("/clients/").status_code == 200


def test_logging_out_on_one_device_keeps_the_others(app, therapist, db):
    phone, laptop = device(app, PHONE), device(app, LAPTOP)
    login_via_form(phone, therapist.email, PASSWORD)
    login_via_form(laptop, therapist.email, PASSWORD)
    submit(phone, "/clients/", {}, action="/logout")
    assert phone.get("/clients/").status_code == 302
    assert laptop.get("/clients/").status_code == 200


def test_a_session_ends_at_the_absolute_lifetime_however_active(app, therapist_client, therapist, db):
    assert app.config["SESSION_ABSOLUTE_LIFETIME"] == timedelta(hours=SESSION_ABSOLUTE_HOURS) == timedelta(hours=12)
    [record] = records(db, therapist)
    shift(db, record, created_at=timedelta(hours=SESSION_ABSOLUTE_HOURS, minutes=-1))
    assert therapist_client.get("/clients/").status_code == 200, "11 h 59 min: still on"
    shift(db, records(db, therapist)[0], created_at=timedelta(minutes=2))
    response = therapist_client.get("/clients/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert listed_count_after_login(app, therapist) == 1, "the expired session is no longer listed"


def listed_count_after_login(app, therapist) -> int:
    browser = app.test_client()
    login_fast(browser, therapist)
    return len(listed(browser.get("/account")))


def test_a_session_idle_past_the_timeout_is_refused_by_the_server(app, therapist_client, therapist, db):
    """Even a cookie kept alive by hand (its own expiry is the browser's to honour) dies on the server."""
    [record] = records(db, therapist)
    shift(db, record, last_seen_at=app.permanent_session_lifetime + timedelta(minutes=2))
    assert therapist_client.get("/clients/").status_code == 302


def test_activity_moves_last_seen_at_most_once_a_minute(app, therapist_client, therapist, db):
    [record] = records(db, therapist)
    shift(db, record, last_seen_at=timedelta(minutes=5))
    before = records(db, therapist)[0].last_seen_at
    therapist_client.get("/clients/")
    after = records(db, therapist)[0].last_seen_at
    assert after - before >= timedelta(minutes=4)
    therapist_client.get("/clients/")
    assert records(db, therapist)[0].last_seen_at == after


def test_a_cookie_without_a_session_record_is_refused(app, client, therapist):
    """A login id alone (as a cookie from before session records had) is not a login."""
    with client.session_transaction() as session:
        session["_user_id"] = therapist.get_id()
        session["_fresh"] = True
    assert client.get("/clients/").status_code == 302


def test_a_password_change_ends_the_other_sessions(app, therapist, db):
    phone, laptop = device(app, PHONE), device(app, LAPTOP)
    login_via_form(phone, therapist.email, PASSWORD)
    login_via_form(laptop, therapist.email, PASSWORD)
    new = "a-brand-new-secret"
    response = submit(
        laptop, "/account", {"current": PASSWORD, "password": new, "confirm": new}, action="/account/password"
    )
    assert response.status_code == 302
    ended = [r for r in records(db, therapist) if r.ended_at is not None]
    assert [r.user_agent for r in ended] == [PHONE["HTTP_USER_AGENT"]]
    assert phone.get("/clients/").status_code == 302
    assert laptop.get("/clients/").status_code == 200


def test_a_logged_in_request_checks_its_login_in_one_statement(app, therapist_client, db):
    """The user, this device's session record and the clinic's settings (the two-factor gate's) come in one
    statement: a page that reads nothing else runs just that one (issue 16: the fixed cost of a logged-in page),
    and on PostgreSQL the question that ends its transaction (clinic/transactions.py)."""
    from clinic.transactions import WROTE_NOTHING

    db.session.add(ClinicSettings(id=1, name="Knot Clinic", address="", phone=""))
    db.session.commit()
    therapist_client.get("/api/regions")
    with count_queries(app) as counted:
        assert therapist_client.get("/api/regions").status_code == 200
    reads = [statement for statement in counted.statements if statement != WROTE_NOTHING.text]
    assert len(reads) == 1, counted.statements
    assert all(table in reads[0] for table in ("users", "login_sessions", "clinic_settings"))
    assert counted.count - len(reads) == (1 if db.engine.dialect.driver == "psycopg" else 0)


def test_a_session_record_of_another_user_is_no_login(app, therapist, other_therapist, db):
    """The cookie's session key must name a record of the cookie's user: another person's key logs nobody in."""
    browser = app.test_client()
    login_via_form(browser, therapist.email, PASSWORD)
    other = app.test_client()
    login_via_form(other, other_therapist.email, PASSWORD)
    with other.session_transaction() as theirs:
        their_key = theirs["login_session"]
    with browser.session_transaction() as session:
        session["login_session"] = their_key
    assert browser.get("/clients/").status_code == 302
