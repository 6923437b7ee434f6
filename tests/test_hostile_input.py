"""Hostile input at every route of the URL map: no server error, nothing stored from a refused request, and
no control character ever stored.

A property-based test (hypothesis) draws a route of `app.url_map` (its forms as the app renders them, its JSON
body, its query arguments and its path) and a hostile value (NUL and other control characters, numbers beyond
any column, negative numbers, dates at the ends of the calendar, long text, unicode), logged in as a therapist
and as the owner. The suite's `db` fixture runs it on SQLite and, with KNOTWORK_TEST_POSTGRES, on PostgreSQL.
The inputs tried and the server errors seen are counted per database and printed at the end of the run.
"""

import importlib
import json
import pkgutil
from collections import Counter
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa
import wtforms
from bs4 import BeautifulSoup, SoupStrainer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clinic
from clinic.extensions import db
from clinic.forms import CONTROL_CHARACTER_MESSAGE, KnotworkForm, KnotworkSubForm
from clinic.models import Role
from clinic.rules import MAX_RECORD_ID
from tests.factories import make_appointment, make_client, make_intake, make_intake_link, make_session, make_user
from tests.helpers import field_error, login_fast, parse, submit, text, values_of_form

# Routes not thrown at: files, and logging out (it would end the run's login).
NOT_THROWN_AT = {"static", "charts.plotly_js", "auth.logout"}
# Every query argument some route reads.
QUERY_ARGS = (
    "from",
    "to",
    "page",
    "user",
    "client",
    "therapist",
    "q",
    "date",
    "view",
    "start",
    "length",
    "appointment",
    "repeat",
    "draft",
    "next",
    "show",
    "regions",
    "region",
    "action",
    "date_from",
    "date_to",
)
# Tables that hold records; a refused request must leave every row of them as it was. (The audit log, drafts
# and the throttles' counters are written on refusals on purpose: a view, a failed login, a wrong link.)
RECORD_TABLES = (
    "users",
    "clients",
    "client_shares",
    "treatment_sessions",
    "point_treatments",
    "appointments",
    "intakes",
    "intake_links",
    "clinic_settings",
)
CONTROL = {chr(code) for code in range(0x20) if chr(code) not in "\t\n\r"} | {"\x7f"}

FIXED = [
    "\x00",
    "a\x00b",
    "\x00" * 3,
    "\x1b[31m",
    "\x07\x08\x0b\x0c",
    "line\r\nbreak",
    "\t",
    str(MAX_RECORD_ID + 1),
    str(2**63),
    str(2**64 + 1),
    "9" * 40,
    "-1",
    "-2147483649",
    "0",
    "1e400",
    "NaN",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2026-02-30",
    "x" * 300,
    "é" * 5000,
    "𝕏" * 2000,
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "Ω≈ç√∫",
    "🙂" * 50,
    "٣",
    "²",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "//evil.example/",
    "/\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "",
    " ",
]
# Surrogates cannot be sent as UTF-8 by any client; everything else may be.
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
HOSTILE = st.one_of(
    st.sampled_from(FIXED),
    ANY_TEXT,
    st.builds(lambda a, c, b: a + c + b, ANY_TEXT, st.sampled_from(sorted(CONTROL)), ANY_TEXT),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(lambda day: day.isoformat()),
)
# A path segment where an id or a token goes.
HOSTILE_SEGMENT = st.sampled_from(
    [str(MAX_RECORD_ID + 1), str(2**63), "9" * 30, "-1", "0", "٣", "%00", "a%00", "x" * 300, "%F0%9F%99%82"]
)

# What marks a refusal on a page: a message beside a field, the error summary, an error flash.
ERROR_CLASSES = ["error", "error-summary", "alert-error"]

TRIED: Counter = Counter()


def database_name() -> str:
    return db.engine.dialect.name


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    """Print the inputs tried and the server errors seen per database at the end of this file's tests."""
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for name in sorted({key[0] for key in TRIED}):
            print(f"\nhostile input on {name}: {TRIED[name, 'inputs']} inputs tried, {TRIED[name, '5xx']} answered 5xx")


# --- the clinic the requests are thrown at ---------------------------------------------------------------


@pytest.fixture
def world(app, therapist, admin):
    record = make_client(therapist)
    session = make_session(record)
    appointment = make_appointment(record)
    intake = make_intake(record)
    _link, token = make_intake_link(record)
    other = make_user(Role.THERAPIST, name="Tess Third", email="tess@clinic.example")
    return {
        "client_id": record.id,
        "session_id": session.id,
        "appointment_id": appointment.id,
        "intake_id": intake.id,
        "user_id": other.id,
        "token": token,
        "slug": "upper-trapezius",
        "version": "0" * 20,  # the session form kit's: an old version gets the current kit
    }


def rules_thrown_at(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_THROWN_AT]


def url_for_rule(rule, values: dict) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", str(values[name])).replace(f"<int:{name}>", str(values[name]))
    return path


class Thrower:
    """Knows each route's forms (found by reading every page) and throws values at the route."""

    def __init__(self, client, world: dict) -> None:
        self.client = client
        self.world = world
        self.rules = rules_thrown_at(client.application)
        self.form_pages: dict[str, str] = {}  # a form's action path -> the page that shows it
        self.forms: dict[str, dict] = {}
        for rule in self.rules:
            if "GET" in rule.methods and not rule.rule.endswith((".json", ".csv", ".ics")):
                page = url_for_rule(rule, world)
                response = client.get(page)
                if response.status_code == 200 and response.mimetype == "text/html":
                    for form in parse(response).select("form"):
                        if (form.get("method") or "get").lower() == "post":
                            self.form_pages.setdefault(urlsplit(form.get("action") or page).path, page)

    def form_values(self, action: str) -> dict:
        """The form as the app renders it (its CSRF token and the record's version), or only a CSRF token.
        Read again after a request that may have changed something (`changed`)."""
        if action not in self.forms:
            self.forms[action] = self._read_form(action)
        return dict(self.forms[action])

    def _read_form(self, action: str) -> dict:
        page = self.form_pages.get(action)
        if page is not None:
            for form in parse(self.client.get(page)).select("form"):
                if urlsplit(form.get("action") or page).path == action:
                    return values_of_form(form)
        token = parse(self.client.get("/account")).find("input", attrs={"name": "csrf_token"})
        return {"csrf_token": token["value"] if token else ""}

    def changed(self, response) -> None:
        if not refused(response):
            self.forms.clear()

    def throw(self, data) -> tuple[str, object]:
        """Draw a route and where to put hostile values; send it. Returns (what was sent, response)."""
        rule = data.draw(st.sampled_from(self.rules), label="route")
        values = dict(self.world)
        if rule.arguments and data.draw(st.integers(0, 3), label="hostile path") == 0:
            name = data.draw(st.sampled_from(sorted(rule.arguments)))
            values[name] = data.draw(HOSTILE_SEGMENT)
        path = url_for_rule(rule, values)
        args = {name: data.draw(HOSTILE) for name in data.draw(st.sets(st.sampled_from(QUERY_ARGS), max_size=3))}
        url = path + ("?" + urlencode(args) if args else "")
        methods = sorted(rule.methods & {"GET", "POST"})
        method = data.draw(st.sampled_from(methods), label="method")
        if method == "GET":
            return f"GET {url}", self.client.get(url)
        if rule.endpoint.startswith("treatments.draft"):
            return self._json(data, url)
        form = self.form_values(urlsplit(path).path)
        names = [name for name in form if name != "csrf_token"] or ["submit"]
        for name in data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3), label="fields"):
            form[name] = data.draw(HOSTILE)
        return f"POST {url} {form!r}", self.client.post(url, data=form)

    def _json(self, data, url: str):
        token = self.form_values(urlsplit(url).path)["csrf_token"]
        value = data.draw(HOSTILE)
        body = data.draw(
            st.sampled_from(
                [
                    {"scope": value, "fields": {"notes": ["x"]}},
                    {"scope": "new", "fields": {"notes": [value]}},
                    {"scope": "new", "fields": {value: [value]}},
                    {"scope": "new", "fields": value},
                    {value: value},
                ]
            )
        )
        response = self.client.post(url, data=json.dumps(body), content_type="application/json",
                                    headers={"X-CSRFToken": token})  # fmt: skip
        return f"POST {url} {body!r}", response


def fingerprint() -> dict[str, list]:
    """Every row of every record table, read on a connection of its own."""
    with db.engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))]
            for name, table in db.metadata.tables.items()
            if name in RECORD_TABLES
        }


def stored_control_characters() -> list[str]:
    """Text columns of any table that hold a control character (tab, newline and carriage return allowed)."""
    found = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            columns = [column for column in table.columns if isinstance(column.type, sa.String)]
            for row in connection.execute(sa.select(*columns)) if columns else []:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str) and CONTROL & set(value):
                        found.append(f"{table.name}.{column.name}={value!r}")
    return found


def refused(response) -> bool:
    """The app said no: an error status, or the page back with a message beside a field or in the summary."""
    if response.status_code >= 400:
        return True
    if response.status_code != 200 or response.mimetype != "text/html":
        return False
    if not hasattr(response, "refused"):
        html = text(response)
        # Parsing a page of half a megabyte (the session form) is slow: parse only a page that may hold a message.
        maybe = any(mark in html for mark in ('-error"', "error-summary", "alert-error"))
        page = BeautifulSoup(html, "html.parser", parse_only=SoupStrainer(class_=ERROR_CLASSES)) if maybe else None
        response.refused = bool(page and (page.select('[id$="-error"]') or page.select(".alert-error")))
    return response.refused


def check(sent: str, response, before: dict) -> None:
    name = database_name()
    TRIED[name, "inputs"] += 1
    if response.status_code >= 500:
        TRIED[name, "5xx"] += 1
    assert response.status_code < 500, f"{response.status_code} for {sent}"
    if refused(response):
        assert fingerprint() == before, f"a refused request ({response.status_code}) stored something: {sent}"
    assert not stored_control_characters(), f"a control character was stored by {sent}"


@pytest.mark.parametrize("role", ["therapist", "admin"])
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_hostile_values_anywhere_never_give_a_server_error_nor_store_a_refused_request(
    client, world, therapist, admin, role, data
):
    if not getattr(client, "thrower", None):
        login_fast(client, therapist if role == "therapist" else admin)
        client.thrower = Thrower(client, world)
    before = fingerprint()
    sent, response = client.thrower.throw(data)
    check(sent, response, before)
    client.thrower.changed(response)


# Each query argument at its edge: dates at both ends of the calendar, numbers beyond any column.
EDGE_ARGS = [
    {name: "9999-12-31" if "date" in name or name in ("to", "start") else str(2**63) for name in QUERY_ARGS},
    {name: "0001-01-01" if "date" in name or name in ("from", "start") else "-1" for name in QUERY_ARGS},
]


def test_every_route_and_form_field_gets_a_nul_byte_and_a_number_beyond_any_column(client, world, admin):
    """The sweep that the random draws may miss, as the owner (who may open every route): every route once
    with every query argument at its edges and once holding a NUL byte, every field of every form once with a
    NUL byte or 2^63 (in turn), and every id in a path beyond the id column."""
    login_fast(client, admin)
    thrower = Thrower(client, world)
    forms_seen = set()
    for rule in thrower.rules:
        path = url_for_rule(rule, world)
        if "GET" in rule.methods:
            for args in [dict.fromkeys(QUERY_ARGS, "a\x00b"), *EDGE_ARGS]:
                before = fingerprint()
                url = f"{path}?{urlencode(args)}"
                check(f"GET {url}", client.get(url), before)
        if "POST" in rule.methods and not rule.endpoint.startswith("treatments.draft"):
            names = [name for name in thrower.form_values(path) if name != "csrf_token"]
            for number, name in enumerate(names):
                forms_seen.add(rule.endpoint)
                value = "a\x00b" if number % 2 == 0 else str(2**63)
                form = {**thrower.form_values(path), name: value}
                before = fingerprint()
                response = client.post(path, data=form)
                check(f"POST {path} {name}={value!r}", response, before)
                thrower.changed(response)
        for name in rule.arguments:
            url = url_for_rule(rule, {**world, name: str(MAX_RECORD_ID + 1)})
            response = client.get(url) if "GET" in rule.methods else client.post(url)
            check(f"{url}", response, fingerprint())
            assert response.status_code in (400, 404, 405), f"{response.status_code} for {url}"
    # The forms were really found and filled: the session form, the client form, the appointment form at least.
    assert {"treatments.create", "clients.edit", "appointments.create"} <= forms_seen


# --- the pieces, one by one ----------------------------------------------------------------------------------


def all_form_classes() -> set[type]:
    for module in pkgutil.walk_packages(clinic.__path__, "clinic."):
        importlib.import_module(module.name)
    found, todo = set(), [wtforms.Form]
    while todo:
        for subclass in todo.pop().__subclasses__():
            todo.append(subclass)
            if subclass.__module__.startswith("clinic."):
                found.add(subclass)
    return found


def test_every_form_of_the_app_refuses_control_characters():
    forms = all_form_classes() - {KnotworkForm, KnotworkSubForm}
    assert len(forms) >= 15  # the walk found the app's forms
    outside = sorted(f"{form.__module__}.{form.__qualname__}" for form in forms
                     if not issubclass(form, KnotworkForm | KnotworkSubForm))  # fmt: skip
    assert not outside, f"forms that do not inherit clinic.forms.KnotworkForm/KnotworkSubForm: {outside}"


@pytest.mark.parametrize(
    "value", ["Ann\x00e", "Ann\x1b", "Ann\x7f", "Ann\te", "Ann\x85", "Ann\u202eenaR", "Ann\u2066e"]
)
def test_a_control_character_in_a_one_line_field_is_refused_beside_the_field(therapist_client, db, value):
    from clinic.models import Client

    response = submit(therapist_client, "/clients/new", {"full_name": value, "date_of_birth": "1980-01-02"})
    assert response.status_code == 200
    assert field_error(response, "full_name") == CONTROL_CHARACTER_MESSAGE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_a_multi_line_field_keeps_newlines_and_tabs_but_not_a_nul(therapist_client, db):
    from clinic.models import Client

    fields = {"full_name": "Ann Lee", "date_of_birth": "1980-01-02"}
    refused_page = submit(therapist_client, "/clients/new", {**fields, "notes": "first\x00second"})
    assert field_error(refused_page, "notes") == CONTROL_CHARACTER_MESSAGE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    stored = submit(therapist_client, "/clients/new", {**fields, "notes": "first\r\n\tsecond"})
    assert stored.status_code == 302
    assert db.session.scalar(sa.select(Client.notes)) == "first\r\n\tsecond"


def test_a_control_character_in_a_point_row_is_refused_beside_its_field(therapist_client, db, therapist, today):
    from clinic.models import TreatmentSession

    record = make_client(therapist)
    page = f"/clients/{record.id}/sessions/new"
    form = values_of_form(parse(therapist_client.get(page)).select_one("form.session-form"))
    form.update({"started_at": f"{today.isoformat()}T09:00", "length_minutes": "60", "pain_before": "6",
                 "points-0-trigger_point": "upper-trapezius/1", "points-0-side": "right",
                 "points-0-pressure_seconds": "60", "points-0-pain": "6", "points-0-note": "tender\x00"})  # fmt: skip
    response = therapist_client.post(page, data=form)
    assert response.status_code == 200
    assert field_error(response, "points-0-note") == CONTROL_CHARACTER_MESSAGE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TreatmentSession)) == 0


@pytest.mark.parametrize("query", ["q=a%00b", "from=2026-01-01%00", "page=1%00"])
def test_a_nul_byte_in_the_query_string_is_a_clean_400(therapist_client, therapist, query):
    record = make_client(therapist)
    for path in ("/clients/", f"/clients/{record.id}", f"/clients/{record.id}/pain-history.json", "/api/regions"):
        assert therapist_client.get(f"{path}?{query}").status_code == 400, path


def test_a_nul_byte_in_a_json_body_is_a_clean_400(therapist_client, therapist, db):
    from clinic.models import SessionDraft

    record = make_client(therapist)
    page = f"/clients/{record.id}/sessions/new"
    token = parse(therapist_client.get(page)).find("input", attrs={"name": "csrf_token"})["value"]
    response = therapist_client.post(
        f"/clients/{record.id}/sessions/draft",
        json={"scope": "new", "fields": {"notes": ["a\x00b"]}},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400 and response.is_json
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SessionDraft)) == 0


@pytest.mark.parametrize("number", [MAX_RECORD_ID + 1, 2**63, 2**64])
def test_ids_beyond_the_column_are_not_found(therapist_client, therapist, number):
    record = make_client(therapist)
    assert therapist_client.get(f"/clients/{number}").status_code == 404
    assert therapist_client.get(f"/clients/{record.id}/sessions/{number}").status_code == 404
    assert therapist_client.get(f"/clients/{record.id}/sessions/new?appointment={number}").status_code == 404
    for query in ("page", "client", "therapist"):
        assert therapist_client.get(f"/clients/?{query}={number}").status_code == 200
        assert therapist_client.get(f"/appointments/new?{query}={number}").status_code == 200


def test_the_largest_id_is_still_an_id(therapist_client):
    assert therapist_client.get(f"/clients/{MAX_RECORD_ID}").status_code == 404  # looked up, not refused
    from clinic.params import parse_record_id

    assert [parse_record_id(v) for v in ("1", str(MAX_RECORD_ID), str(MAX_RECORD_ID + 1), "0", "-1", "٣", " 7 ")] == [
        1,
        MAX_RECORD_ID,
        None,
        None,
        None,
        None,
        7,
    ]


def test_the_audit_filter_ignores_a_user_beyond_the_column(admin_client):
    response = admin_client.get(f"/admin/audit?user={2**63}&client={2**63}&page={2**63}")
    assert response.status_code == 200
