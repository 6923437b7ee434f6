"""The physician summary in a real browser: charts drawn under the CSP, printed to PDF on Letter and A4."""

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.extensions import db
from clinic.models import AuditEvent, ClinicSettings, User
from tests.e2e.conftest import SCREENSHOTS, log_in, printed, screenshot
from tests.factories import PASSWORD, make_client, make_session

pytestmark = pytest.mark.e2e

POINTS = ["upper-trapezius/1", "levator-scapulae/1", "suboccipitals/1", "temporalis/1", "splenius-capitis/1"]


@pytest.fixture
def dozen_sessions(live_app):
    with live_app.app_context():
        therapist = db.session.scalar(sa.select(User).where(User.email == "maya@clinic.example"))
        therapist.credentials, therapist.registration_number, therapist.phone = "RMT", "CMTO-4411", "555-0142"
        if db.session.get(ClinicSettings, 1) is None:
            db.session.add(
                ClinicSettings(
                    id=1, name="Riverside Myotherapy", address="12 Mill Lane, Leeds LS1 4AB", phone="0113 555 0100"
                )
            )
        db.session.commit()
        client = make_client(
            therapist,
            full_name="Petra Printwell",
            physician_name="Dr. Okoye",
            contraindications="Migraine with aura: no work during an attack.",
            health_history="Tension headaches three times a week since a desk job began.",
        )
        start = datetime(2026, 6, 1, 9, tzinfo=UTC)
        for week in range(12):
            make_session(
                client,
                started_at=start + timedelta(weeks=week),
                pain_before=max(2, 8 - week // 2),
                pain_after=max(1, 6 - week // 2),
                pain_regions=["temple", "side-of-neck", "occiput"],
                plan="Fortnightly; chin tucks at the desk.",
                objective="Taut bands in both upper trapezius; neck rotation limited to the right."
                if week < 6
                else "Bands softer; rotation full both ways.",
                assessment="Active trigger points in the neck and jaw muscles, referring to the temples."
                if week < 8
                else "Improving; headaches twice a month.",
                stress_before=6,
                heart_rate_before=78,
                systolic_before=128,
                diastolic_before=84,
                points=[
                    {
                        "trigger_point_id": point,
                        "side": "both",
                        "pressure_seconds": 60 + 5 * i,
                        "pain": 6,
                        "release_felt": i % 2 == 0,
                    }
                    for i, point in enumerate(POINTS[:4])
                ],
            )
        client_id = client.id
        db.session.remove()
    return client_id


def test_summary_prints_on_two_pages_at_most_with_chart_and_figures(page, live_server, live_app, dozen_sessions):
    assert shutil.which("pdftotext") and shutil.which("pdftoppm"), (
        "poppler-utils is needed (apt-get install poppler-utils)"
    )
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{dozen_sessions}/summary")
    page.wait_for_selector("body[data-charts-ready]")
    assert page.locator("[data-chart=pain] svg.main-svg").count() >= 1
    # On screen the chart stays inside its box: nothing covers the heading and first row below it.
    chart = page.locator("[data-chart=pain]").bounding_box()
    svg = page.locator("[data-chart=pain] svg.main-svg").first.bounding_box()
    heading = page.get_by_role("heading", name="Muscles treated").bounding_box()
    assert svg["y"] + svg["height"] <= chart["y"] + chart["height"] + 1 <= heading["y"]
    screenshot(page, "summary-screen")

    for paper, pages, words, path in printed(page, "summary"):
        assert 1 <= pages <= 2, paper
        for expected in [
            "Petra Printwell",
            "Dr. Okoye",
            "12 sessions",
            "Upper trapezius",
            "Migraine with aura",
            "Pain before and after each session",
            "not a diagnosis",
            "Maya Browser (RMT), massage therapist",
            "Riverside Myotherapy",
            "Reg. no. CMTO-4411",
            "Bands softer; rotation full both ways.",
            "Improving; headaches twice a month.",
            "on average every 7 days",
        ]:
            assert expected in words, (paper, expected)
        first_page = " ".join(
            subprocess.run(
                ["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout.split()
        )
        # Page 1 is filled before the muscle table breaks: it starts there, its first row included.
        assert "Muscles treated".upper() in first_page.upper() and "Levator scapulae" in first_page, paper
        # The date ticks carry their year on the same line: nothing under them to clip.
        assert re.search(r"\b\d{1,2} (Jun|Jul|Aug) 2026\b", first_page), paper
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            str(SCREENSHOTS / "summary-Letter.pdf"),
            str(SCREENSHOTS / "summary-page"),
        ],
        check=True,
    )
    assert (SCREENSHOTS / "summary-page-1.png").exists()
    assert page.console_errors == [], page.console_errors

    with live_app.app_context():
        prints = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.client_id == dozen_sessions)
        ).all()
        # One entry per print; the PDF renderer may print on its own as well, so at least the one we asked for.
        assert prints and all(event.details["printed"] for event in prints)
        db.session.remove()


def test_client_page_charts_draw_without_csp_errors(page, live_server, dozen_sessions):
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{dozen_sessions}")
    page.wait_for_selector("body[data-charts-ready]")
    assert page.locator("[data-chart] svg.main-svg").count() >= 4
    screenshot(page, "client-charts")
    assert page.console_errors == [], page.console_errors
