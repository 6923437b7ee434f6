"""The client page's Plotly charts in chromium: nothing offers to upload or link out, a swipe scrolls the page
on a touch screen, and a click or tap on a session's marker opens that session."""

from datetime import UTC, datetime, timedelta

import pytest

from clinic.extensions import db
from clinic.models import User
from tests.e2e.conftest import log_in, screenshot
from tests.factories import PASSWORD, make_client, make_session

pytestmark = pytest.mark.e2e

TABLET_LANDSCAPE = {"width": 1024, "height": 768}
ALLOWED_BUTTONS = {"Download plot as a PNG", "Zoom", "Pan", "Reset axes"}


@pytest.fixture
def charted(live_app):
    with live_app.app_context():
        therapist = db.session.scalar(db.select(User).where(User.email == "maya@clinic.example"))
        client = make_client(therapist, full_name="Carla Chartwell")
        start = datetime(2026, 5, 4, 9, tzinfo=UTC)
        ids = [
            make_session(client, started_at=start + timedelta(weeks=week), pain_before=8 - week, pain_after=4).id
            for week in range(4)
        ]
        client_id = client.id
        db.session.remove()
    return client_id, ids


def outside_requests(page, base: str) -> list[str]:
    """Every request the page makes to anywhere but the app."""
    seen: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(base) else seen.append(request.url))
    return seen


def marker_centre(page, chart: str, trace: int, index: int) -> tuple[float, float]:
    box = page.locator(f"[data-chart={chart}] .scatterlayer .trace").nth(trace).locator(".points path").nth(index)
    bounds = box.bounding_box()
    return bounds["x"] + bounds["width"] / 2, bounds["y"] + bounds["height"] / 2


def swipe_up(cdp, x: float, y: float, distance: int = 200) -> None:
    """A finger on the screen, moved up, lifted: as a person scrolls a page on a tablet."""
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y - distance * step / 10}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def settle(page) -> None:
    """Wait until the page stops moving (a fling keeps scrolling after the finger lifts)."""
    last = None
    for _ in range(40):
        now = page.evaluate("window.scrollY")
        if now == last:
            return
        last = now
        page.wait_for_timeout(100)


def pain_before_trace(page) -> int:
    names = page.evaluate("Array.from(document.querySelector('[data-chart=pain]').data, t => t.name)")
    return names.index("Pain before")


def test_no_control_uploads_shares_or_links_out(page, live_server, charted):
    client_id, _ = charted
    outside = outside_requests(page, live_server)
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_id}")
    page.wait_for_selector("body[data-charts-ready]")
    for chart in ("pain", "muscles", "counts", "pressure"):
        page.locator(f"[data-chart={chart}]").hover()
        buttons = page.locator(f"[data-chart={chart}] .modebar-btn")
        titles = {buttons.nth(i).get_attribute("data-title") for i in range(buttons.count())}
        assert titles and titles <= ALLOWED_BUTTONS, (chart, titles)
        assert page.locator(f"[data-chart={chart}] a[href]").count() == 0, "no logo or link to plotly.com"
    links = page.eval_on_selector_all("[data-chart] a", "els => els.map(e => e.href)")
    assert links == []
    assert page.locator(".plotly-cloud-dialog, .modebar-btn[data-title*='Cloud' i]").count() == 0
    screenshot(page, "charts-laptop")
    assert outside == [] and page.console_errors == []


def test_a_click_on_a_session_marker_opens_the_session(page, live_server, charted):
    client_id, ids = charted
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_id}")
    page.wait_for_selector("body[data-charts-ready]")
    x, y = marker_centre(page, "pain", pain_before_trace(page), 2)
    page.mouse.click(x, y)
    page.wait_for_url(f"{live_server}/clients/{client_id}/sessions/{ids[2]}")


def test_on_a_tablet_a_swipe_scrolls_the_page_and_a_tap_opens_a_session(browser, live_server, charted):
    client_id, ids = charted
    context = browser.new_context(viewport=TABLET_LANDSCAPE, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, live_server, "maya@clinic.example", PASSWORD)
        page.goto(f"{live_server}/clients/{client_id}")
        page.wait_for_selector("body[data-charts-ready]")
        assert page.locator(".modebar").count() == 0 or not page.locator(".modebar").first.is_visible()
        chart = page.locator("[data-chart=pain]")
        chart.scroll_into_view_if_needed()
        before_range = page.evaluate("document.querySelector('[data-chart=pain]').layout.xaxis.range.join()")
        scrolled = page.evaluate("window.scrollY")
        bounds = chart.bounding_box()
        swipe_up(context.new_cdp_session(page), bounds["x"] + bounds["width"] / 2, bounds["y"] + bounds["height"] / 2)
        page.wait_for_function(f"window.scrollY > {scrolled + 100}", timeout=3000)  # the swipe scrolled the page
        settle(page)
        after_range = page.evaluate("document.querySelector('[data-chart=pain]').layout.xaxis.range.join()")
        assert after_range == before_range, "the swipe did not zoom or pan the chart"
        screenshot(page, "charts-tablet")
        # The fling may have carried the chart off screen: bring it back before tapping a marker.
        page.evaluate("document.querySelector('[data-chart=pain]').scrollIntoView({block: 'center'})")
        settle(page)
        x, y = marker_centre(page, "pain", pain_before_trace(page), 1)
        page.touchscreen.tap(x, y)
        page.wait_for_url(f"{live_server}/clients/{client_id}/sessions/{ids[1]}")
    finally:
        context.close()
