"""A therapist logs a session with six points by clicking the figure, then finds it on the client page."""

import pytest

from clinic.extensions import db
from clinic.models import User
from tests.e2e.conftest import TABLET, form_ready, log_in, screenshot
from tests.factories import PASSWORD, make_client

pytestmark = pytest.mark.e2e

SIX_POINTS = [
    "upper-trapezius/1",
    "levator-scapulae/1",
    "infraspinatus/1",
    "masseter/1",
    "temporalis/1",
    "sternocleidomastoid/1",
]


@pytest.fixture
def client_record(live_app):
    with live_app.app_context():
        therapist = db.session.scalar(db.select(User).where(User.email == "maya@clinic.example"))
        record = make_client(
            therapist, full_name="Nora Sessionfield", contraindications="Recent whiplash: no neck traction."
        )
        client_id = record.id
        db.session.remove()
    return client_id


def test_log_a_session_with_six_points_by_clicking_the_figure(page, live_server, client_record):
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_record}")
    actions = 0

    page.get_by_role("link", name="Log session").click()
    form_ready(page)
    actions += 1
    assert "Recent whiplash" in page.locator(".contraindications").inner_text()
    page.get_by_label("Pain before (0-10)").fill("7")
    page.get_by_label("Pain after (0-10)").fill("3")
    for region in ("temple", "side-of-neck"):
        page.locator(f'svg[data-interactive][data-view="front"] .region[data-region="{region}"] path').first.click()
        actions += 1
    page.locator("[data-suggestions] .suggestion-name", has_text="Upper trapezius").wait_for()
    screenshot(page, "session-form-regions")

    for number, point in enumerate(SIX_POINTS):
        page.locator(f'svg[data-point-picker] .tp-dot[data-tp="{point}"]').click()
        actions += 1
        # The new row's pressure field has the focus: type the numbers.
        page.keyboard.type("120" if number == 2 else "60")
        page.keyboard.press("Tab")
        actions += 1
        page.keyboard.type("8" if number == 4 else "6")
        row = page.locator("[data-point-row]").nth(number)
        row.get_by_label("Release felt").check()
        actions += 1
        assert row.locator("select").input_value() == point
    rows = page.locator("[data-point-row]")
    assert rows.nth(2).locator("[data-pressure-warning]").is_visible()
    assert rows.nth(4).locator("[data-pain-warning]").is_visible()
    assert rows.nth(0).locator("[data-point-pattern] svg").count() == 2
    screenshot(page, "session-form-six-points")
    page.set_viewport_size(TABLET)
    screenshot(page, "session-form-tablet")

    page.get_by_role("button", name="Save session").click()
    actions += 1
    page.wait_for_selector("h1:has-text('Session of')")
    assert page.locator(".points-table tbody tr").count() == 6
    screenshot(page, "session-detail")

    page.get_by_role("link", name="Nora Sessionfield").click()
    assert page.locator(".sessions-card tbody tr").count() == 1
    assert "7 → 3" in page.locator(".sessions-card").inner_text()
    assert page.console_errors == [], page.console_errors
    # Per point: one click on the figure, Tab between the two numbers, one response ticked.
    per_point = 3
    assert actions == 1 + 2 + per_point * len(SIX_POINTS) + 1, actions
    print(f"\nsession with six points: {actions} actions beyond typing numbers ({per_point} per point)")


def test_search_adds_a_point_and_enter_picks_the_first_match(page, live_server, client_record):
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_record}/sessions/new")
    form_ready(page)
    page.get_by_label("Find a trigger point").fill("quadratus lumborum")
    page.get_by_label("Find a trigger point").press("Enter")
    assert page.locator("[data-point-row] select").first.input_value().startswith("quadratus-lumborum/")
    assert page.locator("[data-point-row] [data-point-title]").first.inner_text().startswith("Quadratus lumborum")


def fill_visit_and_first_point(page) -> None:
    """Pain before and after, and the first row: soleus 1 on the left, held 60 s at 6/10 (the form's plain
    controls, with or without its script)."""
    page.get_by_label("Pain before (0-10)").fill("5")
    page.get_by_label("Pain after (0-10)").fill("2")
    row = page.locator("[data-point-row]").first
    row.locator("select").select_option("soleus/1")
    row.get_by_label("Left").check()
    row.get_by_label("Pressure held (s)").fill("60")
    row.get_by_label("Pain during compression (0-10)").fill("6")


def test_form_without_javascript_still_saves_points(browser, live_server, client_record):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_record}/sessions/new")
    fill_visit_and_first_point(page)
    page.get_by_role("button", name="Save session").click()
    page.wait_for_selector("h1:has-text('Session of')")
    assert "Soleus" in page.locator(".points-table").inner_text()
    context.close()


def test_a_session_typed_after_the_login_ended_is_not_lost(page, live_server, client_record, live_app):
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_record}/sessions/new")
    form_ready(page)
    page.get_by_label("Pain before (0-10)").fill("6")
    page.get_by_label("Pain after (0-10)").fill("2")
    page.get_by_label("Subjective").fill("Typed during a long treatment")
    page.context.clear_cookies()  # the login ends, as after 30 idle minutes

    page.get_by_role("button", name="Save session").click()
    banner = page.locator("[data-logged-out]")
    banner.wait_for(state="visible")
    assert page.get_by_label("Subjective").input_value() == "Typed during a long treatment"
    screenshot(page, "session-form-logged-out")

    other_tab = page.context.new_page()
    log_in(other_tab, live_server, "maya@clinic.example", PASSWORD)
    other_tab.close()
    page.get_by_role("button", name="Save session").click()
    page.wait_for_selector("h1:has-text('Session of')")
    assert "Typed during a long treatment" in page.locator(".soap").inner_text()


def test_the_picker_works_once_the_kit_is_in_and_the_next_form_takes_the_kit_from_the_cache(
    page, live_server, client_record, live_app, monkeypatch
):
    """The form's knowledge-base parts come in its kit: the picker, the search and the rows it adds work as they
    did in the page, and the browser keeps the kit (the second form asks the server for it no more)."""
    served = []
    kit_view = live_app.view_functions["treatments.form_kit"]
    monkeypatch.setitem(
        live_app.view_functions, "treatments.form_kit", lambda **args: served.append(args) or kit_view(**args)
    )
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_record}/sessions/new")
    form_ready(page)
    assert page.locator("div[data-point-picker]").is_visible() and page.locator("[data-kit-unavailable]").is_hidden()
    assert page.locator('button[name="suggest"]').is_hidden(), "the script took the form over"
    page.get_by_label("Find a trigger point").fill("soleus 1")
    page.get_by_label("Find a trigger point").press("Enter")
    page.locator('svg[data-point-picker] .tp-dot[data-tp="masseter/1"]').click()
    rows = page.locator("[data-point-row]")
    assert [rows.nth(n).locator("select").input_value() for n in range(2)] == ["soleus/1", "masseter/1"]
    assert rows.nth(1).locator("[data-point-title]").inner_text() == "Masseter · point 1"
    assert rows.nth(1).locator("select option").count() > 100, "the row's list copied from the kit"
    assert rows.nth(1).locator("[data-point-pattern] svg.body-figure").count() == 2, "the small referral pictures"
    assert rows.nth(1).locator("[data-timer]").is_visible()
    assert page.locator('svg[data-point-picker] .tp-dot.is-on-form[data-tp="masseter/1"]').count() >= 1
    assert len(served) == 1

    page.goto(f"{live_server}/clients/{client_record}/sessions/new")
    form_ready(page)
    assert page.locator('svg[data-point-picker] .tp-dot[data-tp="soleus/1"]').count() >= 1
    assert len(served) == 1, "the second form's kit came from the browser's cache"
    assert page.console_errors == []


def test_the_form_still_saves_when_its_kit_cannot_be_fetched(page, live_server, client_record):
    """Offline, or the kit refused: the form is the one that works without JavaScript (its buttons rebuild the page,
    the empty row lists every point), says the picker is missing, and loses nothing typed."""
    page.route("**/session-form-kit/**", lambda route: route.abort())
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{client_record}/sessions/new")
    page.locator("form[data-session-form][data-kit=unavailable]").wait_for(state="attached")
    assert page.locator("[data-kit-unavailable]").is_visible()
    assert page.locator("div[data-point-picker]").is_hidden()
    page.get_by_label("Subjective").fill("Typed while the kit was away")
    fill_visit_and_first_point(page)

    page.get_by_role("button", name="Add another point").click()  # a submit button here: the page comes back
    page.locator("[data-point-row]").nth(1).wait_for()
    page.locator("form[data-session-form][data-kit=unavailable]").wait_for(state="attached")
    assert page.get_by_label("Subjective").input_value() == "Typed while the kit was away"
    assert page.locator("[data-point-row]").first.locator("select").input_value() == "soleus/1"
    second = page.locator("[data-point-row]").nth(1)
    second.locator("select").select_option("masseter/1")
    second.get_by_label("Right").check()
    second.get_by_label("Pressure held (s)").fill("45")
    second.get_by_label("Pain during compression (0-10)").fill("5")
    page.get_by_role("button", name="Save session").click()
    page.wait_for_selector("h1:has-text('Session of')")
    points = page.locator(".points-table").inner_text()
    assert "Soleus" in points and "Masseter" in points
    assert "Typed while the kit was away" in page.locator(".soap").inner_text()
