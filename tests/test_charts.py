"""Pain history: the JSON contract, the clinically meaningful rule, periods, access, and query counts."""

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.figures import figures
from clinic.kb import knowledge_base
from clinic.outcomes import progress
from clinic.rules import is_meaningful_improvement
from tests.factories import make_client, make_session
from tests.helpers import clinic_zone, definitions, element, element_text, has_element, login_fast, text


def at(day: int) -> datetime:
    return datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(days=day)


@contextmanager
def count_queries(engine):
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def record(therapist):
    return make_client(therapist, full_name="Chart Client")


def test_pain_history_contract(therapist_client, record):
    make_session(
        record,
        started_at=at(7),
        pain_before=5,
        pain_after=2,
        points=[{"trigger_point_id": "soleus/1", "side": "left", "pressure_seconds": 45, "pain": 6}],
    )
    first = make_session(
        record,
        started_at=at(0),
        pain_before=8,
        pain_after=5,
        points=[
            {"trigger_point_id": "upper-trapezius/1", "side": "both", "pressure_seconds": 60, "pain": 7},
            {"trigger_point_id": "masseter/1", "side": "right", "pressure_seconds": 30, "pain": 5},
        ],
    )
    response = therapist_client.get(f"/clients/{record.id}/pain-history.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"client_id", "sessions", "intakes"} and body["client_id"] == record.id
    assert body["intakes"] == []  # DESIGN 11: no intakes yet (tests/test_intake.py covers them)
    assert [s["pain_before"] for s in body["sessions"]] == [8, 5], "oldest first"
    session = body["sessions"][0]
    assert set(session) == {"id", "date", "pain_before", "pain_after", "points"}
    assert session["id"] == first.id
    # The moment of the session, written on the clinic's clock with its offset (whatever CLINIC_TIMEZONE is).
    written = datetime.fromisoformat(session["date"])
    assert written == at(0) and written.utcoffset() == at(0).astimezone(clinic_zone()).utcoffset()
    assert session["points"][0] == {
        "trigger_point": "upper-trapezius/1",
        "muscle": "Upper trapezius",
        "side": "both",
        "pressure_seconds": 60,
        "pain": 7,
    }
    assert [p["muscle"] for p in body["sessions"][1]["points"]] == ["Soleus"]


def test_pain_history_for_a_client_without_sessions(therapist_client, record):
    assert therapist_client.get(f"/clients/{record.id}/pain-history.json").get_json() == {
        "client_id": record.id,
        "sessions": [],
        "intakes": [],
    }


def test_query_count_does_not_grow_with_sessions(therapist_client, record, db):
    def queries_for_history():
        with count_queries(db.engine) as statements:
            assert therapist_client.get(f"/clients/{record.id}/pain-history.json").status_code == 200
        return len(statements)

    make_session(record, started_at=at(0))
    few = queries_for_history()
    for day in range(1, 40):
        make_session(record, started_at=at(day), points=[{"trigger_point_id": "soleus/1"}] * 4)
    assert queries_for_history() == few


def test_period_filter(therapist_client, record):
    for day in (0, 10, 20):
        make_session(record, started_at=at(day))
    url = f"/clients/{record.id}/pain-history.json?from=2026-03-05&to=2026-03-11"
    assert [s["date"][:10] for s in therapist_client.get(url).get_json()["sessions"]] == ["2026-03-11"]
    url = f"/clients/{record.id}/pain-history.json?to=2026-03-01"
    assert len(therapist_client.get(url).get_json()["sessions"]) == 1


@pytest.mark.parametrize("query", ["from=yesterday", "to=2026-13-01", "from=2026-03-10&to=2026-03-01"])
def test_bad_period_is_400_json(therapist_client, record, query):
    response = therapist_client.get(f"/clients/{record.id}/pain-history.json?{query}")
    assert response.status_code == 400 and response.is_json and response.get_json()["message"]


def test_other_therapist_and_missing_client_get_404(client, record, other_therapist):
    login_fast(client, other_therapist)
    assert client.get(f"/clients/{record.id}/pain-history.json").status_code == 404
    assert client.get("/clients/9999/pain-history.json").status_code == 404


def test_needs_login_and_says_so_in_json(client, record):
    response = client.get(f"/clients/{record.id}/pain-history.json")
    assert response.status_code == 401 and response.is_json


def test_period_boundaries_are_local_days(therapist_client, record, app):
    """In New York (summer time from 8 March 2026), 23:30 on 10 March is 03:30 UTC on 11 March: it belongs
    to 10 March."""
    app.config["CLINIC_TIMEZONE"] = "America/New_York"
    make_session(record, started_at=datetime(2026, 3, 11, 3, 30, tzinfo=UTC))
    url = f"/clients/{record.id}/pain-history.json"
    assert len(therapist_client.get(f"{url}?from=2026-03-10&to=2026-03-10").get_json()["sessions"]) == 1
    assert therapist_client.get(f"{url}?from=2026-03-11").get_json()["sessions"] == []


# --- the clinically meaningful rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "baseline, pain, meaningful",
    [
        (0, 0, False),  # nothing to improve
        (2, 0, True),  # 2 points and 100%
        (2, 1, False),  # 50% but only 1 point
        (10, 8, False),  # 2 points but only 20%
        (10, 7, True),  # 3 points and 30%
        (6, 4, True),  # 2 points and 33%
        (7, 5, False),  # 2 points but 28.6%
        (8, 6, False),  # 2 points, 25%
        (5, 6, False),  # worse
    ],
)
def test_meaningful_improvement_edges(baseline, pain, meaningful):
    assert is_meaningful_improvement(baseline, pain) is meaningful


def test_progress_with_no_sessions_and_one_session(record):
    empty = progress([])
    assert (empty.baseline, empty.latest, empty.change, empty.meaningful, empty.first_meaningful) == (
        None,
        None,
        None,
        False,
        None,
    )
    single = progress([make_session(record, pain_before=7, pain_after=2)])
    assert (single.baseline, single.latest, single.change, single.meaningful) == (7, 7, 0, False)
    assert single.first_meaningful is None


def test_progress_marks_the_first_meaningful_session(record):
    sessions = [
        make_session(record, started_at=at(day), pain_before=pain) for day, pain in enumerate([8, 7, 6, 5, 6, 3])
    ]
    state = progress(sessions)
    assert state.first_meaningful == sessions[3]  # 8 -> 5: 3 points, 37.5%
    assert (state.baseline, state.latest, state.change, state.meaningful) == (8, 3, -5, True)


def test_figures_read_with_one_and_with_300_sessions(app, record, db):
    kb = knowledge_base()
    one = figures([make_session(record, started_at=at(0))], kb)
    assert set(one) == {"pain", "muscles", "counts", "pressure"}
    assert "markers" in trace_named(one["pain"], "Pain before")["mode"]
    many = [make_session(record, started_at=at(day), pain_before=8 - day // 50) for day in range(1, 300)]
    big = figures(many, kb)
    before = trace_named(big["pain"], "Pain before")
    assert before["mode"] == "lines"  # 300 markers would be noise
    assert len(before["x"]) == 299
    # With hundreds of sessions the trend is a monthly average over faint raw lines.
    average = trace_named(big["pain"], "Pain before, monthly average")
    assert 9 <= len(average["x"]) <= 11 and before["opacity"] == 0.3
    assert all(len(trace["x"]) <= 11 for trace in big["muscles"]["data"])
    assert figures([], kb) == {}


def trace_named(figure: dict, name: str) -> dict:
    [trace] = [trace for trace in figure["data"] if trace.get("name") == name]
    return trace


def days_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 86400


@pytest.mark.parametrize("count", [1, 2, 12, 1000])
def test_time_axis_reads_as_dates_from_one_to_a_thousand_sessions(app, record, count):
    """One session once gave a time axis of milliseconds: every chart's axis now spans days at least, and its
    tick labels are dates (never a time of day below the day's width)."""
    from clinic.models import TreatmentSession

    sessions = [
        TreatmentSession(id=n + 1, started_at=at(n * 2), pain_before=7, pain_after=4, pain_regions=[], points=[])
        for n in range(count)
    ]
    built = figures(sessions, knowledge_base())
    for name in ("pain", "muscles", "pressure"):
        axis = built[name]["layout"]["xaxis"]
        start, end = axis["range"]
        assert axis["type"] == "date" and days_between(start, end) >= 6, name
        assert days_between(start, end) >= 2 * (count - 1), name
        formats = {stop["value"] for stop in axis["tickformatstops"] if stop["dtickrange"][0] is not None}
        assert all("%Y" in value for value in formats), formats
        assert axis["automargin"] is True


def test_most_treated_counts_have_whole_number_ticks(app, record):
    one = figures([make_session(record, started_at=at(0))], knowledge_base())
    axis = one["counts"]["layout"]["xaxis"]
    assert axis["dtick"] == 1 and axis["tickformat"] == ",d"
    many = [make_session(record, started_at=at(day), points=[{"trigger_point_id": "soleus/1"}] * 3) for day in range(5)]
    assert "dtick" not in figures(many, knowledge_base())["counts"]["layout"]["xaxis"]  # 15 points: Plotly's steps


def test_reference_levels_are_labelled_in_the_legend_not_on_the_data(app, record):
    built = figures(
        [make_session(record, started_at=at(0), pain_before=8), make_session(record, started_at=at(7), pain_before=4)],
        knowledge_base(),
    )
    target = trace_named(built["muscles"], "Target about 7/10")
    assert set(target["y"]) == {7} and target["hoverinfo"] == "skip"
    assert set(trace_named(built["pain"], "First visit 8/10")["y"]) == {8}
    assert trace_named(built["pain"], "Meaningful improvement (≤ 5.6)")["fill"] == "toself"
    for figure in built.values():
        assert not figure["layout"].get("annotations"), "no text drawn over lines and markers"
        assert "title" not in figure["layout"] and figure["title"], "the title is shown above the chart"


def test_every_session_marker_carries_its_session_id(app, record):
    sessions = [make_session(record, started_at=at(day), pain_before=8 - day) for day in (0, 7)]
    built = figures(sessions, knowledge_base())
    ids = [s.id for s in sessions]
    assert [row[0] for row in trace_named(built["pain"], "Pain before")["customdata"]] == ids
    assert [row[0] for row in trace_named(built["pain"], "Pain after")["customdata"]] == ids
    assert [row[0] for row in trace_named(built["muscles"], "Upper trapezius")["customdata"]] == ids
    assert [row[0] for row in trace_named(built["pressure"], "Within range")["customdata"]] == ids


def test_the_period_filters_the_sessions_table_too(therapist_client, record):
    from bs4 import BeautifulSoup

    for day in (0, 10, 20):
        make_session(record, started_at=at(day))
    soup = BeautifulSoup(
        text(therapist_client.get(f"/clients/{record.id}?from=2026-03-05&to=2026-03-15")), "html.parser"
    )
    rows = soup.select(".sessions-card tbody tr")
    assert [row.td.get_text(strip=True)[:11] for row in rows] == ["11 Mar 2026"]
    assert soup.select_one(".sessions-card .count").get_text() == "1"
    soup = BeautifulSoup(text(therapist_client.get(f"/clients/{record.id}?from=2027-01-01")), "html.parser")
    assert soup.select(".sessions-card tbody tr") == []


def test_first_reached_is_counted_over_the_whole_history(therapist_client, record):
    """Meaningful improvement was first reached on 8 Mar; a period from 10 Mar must still say 8 Mar, not the
    first session inside the period."""
    from bs4 import BeautifulSoup

    for day, pain in ((0, 9), (7, 5), (14, 4), (21, 3)):
        make_session(record, started_at=at(day), pain_before=pain)
    soup = BeautifulSoup(text(therapist_client.get(f"/clients/{record.id}?from=2026-03-10")), "html.parser")
    verdict = soup.find("dt", string="Clinically meaningful").find_next_sibling("dd").get_text(" ", strip=True)
    assert verdict == "Yes first reached 8 Mar 2026"
    data = json.loads(soup.select_one("#chart-data").string)
    assert "First meaningful improvement" not in [t.get("name") for t in data["pain"]["data"]], "outside the period"


def test_client_page_shows_charts_or_says_what_will_appear(therapist_client, record):
    html = text(therapist_client.get(f"/clients/{record.id}"))
    assert element_text(html, ".history-card > p.muted").startswith("No sessions yet.")
    assert not has_element(html, "#chart-data") and not has_element(html, "dl.headline")
    make_session(record, started_at=at(0), pain_before=8)
    make_session(record, started_at=at(7), pain_before=4)
    html = text(therapist_client.get(f"/clients/{record.id}"))
    assert has_element(html, '.history-card [data-chart="pain"]')
    assert set(json.loads(element(html, "script#chart-data").string)) == {"pain", "muscles", "counts", "pressure"}
    assert has_element(html, 'script[src="/vendor/plotly.min.js"]')
    headline = definitions(html, "dl.headline")
    assert headline["Clinically meaningful"] == "Yes first reached 8 Mar 2026"
    assert element_text(html, "dl.headline .badge") == "Yes"


def test_client_page_says_when_an_improvement_was_not_kept(therapist_client, record):
    for day, pain in enumerate([8, 4, 8]):
        make_session(record, started_at=at(7 * day), pain_before=pain)
    html = text(therapist_client.get(f"/clients/{record.id}"))
    assert definitions(html, "dl.headline")["Clinically meaningful"] == "Reached, not kept on 8 Mar 2026"
    assert element_text(html, "dl.headline .badge") == "Reached, not kept"


def test_a_period_mid_course_is_measured_from_the_first_visit(therapist_client, record):
    for day, pain in enumerate([9, 5, 4]):
        make_session(record, started_at=at(7 * day), pain_before=pain)
    html = text(therapist_client.get(f"/clients/{record.id}?from=2026-03-05"))
    assert definitions(html, "dl.headline") == {
        "Sessions": "2",  # in the period
        "First visit (baseline)": "9/10 1 Mar 2026",  # before it
        "Latest, on arrival": "4/10",
        "Change": "-5",
        "Clinically meaningful": "Yes first reached 8 Mar 2026",
    }


def test_viewing_the_pain_history_json_is_audited(therapist_client, record, db):
    from clinic.models import AuditEvent

    therapist_client.get(f"/clients/{record.id}/pain-history.json?from=2026-01-01")
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.entity_type, event.client_id, event.details) == (
        "view",
        "pain-history",
        record.id,
        {"period": {"from": "2026-01-01"}},
    )


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/New_York", "America/Adak"])
def test_a_far_future_end_date_is_fine(therapist_client, record, app, zone):
    app.config["CLINIC_TIMEZONE"] = zone
    make_session(record, started_at=at(0))
    response = therapist_client.get(f"/clients/{record.id}/pain-history.json?to=9999-12-31")
    assert response.status_code == 200 and len(response.get_json()["sessions"]) == 1
    assert therapist_client.get(f"/clients/{record.id}?to=9999-12-31").status_code == 200


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/New_York"])
@pytest.mark.parametrize(
    "period", ["from=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=9999-12-31", "from=9999-12-31"]
)
def test_a_period_at_the_ends_of_the_calendar_is_an_open_bound(therapist_client, record, app, zone, period):
    """A bound with no UTC time (the clinic's 9999-12-31 ends after UTC's last moment when west of UTC,
    0001-01-01 starts before its first when east) is an open bound, on every page that takes a period."""
    app.config["CLINIC_TIMEZONE"] = zone
    make_session(record, started_at=at(0))
    expected = 0 if period == "from=9999-12-31" else 1
    history = therapist_client.get(f"/clients/{record.id}/pain-history.json?{period}")
    assert history.status_code == 200 and len(history.get_json()["sessions"]) == expected
    for page in ("", "/summary", "/export.csv", "/export.fhir.json"):
        assert therapist_client.get(f"/clients/{record.id}{page}?{period}").status_code == 200, page


def test_client_page_period_with_no_sessions(therapist_client, record):
    make_session(record, started_at=at(0))
    html = text(therapist_client.get(f"/clients/{record.id}?from=2027-01-01"))
    assert "No sessions in this period." in html


def test_plotly_is_served_by_the_app(client):
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200 and b"plotly.js" in response.data[:200]
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_client_page_flags_pain_worse_than_the_first_visit(therapist_client, record):
    from bs4 import BeautifulSoup

    make_session(record, started_at=at(0), pain_before=8)
    make_session(record, started_at=at(7), pain_before=9)
    soup = BeautifulSoup(text(therapist_client.get(f"/clients/{record.id}")), "html.parser")
    change = soup.find("dt", string="Change").find_next_sibling("dd")
    assert change.get_text(" ", strip=True) == "+1 Worse than the first visit"
    make_session(record, started_at=at(14), pain_before=8)
    soup = BeautifulSoup(text(therapist_client.get(f"/clients/{record.id}")), "html.parser")
    assert soup.select_one(".badge-bad") is None, "back to the first visit's level is not worse"


def test_a_long_record_opens_on_its_latest_sessions_with_a_link_to_all_time(therapist_client, record, monkeypatch):
    """Without a period the page shows the days of the latest RECENT_SESSIONS sessions (here 3 of 5), says so
    in the period control, and "All time" shows every session."""
    import clinic.clients.routes as client_routes

    monkeypatch.setattr(client_routes, "RECENT_SESSIONS", 3)
    for day in (0, 10, 20, 30, 40):
        make_session(record, started_at=at(day))
    page = therapist_client.get(f"/clients/{record.id}")
    assert element_text(page, ".sessions-card .count") == "3"
    assert element(page, "input#from")["value"] == (at(20).astimezone(clinic_zone())).date().isoformat()
    assert "latest 3 sessions" in element_text(page, "[data-recent-period]")
    everything = therapist_client.get(element(page, "a[data-all-time]")["href"])
    assert element_text(everything, ".sessions-card .count") == "5"
    assert not has_element(everything, "[data-recent-period]")
    # A short record, or a period asked for, is shown as asked.
    assert element_text(therapist_client.get(f"/clients/{record.id}?from=2026-01-01"), ".sessions-card .count") == "5"
    monkeypatch.setattr(client_routes, "RECENT_SESSIONS", 5)
    short = therapist_client.get(f"/clients/{record.id}")
    assert element_text(short, ".sessions-card .count") == "5" and not has_element(short, "[data-recent-period]")


def test_the_chart_data_block_is_tojsons_json_and_as_safe_in_html(app, therapist_client, record):
    """json_block (orjson) gives the same JSON as Jinja's tojson, with the same characters escaped: nothing a
    client's data holds can close the <script> block. The page's figures parse back to figures()."""
    from jinja2.utils import htmlsafe_json_dumps

    from clinic.templating import json_block

    tricky = {"b": ["</script><b>", "Tom & Jerry's", "≤ 3"], "a": {"y": 1.5, "x": None, "z": [True, 2]}}
    written = str(json_block(tricky))
    assert json.loads(written) == json.loads(htmlsafe_json_dumps(tricky, dumps=json.dumps))
    assert list(json.loads(written)) == ["a", "b"]
    assert not any(character in written for character in "<>&'")
    for day, pain in ((0, 8), (7, 4)):
        make_session(record, started_at=at(day), pain_before=pain, points=[{"trigger_point_id": "upper-trapezius/1"}])
    html = text(therapist_client.get(f"/clients/{record.id}"))
    with app.test_request_context():
        from clinic.history import sessions_in_period

        expected = json.loads(json.dumps(figures(sessions_in_period(record), knowledge_base())))
    assert json.loads(element(html, "script#chart-data").string) == expected
