"""Every page of the app on a large clinic, under gunicorn, against a database made by `flask demo large`.

Run (from the repository root):
    .venv/bin/python bench/pages.py --database-url sqlite:////tmp/knotwork-bench.sqlite
    .venv/bin/python bench/pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/knotwork_bench

What it does:
1. Finds in the database a client with 10 sessions and the client with the most (1,000+), their therapists,
   one of their sessions, an intake, an appointment; logs in over HTTP as those therapists and as the owner
   (the passwords `flask demo large` prints). Setup makes a calendar feed address and an intake link (the only
   writes besides the audit rows that the pages themselves add).
2. Starts gunicorn (4 sync workers by default) on 127.0.0.1 and a free port, production config without TLS
   (bench/wsgi.py).
3. Pages: warm-up rounds, then N rounds, each round every page once, in a shuffled order (interleaved, so
   a slow moment of the shared machine hits every page alike). Median per page, ratio to the median of
   /api/regions (the floor), bytes. Flags: over 5x the floor; a 1,000-session page over 3x its 10-session twin;
   the 1,000-session FHIR export over 50x. Every rule of app.url_map is measured or listed as skipped with a
   reason; a rule that is neither stops the run (so a new page cannot be forgotten). With --compare PATH, another
   checkout of the app is served alongside and its pages go into the same rounds: a before/after table whose two
   columns met the same moments of the machine (a shared machine's speed drifts by a third between runs).
4. Concurrency: /api/regions alone (idle median), then again while 20 users hit a mix of heavy pages; the
   ratio (target within 3x) and the throughput, errors counted.
5. Memory: the workers' RSS before and after exporting the 10-session client N times, then the 1,000-session
   client N times (FHIR and CSV): an export that streams keeps the growth flat.
Prints Markdown tables (copy them into bench/RESULTS.md).
"""

import argparse
import http.client
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from clinic.demo import DEMO_USERS  # noqa: E402
from clinic.demo_large import LARGE_PASSWORD  # noqa: E402

FLOOR = "api regions"
# The floor is called this many times a round: every ratio divides by its median, which 15 calls left ~10% off.
FLOOR_SAMPLES = 5
TARGET = 5.0
TARGET_LARGE_VS_SMALL = 3.0
TARGET_FHIR = 50.0
TARGET_CONCURRENT = 3.0
PROBES = 4  # public API callers during the load (a single one gets 3 answers in 30 s behind the heavy pages)
# 1,000-session page -> its 10-session twin
TWINS = {
    "client page 1000": "client page 10",
    "pain-history.json 1000": "pain-history.json 10",
    "summary 1000": "summary 10",
    "session form repeat 1000": "session form repeat 10",
    "FHIR export 1000": "FHIR export 10",
    "CSV export 1000": "CSV export 10",
    "session form new 1000": "session form new 10",
    "session page 1000": "session page 10",
}
# Rules not measured, and why. Anything else in the URL map must be measured.
SKIPPED = {
    "account.password": "POST only: changes the password",
    "account.profile": "POST only: changes the profile",
    "appointments.change_status": "POST only: changes an appointment",
    "auth.logout": "POST only: ends the session",
    "clients.unarchive": "POST only: changes a client",
    "intake.make": "POST only: makes a link (done once in setup, for the intake form)",
    "intake.review": "POST only: accepts changes into the record",
    "reports.summary_printed": "POST only: records a printout",
    "treatments.draft_save": "POST only: stores a draft (called by the form's script while typing)",
    "treatments.draft_discard": "POST only: deletes a draft",
    "account.end_other_sessions": "POST only: ends the person's other login sessions",
    "account.end_session": "POST only: ends a login session",
    "account.recovery_codes": "POST only: makes new recovery codes",
    "account.two_factor_enable": "POST only: turns two-factor login on",
    "account.two_factor_disable": "POST only: turns two-factor login off",
    "admin.reset_two_factor": "POST only: turns a person's two-factor login off",
    "admin.two_factor_policy": "POST only: changes the clinic's two-factor rule",
    "auth.code": "the second step of a two-factor login: only between the password step and the code of an "
    "account with two-factor on (the bench accounts have none)",
    "static": "static files are served by the proxy in production; one stylesheet is measured for scale",
}


@dataclass
class Page:
    name: str
    who: str  # "anon", "small", "large", "admin"
    path: str
    endpoint: str
    timings: list[float] = field(default_factory=list)
    size: int = 0
    status: int = 0


class Browser:
    """One logged-in person: a cookie, a new connection per request (gunicorn's sync workers close it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        content = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, content, elapsed

    def get(self, path: str) -> tuple[int, bytes, float]:
        return self.request("GET", path)

    def csrf(self, path: str) -> str:
        status, content, _ = self.get(path)
        found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', content) or re.search(
            rb'value="([^"]+)"[^>]*name="csrf_token"', content
        )
        if not found:
            raise SystemExit(f"no CSRF token on {path} ({status})")
        return found.group(1).decode()

    def login(self, email: str, password: str) -> None:
        token = self.csrf("/login")
        status, content, _ = self.request("POST", "/login", {"csrf_token": token, "email": email, "password": password})
        if status != 302:
            raise SystemExit(f"login as {email} failed ({status}): {content[:300]!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def password_of(email: str) -> str:
    for account in DEMO_USERS:
        if account["email"] == email:
            return account["password"]
    return LARGE_PASSWORD


def find_subjects(database_url: str) -> dict:
    """The clients, people and records the pages are measured on, read from the database."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:

        def scalar(sql: str, **params):
            return connection.execute(sa.text(sql), params).scalar()

        counts = connection.execute(
            sa.text(
                "SELECT c.id, c.therapist_id, COUNT(s.id) AS n FROM clients c JOIN treatment_sessions s "
                "ON s.client_id = c.id WHERE c.archived_at IS NULL GROUP BY c.id, c.therapist_id"
            )
        ).all()
        small = min(counts, key=lambda row: (abs(row.n - 10), row.id))
        large = max(counts, key=lambda row: (row.n, -row.id))
        latest = "SELECT id FROM treatment_sessions WHERE client_id = :c ORDER BY started_at DESC, id DESC LIMIT 1"
        subjects = {
            "small": {"client": small.id, "sessions": small.n, "therapist_id": small.therapist_id},
            "large": {"client": large.id, "sessions": large.n, "therapist_id": large.therapist_id},
            "small_session": scalar(latest, c=small.id),
            "large_session": scalar(latest, c=large.id),
            "emails": {
                "small": scalar("SELECT email FROM users WHERE id = :i", i=small.therapist_id),
                "large": scalar("SELECT email FROM users WHERE id = :i", i=large.therapist_id),
            },
            "intake": connection.execute(
                sa.text(
                    "SELECT i.id, i.client_id FROM intakes i JOIN clients c ON c.id = i.client_id "
                    "WHERE c.therapist_id = :t ORDER BY i.id LIMIT 1"
                ),
                {"t": large.therapist_id},
            ).first(),
            "appointment": scalar(
                "SELECT id FROM appointments WHERE therapist_id = :t ORDER BY starts_at DESC LIMIT 1",
                t=large.therapist_id,
            ),
            "admin": connection.execute(
                sa.text("SELECT id, email FROM users WHERE role = 'admin' ORDER BY id")
            ).first(),
            "muscle": "infraspinatus",
        }
    engine.dispose()
    return subjects


def build_pages(subjects: dict, extra: dict) -> list[Page]:
    small, large = subjects["small"]["client"], subjects["large"]["client"]
    small_session, large_session = subjects["small_session"], subjects["large_session"]
    admin_id = subjects["admin"].id
    therapist_id = subjects["large"]["therapist_id"]
    yesterday = date.today() - timedelta(days=1)  # the generated log runs up to today
    pages = [
        Page(FLOOR, "anon", "/api/regions", "api.regions"),
        Page("api muscles", "anon", "/api/muscles", "api.muscles"),
        Page("api muscle", "anon", f"/api/muscles/{subjects['muscle']}", "api.muscle"),
        Page(
            "checker API 3 regions",
            "anon",
            "/api/symptom-checker?regions=temple,side-of-neck,occiput",
            "api.symptom_checker",
        ),
        Page("login page", "anon", "/login", "auth.login"),
        Page("knowledge list", "anon", "/knowledge/", "knowledge.index"),
        Page("muscle page", "anon", f"/knowledge/{subjects['muscle']}", "knowledge.muscle"),
        Page("symptom checker page", "anon", "/symptom-checker", "knowledge.symptom_checker"),
        Page("static stylesheet", "anon", "/static/css/app.css", "static"),
        Page("plotly.min.js", "anon", "/vendor/plotly.min.js", "charts.plotly_js"),
        # Any version gets the current kit (an old one, not kept long): the same work as the current version's URL.
        Page("session form kit", "anon", f"/session-form-kit/{'0' * 20}", "treatments.form_kit"),
        Page("home (today)", "large", "/", "appointments.home"),
        Page("client list", "large", "/clients/", "clients.index"),
        Page("client list (admin)", "admin", "/clients/", "clients.index"),
        Page("client search", "large", "/clients/?q=an", "clients.index"),
        Page("client page 10", "small", f"/clients/{small}", "clients.detail"),
        Page("client page 1000", "large", f"/clients/{large}", "clients.detail"),
        Page("pain-history.json 10", "small", f"/clients/{small}/pain-history.json", "charts.history"),
        Page("pain-history.json 1000", "large", f"/clients/{large}/pain-history.json", "charts.history"),
        Page("summary 10", "small", f"/clients/{small}/summary", "reports.summary"),
        Page("summary 1000", "large", f"/clients/{large}/summary", "reports.summary"),
        Page("session form new 10", "small", f"/clients/{small}/sessions/new", "treatments.create"),
        Page("session form new 1000", "large", f"/clients/{large}/sessions/new", "treatments.create"),
        Page("session form repeat 10", "small", f"/clients/{small}/sessions/new?repeat=1", "treatments.create"),
        Page("session form repeat 1000", "large", f"/clients/{large}/sessions/new?repeat=1", "treatments.create"),
        Page("session page 10", "small", f"/clients/{small}/sessions/{small_session}", "treatments.detail"),
        Page("session page 1000", "large", f"/clients/{large}/sessions/{large_session}", "treatments.detail"),
        Page("session edit 1000", "large", f"/clients/{large}/sessions/{large_session}/edit", "treatments.edit"),
        Page("client edit 1000", "large", f"/clients/{large}/edit", "clients.edit"),
        Page("client archive 1000", "large", f"/clients/{large}/archive", "clients.archive"),
        Page("client sharing 1000", "large", f"/clients/{large}/sharing", "clients.sharing"),
        Page("new client form", "large", "/clients/new", "clients.create"),
        Page("FHIR export 10", "small", f"/clients/{small}/export.fhir.json", "reports.export_fhir"),
        Page("FHIR export 1000", "large", f"/clients/{large}/export.fhir.json", "reports.export_fhir"),
        Page("CSV export 10", "small", f"/clients/{small}/export.csv", "reports.export_csv"),
        Page("CSV export 1000", "large", f"/clients/{large}/export.csv", "reports.export_csv"),
        Page("appointments day", "large", "/appointments/", "appointments.book"),
        Page("appointments week", "large", "/appointments/?view=week", "appointments.book"),
        Page("appointments week (admin)", "admin", "/appointments/?view=week", "appointments.book"),
        Page("new appointment form", "large", "/appointments/new", "appointments.create"),
        Page("calendar feed page", "large", "/appointments/calendar-feed", "appointments.calendar_feed_page"),
        Page("account", "large", "/account", "account.index"),
        Page("account password page", "large", "/account/password", "account.password_page"),
        Page("two-factor setup page", "large", "/account/two-factor/setup", "account.two_factor"),
        Page("audit client look-up", "admin", "/admin/audit/clients.json?q=an", "admin.audit_clients"),
        Page("form token", "large", "/auth/form-token", "auth.form_token"),
        Page("logged back in", "large", "/auth/logged-back-in", "auth.logged_back_in"),
        Page("audit log page 1", "admin", "/admin/audit", "admin.audit_log"),
        # Keyset pages: an older page starts before an event id (half-way down a large log).
        Page("audit log, older page", "admin", "/admin/audit?before=500000", "admin.audit_log"),
        Page("audit log, one client", "admin", f"/admin/audit?client={large}", "admin.audit_log"),
        Page(
            "audit export, one day",
            "admin",
            f"/admin/audit/export?from={yesterday}&to={yesterday}",
            "admin.audit_export",
        ),
        Page("admin users", "admin", "/admin/users", "admin.users"),
        Page("admin new user form", "admin", "/admin/users/new", "admin.create"),
        Page("admin user profile", "admin", f"/admin/users/{therapist_id}/profile", "admin.profile"),
        Page("admin user password", "admin", f"/admin/users/{therapist_id}/password", "admin.password"),
        Page("admin user active", "admin", f"/admin/users/{therapist_id}/active", "admin.toggle_active"),
        Page("admin clinic", "admin", "/admin/clinic", "admin.clinic"),
    ]
    if subjects["appointment"]:
        pages.append(Page("appointment edit", "large", f"/appointments/{subjects['appointment']}", "appointments.edit"))
    if subjects["intake"]:
        intake = subjects["intake"]
        pages.append(
            Page("intake review", "large", f"/clients/{intake.client_id}/intakes/{intake.id}", "intake.detail")
        )
    if extra.get("feed"):
        pages.append(Page("calendar feed .ics", "anon", extra["feed"], "appointments.feed"))
    if extra.get("intake_form"):
        pages.append(Page("intake form (client's phone)", "anon", extra["intake_form"], "intake.client_form"))
    assert admin_id
    return pages


def check_coverage(pages: list[Page]) -> list[tuple[str, str]]:
    """Every rule measured or skipped with a reason; returns the skipped ones for the report."""
    from clinic import create_app

    app = create_app("testing")
    measured = {page.endpoint for page in pages}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    forgotten = sorted(endpoints - measured - set(SKIPPED))
    if forgotten:
        raise SystemExit(f"pages neither measured nor skipped: {', '.join(forgotten)} (add them to bench/pages.py)")
    return sorted((endpoint, reason) for endpoint, reason in SKIPPED.items() if endpoint in endpoints - measured) + [
        (endpoint, "setup could not make it (see above)") for endpoint in sorted(endpoints - measured - set(SKIPPED))
    ]


def start_server(
    database_url: str, port: int, workers: int, worker_class: str = "sync", threads: int = 1, root: Path = ROOT
) -> subprocess.Popen:
    """gunicorn serving the app of the checkout at `root` (this one, or the one --compare names)."""
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=database_url,
        KNOTWORK_CONFIG="production",
        SECRET_KEY=secrets.token_hex(32),
        PYTHONPATH=str(root),
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
            "bench.wsgi:app",
        ],
        cwd=root,
        env=environment,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = Browser(port).get("/api/regions")
            if status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start within 60 s")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def status_mb(pid: int, key: str) -> float:
    """VmRSS (now) or VmHWM (peak) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def setup_extras(browsers: dict, subjects: dict) -> dict:
    """A calendar feed address for the large client's therapist and an intake link for the 10-session client."""
    extra = {}
    large = browsers["large"]
    token = large.csrf("/appointments/calendar-feed")
    _, content, _ = large.request("POST", "/appointments/calendar-feed", {"csrf_token": token, "action": "make"})
    found = re.search(rb"(/calendar/[A-Za-z0-9_\-]+\.ics)", content)
    if found:
        extra["feed"] = found.group(1).decode()
    else:
        print("setup: no calendar feed address found; the feed is not measured", file=sys.stderr)
    small = browsers["small"]
    client = subjects["small"]["client"]
    token = small.csrf(f"/clients/{client}")
    _, content, _ = small.request("POST", f"/clients/{client}/intake-links", {"csrf_token": token})
    found = re.search(rb"(/intake/[A-Za-z0-9_\-]{20,})", content)
    if found:
        extra["intake_form"] = found.group(1).decode()
    else:
        print("setup: no intake link found; the intake form is not measured", file=sys.stderr)
    return extra


def measure_pages(servers: list[tuple[list[Page], dict]], rounds: int, warmup: int) -> None:
    """Every page of every server (its pages, its logged-in browsers) once a round, all in one shuffled order. A
    page the compared checkout does not have (404 at the first round) is left out of its table."""
    order = [
        (page, browsers)
        for pages, browsers in servers
        for page in pages
        for _ in range(FLOOR_SAMPLES if page.name == FLOOR else 1)
    ]
    compared = {id(page) for page in servers[1][0]} if len(servers) > 1 else set()
    rng = random.Random(1)
    for number in range(warmup + rounds):
        rng.shuffle(order)
        for page, browsers in list(order):
            status, content, elapsed = browsers[page.who].get(page.path)
            if status == 404 and number == 0 and id(page) in compared:
                order.remove((page, browsers))
                servers[1][0].remove(page)
                continue
            if status != 200:
                raise SystemExit(f"{page.name} {page.path}: HTTP {status} {content[:200]!r}")
            if number >= warmup:
                page.timings.append(elapsed)
                page.size = len(content)
                page.status = status
        print(f"  round {number + 1}/{warmup + rounds}{' (warm-up)' if number < warmup else ''}", file=sys.stderr)


def page_table(pages: list[Page]) -> list[str]:
    medians = {page.name: statistics.median(page.timings) for page in pages}
    floor = medians[FLOOR]
    lines = [
        f"Floor: `/api/regions` median {floor:.2f} ms. Flags: `>5x` over 5x the floor (FHIR 1000: 50x); "
        "`>3x twin` a 1,000-session page over 3x its 10-session twin.",
        "",
        "| page | median ms | x floor | bytes | flags |",
        "|---|---:|---:|---:|---|",
    ]
    for page in pages:
        ratio = medians[page.name] / floor
        flags = []
        limit = TARGET_FHIR if page.name == "FHIR export 1000" else TARGET
        if ratio > limit:
            flags.append(f">{limit:g}x")
        twin = TWINS.get(page.name)
        if twin and twin in medians:
            versus = medians[page.name] / medians[twin]
            flags.append(f"{versus:.1f}x twin" + (" >3x" if versus > TARGET_LARGE_VS_SMALL else ""))
        lines.append(f"| {page.name} | {medians[page.name]:.1f} | {ratio:.1f} | {page.size:,} | {' '.join(flags)} |")
    return lines


def comparison_table(before: list[Page], now: list[Page]) -> list[str]:
    """Both checkouts' pages from the same interleaved rounds, each as a ratio to its own floor."""

    def ratios(pages: list[Page]) -> tuple[dict[str, float], dict[str, Page]]:
        medians = {page.name: statistics.median(page.timings) for page in pages}
        return {name: median / medians[FLOOR] for name, median in medians.items()}, {p.name: p for p in pages}

    (old_ratio, old_pages), (new_ratio, _) = ratios(before), ratios(now)
    lines = [
        "| page | before (compared checkout) | now | bytes before -> now |",
        "|---|---:|---:|---:|",
    ]
    for page in now:
        median = statistics.median(page.timings)
        was = old_pages.get(page.name)
        before_cell = f"{old_ratio[page.name]:.1f}x ({statistics.median(was.timings):.1f} ms)" if was else "new"
        size = f"{was.size:,} -> {page.size:,}" if was and was.size != page.size else f"{page.size:,}"
        lines.append(f"| {page.name} | {before_cell} | {new_ratio[page.name]:.1f}x ({median:.1f} ms) | {size} |")
    return lines


def concurrency(
    port: int, browsers: dict, subjects: dict, users: int, seconds: float, api_port: int | None = None
) -> list[str]:
    """The public API's median alone, then while `users` people load heavy pages. With `api_port`, the API is
    called there (its own worker pool, as a proxy routing /api/ to it would), the pages on `port`."""
    api_port = api_port or port

    def probe_for(duration: float, probes: int = 1) -> list[float]:
        """`probes` people each calling the API one call after another (0.05 s apart) for `duration` seconds."""
        timings: list[float] = []
        end = time.monotonic() + duration

        def one() -> None:
            while time.monotonic() < end:
                status, _, elapsed = Browser(api_port).get("/api/regions")
                if status == 200:
                    timings.append(elapsed)
                time.sleep(0.05)

        threads = [threading.Thread(target=one) for _ in range(probes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return timings

    idle = probe_for(min(seconds, 10))
    large, small = subjects["large"]["client"], subjects["small"]["client"]
    heavy = [
        ("large", f"/clients/{large}"),
        ("large", f"/clients/{large}/pain-history.json"),
        ("large", f"/clients/{large}/summary"),
        ("large", f"/clients/{large}/sessions/new?repeat=1"),
        ("large", "/clients/"),
        ("small", f"/clients/{small}"),
        ("small", f"/clients/{small}/sessions/new"),
        ("admin", "/admin/audit"),
        ("large", "/appointments/?view=week"),
        ("large", f"/clients/{large}/export.csv"),
    ]
    stop = threading.Event()
    done: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user(number: int) -> None:
        rng = random.Random(number)
        people = {who: Browser(port) for who in ("large", "small", "admin")}
        for who, browser in people.items():
            browser.cookies = dict(browsers[who].cookies)
        while not stop.is_set():
            who, path = rng.choice(heavy)
            try:
                status, _, elapsed = people[who].get(path)
            except OSError as error:
                with lock:
                    errors.append(str(error))
                continue
            with lock:
                if status == 200:
                    done.append(elapsed)
                else:
                    errors.append(f"{status} {path}")

    threads = [threading.Thread(target=user, args=(number,), daemon=True) for number in range(users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(2)  # let the load build up
    loaded = probe_for(seconds, probes=PROBES)
    stop.set()
    for thread in threads:
        thread.join(timeout=300)
    elapsed = time.monotonic() - started
    idle_median, loaded_median = statistics.median(idle), statistics.median(loaded)
    ratio = loaded_median / idle_median
    loaded.sort()
    loaded_p95 = loaded[int(len(loaded) * 0.95)]
    return [
        "| measure | value |",
        "|---|---|",
        f"| /api/regions median, idle | {idle_median:.1f} ms ({len(idle)} calls) |",
        f"| /api/regions median, {users} users on heavy pages | {loaded_median:.1f} ms, p95 {loaded_p95:.0f} ms "
        f"({len(loaded)} calls by {PROBES} callers) |",
        f"| ratio (target <= {TARGET_CONCURRENT:g}x) | {ratio:.1f}x{' MISSED' if ratio > TARGET_CONCURRENT else ''} |",
        f"| heavy pages served | {len(done)} in {elapsed:.0f} s ({len(done) / elapsed:.1f}/s), median {statistics.median(done) if done else 0:.0f} ms |",
        f"| errors | {len(errors)}{': ' + ', '.join(sorted(set(errors))[:5]) if errors else ''} |",
    ]


def memory(master: int, browsers: dict, subjects: dict, repeats: int) -> list[str]:
    """Run on fresh workers, before the pages: RSS and peak RSS (VmHWM) of each worker before any export, after
    exporting the 10-session client `repeats` times (FHIR and CSV), then the 1,000-session client."""
    lines = [
        "| phase | RSS per worker, MB | peak (VmHWM) per worker, MB | largest peak growth, MB |",
        "|---|---|---|---:|",
    ]

    def snapshot() -> dict[int, tuple[float, float]]:
        return {pid: (status_mb(pid, "VmRSS"), status_mb(pid, "VmHWM")) for pid in worker_pids(master)}

    def row(label: str, now: dict, before: dict | None) -> str:
        growth = max(now[pid][1] - before[pid][1] for pid in now if pid in before) if before else None
        return (
            f"| {label} | {', '.join(f'{rss:.0f}' for rss, _ in now.values())} | "
            f"{', '.join(f'{peak:.0f}' for _, peak in now.values())} | {'' if growth is None else f'{growth:+.0f}'} |"
        )

    for who in ("small", "large"):  # the workers load their code and caches first
        browsers[who].get(f"/clients/{subjects[who]['client']}")
    before = snapshot()
    lines.append(row("fresh workers, one client page each", before, None))
    for label, who in (("10-session client", "small"), ("1,000-session client", "large")):
        client = subjects[who]["client"]
        for _ in range(repeats):
            for export in ("export.fhir.json", "export.csv"):
                status, _, _ = browsers[who].get(f"/clients/{client}/{export}")
                if status != 200:
                    raise SystemExit(f"export {export} of {client}: HTTP {status}")
        after = snapshot()
        lines.append(row(f"after {repeats}x FHIR + CSV of the {label}", after, before))
        before = after
    return lines


def logged_in(port: int, subjects: dict, extra: dict | None = None) -> tuple[list[Page], dict]:
    """The pages of the server on `port`, and browsers logged in to it as the two therapists and the owner. `extra`:
    the calendar feed and intake link another server's setup made (the data is shared; a second feed token would
    end the first)."""
    browsers = {"anon": Browser(port)}
    for who in ("small", "large"):
        browsers[who] = Browser(port)
        email = subjects["emails"][who]
        browsers[who].login(email, password_of(email))
    browsers["admin"] = Browser(port)
    browsers["admin"].login(subjects["admin"].email, password_of(subjects["admin"].email))
    return build_pages(subjects, extra if extra is not None else setup_extras(browsers, subjects)), browsers


def page_path(pages: list[Page], prefix: str) -> str | None:
    return next((page.path for page in pages if page.name.startswith(prefix)), None)


def only_matching(pages: list[Page], only: str) -> list[Page]:
    wanted = re.compile(only)
    return [page for page in pages if page.name == FLOOR or wanted.search(page.name)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a database filled by `flask demo large`")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--users", type=int, default=20, help="concurrent users in the load part")
    parser.add_argument("--load-seconds", type=float, default=30)
    parser.add_argument("--export-repeats", type=int, default=5)
    parser.add_argument("--skip-load", action="store_true", help="pages only")
    parser.add_argument("--skip-pages", action="store_true", help="load (and memory) only")
    parser.add_argument(
        "--only", default="", help="measure only the pages whose name matches this regex (and the floor)"
    )
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"], help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument(
        "--api-workers",
        type=int,
        default=0,
        help="serve /api/ from its own gunicorn pool of this many sync workers (a proxy routes /api/ there); "
        "the load part calls the API on it",
    )
    parser.add_argument(
        "--compare",
        default="",
        help="another checkout of the app (e.g. a git worktree of an earlier commit): served alongside by its own "
        "gunicorn on the same database, its pages measured in the same interleaved rounds; a before/after table",
    )
    args = parser.parse_args()

    subjects = find_subjects(args.database_url)
    print(
        f"10-session client {subjects['small']['client']} ({subjects['small']['sessions']} sessions, "
        f"{subjects['emails']['small']}); large client {subjects['large']['client']} "
        f"({subjects['large']['sessions']} sessions, {subjects['emails']['large']})",
        file=sys.stderr,
    )
    port = free_port()
    server = start_server(args.database_url, port, args.workers, args.worker_class, args.threads)
    api_server = api_port = None
    if args.api_workers:
        api_port = free_port()
        api_server = start_server(args.database_url, api_port, args.api_workers)
    setup = f"{args.workers} {args.worker_class} workers" + (
        f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    )
    if args.api_workers:
        setup += f"; /api/ on its own {args.api_workers} sync workers"
    compared = compared_port = None
    if args.compare:
        compared_port = free_port()
        compared = start_server(args.database_url, compared_port, args.workers, root=Path(args.compare).resolve())
    try:
        pages, browsers = logged_in(port, subjects)
        skipped = check_coverage(pages)
        servers = [(only_matching(pages, args.only), browsers)]
        if compared_port:
            extra = {"feed": page_path(pages, "calendar feed .ics"), "intake_form": page_path(pages, "intake form")}
            compared_pages, compared_browsers = logged_in(compared_port, subjects, extra)
            servers.append((only_matching(compared_pages, args.only), compared_browsers))
        pages = servers[0][0]
        if not args.skip_load:
            memory_lines = memory(server.pid, browsers, subjects, args.export_repeats)
        if not args.skip_pages:
            measure_pages(servers, args.rounds, args.warmup)
            print(f"\n### Pages ({args.rounds} interleaved rounds after {args.warmup} warm-up, {setup})\n")
            print("\n".join(page_table(pages)))
            if compared_port:
                print(f"\n### Against {args.compare}, served alongside and measured in the same rounds\n")
                print("\n".join(comparison_table(servers[1][0], pages)))
            if not args.only:
                print("\nNot measured: " + "; ".join(f"`{endpoint}` ({reason})" for endpoint, reason in skipped))
        if not args.skip_load:
            print(f"\n### Under load ({args.users} concurrent users, {args.load_seconds:g} s, {setup})\n")
            print("\n".join(concurrency(port, browsers, subjects, args.users, args.load_seconds, api_port)))
            print(f"\n### Memory (exports on fresh workers, {args.export_repeats} of each, before the pages)\n")
            print("\n".join(memory_lines))
    finally:
        for process in (server, api_server, compared):
            if process is not None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
