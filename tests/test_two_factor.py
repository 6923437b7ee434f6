"""Two-factor login (TOTP): enrolment with a QR code and a real code, the code step at login (codes work once,
recovery codes once each, throttled like the password), turning it off, and the owner requiring it."""

from datetime import timedelta

import pyotp
import pytest
import segno
import sqlalchemy as sa

from clinic import db_types
from clinic.db_types import utcnow
from clinic.models import AuditEvent, ClinicSettings, LoginSession, RecoveryCode, User
from clinic.rules import LOGIN_FREE_FAILURES_PER_ACCOUNT, RECOVERY_CODES, TWO_FACTOR_STEP_MINUTES
from clinic.security import CONTENT_SECURITY_POLICY
from clinic.throttle import failures_of
from tests.factories import PASSWORD
from tests.helpers import (
    csrf_token,
    element,
    element_text,
    field_error,
    flashes,
    login_fast,
    login_via_form,
    parse,
    submit,
    text,
)

SETUP = "/account/two-factor/setup"


def secret_on(page) -> str:
    return element_text(page, "#totp-secret").replace(" ", "")


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or that many 30 s steps later: still accepted, one step)."""
    totp = pyotp.TOTP(secret)
    return totp.at(db_types.utcnow() + timedelta(seconds=30 * steps_ahead))


def enrol(client) -> tuple[str, list[str]]:
    """Set up two-factor login through the pages, with a code computed from the key shown: (secret, codes)."""
    secret = secret_on(client.get(SETUP))
    response = submit(client, SETUP, {"code": code_for(secret)})
    assert response.status_code == 200, text(response)
    codes = [element_text(item, "code") for item in parse(response).select("#recovery-codes li")]
    return secret, codes


def prefixed_token(client, prefix: str) -> dict:
    """The CSRF field of a form with a prefix (two forms on /account both ask for the current password)."""
    return {f"{prefix}-csrf_token": csrf_token(client, "/account")}


def committed(db, user: User) -> User:
    db.session.rollback()
    return db.session.get(User, user.id)


def actions_with_details(db) -> list[tuple[str, dict]]:
    return [(e.action, e.details) for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


@pytest.fixture
def enrolled(app, therapist, db):
    """The therapist with two-factor login on (enrolled through the pages), logged out: (secret, codes)."""
    browser = app.test_client()
    login_fast(browser, therapist)
    return enrol(browser)


# --- enrolment ------------------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_the_policy_allows_and_the_key_as_text(therapist_client, therapist):
    response = therapist_client.get(SETUP)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    image = element(response, ".qr img")
    assert image["src"].startswith("data:image/svg+xml"), "an image, not inline script or style"
    assert "img-src 'self' data:" in CONTENT_SECURITY_POLICY
    secret = secret_on(response)
    assert len(secret) == 32 and pyotp.TOTP(secret).now().isdigit()
    # The same key until confirmed, so a reload does not invalidate what the app already scanned.
    assert secret_on(therapist_client.get(SETUP)) == secret


def test_the_enrolment_qr_code_is_made_once_per_secret(therapist_client, monkeypatch):
    """Shown again with the same secret (a reload, a mistyped code), the page reuses the code it made."""
    made = []
    real_make = segno.make
    monkeypatch.setattr(segno, "make", lambda *args, **kwargs: made.append(args) or real_make(*args, **kwargs))
    first = element(therapist_client.get(SETUP), ".qr img")["src"]
    assert element(therapist_client.get(SETUP), ".qr img")["src"] == first
    assert len(made) == 1


def test_no_secret_stays_in_the_qr_cache_once_it_is_a_live_second_factor(therapist_client):
    from clinic.two_factor import qr_data_uri

    enrol(therapist_client)
    assert qr_data_uri.cache_info().currsize == 0, "the cache's keys are otpauth addresses holding the secret"


def test_enrolment_with_a_real_code_turns_it_on_and_shows_codes_once(therapist_client, therapist, db):
    secret, codes = enrol(therapist_client)
    user = committed(db, therapist)
    assert user.two_factor_enabled and user.totp_secret == secret
    assert len(codes) == RECOVERY_CODES and len(set(codes)) == RECOVERY_CODES
    stored = db.session.scalars(sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == RECOVERY_CODES
    kept = {row.code_hash for row in stored} | {row.salt for row in stored}
    assert not any(code.replace("-", "") in value for code in codes for value in kept), "only hashes are kept"
    assert ("update", {"changes": {"two_factor": ["off", "on"]}}) in actions_with_details(db)
    # Shown once: the account page says how many are left, never the codes.
    page = therapist_client.get("/account")
    assert element_text(page, "#recovery-codes-left") == f"{RECOVERY_CODES} unused recovery codes."
    assert not any(code in text(page) for code in codes)


def test_enrolment_refuses_a_wrong_code_beside_the_field(therapist_client, therapist, db):
    secret = secret_on(therapist_client.get(SETUP))
    wrong = f"{(int(code_for(secret)) + 1) % 1_000_000:06d}"
    response = submit(therapist_client, SETUP, {"code": wrong})
    assert response.status_code == 400
    assert "not the code the app shows now" in field_error(response, "code")
    assert not committed(db, therapist).two_factor_enabled
    assert secret_on(response) == secret


def test_enrolment_needs_csrf(therapist_client, therapist, db):
    secret = secret_on(therapist_client.get(SETUP))
    response = therapist_client.post(SETUP, data={"code": code_for(secret)})
    assert response.status_code == 400
    assert not committed(db, therapist).two_factor_enabled


# --- logging in -----------------------------------------------------------------------------------------------


def test_login_asks_for_a_code_and_the_half_login_reaches_nothing(client, therapist, enrolled, db):
    secret, _codes = enrolled
    response = login_via_form(client, therapist.email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    for page in ("/", "/clients/", "/account", "/admin/users", "/auth/logged-back-in"):
        answer = client.get(page)
        assert answer.status_code in (302, 404) and "/login" in answer.headers.get("Location", "/login"), page
    assert client.get("/auth/form-token").status_code == 401
    assert client.get("/login/code").status_code == 200
    response = submit(client, "/login/code", {"code": code_for(secret, 1)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/clients/").status_code == 200
    logins = [details for action, details in actions_with_details(db) if action == "login"]
    assert logins == [{"second_factor": "code"}]


def test_a_fresh_session_after_the_second_step(client, therapist, enrolled):
    secret, _codes = enrolled
    login_via_form(client, therapist.email, PASSWORD)
    with client.session_transaction() as session:
        session["planted"] = "between the steps"
        assert "_user_id" not in session
    submit(client, "/login/code", {"code": code_for(secret, 1)})
    with client.session_transaction() as session:
        assert "planted" not in session and "pending_login" not in session
        assert session["_user_id"].startswith(f"{therapist.id}:") and session.permanent


def test_login_keeps_next_through_the_code_step(client, therapist, enrolled):
    secret, _codes = enrolled
    submit(client, "/login", {"email": therapist.email, "password": PASSWORD}, action="/login?next=/clients/")
    response = submit(client, "/login/code", {"code": code_for(secret, 1)})
    assert response.headers["Location"] == "/clients/"


def test_a_wrong_code_is_refused_counted_and_audited(client, therapist, enrolled, db):
    secret, _codes = enrolled
    login_via_form(client, therapist.email, PASSWORD)
    wrong = f"{(int(code_for(secret, 1)) + 1) % 1_000_000:06d}"
    response = submit(client, "/login/code", {"code": wrong})
    assert response.status_code == 401
    assert flashes(response)[0].startswith("That code is not right")
    assert client.get("/clients/").status_code == 302
    assert failures_of(therapist.email) == 1
    event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert (event.action, event.details) == ("failed_login", {"reason": "bad code"})


def test_a_code_works_only_once(app, therapist, enrolled, db):
    secret, _codes = enrolled
    first = app.test_client()
    login_via_form(first, therapist.email, PASSWORD)
    # The code that confirmed the enrolment was used already.
    confirming = pyotp.TOTP(secret).generate_otp(committed(db, therapist).totp_last_counter)
    assert submit(first, "/login/code", {"code": confirming}).status_code == 401
    code = code_for(secret, 1)
    assert submit(first, "/login/code", {"code": code}).status_code == 302
    second = app.test_client()
    login_via_form(second, therapist.email, PASSWORD)
    response = submit(second, "/login/code", {"code": code})
    assert response.status_code == 401, "the same code, in the same 30 s window, does not work twice"
    assert second.get("/clients/").status_code == 302


def test_a_recovery_code_works_once(app, therapist, enrolled, db):
    _secret, codes = enrolled
    browser = app.test_client()
    login_via_form(browser, therapist.email, PASSWORD)
    response = submit(browser, "/login/code", {"code": codes[3].upper().replace("-", " ")})
    assert response.status_code == 302 and browser.get("/clients/").status_code == 200
    assert ("update", {"changes": {"recovery_code": "used"}, "recovery_codes_left": RECOVERY_CODES - 1}) in (
        actions_with_details(db)
    )
    assert [d for a, d in actions_with_details(db) if a == "login"] == [{"second_factor": "recovery code"}]
    again = app.test_client()
    login_via_form(again, therapist.email, PASSWORD)
    assert submit(again, "/login/code", {"code": codes[3]}).status_code == 401
    assert again.get("/clients/").status_code == 302
    assert submit(again, "/login/code", {"code": codes[4]}).status_code == 302


def test_the_code_step_is_throttled_without_checking_the_code(client, therapist, enrolled, monkeypatch, frozen_clock):
    secret, _codes = enrolled
    login_via_form(client, therapist.email, PASSWORD)
    for n in range(LOGIN_FREE_FAILURES_PER_ACCOUNT):
        assert submit(client, "/login/code", {"code": f"00000{n}"}).status_code == 401
    from clinic import two_factor

    checked = []
    monkeypatch.setattr(two_factor, "check_code", lambda user, code: checked.append(code) or True)
    response = submit(client, "/login/code", {"code": code_for(secret, 1)})
    assert response.status_code == 429 and "Try again in 1 s" in text(response)
    assert checked == [] and client.get("/clients/").status_code == 302


def test_the_step_between_password_and_code_expires(client, therapist, enrolled):
    secret, _codes = enrolled
    login_via_form(client, therapist.email, PASSWORD)
    with client.session_transaction() as session:
        pending = session["pending_login"]
        pending["since"] = (utcnow() - timedelta(minutes=TWO_FACTOR_STEP_MINUTES, seconds=1)).isoformat()
        session["pending_login"] = pending
    response = submit(client, "/login", {}, action="/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/clients/").status_code == 302


def test_the_code_page_without_a_password_step_goes_to_login(client):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


# --- turning it off, new codes --------------------------------------------------------------------------------


def test_turning_it_off_asks_the_password_and_is_audited(therapist_client, therapist, db):
    enrol(therapist_client)
    response = submit(
        therapist_client,
        "/account",
        {"disable-current": "not-my-password", **prefixed_token(therapist_client, "disable")},
        action="/account/two-factor/disable",
    )
    assert response.status_code == 400
    assert field_error(response, "disable-current") == "This is not your current password."
    assert committed(db, therapist).two_factor_enabled
    response = submit(
        therapist_client,
        "/account",
        {"disable-current": PASSWORD, **prefixed_token(therapist_client, "disable")},
        action="/account/two-factor/disable",
    )
    assert response.status_code == 302
    user = committed(db, therapist)
    assert not user.two_factor_enabled and user.totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert ("update", {"changes": {"two_factor": ["on", "off"]}}) in actions_with_details(db)


def test_new_recovery_codes_replace_the_old_ones(app, therapist_client, therapist, db):
    _secret, old = enrol(therapist_client)
    response = submit(
        therapist_client,
        "/account",
        {"codes-current": PASSWORD, **prefixed_token(therapist_client, "codes")},
        action="/account/two-factor/recovery-codes",
    )
    new = [element_text(item, "code") for item in parse(response).select("#recovery-codes li")]
    assert len(new) == RECOVERY_CODES and not set(new) & set(old)
    browser = app.test_client()
    login_via_form(browser, therapist.email, PASSWORD)
    assert submit(browser, "/login/code", {"code": old[0]}).status_code == 401
    assert submit(browser, "/login/code", {"code": new[0]}).status_code == 302


# --- required by the owner ------------------------------------------------------------------------------------


def test_owner_requires_two_factor_and_a_person_without_it_reaches_only_the_setup(admin_client, app, therapist, db):
    response = submit(admin_client, "/admin/clinic", {"require_two_factor": "y"}, action="/admin/clinic/two-factor")
    assert response.status_code == 302
    assert db.session.get(ClinicSettings, 1).require_two_factor
    assert ("update", {"changes": {"require_two_factor": [False, True]}}) in actions_with_details(db)
    browser = app.test_client()
    response = login_via_form(browser, therapist.email, PASSWORD)
    assert browser.get(response.headers["Location"]).headers["Location"] == SETUP
    for page in ("/", "/clients/", "/account", "/account/password"):
        answer = browser.get(page)
        assert answer.status_code == 302 and answer.headers["Location"] == SETUP, page
    assert "Your clinic requires two-factor login" in text(browser.get(SETUP))
    enrol(browser)
    assert browser.get("/clients/").status_code == 200


def test_the_requirement_applies_to_a_person_already_logged_in_on_their_next_page(therapist_client, db):
    """The setting is read afresh with every request's login check, never kept from an earlier request."""
    assert therapist_client.get("/clients/").status_code == 200
    settings = db.session.get(ClinicSettings, 1) or ClinicSettings(id=1, name="", address="", phone="")
    settings.require_two_factor = True
    db.session.add(settings)
    db.session.commit()
    answer = therapist_client.get("/clients/")
    assert answer.status_code == 302 and answer.headers["Location"] == SETUP


def test_only_the_owner_sets_the_requirement(therapist_client, db):
    response = submit(therapist_client, "/account", {"require_two_factor": "y"}, action="/admin/clinic/two-factor")
    assert response.status_code == 404
    assert db.session.get(ClinicSettings, 1) is None


def test_the_owner_page_shows_the_setting(admin_client):
    page = admin_client.get("/admin/clinic")
    assert element(page, "#two-factor-policy input#require_two_factor").get("checked") is None


def test_the_owner_reads_two_factor_and_session_events_in_the_audit_log(app, therapist, admin, enrolled, db):
    secret, codes = enrolled
    browser = app.test_client()
    login_via_form(browser, therapist.email, PASSWORD)
    submit(browser, "/login/code", {"code": codes[0]})
    owner = app.test_client()
    login_fast(owner, admin)
    page = owner.get("/admin/audit")
    assert page.status_code == 200
    shown = text(page)
    assert "Two factor" in shown and "Recovery code" in shown


def test_the_owner_turns_off_a_persons_two_factor_login_when_both_are_lost(admin_client, app, therapist, enrolled, db):
    elsewhere = app.test_client()  # a device still logged in: it is logged out by the reset
    login_fast(elsewhere, therapist)
    assert elsewhere.get("/clients/").status_code == 200
    page = admin_client.get(f"/admin/users/{therapist.id}/password")
    assert element(page, "#reset-two-factor form")["action"] == f"/admin/users/{therapist.id}/two-factor/reset"
    assert admin_client.post(f"/admin/users/{therapist.id}/two-factor/reset").status_code == 400, "CSRF"
    assert committed(db, therapist).two_factor_enabled
    response = submit(admin_client, "/admin/users", {}, action=f"/admin/users/{therapist.id}/two-factor/reset")
    assert response.status_code == 302
    assert not committed(db, therapist).two_factor_enabled
    assert elsewhere.get("/clients/").headers["Location"].startswith("/login")
    live = sa.select(sa.func.count()).select_from(LoginSession).where(LoginSession.ended_at.is_(None))
    assert db.session.scalar(live.where(LoginSession.user_id == therapist.id)) == 0
    browser = app.test_client()
    assert login_via_form(browser, therapist.email, PASSWORD).headers["Location"] == "/"


def test_flask_users_reset_two_factor(runner, therapist, enrolled, db):
    assert committed(db, therapist).two_factor_enabled  # (and the test's session sees what the pages stored)
    result = runner.invoke(args=["users", "reset-two-factor", "--email", therapist.email])
    assert result.exit_code == 0 and "is off" in result.stdout
    user = committed(db, therapist)
    assert not user.two_factor_enabled
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    again = runner.invoke(args=["users", "reset-two-factor", "--email", therapist.email])
    assert "nothing to do" in again.stdout
