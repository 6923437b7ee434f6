"""A therapist books from a free slot, opens today's page and logs the session from the appointment; the book's
pages are looked at on a laptop, a tablet (touch) and a phone."""

import pytest

from clinic.extensions import db
from clinic.models import User
from tests.e2e.conftest import log_in, screenshot
from tests.factories import PASSWORD, make_client, make_session

pytestmark = pytest.mark.e2e

SIZES = {
    "laptop": {"viewport": {"width": 1280, "height": 800}},
    "tablet": {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "is_mobile": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture
def booked_client(live_app):
    with live_app.app_context():
        therapist = db.session.scalar(db.select(User).where(User.email == "maya@clinic.example"))
        record = make_client(
            therapist, full_name="Bruno Bookwell", contraindications="Anticoagulants: light pressure only."
        )
        make_session(record, plan="Weekly. Recheck the levator scapulae.")
        client_id = record.id
        db.session.remove()
    return client_id


def test_book_from_a_free_slot_then_log_the_session_from_today(page, live_server, booked_client):
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    assert page.locator("h1").inner_text() == "Today"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book").click()
    slot = page.locator("[data-slot$='T10:00']")
    when = slot.get_attribute("data-slot")
    slot.click()
    page.get_by_label("Client").select_option(str(booked_client))
    assert page.get_by_label("Date and time").input_value() == when
    page.get_by_label("Length (minutes)").fill("45")
    page.get_by_role("button", name="Book").click()
    row = page.locator("[data-appointment]").first
    assert row.locator(".visit-start").inner_text() == "10:00"
    assert "Bruno Bookwell" in row.inner_text()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    visit = page.locator("[data-appointment]").first
    assert "Anticoagulants: light pressure only." in visit.locator("[data-contraindications]").inner_text()
    assert "Recheck the levator scapulae" in visit.locator("[data-plan]").inner_text()
    screenshot(page, "today-booked")
    visit.get_by_role("link", name="Log session").click()

    assert page.get_by_label("Date and time").input_value() == when
    assert page.get_by_label("Length (minutes)").input_value() == "45"
    page.get_by_label("Pain before (0-10)").fill("6")
    page.get_by_label("Pain after (0-10)").fill("3")
    page.get_by_role("button", name="Save session").click()
    page.wait_for_selector("text=Session saved.")

    page.goto(f"{live_server}/")
    visit = page.locator("[data-appointment]").first
    assert visit.locator("[data-status-label]").inner_text() == "Completed"
    assert visit.get_by_role("link", name="Open session").is_visible()
    assert visit.get_by_role("link", name="Log session").count() == 0
    assert page.console_errors == [], page.console_errors


@pytest.mark.parametrize("size", SIZES)
def test_the_book_at_every_size(browser, live_server, booked_client, size):
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/appointments/new?client={booked_client}&start=2030-01-07T11:00")
    page.get_by_role("button", name="Book").click()
    page.goto(f"{live_server}/appointments/new?client={booked_client}&start=2030-01-07T11:30")
    page.get_by_role("button", name="Book").click()
    assert page.locator("[data-overlaps]").is_visible()  # the double-booking warning
    screenshot(page, f"book-{size}-overlap")
    for name, url in (
        ("today", "/"),
        ("day", "/appointments/?date=2030-01-07"),
        ("week", "/appointments/?date=2030-01-07&view=week"),
        ("feed", "/appointments/calendar-feed"),
        ("client", f"/clients/{booked_client}"),
    ):
        page.goto(f"{live_server}{url}")
        # Nothing wider than the screen.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (size, name, overflow)
        screenshot(page, f"book-{size}-{name}")
    # Every button and slot is big enough to tap.
    page.goto(f"{live_server}/appointments/?date=2030-01-07")
    small = page.evaluate(
        """[...document.querySelectorAll('main .slot, main .visit-actions .button, main .book-nav .button')]
           .map(e => e.getBoundingClientRect()).filter(r => r.height < 44 || r.width < 44).length"""
    )
    assert small == 0
    context.close()
