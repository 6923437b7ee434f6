import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from clinic import db_types
from clinic.models import AuditEvent, LoginFailure
from clinic.rules import LOGIN_FAILURE_WINDOW_MINUTES, LOGIN_FREE_FAILURES_PER_ADDRESS, LOGIN_MAX_DELAY_SECONDS
from clinic.rules import LOGIN_FREE_FAILURES_PER_ACCOUNT as FREE
from clinic.throttle import delay_after, failures_of
from tests.factories import PASSWORD, make_user
from tests.helpers import (
    csrf_token,
    element_text,
    field_error,
    flashes,
    input_value,
    login_fast,
    login_via_form,
    submit,
    text,
)


def audit_actions(db):
    return [event.action for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def test_login_page_renders_with_labels(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = text(response)
    assert element_text(html, 'label[for="email"]') == "Email"
    assert element_text(html, 'label[for="password"]') == "Password"


def test_login_success_redirects_and_audits(client, therapist, db):
    response = login_via_form(client, "MAYA@clinic.example", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"  # the therapist's day
    assert client.get("/clients/").status_code == 200
    assert audit_actions(db) == ["login", "view"]  # the login, then reading the client list


def test_login_starts_a_fresh_session(client, therapist):
    with client.session_transaction() as session:
        session["planted"] = "from before login"
    login_via_form(client, therapist.email, PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.permanent


def test_wrong_password_is_refused_and_audited(client, therapist, db):
    response = login_via_form(client, therapist.email, "wrong-password")
    assert response.status_code == 401
    assert flashes(response) == ["Email or password is incorrect."]
    assert input_value(text(response), "email") == "maya@clinic.example", "the typed email stays in the form"
    assert client.get("/clients/").status_code == 302
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.user_id, event.details["reason"]) == ("failed_login", therapist.id, "bad credentials")


def test_unknown_email_gets_the_same_message(client, db):
    response = login_via_form(client, "nobody@clinic.example", "whatever-password")
    assert response.status_code == 401
    assert "Email or password is incorrect." in text(response)
    event = db.session.scalar(sa.select(AuditEvent))
    assert event.attempted_email == "nobody@clinic.example" and event.user_id is None


def test_invalid_email_shows_error_beside_field(client):
    response = submit(client, "/login", {"email": "not-an-email", "password": "x"})
    assert response.status_code == 200
    assert field_error(response, "email") == "Invalid email address."


def test_inactive_account_cannot_log_in(client, db):
    user = make_user(active=False)
    response = login_via_form(client, user.email, PASSWORD)
    assert response.status_code == 401


def add_failures(db, count: int, *, email: str = "", address: str = "127.0.0.1", ago: timedelta = timedelta()):
    at = db_types.utcnow() - ago
    db.session.add_all(
        [LoginFailure(email=email or f"guess{n}@clinic.example", address=address, at=at) for n in range(count)]
    )
    db.session.commit()


@pytest.mark.parametrize(
    "failures, seconds",
    [(0, 0), (FREE - 1, 0), (FREE, 1), (FREE + 1, 2), (FREE + 2, 4), (FREE + 5, 32), (FREE + 6, 60), (FREE + 40, 60)],
)
def test_delay_doubles_after_the_free_failures_up_to_a_minute(failures, seconds):
    assert delay_after(failures, FREE) == seconds


def test_failures_slow_down_and_the_right_password_works_after_the_delay(client, therapist, db, frozen_clock):
    for _ in range(FREE):
        response = login_via_form(client, therapist.email, "wrong-password")
        assert flashes(response) == ["Email or password is incorrect."]
    # The next attempt waits 1 s, then 2 s after the next failure: answered without checking the password.
    response = login_via_form(client, therapist.email, PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert flashes(response) == ["Too many failed attempts. Try again in 1 s."]
    frozen_clock.advance(1)
    assert login_via_form(client, therapist.email, "wrong-password").status_code == 401
    response = login_via_form(client, therapist.email, PASSWORD)
    assert response.status_code == 429 and flashes(response) == ["Too many failed attempts. Try again in 2 s."]
    frozen_clock.advance(1)
    assert login_via_form(client, therapist.email, PASSWORD).status_code == 429, "1 s of the 2 s left"
    frozen_clock.advance(1)
    response = login_via_form(client, therapist.email, PASSWORD)
    assert response.status_code == 302, "the right password is never locked out for long"
    assert client.get("/clients/").status_code == 200


def test_the_delay_is_capped_at_a_minute_however_many_failures(client, therapist, db, frozen_clock):
    add_failures(db, FREE + 30, email=therapist.email, address="198.51.100.7")
    response = login_via_form(client, therapist.email, PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == str(LOGIN_MAX_DELAY_SECONDS) == "60"
    frozen_clock.advance(LOGIN_MAX_DELAY_SECONDS)
    assert login_via_form(client, therapist.email, PASSWORD).status_code == 302


def test_a_stranger_cannot_keep_a_person_out_of_the_browser_they_log_in_from(app, therapist, db, frozen_clock):
    """The audit's lockout: one wrong password every time the delay ends kept the account delayed for good.
    A browser that completed a login to the account before is slowed only by its own failures."""
    usual = app.test_client()
    assert login_via_form(usual, therapist.email, PASSWORD).status_code == 302  # known from now on
    submit(usual, "/clients/", {}, action="/logout")
    stranger = app.test_client()
    for _ in range(30):  # half an hour of one guess a minute, as the delay allows
        login_via_form(stranger, therapist.email, "wrong-password")
        frozen_clock.advance(LOGIN_MAX_DELAY_SECONDS)
    login_via_form(stranger, therapist.email, "wrong-password")
    assert login_via_form(stranger, therapist.email, PASSWORD).status_code == 429  # strangers still wait
    assert login_via_form(app.test_client(), therapist.email, PASSWORD).status_code == 429  # so does a new browser
    assert login_via_form(usual, therapist.email, PASSWORD).status_code == 302  # the person's own does not
    assert usual.get("/clients/").status_code == 200


def test_a_known_browser_is_slowed_by_its_own_failures(app, therapist, db, frozen_clock):
    usual = app.test_client()
    login_via_form(usual, therapist.email, PASSWORD)
    submit(usual, "/clients/", {}, action="/logout")
    for _ in range(FREE):
        assert login_via_form(usual, therapist.email, "wrong-password").status_code == 401
    response = login_via_form(usual, therapist.email, PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    frozen_clock.advance(1)
    assert login_via_form(usual, therapist.email, PASSWORD).status_code == 302


def test_a_device_cookie_counts_only_for_its_own_account_and_only_when_signed(app, therapist, other_therapist, db):
    usual = app.test_client()
    login_via_form(usual, therapist.email, PASSWORD)
    cookie = usual.get_cookie("knotwork_device")
    assert cookie is not None and cookie.http_only and therapist.email not in cookie.value
    add_failures(db, FREE + 3, email=other_therapist.email, address="198.51.100.7")
    add_failures(db, FREE + 3, email=therapist.email, address="198.51.100.7")
    elsewhere = app.test_client()  # the same cookie does not vouch for another account
    elsewhere.set_cookie("knotwork_device", cookie.value)
    assert login_via_form(elsewhere, other_therapist.email, PASSWORD).status_code == 429
    forged = app.test_client()  # nor does a cookie the app did not sign
    forged.set_cookie("knotwork_device", cookie.value[:-4] + "AAAA")
    assert login_via_form(forged, therapist.email, PASSWORD).status_code == 429
    assert login_via_form(elsewhere, therapist.email, PASSWORD).status_code == 302  # a signed one for this account


def test_failures_older_than_the_window_are_forgotten(client, therapist, db):
    old = timedelta(minutes=LOGIN_FAILURE_WINDOW_MINUTES, seconds=1)
    add_failures(db, FREE + 10, email=therapist.email, ago=old)
    add_failures(db, LOGIN_FREE_FAILURES_PER_ADDRESS + 10, ago=old)
    assert login_via_form(client, therapist.email, PASSWORD).status_code == 302


def test_the_delay_lives_in_the_database(client, therapist, db, app, frozen_clock):
    """A second worker (a new app on the same database) sees the delay too."""
    from tests.conftest import build_app

    for _ in range(FREE):
        login_via_form(client, therapist.email, "wrong-password")
    other_worker = build_app(app.config["SQLALCHEMY_DATABASE_URI"]).test_client()
    response = login_via_form(other_worker, therapist.email, PASSWORD)
    assert response.status_code == 429 and "Try again in" in text(response)


def test_a_shared_address_needs_far_more_failures_than_one_account(client, app, db, frozen_clock):
    user = make_user()
    # Failures for many emails from one address (a clinic behind one router, or a guesser): few are not enough.
    add_failures(db, FREE * 2)
    assert login_via_form(client, user.email, PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/clients/")})
    add_failures(db, LOGIN_FREE_FAILURES_PER_ADDRESS)
    browser = app.test_client()
    response = login_via_form(browser, user.email, PASSWORD)
    assert response.status_code == 429 and "Try again in" in text(response)
    # Another address is not affected.
    response = login_via_form(browser, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 302


def test_one_accounts_failures_delay_it_elsewhere_only_by_its_own_delay(
    client, app, therapist, other_therapist, db, frozen_clock
):
    """A stranger who knows an email delays that account by at most its own (capped) delay from another
    address, and delays nobody else there at all."""
    add_failures(db, FREE + 2, email=therapist.email, address="203.0.113.66")  # 4 s
    elsewhere = {"REMOTE_ADDR": "10.0.0.9"}
    colleague = app.test_client()
    assert login_via_form(colleague, other_therapist.email, PASSWORD, environ_base=elsewhere).status_code == 302
    response = login_via_form(client, therapist.email, PASSWORD, environ_base=elsewhere)
    assert response.status_code == 429 and response.headers["Retry-After"] == "4"
    frozen_clock.advance(4)
    assert login_via_form(client, therapist.email, PASSWORD, environ_base=elsewhere).status_code == 302


def test_successful_login_resets_the_counter(client, therapist, app, db):
    for _ in range(FREE - 1):
        login_via_form(client, therapist.email, "wrong-password")
    login_via_form(client, therapist.email, PASSWORD)
    fresh = app.test_client()
    # The count started again: two more typos are not delayed.
    assert "incorrect" in text(login_via_form(fresh, therapist.email, "wrong-password"))
    assert "incorrect" in text(login_via_form(fresh, therapist.email, "wrong-password"))


def test_known_and_unknown_emails_get_the_same_answers(client, therapist, app, frozen_clock):
    """The delay must not reveal which emails have accounts."""

    def answers(email):
        browser = app.test_client()
        return [
            (flashes(r), r.status_code)
            for r in (
                login_via_form(browser, email, "wrong-password", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
                for n in range(FREE + 2)
            )
        ]

    assert answers(therapist.email) == answers("nobody-here@clinic.example")


def test_parallel_guesses_are_checked_one_at_a_time(app, therapist, db):
    """Guesses sent at once each see the failures before them: one has its password checked, the others wait
    (they all used to pass the check while the first password was being hashed)."""
    add_failures(db, FREE, email=therapist.email, address="198.51.100.7", ago=timedelta(seconds=5))  # 1 s is over
    browsers = [app.test_client() for _ in range(8)]
    tokens = [csrf_token(browser, "/login") for browser in browsers]
    start, answers, email = threading.Barrier(len(browsers)), [], therapist.email

    def guess(browser, token):
        start.wait(timeout=30)
        sent = {"csrf_token": token, "email": email, "password": "wrong-password"}
        answers.append(browser.post("/login", data=sent).status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(browsers, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [401] + [429] * (len(browsers) - 1)


def test_refusals_while_delayed_do_not_check_the_password(client, therapist, monkeypatch, frozen_clock):
    """A delayed attempt is answered without looking at the password, so guessing during the delay is useless
    and costs the server nothing; it does not add a failure either (the delay does not grow by waiting)."""
    from clinic.auth import services
    from clinic.models import User

    for _ in range(FREE):
        login_via_form(client, therapist.email, "wrong-password")
    calls = []
    monkeypatch.setattr(services, "verify_dummy_password", lambda password: calls.append(password))
    monkeypatch.setattr(User, "check_password", lambda self, password: calls.append(password))
    for _ in range(3):
        assert login_via_form(client, therapist.email, PASSWORD).status_code == 429
    assert calls == []
    assert failures_of(therapist.email) == FREE


def test_logout_ends_the_session_even_for_a_copied_cookie(app, therapist_client, therapist):
    copy = app.test_client()
    copy.set_cookie("session", therapist_client.get_cookie("session").value)
    assert copy.get("/clients/").status_code == 200
    submit(therapist_client, "/clients/", {}, action="/logout")
    assert copy.get("/clients/").status_code == 302


def test_proxy_address_is_used_only_when_trusted(database_url, therapist):
    import sqlalchemy as sa

    from clinic.models import AuditEvent
    from tests.conftest import build_app

    for hops, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = build_app(database_url, TRUSTED_PROXY_HOPS=hops)
        browser = app.test_client()
        login_via_form(browser, therapist.email, "wrong-password", headers={"X-Forwarded-For": "203.0.113.9"})
        with app.app_context():
            from clinic.extensions import db as _db

            event = _db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()))
            assert event.address == expected


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/clients/?q=a", "/clients/?q=a"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\t/evil.example", "/"),
        ("///evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("/%0A/evil.example", "/"),
        ("/clients/%0D%0ASet-Cookie:%20x=1", "/"),
        ("/clients%5C..%5Cevil", "/"),
        ("/clients/?q=%C3%A9", "/clients/?q=%C3%A9"),
    ],
)
def test_next_only_to_a_local_path(client, therapist, target, expected):
    page = "/login?next=" + target
    response = submit(client, "/login", {"email": therapist.email, "password": PASSWORD}, action=page)
    assert response.headers["Location"] == expected


def test_login_refused_without_csrf_token(client, therapist):
    response = client.post("/login", data={"email": therapist.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in text(response)
    assert client.get("/clients/").status_code == 302


def test_logout_needs_post_with_csrf(therapist_client, db):
    assert therapist_client.get("/logout").status_code == 405
    assert therapist_client.post("/logout").status_code == 400
    response = submit(therapist_client, "/clients/", {}, action="/logout")
    assert response.status_code == 302
    assert therapist_client.get("/clients/").status_code == 302
    assert "logout" in audit_actions(db)


def test_session_ends_after_30_minutes_idle(app, therapist_client):
    assert app.permanent_session_lifetime == timedelta(minutes=30)
    assert therapist_client.get("/clients/").status_code == 200
    cookie = therapist_client.get_cookie("session")
    assert cookie.expires is not None
    app.permanent_session_lifetime = timedelta(seconds=-1)  # as if 30 minutes had passed
    response = therapist_client.get("/clients/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_change_ends_existing_sessions(therapist_client, therapist, db):
    assert therapist_client.get("/clients/").status_code == 200
    therapist.set_password("a-brand-new-password")
    db.session.commit()
    assert therapist_client.get("/clients/").status_code == 302


def test_already_logged_in_skips_the_login_page(therapist_client):
    assert therapist_client.get("/login").status_code == 302


def test_home_is_the_login_page_or_the_day(client, therapist):
    assert client.get("/").headers["Location"] == "/login"
    login_fast(client, therapist)
    response = client.get("/")
    assert response.status_code == 200
    assert BeautifulSoup(response.get_data(as_text=True), "html.parser").h1.get_text(strip=True) == "Today"


def test_csrf_token_helper_finds_token(client):
    assert csrf_token(client, "/login")


def test_form_token_for_long_open_forms(client, therapist):
    response = client.get("/auth/form-token")
    assert response.status_code == 401 and response.is_json
    login_fast(client, therapist)
    response = client.get("/auth/form-token")
    assert response.status_code == 200 and response.get_json()["csrf_token"]
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/auth/logged-back-in").status_code == 200
