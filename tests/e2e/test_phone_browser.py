"""At 390 px (a phone), every page fits the screen: no sideways scrolling, a compact header, the session
form's date and time both visible."""

from datetime import UTC, datetime, timedelta

import pytest

from clinic.extensions import db
from clinic.models import User
from tests.e2e.conftest import log_in, result_file, screenshot
from tests.factories import PASSWORD, make_client, make_session

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
LONGEST_HEADER = 100  # px: the header was about 160 px tall


@pytest.fixture
def phone_record(live_app):
    with live_app.app_context():
        therapist = db.session.scalar(db.select(User).where(User.email == "maya@clinic.example"))
        client = make_client(
            therapist,
            full_name="Philippa Featherstonehaugh-Montgomery",
            email="philippa.featherstonehaugh-montgomery@longdomain-example.com",
            physician_name="Dr. Bartholomew Ravensworth-Pemberton",
            contraindications="Anticoagulants (warfarin): light pressure only, no sustained compression.",
        )
        start = datetime(2026, 5, 4, 9, tzinfo=UTC)
        points = ["upper-trapezius/1", "levator-scapulae/1", "sternocleidomastoid/1", "infraspinatus/1"]
        session_ids = [
            make_session(
                client,
                started_at=start + timedelta(weeks=week),
                pain_before=8 - week,
                pain_after=4,
                pain_regions=["temple", "side-of-neck", "back-of-shoulder"],
                objective="Taut bands in the upper trapezius and levator scapulae, both sides.",
                points=[{"trigger_point_id": tp, "side": "both", "note": "Referred to the temple"} for tp in points],
            ).id
            for week in range(4)
        ]
        ids = client.id, session_ids[-1]
        db.session.remove()
    return ids


def phone_page(browser, base: str, email: str, password: str):
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    log_in(page, base, email, password)
    return context, page


def sideways(page) -> list[str]:
    """Elements that reach past the right edge of the screen (nothing may: the page would scroll sideways)."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const out = [];
            if (document.documentElement.scrollWidth > width) out.push('page ' + document.documentElement.scrollWidth);
            for (const el of document.querySelectorAll('body *')) {
                const box = el.getBoundingClientRect();
                if (box.width && box.right > width + 1 && !el.closest('.main-nav')) out.push(el.tagName + '.' + el.className);
            }
            return out.slice(0, 5);
        }"""
    )


def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, phone_record):
    client_id, session_id = phone_record
    therapist_pages = [
        "/clients/",
        "/clients/?q=Philippa",
        f"/clients/{client_id}",
        f"/clients/{client_id}/edit",
        f"/clients/{client_id}/sharing",
        f"/clients/{client_id}/sessions/{session_id}",
        f"/clients/{client_id}/sessions/{session_id}/edit",
        f"/clients/{client_id}/sessions/new",
        f"/clients/{client_id}/summary",
        "/clients/new",
        "/account",
        "/",
        "/appointments/",
        "/appointments/?view=week",
        f"/appointments/new?client={client_id}",
        "/appointments/calendar-feed",
        "/knowledge/",
        "/knowledge/upper-trapezius",
        "/symptom-checker",
    ]
    owner_pages = ["/admin/users", "/admin/audit", "/admin/clinic", "/admin/users/new"]
    for email, password, pages in (
        ("maya@clinic.example", PASSWORD, therapist_pages),
        ("ada@clinic.example", PASSWORD, owner_pages),
    ):
        context, page = phone_page(browser, live_server, email, password)
        try:
            for path in pages:
                page.goto(f"{live_server}{path}")
                page.wait_for_load_state("networkidle")
                assert sideways(page) == [], path
                header = page.locator(".site-header")
                if header.count():
                    assert header.bounding_box()["height"] <= LONGEST_HEADER, path
            screenshot(page, "phone-last-page")
        finally:
            context.close()


def test_the_session_form_shows_date_and_time_on_a_phone(browser, live_server, phone_record):
    client_id, _ = phone_record
    context, page = phone_page(browser, live_server, "maya@clinic.example", PASSWORD)
    try:
        page.goto(f"{live_server}/clients/{client_id}/sessions/new")
        field = page.locator("#started_at")
        box = field.bounding_box()
        assert box["width"] >= 0.8 * page.locator(".form-section").first.bounding_box()["width"]
        # What the field holds fits inside it: the time is not cut off.
        assert field.evaluate("el => el.scrollWidth <= el.clientWidth")
        assert field.input_value()[11:16], "a time is filled in"
        screenshot(page, "phone-session-form")
        page.goto(f"{live_server}/clients/{client_id}/summary")
        page.wait_for_selector("body[data-charts-ready]")
        screenshot(page, "phone-summary")
        chart = page.locator("[data-chart=pain]")
        chart.screenshot(path=str(result_file("phone-summary-chart.png")))
        # Three dated ticks fit a phone's width, upright and whole.
        ticks = chart.locator(".xtick text")
        assert 2 <= ticks.count() <= 4
        for i in range(ticks.count()):
            tick = ticks.nth(i)
            assert "rotate" not in (tick.get_attribute("transform") or ""), tick.text_content()
    finally:
        context.close()
