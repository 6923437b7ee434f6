"""A person's own page: their profile and their password; the owner edits profiles and the clinic's details."""

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from clinic.models import AuditEvent, ClinicSettings, LoginSession, User
from tests.factories import PASSWORD
from tests.helpers import login_fast, login_via_form, submit, text


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(text(response), "html.parser")


def test_account_page_needs_login(client):
    assert client.get("/account").status_code in (302, 401)


def test_account_page_has_sections_for_profile_and_password(therapist_client):
    response = therapist_client.get("/account")
    soup = soup_of(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert [h.get_text() for h in soup.select("section h2")] == [
        "Profile",
        "Password",
        "Two-factor login",
        "Where you are logged in",
        "Calendar feed",
    ]
    assert soup.select_one("#name")["value"] == "Maya Test"
    assert soup.select_one(".site-header a.who")["href"] == "/account"


def test_therapist_edits_their_own_profile(therapist_client, therapist, db):
    response = submit(
        therapist_client,
        "/account",
        {"name": "Maya Test", "credentials": "RMT", "registration_number": "CMTO-4411", "phone": "555-0142"},
        action="/account/profile",
    )
    assert response.status_code == 302
    db.session.refresh(therapist)
    assert (therapist.credentials, therapist.registration_number, therapist.phone) == ("RMT", "CMTO-4411", "555-0142")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "update"))
    assert event.entity_type == "user" and event.details["changes"]["credentials"] == ["", "RMT"]
    assert soup_of(therapist_client.get("/account")).select_one("#credentials")["value"] == "RMT"


def test_profile_errors_show_beside_the_field_and_keep_the_input(therapist_client, therapist, db):
    response = submit(
        therapist_client,
        "/account",
        {"name": "", "credentials": "RMT", "registration_number": "x" * 61, "phone": "555"},
        action="/account/profile",
    )
    soup = soup_of(response)
    assert response.status_code == 400
    assert soup.select_one("#name-error") and soup.select_one("#registration_number-error")
    assert soup.select_one("#credentials")["value"] == "RMT" and soup.select_one("#phone")["value"] == "555"
    db.session.refresh(therapist)
    assert therapist.name == "Maya Test" and therapist.credentials == ""


def test_profile_post_without_csrf_is_refused(therapist_client, therapist, db):
    response = therapist_client.post("/account/profile", data={"name": "Mallory"})
    assert response.status_code == 400
    db.session.refresh(therapist)
    assert therapist.name == "Maya Test"


def test_change_password_keeps_this_device_and_logs_out_others(client, app, therapist, db):
    other_device = app.test_client()
    login_fast(other_device, therapist)
    login_via_form(client, therapist.email, PASSWORD)
    response = submit(
        client,
        "/account",
        {"current": PASSWORD, "password": "a-brand-new-secret", "confirm": "a-brand-new-secret"},
        action="/account/password",
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200, "still logged in here"
    assert other_device.get("/account").status_code in (302, 401), "logged out elsewhere"
    db.session.refresh(therapist)
    assert therapist.check_password("a-brand-new-secret")
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "update", AuditEvent.entity_type == "user")
    )
    assert event.details == {"changes": {"password": "changed"}}


def test_change_password_refuses_a_wrong_current_password_beside_the_field(therapist_client, therapist, db):
    response = submit(
        therapist_client,
        "/account",
        {"current": "not-my-password", "password": "a-brand-new-secret", "confirm": "different-secret"},
        action="/account/password",
    )
    soup = soup_of(response)
    assert response.status_code == 400
    assert soup.select_one("#current-error").get_text(strip=True) == "This is not your current password."
    assert soup.select_one("#confirm-error").get_text(strip=True) == "The passwords differ."
    db.session.refresh(therapist)
    assert therapist.check_password(PASSWORD)


def test_owner_edits_the_clinic_details(admin_client, db):
    response = submit(
        admin_client,
        "/admin/clinic",
        {"name": "Riverside Myotherapy", "address": "12 Mill Lane\nLeeds LS1 4AB", "phone": "0113 555 0100"},
    )
    assert response.status_code == 302
    settings = db.session.get(ClinicSettings, 1)
    assert (settings.name, settings.phone) == ("Riverside Myotherapy", "0113 555 0100")
    assert (
        soup_of(admin_client.get("/admin/clinic")).select_one("#address").get_text().strip()
        == "12 Mill Lane\nLeeds LS1 4AB"
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "clinic"))
    assert event.details["changes"]["name"] == ["", "Riverside Myotherapy"]


def test_clinic_details_need_a_name_and_are_the_owners(admin_client, client, therapist, db):
    response = submit(admin_client, "/admin/clinic", {"name": "", "address": "Kept address", "phone": ""})
    soup = soup_of(response)
    assert soup.select_one("#name-error") and soup.select_one("#address").get_text().strip() == "Kept address"
    assert db.session.get(ClinicSettings, 1) is None
    login_fast(client, therapist)
    assert client.get("/admin/clinic").status_code == 404


def test_owner_edits_a_therapists_profile(admin_client, therapist, db):
    response = submit(
        admin_client,
        f"/admin/users/{therapist.id}/profile",
        {"name": "Maya Test", "credentials": "LMT", "registration_number": "", "phone": ""},
    )
    assert response.status_code == 302
    db.session.refresh(therapist)
    assert therapist.credentials == "LMT"
    assert admin_client.get("/admin/users/9999/profile").status_code == 404


def test_account_page_makes_and_revokes_the_calendar_feed(therapist_client, therapist, db):
    page = BeautifulSoup(text(therapist_client.get("/account")), "html.parser")
    feed = page.select_one("[data-calendar-feed]")
    assert feed.select_one("[data-feed-state]")["data-feed-state"] == "none"
    [make] = [form for form in feed.select("form") if form.select_one('input[name="action"]')["value"] == "make"]
    token = make.select_one('input[name="csrf_token"]')["value"]
    made = BeautifulSoup(
        text(
            therapist_client.post(make["action"], data={"csrf_token": token, "action": "make"}, follow_redirects=True)
        ),
        "html.parser",
    )
    address = made.select_one("[data-feed-url]")["value"]
    assert therapist_client.get(urlsplit(address).path).status_code == 200
    page = BeautifulSoup(text(therapist_client.get("/account")), "html.parser")
    assert page.select_one("[data-calendar-feed] [data-feed-state]")["data-feed-state"] == "active"
    db.session.refresh(therapist)
    assert therapist.calendar_token_hash is not None


# --- a password someone else chose must be changed; no common passwords ---------------------------------------


def test_an_account_the_owner_made_must_change_its_password_and_reaches_nothing_else(admin_client, app, db):
    new_user = {"name": "Nora New", "email": "nora@clinic.example", "role": "therapist"}
    response = submit(
        admin_client, "/admin/users/new", {**new_user, "password": "owner-chose-this", "confirm": "owner-chose-this"}
    )
    assert response.status_code == 302
    nora = db.session.scalar(sa.select(User).where(User.email == "nora@clinic.example"))
    assert nora.must_change_password
    browser = app.test_client()
    response = login_via_form(browser, "nora@clinic.example", "owner-chose-this")
    assert browser.get(response.headers["Location"]).headers["Location"] == "/account/password"
    for page in ("/", "/clients/", "/account", "/account/two-factor/setup", "/admin/users"):
        answer = browser.get(page)
        assert answer.status_code == 302 and answer.headers["Location"] == "/account/password", page
    page = browser.get("/account/password")
    assert page.status_code == 200 and "set by someone else" in text(page)
    # A refused change keeps the person on the page, with the reason beside the field.
    response = submit(
        browser,
        "/account/password",
        {"current": "owner-chose-this", "password": "qwertyuiop", "confirm": "qwertyuiop"},
    )
    assert response.status_code == 400
    assert soup_of(response).select_one("#password-error").get_text(strip=True).startswith("This password is on a list")
    response = submit(
        browser,
        "/account/password",
        {"current": "owner-chose-this", "password": "only-nora-knows", "confirm": "only-nora-knows"},
    )
    assert response.status_code == 302
    assert browser.get("/clients/").status_code == 200
    db.session.refresh(nora)
    assert not nora.must_change_password and nora.check_password("only-nora-knows")


def test_a_reset_by_the_owner_forces_a_change(admin_client, therapist, db):
    """(The owner's own password is changed at /account, which asks the current one: see test_admin.)"""
    page = f"/admin/users/{therapist.id}/password"
    assert submit(admin_client, page, {"password": "reset-by-owner", "confirm": "reset-by-owner"}).status_code == 302
    db.session.rollback()
    assert db.session.get(User, therapist.id).must_change_password


def test_a_reset_ends_the_persons_session_records(admin_client, app, therapist, db):
    browser = app.test_client()
    login_fast(browser, therapist)
    page = f"/admin/users/{therapist.id}/password"
    submit(admin_client, page, {"password": "reset-by-owner", "confirm": "reset-by-owner"})
    db.session.rollback()
    assert all(
        record.ended_at is not None
        for record in db.session.scalars(sa.select(LoginSession)).all()
        if record.user_id == therapist.id
    )
    assert browser.get("/clients/").status_code == 302


@pytest.mark.parametrize("common", ["1234567890", "QwertyUiop", "password123", " iloveyou123 "])
def test_common_passwords_are_refused_on_every_password_form(admin_client, admin, therapist, db, common):
    mine = submit(
        admin_client,
        "/account",
        {"current": PASSWORD, "password": common, "confirm": common},
        action="/account/password",
    )
    new_account = submit(
        admin_client,
        "/admin/users/new",
        {"name": "X", "email": "x@clinic.example", "role": "therapist", "password": common, "confirm": common},
    )
    reset = submit(admin_client, f"/admin/users/{therapist.id}/password", {"password": common, "confirm": common})
    for response in (mine, new_account, reset):
        assert response.status_code in (200, 400)
        assert soup_of(response).select_one("#password-error").get_text(strip=True) == (
            "This password is on a list of commonly used passwords; choose another."
        )
    db.session.rollback()
    assert db.session.get(User, admin.id).check_password(PASSWORD)
    assert db.session.get(User, therapist.id).check_password(PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_the_password_rule_is_one_function():
    from clinic.passwords import common_passwords, password_problem

    assert len(common_passwords()) > 19_000
    assert password_problem("short") == "The password needs at least 10 characters."
    assert password_problem("x" * 201) == "The password may have at most 200 characters."
    assert password_problem("Password123") is not None
    assert password_problem("tender-knot-at-the-scapula") is None
