"""Browser tests: Playwright for Python driving Debian's chromium against a live server on a temp SQLite file."""

import os
import re
import subprocess
import threading
from contextlib import contextmanager
from itertools import count
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from clinic.extensions import db
from clinic.models import Role
from tests.conftest import build_app, migrate
from tests.factories import make_user, numbered_by

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("KNOTWORK_RESULTS", "test-results")) / "screenshots"
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


_LIVE_NUMBERING = count(1)  # the live database's own: it lives for the whole run, across the other tests' resets


@pytest.fixture(autouse=True)
def live_numbering():
    with numbered_by(_LIVE_NUMBERING):
        yield


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e") / "e2e.sqlite3"
    url = f"sqlite:///{path}"
    migrate(url)
    app = build_app(url)
    with app.app_context():
        make_user(Role.THERAPIST, name="Maya Browser", email="maya@clinic.example")
        make_user(Role.ADMIN, name="Ada Browser", email="ada@clinic.example")
        db.session.remove()
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@contextmanager
def open_page(browser, **context_options):
    """A page in a fresh context (viewport, touch, ...) that keeps the console's errors in `page.console_errors`."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser):
    with open_page(browser, viewport=LAPTOP) as laptop:
        yield laptop


def result_file(filename: str) -> Path:
    """Where a screenshot or printout is kept (the folder made on first use, whichever test comes first)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / filename


def screenshot(page, name: str) -> Path:
    path = result_file(f"{name}.png")
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")  # the day: today's appointments


def form_ready(page) -> None:
    """Wait until the session form's script has its kit (fetched once the page is in) and has taken the form over."""
    page.locator("form[data-session-form][data-kit=ready]").wait_for(state="attached")


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def printed(page, name: str):
    """Print the open page on Letter and A4 as its print button would: for each paper, (paper, page count, the
    words as printed in page order, the PDF's path). pdftotext -raw keeps two columns from interleaving."""
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.wait_for_timeout(300)
    page.emulate_media(media="print")
    for paper in ("Letter", "A4"):
        pdf = page.pdf(format=paper, print_background=True)
        path = result_file(f"{name}-{paper}.pdf")
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
        yield paper, pdf_pages(pdf), " ".join(text.split()), path
