"""Two-factor login in a real browser: enrol from /account by reading the key the page shows (as a person
would type it into an app), keep the recovery codes, log out, log in with password and code. On a phone
(390x844) and a laptop (1280x800), with screenshots of the QR page and the code step."""

from datetime import timedelta

import pyotp
import pytest

from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.models import Role
from tests.e2e.conftest import open_page, screenshot
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_enrol_and_log_in_with_a_code(browser, live_app, live_server, size):
    email = f"two-factor-{size}@clinic.example"
    with live_app.app_context():
        make_user(Role.THERAPIST, name=f"Tess {size.title()}", email=email)
        db.session.remove()
    options = {"viewport": VIEWPORTS[size]}
    if size == "phone":
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    with open_page(browser, **options) as page:
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server}/")

        page.goto(f"{live_server}/account")
        page.get_by_role("link", name="Set up two-factor login").click()
        page.wait_for_url(f"{live_server}/account/two-factor/setup")
        qr = page.locator(".qr img")
        qr.wait_for()
        box = qr.bounding_box()
        assert box["width"] >= 200 and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[size]["width"]
        assert page.evaluate("document.querySelector('.qr img').naturalWidth") > 0, "the QR image loaded under CSP"
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        screenshot(page, f"two-factor-setup-{size}")
        page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on two-factor login").click()
        codes = page.locator("#recovery-codes li")
        codes.first.wait_for()
        assert codes.count() == 10
        screenshot(page, f"two-factor-codes-{size}")
        page.get_by_role("link", name="I have kept them").click()
        assert "On" in page.locator("#two-factor").inner_text()
        screenshot(page, f"account-{size}")

        page.get_by_role("button", name="Log out").first.click()
        page.wait_for_url(f"{live_server}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server}/login/code")
        screenshot(page, f"two-factor-code-step-{size}")
        next_code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
        page.get_by_label("Code").fill(next_code)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(f"{live_server}/")
        assert page.locator("h1").first.inner_text() == "Today"
        assert page.console_errors == []
