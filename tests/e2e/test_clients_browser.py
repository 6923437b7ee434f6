"""A therapist logs in, adds a client, finds them in the list; every page is looked at on a laptop and a tablet."""

import pytest

from tests.e2e.conftest import LAPTOP, TABLET, log_in, screenshot
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def test_log_in_create_client_and_find_it(page, live_server):
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()  # login lands on today
    screenshot(page, "clients-empty")

    page.get_by_role("link", name="Add client").first.click()
    page.get_by_label("Full name").fill("Elena Browserova")
    page.get_by_label("Date of birth").fill("1979-08-15")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("Contraindications").fill("Recent whiplash: no neck traction.")
    page.get_by_role("button", name="Save client").click()

    # Validation keeps what was typed and says what to fix beside the field.
    assert page.locator("#email-error").inner_text() == "Invalid email address."
    assert page.get_by_label("Full name").input_value() == "Elena Browserova"
    assert page.get_by_label("Contraindications").input_value() == "Recent whiplash: no neck traction."
    screenshot(page, "client-form-errors")

    page.get_by_label("Email", exact=True).fill("elena@example.com")
    page.get_by_role("button", name="Save client").click()
    page.wait_for_selector("h1:has-text('Elena Browserova')")
    assert "Recent whiplash" in page.locator(".contraindications").inner_text()
    screenshot(page, "client-detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_label("Find a client").fill("browserova")
    page.get_by_label("Find a client").press("Enter")
    row = page.get_by_role("link", name="Elena Browserova")
    assert row.is_visible()
    screenshot(page, "clients-search")
    assert page.console_errors == [], page.console_errors


def test_pages_at_laptop_and_tablet_width_have_no_csp_errors(page, live_server):
    log_in(page, live_server, "ada@clinic.example", PASSWORD)
    pages = {
        "clients": "/clients/",
        "client-new": "/clients/new",
        "accounts": "/admin/users",
        "account-new": "/admin/users/new",
        "audit": "/admin/audit",
    }
    for viewport_name, viewport in (("laptop", LAPTOP), ("tablet", TABLET)):
        page.set_viewport_size(viewport)
        for name, path in pages.items():
            page.goto(live_server + path)
            assert page.locator("h1").is_visible()
            screenshot(page, f"{name}-{viewport_name}")
    assert page.console_errors == [], page.console_errors


def test_keyboard_focus_is_visible(page, live_server):
    page.goto(f"{live_server}/login")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.outerHTML")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focused and outline != "none"
