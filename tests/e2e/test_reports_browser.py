"""The physician summary in a real browser: charts drawn under the CSP, printed to PDF on Letter and A4."""

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.extensions import db
from clinic.models import AuditEvent, User
from tests.e2e.conftest import SCREENSHOTS, log_in, screenshot
from tests.factories import PASSWORD, make_client, make_session

pytestmark = pytest.mark.e2e

POINTS = ["upper-trapezius/1", "levator-scapulae/1", "suboccipitals/1", "temporalis/1", "splenius-capitis/1"]


@pytest.fixture
def dozen_sessions(live_app):
    with live_app.app_context():
        therapist = db.session.scalar(sa.select(User).where(User.email == "maya@clinic.example"))
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


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_summary_prints_on_two_pages_at_most_with_chart_and_figures(page, live_server, live_app, dozen_sessions):
    assert shutil.which("pdftotext") and shutil.which("pdftoppm"), (
        "poppler-utils is needed (apt-get install poppler-utils)"
    )
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{dozen_sessions}/summary")
    page.wait_for_selector("body[data-charts-ready]")
    assert page.locator("[data-chart=pain] svg.main-svg").count() >= 1
    screenshot(page, "summary-screen")

    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.wait_for_timeout(300)
    page.emulate_media(media="print")
    for paper in ("Letter", "A4"):
        pdf = page.pdf(format=paper, print_background=True)
        path = SCREENSHOTS / f"summary-{paper}.pdf"
        path.write_bytes(pdf)
        assert 1 <= pdf_pages(pdf) <= 2, paper
        words = " ".join(
            subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split()
        )
        for expected in [
            "Petra Printwell",
            "Dr. Okoye",
            "12 sessions",
            "Upper trapezius",
            "Migraine with aura",
            "Pain before and after each session",
            "not a diagnosis",
            "Maya Browser, massage therapist",
        ]:
            assert expected in words, (paper, expected)
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
        printed = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.client_id == dozen_sessions)
        ).all()
        # One entry per print; the PDF renderer may print on its own as well, so at least the one we asked for.
        assert printed and all(event.details["printed"] for event in printed)
        db.session.remove()


def test_client_page_charts_draw_without_csp_errors(page, live_server, dozen_sessions):
    log_in(page, live_server, "maya@clinic.example", PASSWORD)
    page.goto(f"{live_server}/clients/{dozen_sessions}")
    page.wait_for_selector("body[data-charts-ready]")
    assert page.locator("[data-chart] svg.main-svg").count() >= 4
    screenshot(page, "client-charts")
    assert page.console_errors == [], page.console_errors
