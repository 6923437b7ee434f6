"""Concurrent saves under a real server: gunicorn with 4 workers, on a SQLite file and on a PostgreSQL database.

The test starts gunicorn itself on a free port of 127.0.0.1 against a throwaway, migrated database (SQLite in
the SQLite run; with KNOTWORK_TEST_POSTGRES, a PostgreSQL database in the PostgreSQL run), logs in, and:

- 50 new-session forms saved at once, 10 of them sent twice at once (a double click): every acknowledged save
  is stored whole (all its points), none twice, no 5xx;
- 20 edits of one session opened on the same version and saved at once: exactly one wins, every other gets
  409 with the conflict page, no 5xx.

Marked `slow` (./test.sh runs it with the rest). The server is stopped in `finally`; every request has a timeout.
"""

import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, SoupStrainer

from clinic.extensions import db
from clinic.models import Role, TreatmentSession
from tests.conftest import POSTGRES_SERVER, build_app, migrate, throwaway_postgres_database
from tests.factories import PASSWORD, make_client, make_session, make_user, reset_sequence

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
NEW_SESSIONS = 50
SENT_TWICE = 10
EDITS = 20
TIMEOUT = 30  # seconds, for any one request and for the server to start
POINTS = ("upper-trapezius/1", "levator-scapulae/1", "masseter/1")


@pytest.fixture
def served_database(tmp_path):
    """A migrated database of the run's kind, and its URL; a PostgreSQL one is dropped afterwards."""
    if not POSTGRES_SERVER:
        url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
        migrate(url)
        yield url
        return
    with throwaway_postgres_database("knotwork_served") as url:
        yield url


@pytest.fixture
def clinic_data(served_database):
    """A therapist, a client and one session to edit, written before the server starts."""
    reset_sequence()
    app = build_app(served_database)
    with app.app_context():
        therapist = make_user(Role.THERAPIST, email="conc@clinic.example", name="Connie Current")
        client = make_client(therapist)
        session = make_session(client, started_at=datetime(2026, 1, 5, 10, tzinfo=ZoneInfo("UTC")))
        ids = {"client": client.id, "session": session.id, "email": therapist.email}
        db.session.remove()
        db.engine.dispose()
    return ids


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(served_database, clinic_data, tmp_path):
    """gunicorn with 4 workers on the database; stopped (its process group killed) whatever happens."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": served_database,
        "SECRET_KEY": "concurrency-test-secret",
        "KNOTWORK_CONFIG": "development",
        "CLINIC_TIMEZONE": os.environ.get("CLINIC_TIMEZONE", "UTC"),
    }
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--timeout", str(TIMEOUT), "--graceful-timeout", "5", "app:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start in time"
            time.sleep(0.2)
        yield base
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at, not to follow


class Browser:
    """One user's connection: its own cookies, no redirects followed, a timeout on every request."""

    def __init__(self, base: str, cookies: http.cookiejar.CookieJar | None = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        for cookie in cookies or []:
            self.jar.set_cookie(cookie)
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=TIMEOUT) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location", ""), answer.read().decode()

    def hidden_fields(self, path: str) -> dict[str, str]:
        status, _, html = self.request(path)
        assert status == 200, f"{status} for {path}"
        inputs = BeautifulSoup(html, "html.parser", parse_only=SoupStrainer("input", attrs={"type": "hidden"}))
        return {tag["name"]: tag.get("value", "") for tag in inputs.find_all("input") if tag.get("name")}


def logged_in(base: str, email: str) -> Browser:
    browser = Browser(base)
    token = browser.hidden_fields("/login")["csrf_token"]
    status, _, _ = browser.request("/login", {"csrf_token": token, "email": email, "password": PASSWORD})
    assert status == 302, "the login failed"
    return browser


def session_form(day: str, number: int) -> dict:
    data = {
        "started_at": f"{day}T{8 + number % 10:02d}:{number % 60:02d}",
        "length_minutes": "60",
        "pain_before": str(number % 11),
        "pain_after": "3",
        "pain_regions": ["temple"],
        "subjective": f"Concurrent save {number}",
        "confirm_near": "y",  # many sessions of one client on one day, on purpose
    }
    for row, point in enumerate(POINTS):
        data.update({f"points-{row}-trigger_point": point, f"points-{row}-side": "right",
                     f"points-{row}-pressure_seconds": "60", f"points-{row}-pain": "6"})  # fmt: skip
    return data


def test_concurrent_saves_and_edits_under_gunicorn(server, served_database, clinic_data, record_property):
    owner = logged_in(server, clinic_data["email"])
    client_id, session_id = clinic_data["client"], clinic_data["session"]
    zone = ZoneInfo(os.environ.get("CLINIC_TIMEZONE", "UTC"))
    yesterday = (datetime.now(zone) - timedelta(days=1)).date().isoformat()

    # 50 new sessions at once, 10 of them sent a second time at once.
    new_page = f"/clients/{client_id}/sessions/new"
    forms = [{**owner.hidden_fields(new_page), **session_form(yesterday, number)} for number in range(NEW_SESSIONS)]
    sends = forms + forms[:SENT_TWICE]
    start = threading.Barrier(len(sends), timeout=TIMEOUT)

    def save(form: dict) -> tuple[int, str, str]:
        browser = Browser(server, owner.jar)
        start.wait()
        return browser.request(new_page, form)

    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        answers = list(pool.map(save, sends, timeout=TIMEOUT * 3))
    statuses = [status for status, _, _ in answers]
    acknowledged = {
        form["submission_token"]: location
        for form, (status, location, _) in zip(sends, answers, strict=True)
        if status in (302, 303) and "/sessions/" in location
    }

    # 20 edits of one session, all opened on the same version, saved at once.
    edit_page = f"/clients/{client_id}/sessions/{session_id}/edit"
    opened = owner.hidden_fields(edit_page)
    edits = [{**opened, **session_form(yesterday, 100 + number)} for number in range(EDITS)]
    together = threading.Barrier(EDITS, timeout=TIMEOUT)

    def edit(form: dict) -> tuple[int, str, str]:
        browser = Browser(server, owner.jar)
        together.wait()
        return browser.request(edit_page, form)

    with ThreadPoolExecutor(max_workers=EDITS) as pool:
        edit_answers = list(pool.map(edit, edits, timeout=TIMEOUT * 3))
    edit_statuses = [status for status, _, _ in edit_answers]

    # What the database holds, read after the server answered everything.
    app = build_app(served_database)
    with app.app_context():
        stored = {
            token: (session_id_, points)
            for token, session_id_, points in db.session.execute(
                sa.select(TreatmentSession.submission_token, TreatmentSession.id, sa.func.count())
                .join(TreatmentSession.points)
                .where(TreatmentSession.client_id == client_id, TreatmentSession.id != session_id)
                .group_by(TreatmentSession.submission_token, TreatmentSession.id)
            )
        }
        edited = db.session.get(TreatmentSession, session_id)
        edited_subjective, edited_version = edited.subjective, edited.version
        db.session.remove()
        db.engine.dispose()

    figures = {
        "database": served_database.split(":")[0],
        "save requests": len(sends),
        "saves acknowledged": len(acknowledged),
        "sessions stored": len(stored),
        "save statuses": sorted(set(statuses)),
        "edit winners": edit_statuses.count(302),
        "edit conflicts (409)": edit_statuses.count(409),
        "edit statuses": sorted(set(edit_statuses)),
    }
    record_property("concurrency", figures)
    print(f"\nconcurrency under gunicorn: {figures}")

    assert not [status for status in statuses + edit_statuses if status >= 500], figures
    # Every form was saved and acknowledged once or more; each stored once, whole.
    assert set(acknowledged) == {form["submission_token"] for form in forms}, figures
    assert set(stored) == set(acknowledged), figures
    assert all(points == len(POINTS) for _, points in stored.values()), stored
    for token, location in acknowledged.items():
        assert location.endswith(f"/sessions/{stored[token][0]}"), (token, location)
    # Exactly one edit won; every other got the conflict page.
    assert edit_statuses.count(302) == 1 and edit_statuses.count(409) == EDITS - 1, figures
    for status, _, html in edit_answers:
        if status == 409:
            assert "This session was changed by someone else while you were editing." in html
    winner = edits[edit_statuses.index(302)]
    assert edited_subjective == winner["subjective"] and edited_version == int(opened["version"]) + 1
