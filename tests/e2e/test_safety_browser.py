"""Safety first on the session form and in the checker: a click adds a point and its caution shows at once, marked
for this client's precautions; marked regions bring their red flags; the release order follows key muscles."""

import pytest

from clinic.extensions import db
from clinic.models import User
from tests.e2e.conftest import LAPTOP, form_ready, log_in, result_file, screenshot
from tests.factories import PASSWORD, make_client

pytestmark = pytest.mark.e2e

VIEWPORTS = {
    "laptop": {"viewport": {"width": 1280, "height": 800}},
    "tablet": {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "is_mobile": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture
def hip_client(live_app):
    with live_app.app_context():
        therapist = db.session.scalar(db.select(User).where(User.email == "maya@clinic.example"))
        record = make_client(
            therapist,
            full_name="Walter Hipwell",
            contraindications="On apixaban: light pressure only.",
            precautions=["hip-replacement", "anticoagulants"],
        )
        client_id = record.id
        db.session.remove()
    return client_id


def test_clicked_points_show_their_cautions_red_flags_and_release_order_without_saving(page, live_server, hip_client):
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{hip_client}/sessions/new")
    form_ready(page)
    assert "Hip replacement" in page.locator("[data-precautions]").inner_text()
    assert page.locator("[data-release-order]").is_hidden()
    assert page.locator("[data-session-red-flags]").is_hidden()

    page.locator('svg[data-point-picker] .tp-dot[data-tp="gluteus-minimus/1"]').click()
    row = page.locator("[data-point-row]").first
    met = row.locator("[data-point-cautions] li.caution-met")
    met.first.wait_for()
    assert "For this client (hip replacement):" in met.first.inner_text()
    assert "not suitable for this client (hip replacement)" in row.locator(".self-care-unsuitable").inner_text()
    # the gluteus minimus is a satellite of the quadratus lumborum: release that first
    steps = page.locator("[data-release-steps] li")
    steps.first.wait_for()
    assert [steps.nth(i).get_attribute("data-release-muscle") for i in range(steps.count())] == [
        "quadratus-lumborum",
        "gluteus-minimus",
    ]
    assert "not on the form" in steps.first.inner_text()

    page.locator('svg[data-interactive][data-view="back"] .region[data-region="calf"] path').first.click()
    flags = page.locator("[data-session-red-flags] [data-red-flag-list] li")
    flags.first.wait_for()
    assert "swollen" in flags.first.inner_text() and flags.first.get_attribute("data-flag-region") == "calf"

    page.locator('svg[data-point-picker] .tp-dot[data-tp="soleus/1"]').click()
    calf_row = page.locator("[data-point-row]").nth(1)
    calf_row.locator("[data-point-cautions] li.caution-met").first.wait_for()
    assert "anticoagulants" in calf_row.locator("[data-point-cautions] li.caution-met").first.inner_text()
    screenshot(page, "safety-session-form-laptop")
    assert page.console_errors == [], page.console_errors


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_safety_pages_at_three_sizes(browser, live_server, hip_client, size):
    context = browser.new_context(**VIEWPORTS[size])
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, live_server, "maya@clinic.example", PASSWORD)

    page.goto(f"{live_server}/clients/{hip_client}/sessions/new")
    form_ready(page)
    page.locator('svg[data-point-picker] .tp-dot[data-tp="gluteus-minimus/1"]').dispatch_event("click")
    page.locator("[data-point-cautions] li.caution-met").first.wait_for()
    page.locator('svg[data-interactive][data-view="back"] .region[data-region="calf"] path').first.dispatch_event(
        "click"
    )
    page.locator("[data-session-red-flags] li").first.wait_for()
    screenshot(page, f"safety-session-form-{size}")
    part(page, "[data-point-row]", f"safety-part-point-row-{size}")
    part(page, "[data-session-red-flags]", f"safety-part-red-flags-{size}")
    part(page, "[data-release-order]", f"safety-part-release-order-{size}")

    page.goto(f"{live_server}/clients/{hip_client}/edit")
    screenshot(page, f"safety-client-form-{size}")
    part(page, ".precaution-checks", f"safety-part-precautions-{size}")
    page.goto(f"{live_server}/knowledge/upper-trapezius")
    assert page.locator("[data-satellites]").is_visible()
    screenshot(page, f"safety-muscle-page-{size}")
    part(page, ".muscle-facts", f"safety-part-muscle-facts-{size}")
    page.goto(f"{live_server}/symptom-checker?regions=calf,low-back")
    assert page.locator("[data-red-flags]").is_visible()
    screenshot(page, f"safety-checker-{size}")
    for selector in ("[data-red-flags]", "main"):
        width = page.evaluate(f"document.querySelector('{selector}').scrollWidth")
        assert width <= VIEWPORTS[size]["viewport"]["width"], (selector, width)
    assert errors == [], errors
    context.close()


def part(page, selector: str, name: str) -> None:
    """A screenshot of one element, to look at it at its real size."""
    page.locator(selector).first.screenshot(path=str(result_file(f"{name}.png")))


def test_checker_red_flags_follow_clicks(page, live_server):
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server}/symptom-checker")
    assert page.locator("[data-red-flags]").is_hidden()
    page.locator('svg[data-interactive][data-view="back"] .region[data-region="low-back"] path').first.click()
    page.locator("[data-red-flags] li").first.wait_for()
    assert any("saddle" in text.lower() for text in page.locator("[data-red-flags] li").all_inner_texts())
    assert page.locator("[data-candidates] .candidate-name").first.inner_text() == "Quadratus lumborum"
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(f"{live_server}/symptom-checker")
    assert page.locator("[data-red-flags]").is_hidden()
