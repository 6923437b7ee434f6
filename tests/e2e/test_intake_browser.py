"""A client fills the intake form on a phone (390 x 844, touch) by tapping; the therapist's pages at laptop and
tablet widths."""

import pytest
import sqlalchemy as sa

from clinic.extensions import db
from clinic.models import Intake, User
from tests.e2e.conftest import log_in, open_page, printed, screenshot
from tests.factories import PASSWORD, make_client, make_intake_link, make_session

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    with open_page(browser, viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2) as page:
        yield page


@pytest.fixture
def link(live_app):
    with live_app.app_context():
        therapist = db.session.scalar(sa.select(User).where(User.email == "maya@clinic.example"))
        client = make_client(therapist, full_name="Tamsin Phoneworth", medications="Sertraline")
        make_session(client, points=[{"trigger_point_id": "upper-trapezius/1", "referral_reproduced": True}])
        _, token = make_intake_link(client)
        client_id = client.id
        db.session.remove()
    return client_id, token


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def tap_region(phone, view: str, region: str) -> None:
    """On a touch screen the first tap zooms the figure in on that spot; the second chooses the area."""
    figure = phone.locator("[data-intake-figure]")
    zoom_out = figure.locator("[data-zoom-out]")
    if zoom_out.count() and zoom_out.is_visible():
        zoom_out.tap()
    target = figure.locator(f'svg[data-view="{view}"] .region[data-region="{region}"] path').first
    target.tap()
    figure.locator(f'svg[data-view="{view}"].is-zoomed').wait_for()
    target.tap()


def test_a_client_fills_the_form_on_a_phone_by_tapping(phone, live_server, live_app, link):
    client_id, token = link
    phone.goto(f"{live_server}/intake/{token}")
    assert phone.locator("h1").inner_text() == "Before your visit, Tamsin"
    assert no_sideways_scroll(phone)
    screenshot(phone, "intake-phone-empty")

    # where it hurts: tap the temple on the front figure, then its side and intensity
    tap_region(phone, "front", "temple")
    row = phone.locator('[data-region-row="temple"]')
    assert row.is_visible()
    row.locator("label.pill", has_text="Right").tap()
    row.locator("select").select_option("6")
    # a second region from the back view
    tap_region(phone, "back", "back-of-neck")
    neck = phone.locator('[data-region-row="back-of-neck"]')
    neck.locator("label.pill", has_text="Both").tap()
    neck.locator("select").select_option("4")
    assert phone.locator('[data-region-row="heel"]').is_hidden()  # only the chosen areas are listed

    for name, value in (("pain_now", 6), ("pain_usual", 5), ("pain_worst", 8), ("stress", 7)):
        option = phone.locator(f'label.scale-option:has(input[name="{name}"][value="{value}"])')
        box = option.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, (name, box)
        option.tap()
    phone.get_by_label("Activity").first.fill("Turn my head when reversing")
    phone.locator('label.scale-option:has(input[name="psfs-0-score"][value="3"])').tap()
    phone.get_by_label("Changes to your medications").fill("Started ibuprofen")
    phone.get_by_label("Type your full name to consent").fill("Tamsin Phoneworth")
    assert no_sideways_scroll(phone)
    screenshot(phone, "intake-phone-filled")
    phone.get_by_role("button", name="Send to my therapist").tap()
    phone.wait_for_selector("text=Thank you, Tamsin")
    screenshot(phone, "intake-phone-thanks")
    assert phone.console_errors == [], phone.console_errors

    with live_app.app_context():
        intake = db.session.scalar(sa.select(Intake).where(Intake.client_id == client_id))
        assert intake.regions == [
            {"region": "temple", "side": "right", "intensity": 6},
            {"region": "back-of-neck", "side": "both", "intensity": 4},
        ]
        assert (intake.pain_now, intake.pain_usual, intake.pain_worst, intake.stress) == (6, 5, 8, 7)
        assert intake.psfs == [{"activity": "Turn my head when reversing", "score": 3}]
        db.session.remove()


def test_the_form_shows_errors_on_a_phone_and_keeps_what_was_typed(phone, live_server, link):
    _, token = link
    phone.goto(f"{live_server}/intake/{token}")
    tap_region(phone, "front", "temple")
    phone.get_by_label("Type your full name to consent").fill("Tamsin Phoneworth")
    phone.get_by_role("button", name="Send to my therapist").tap()
    phone.wait_for_selector(".alert-error")
    assert phone.locator("#region-temple-error").is_visible()
    assert phone.locator("#pain_now-error").inner_text() == "Choose a number from 0 to 10."
    assert phone.get_by_label("Type your full name to consent").input_value() == "Tamsin Phoneworth"
    assert no_sideways_scroll(phone)
    screenshot(phone, "intake-phone-errors")


def test_the_therapist_makes_a_link_and_reads_the_intake(browser, live_server, link):
    client_id, token = link
    for name, viewport, touch in (
        ("laptop", {"width": 1280, "height": 800}, False),
        ("tablet", {"width": 1024, "height": 768}, True),
    ):
        context = browser.new_context(viewport=viewport, has_touch=touch)
        page = context.new_page()
        log_in(page, live_server, "maya@clinic.example", PASSWORD)
        page.goto(f"{live_server}/clients/{client_id}")
        screenshot(page, f"intake-client-page-{name}")
        page.get_by_role("button", name="Make an intake link").click()
        page.wait_for_selector("img[data-qr]")
        assert "/intake/" in page.locator("#intake-url").input_value()
        assert page.locator("img[data-qr]").evaluate("img => img.naturalWidth > 0")
        screenshot(page, f"intake-link-{name}")
        context.close()


def test_the_summary_with_outcomes_still_prints_on_two_pages_at_most(page, live_server, live_app):
    import shutil
    from datetime import UTC, datetime, timedelta

    from tests.e2e.test_reports_browser import POINTS
    from tests.factories import make_intake

    assert shutil.which("pdftotext"), "poppler-utils is needed (apt-get install poppler-utils)"
    with live_app.app_context():
        therapist = db.session.scalar(sa.select(User).where(User.email == "maya@clinic.example"))
        client = make_client(
            therapist,
            full_name="Olwen Outcome",
            physician_name="Dr. Adeyemi",
            health_history="Neck pain and headaches since a rear-end collision.",
        )
        start = datetime(2026, 6, 1, 9, tzinfo=UTC)
        for week in range(12):
            make_intake(
                client,
                submitted_at=start + timedelta(weeks=week, hours=-20),
                pain_now=max(2, 8 - week // 2),
                psfs=[
                    {"activity": "Reverse the car", "score": min(10, 2 + week // 2)},
                    {"activity": "Read", "score": 4},
                ],
            )
            make_session(
                client,
                started_at=start + timedelta(weeks=week),
                pain_before=max(2, 8 - week // 2),
                pain_after=max(1, 6 - week // 2),
                pain_regions=["temple", "side-of-neck", "occiput"],
                points=[
                    {
                        "trigger_point_id": point,
                        "side": "both",
                        "pain": max(1, 8 - week),
                        "referral_reproduced": week < 5,
                    }
                    for point in POINTS[:4]
                ],
            )
        client_id = client.id
        db.session.remove()
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_id}/summary")
    page.wait_for_selector("body[data-charts-ready]")
    for paper, pages, words, _ in printed(page, "summary-outcomes"):
        assert 1 <= pages <= 2, paper
        for expected in [
            "OUTCOMES OVER TIME",  # headings print in capitals
            "(≥ MDC)",
            "Upper trapezius: compression pain 8 → 1 over 12 sessions, referral no longer reproduced since",
            "resolved",
            "Stratford",
            "not a diagnosis",
        ]:
            assert expected in words, (paper, expected)
