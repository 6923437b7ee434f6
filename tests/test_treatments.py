"""Logging treatment sessions: validation, all-or-nothing saving, double submits, access and audit."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from sqlalchemy.exc import IntegrityError

from clinic.models import AuditEvent, PointTreatment, TreatmentSession
from tests.factories import make_client, make_session
from tests.helpers import csrf_token, input_value, is_checked, login_fast, selected_option, text

TODAY = date.today()  # UTC on the test machines; tests that depend on the zone set CLINIC_TIMEZONE themselves


def session_data(**overrides) -> dict:
    data = {
        "started_at": f"{TODAY.isoformat()}T09:30",
        "length_minutes": "60",
        "pain_before": "7",
        "pain_after": "4",
        "pain_regions": ["temple", "side-of-neck"],
        "overload_cause": "sustained",
        "subjective": "Headache since Monday.",
        "objective": "",
        "assessment": "",
        "plan": "Review in a week.",
        "points-0-trigger_point": "upper-trapezius/1",
        "points-0-side": "right",
        "points-0-pressure_seconds": "60",
        "points-0-pain": "7",
        "points-0-release_felt": "y",
        "points-0-note": "",
        "points-1-trigger_point": "levator-scapulae/1",
        "points-1-side": "both",
        "points-1-pressure_seconds": "45",
        "points-1-pain": "6",
        "points-1-local_twitch": "y",
        "points-1-note": "Very tender",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def form_page(client, url: str) -> tuple[str, dict]:
    """The rendered form's hidden fields (CSRF, submission token, version)."""
    html = text(client.get(url))
    hidden = dict(
        re.findall(r'<input id="(csrf_token|submission_token|version)" name="\1" type="hidden" value="([^"]*)"', html)
    )
    return html, hidden


def post_session(client, client_id: int, **overrides):
    url = f"/clients/{client_id}/sessions/new"
    _, hidden = form_page(client, url)
    return client.post(url, data={**hidden, **session_data(**overrides)})


def sessions(db) -> list[TreatmentSession]:
    return list(db.session.scalars(sa.select(TreatmentSession).order_by(TreatmentSession.id)))


@pytest.fixture
def own_client(therapist):
    return make_client(therapist, full_name="Daniel Whitford", contraindications="On warfarin: light pressure only.")


# --- the form ------------------------------------------------------------------------------------------


def test_form_shows_contraindications_first_and_defaults(therapist_client, own_client):
    html, hidden = form_page(therapist_client, f"/clients/{own_client.id}/sessions/new")
    assert html.index("On warfarin") < html.index('name="pain_before"')
    assert hidden["submission_token"]
    assert input_value(html, "started_at").startswith(TODAY.isoformat() + "T")
    assert input_value(html, "length_minutes") == "60"
    assert 'data-point-picker="true"' in html and 'data-tp="upper-trapezius/1"' in html


def test_row_template_for_the_script_uses_the_form_field_names(therapist_client, own_client):
    html, _ = form_page(therapist_client, f"/clients/{own_client.id}/sessions/new")
    template = html[html.index('<template id="point-row-template">') :]
    for name in ("trigger_point", "side", "pressure_seconds", "pain", "release_felt", "note"):
        assert f'name="points-__index__-{name}"' in template


def test_save_session_with_points(therapist_client, own_client, therapist, db):
    response = post_session(therapist_client, own_client.id)
    assert response.status_code == 302
    [saved] = sessions(db)
    assert response.headers["Location"] == f"/clients/{own_client.id}/sessions/{saved.id}"
    assert (saved.pain_before, saved.pain_after, saved.therapist_id) == (7, 4, therapist.id)
    assert saved.pain_regions == ["temple", "side-of-neck"] and saved.overload_cause == "sustained"
    assert saved.started_at.tzinfo is not None
    assert [
        (p.trigger_point_id, p.side, p.pressure_seconds, p.pain, p.release_felt, p.local_twitch, p.note)
        for p in saved.points
    ] == [
        ("upper-trapezius/1", "right", 60, 7, True, False, ""),
        ("levator-scapulae/1", "both", 45, 6, False, True, "Very tender"),
    ]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "create"))
    assert (event.entity_type, event.entity_id, event.client_id) == ("session", saved.id, own_client.id)


def test_session_page_shows_points_warnings_and_referral(therapist_client, own_client, db):
    post_session(therapist_client, own_client.id, **{"points-0-pressure_seconds": "120", "points-1-pain": "9"})
    saved = sessions(db)[0]
    html = text(therapist_client.get(f"/clients/{own_client.id}/sessions/{saved.id}"))
    assert "Upper trapezius" in html and "outside 30–90 s" in html and "above 7" in html
    assert 'href="/knowledge/upper-trapezius"' in html
    assert "On warfarin" in html


def test_blank_rows_are_ignored(therapist_client, own_client, db):
    response = post_session(
        therapist_client,
        own_client.id,
        **{
            "points-2-trigger_point": "",
            "points-2-side": "right",
            "points-2-pressure_seconds": "",
            "points-2-pain": "",
        },
    )
    assert response.status_code == 302
    assert len(sessions(db)[0].points) == 2


def test_session_without_points_is_allowed(therapist_client, own_client, db):
    data = {key: None for key in session_data() if key.startswith("points-")}
    assert post_session(therapist_client, own_client.id, **data).status_code == 302
    assert sessions(db)[0].points == []


def test_warnings_do_not_block_saving(therapist_client, own_client, db):
    response = post_session(
        therapist_client, own_client.id, **{"points-0-pressure_seconds": "10", "points-0-pain": "9"}
    )
    assert response.status_code == 302
    point = sessions(db)[0].points[0]
    assert point.pressure_warning and point.pain_warning


@pytest.mark.parametrize("page", ["new", "new?repeat=1", "edit"])
def test_session_form_carries_the_educational_use_disclaimer(therapist_client, own_client, page):
    session = make_session(own_client)
    url = (
        f"/clients/{own_client.id}/sessions/{session.id}/edit"
        if page == "edit"
        else f"/clients/{own_client.id}/sessions/{page}"
    )
    response = therapist_client.get(url)
    assert response.status_code == 200
    notices = BeautifulSoup(text(response), "html.parser").select("main p.disclaimer")
    assert len(notices) == 1
    assert "does not diagnose" in notices[0].get_text() and "physician" in notices[0].get_text()


def test_warning_shows_beside_the_field_on_the_form(therapist_client, own_client):
    # A failed save re-renders the form: the warnings are visible beside the values typed.
    html = text(post_session(therapist_client, own_client.id, pain_before="", **{"points-0-pressure_seconds": "150"}))
    row = html[html.index('id="points-0-pressure_seconds"') :]
    warning = row[row.index("data-pressure-warning") :][:200]
    assert "hidden" not in warning.split(">")[0]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("pain_before", "11", "from 0 to 10"),
        ("pain_before", "", "Enter the pain before."),
        ("pain_after", "-1", "from 0 to 10"),
        ("pain_after", "seven", "Not a valid integer value."),
        ("length_minutes", "0", "from 5 to 240"),
        ("started_at", (TODAY + timedelta(days=1)).isoformat() + "T10:00", "after today"),
        ("started_at", "yesterday", "Not a valid datetime value."),
        ("heart_rate_before", "500", "from 30 to 220"),
        ("stress_after", "12", "from 0 to 10"),
        ("points-0-pressure_seconds", "0", "from 1 to 600 seconds"),
        ("points-0-pressure_seconds", "601", "from 1 to 600 seconds"),
        ("points-0-pressure_seconds", "", "Enter a number."),
        ("points-1-pain", "11", "from 0 to 10"),
        ("points-0-trigger_point", "upper-trapezius/99", "Unknown trigger point"),
        ("points-0-trigger_point", "", "Choose the trigger point for this row"),
        ("points-0-side", "middle", "Choose left, right or both."),
        ("pain_regions", ["temple", "elbow-front"], "Unknown body region: elbow-front."),
    ],
)
def test_invalid_input_is_refused_beside_the_field_and_nothing_typed_is_lost(
    therapist_client, own_client, db, field, value, message
):
    response = post_session(therapist_client, own_client.id, **{field: value})
    html = text(response)
    assert response.status_code == 200
    assert message in html
    assert f'id="{field}-error"' in html
    assert sessions(db) == []
    # Every point and note typed is still on the form.
    assert "Very tender" in html and "Headache since Monday." in html
    assert selected_option(html, "points-1-trigger_point") == "levator-scapulae/1"
    assert is_checked(html, "points-1-local_twitch") and not is_checked(html, "points-1-release_felt")
    assert input_value(html, "points-1-pressure_seconds") == "45"


def test_typed_time_is_the_clinic_wall_clock(therapist_client, own_client, db, app):
    app.config["CLINIC_TIMEZONE"] = "Europe/Berlin"
    post_session(therapist_client, own_client.id, started_at="2026-03-10T09:30")
    saved = sessions(db)[0]
    assert saved.started_at == datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    html, _ = form_page(therapist_client, f"/clients/{own_client.id}/sessions/{saved.id}/edit")
    assert input_value(html, "started_at") == "2026-03-10T09:30"


def test_repeated_regions_are_stored_once(therapist_client, own_client, db):
    post_session(therapist_client, own_client.id, pain_regions=["temple", "temple", "jaw"])
    assert sessions(db)[0].pain_regions == ["temple", "jaw"]


def test_missing_or_oversized_submission_token_is_refused(therapist_client, own_client, db):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    for token in ("", "x" * 65):
        response = therapist_client.post(url, data={**hidden, "submission_token": token, **session_data()})
        assert response.status_code == 200
        assert "reload the page" in text(response) or "longer than 64" in text(response)
    assert sessions(db) == []


def test_too_many_point_rows_are_refused(therapist_client, own_client, db):
    rows = {}
    for n in range(61):
        rows.update(
            {
                f"points-{n}-trigger_point": "soleus/1",
                f"points-{n}-side": "right",
                f"points-{n}-pressure_seconds": "60",
                f"points-{n}-pain": "5",
            }
        )
    data = {key: value for key, value in session_data().items() if not key.startswith("points-")}
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    response = therapist_client.post(url, data={**hidden, **data, **rows})
    assert response.status_code == 200 and sessions(db) == []
    assert "At most 60 points" in text(response)


def test_opening_the_session_form_is_audited_as_a_view(therapist_client, own_client, db):
    therapist_client.get(f"/clients/{own_client.id}/sessions/new")
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.client_id) == ("view", own_client.id)


def test_resubmitting_changes_after_back_offers_them_as_an_edit(therapist_client, own_client, db):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    therapist_client.post(url, data={**hidden, **session_data()})
    response = therapist_client.post(url, data={**hidden, **session_data(plan="Changed plan")})
    html = text(response)
    saved = sessions(db)[0]
    assert response.status_code == 200 and "already saved" in html and "Changed plan" in html
    assert f'action="/clients/{own_client.id}/sessions/{saved.id}/edit"' in html
    assert saved.plan == "Review in a week." and len(sessions(db)) == 1


def test_second_click_on_save_in_the_edit_form_is_not_a_conflict(therapist_client, own_client, db):
    post_session(therapist_client, own_client.id)
    saved = sessions(db)[0]
    url = f"/clients/{own_client.id}/sessions/{saved.id}/edit"
    _, hidden = form_page(therapist_client, url)
    first = therapist_client.post(url, data={**hidden, **session_data(pain_after="1")})
    second = therapist_client.post(url, data={**hidden, **session_data(pain_after="1")})
    assert first.status_code == 302 and second.status_code == 302


def test_sessions_of_an_archived_client_are_read_only(therapist_client, own_client, db):
    saved = make_session(own_client)
    own_client.archived_at = datetime.now(UTC)
    db.session.commit()
    response = therapist_client.get(f"/clients/{own_client.id}/sessions/{saved.id}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sessions/{saved.id}")


def test_blood_pressure_must_be_plausible(therapist_client, own_client, db):
    html = text(post_session(therapist_client, own_client.id, systolic_before="80", diastolic_before="90"))
    assert "The diastolic reading must be lower than the systolic." in html and sessions(db) == []


def test_add_point_button_without_javascript_adds_a_row_and_saves_nothing(therapist_client, own_client, db):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    response = therapist_client.post(url, data={**hidden, **session_data(pain_before=""), "add_point": "masseter/1"})
    html = text(response)
    assert response.status_code == 200 and sessions(db) == []
    assert selected_option(html, "points-2-trigger_point") == "masseter/1" and "Very tender" in html
    assert 'id="pain_before-error"' not in html, "adding a row is not a save attempt"


def test_suggestions_follow_the_reported_regions(therapist_client, own_client):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    html = text(therapist_client.post(url, data={**hidden, **session_data(pain_regions=["heel"]), "suggest": "1"}))
    suggestions = html[html.index("data-suggestions") : html.index("points-title")]
    assert "Soleus" in suggestions and 'data-add-point="soleus/1"' in suggestions


# --- all or nothing, and once only ------------------------------------------------------------------


def test_double_submit_stores_one_session(therapist_client, own_client, db):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    first = therapist_client.post(url, data={**hidden, **session_data()})
    second = therapist_client.post(url, data={**hidden, **session_data()})
    assert len(sessions(db)) == 1
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert "already saved" in text(therapist_client.get(second.headers["Location"]))


def test_two_submits_racing_store_one_session_and_both_see_it(therapist_client, own_client, db, monkeypatch):
    """The second request passes the "already stored?" check before the first commits: the unique token
    refuses its insert, and it answers with the stored session instead of an error."""
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    first = therapist_client.post(url, data={**hidden, **session_data()})
    from clinic.treatments import routes

    real = routes.find_by_token
    calls = []

    def not_yet_committed(client, token):
        calls.append(token)
        return None if len(calls) == 1 else real(client, token)

    monkeypatch.setattr(routes, "find_by_token", not_yet_committed)
    second = therapist_client.post(url, data={**hidden, **session_data()})
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert len(sessions(db)) == 1 and len(calls) == 2


def test_a_new_form_gets_a_new_token(therapist_client, own_client, db):
    post_session(therapist_client, own_client.id)
    post_session(therapist_client, own_client.id)
    assert len(sessions(db)) == 2


def test_token_is_unique_in_the_database(own_client, db):
    make_session(own_client, submission_token="same")
    with pytest.raises(IntegrityError):
        make_session(own_client, submission_token="same")
    db.session.rollback()


def test_a_failing_point_stores_nothing(therapist_client, own_client, db, monkeypatch):
    """If storing fails part-way (here: the database refuses a point), neither the session nor any point is kept."""
    from clinic.treatments import services

    original = services.create_session

    def create_then_corrupt(*args, **kwargs):
        session = original(*args, **kwargs)
        session.points[-1].pressure_seconds = 9999  # the database's check refuses this at commit
        return session

    monkeypatch.setattr("clinic.treatments.routes.create_session", create_then_corrupt)
    therapist_client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = post_session(therapist_client, own_client.id)
    assert response.status_code == 500
    db.session.rollback()
    assert sessions(db) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointTreatment)) == 0
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "create")) == 0
    )


# --- database checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"pain_before": 11},
        {"pain_after": -1},
        {"length_minutes": 0},
        {"overload_cause": "stress"},
        {"heart_rate_after": 10},
        {"systolic_before": 400},
    ],
)
def test_database_refuses_out_of_range_sessions(own_client, db, fields):
    with pytest.raises(IntegrityError):
        make_session(own_client, **fields)
    db.session.rollback()


@pytest.mark.parametrize(
    "point",
    [
        {"pressure_seconds": 0},
        {"pressure_seconds": 601},
        {"pain": 11},
        {"side": "middle"},
    ],
)
def test_database_refuses_out_of_range_points(own_client, db, point):
    with pytest.raises(IntegrityError):
        make_session(own_client, points=[{"trigger_point_id": "upper-trapezius/1", **point}])
    db.session.rollback()


def test_sessions_of_a_client_by_date_use_an_index(db):
    indexes = {
        index["name"]: index["column_names"] for index in sa.inspect(db.engine).get_indexes("treatment_sessions")
    }
    assert indexes["ix_treatment_sessions_client_started"] == ["client_id", "started_at"]


# --- access -------------------------------------------------------------------------------------------


def test_other_therapist_gets_404_everywhere(client, own_client, other_therapist, db):
    saved = make_session(own_client)
    login_fast(client, other_therapist)
    base = f"/clients/{own_client.id}/sessions"
    for url in [f"{base}/new", f"{base}/{saved.id}", f"{base}/{saved.id}/edit", f"{base}/new?repeat=1"]:
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/clients/")
    for url in [f"{base}/new", f"{base}/{saved.id}/edit"]:
        assert client.post(url, data={"csrf_token": token, **session_data()}).status_code == 404, url
    assert len(sessions(db)) == 1


def test_session_of_another_client_is_404(therapist_client, therapist, own_client):
    other = make_client(therapist)
    saved = make_session(other)
    assert therapist_client.get(f"/clients/{own_client.id}/sessions/{saved.id}").status_code == 404


def test_missing_session_and_client_are_404(therapist_client, own_client):
    assert therapist_client.get(f"/clients/{own_client.id}/sessions/999").status_code == 404
    assert therapist_client.get("/clients/999/sessions/new").status_code == 404


def test_archived_client_gets_no_new_session(therapist_client, own_client, db):
    own_client.archived_at = datetime.now(UTC)
    db.session.commit()
    response = therapist_client.get(f"/clients/{own_client.id}/sessions/new")
    assert response.status_code == 302
    assert "archived" in text(therapist_client.get(response.headers["Location"]))
    token = csrf_token(therapist_client, f"/clients/{own_client.id}")
    response = therapist_client.post(
        f"/clients/{own_client.id}/sessions/new", data={"csrf_token": token, "submission_token": "x", **session_data()}
    )
    assert response.status_code == 302
    assert sessions(db) == []


def test_shared_therapist_can_log_a_session(client, own_client, other_therapist, db):
    own_client.shared_with.append(other_therapist)
    db.session.commit()
    login_fast(client, other_therapist)
    assert post_session(client, own_client.id).status_code == 302
    assert sessions(db)[0].therapist_id == other_therapist.id


def test_viewing_a_session_is_audited(therapist_client, own_client, db):
    saved = make_session(own_client)
    therapist_client.get(f"/clients/{own_client.id}/sessions/{saved.id}")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "view"))
    assert (event.entity_type, event.entity_id) == ("session", saved.id)


# --- editing ------------------------------------------------------------------------------------------


def test_edit_records_old_and_new_values_including_points(therapist_client, own_client, db):
    post_session(therapist_client, own_client.id)
    saved = sessions(db)[0]
    url = f"/clients/{own_client.id}/sessions/{saved.id}/edit"
    html, hidden = form_page(therapist_client, url)
    assert selected_option(html, "points-0-trigger_point") == "upper-trapezius/1" and "Very tender" in html
    response = therapist_client.post(url, data={**hidden, **session_data(pain_after="2", **{"points-1-pain": "5"})})
    assert response.status_code == 302
    db.session.expire_all()
    edited = db.session.get(TreatmentSession, saved.id)
    assert edited.pain_after == 2 and edited.points[1].pain == 5
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "update"))
    changes = event.details["changes"]
    assert changes["pain_after"] == [4, 2]
    old_points, new_points = changes["points"]
    assert old_points[1]["pain"] == 6 and new_points[1]["pain"] == 5
    assert "pain_before" not in changes


def test_edit_without_changes_writes_no_update(therapist_client, own_client, db):
    post_session(therapist_client, own_client.id)
    saved = sessions(db)[0]
    url = f"/clients/{own_client.id}/sessions/{saved.id}/edit"
    _, hidden = form_page(therapist_client, url)
    therapist_client.post(url, data={**hidden, **session_data()})
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "update")) is None


def test_stale_edit_is_refused_and_keeps_the_input(therapist_client, own_client, db):
    saved = make_session(own_client)
    url = f"/clients/{own_client.id}/sessions/{saved.id}/edit"
    _, hidden = form_page(therapist_client, url)
    saved.pain_after = 1
    saved.updated_at = datetime.now(UTC)
    db.session.commit()
    response = therapist_client.post(url, data={**hidden, **session_data(pain_after="5")})
    assert response.status_code == 409 and "changed by someone else" in text(response)
    assert input_value(text(response), "pain_after") == "5"
    db.session.refresh(saved)
    assert saved.pain_after == 1


# --- client page and repeat ---------------------------------------------------------------------------


def test_client_page_lists_sessions_newest_first_paginated(therapist_client, own_client, app):
    app.config["SESSIONS_PER_PAGE"] = 2
    for day in (1, 2, 3):
        make_session(own_client, started_at=datetime(2026, 3, day, 10, tzinfo=UTC))

    def sessions_card(url):
        html = text(therapist_client.get(url))
        return html[html.index('id="sessions-title"') :]

    html = sessions_card(f"/clients/{own_client.id}")
    assert html.index("3 Mar 2026") < html.index("2 Mar 2026")
    assert "1 Mar 2026" not in html and "Page 1 of 2" in html
    assert "1 Mar 2026" in sessions_card(f"/clients/{own_client.id}?page=2")
    assert "Upper trapezius" in html


def test_repeat_last_session_prefills_points_not_responses(therapist_client, own_client):
    make_session(
        own_client,
        started_at=datetime(2026, 3, 1, tzinfo=UTC),
        points=[{"trigger_point_id": "soleus/1", "side": "left", "pressure_seconds": 50, "pain": 6}],
    )
    make_session(
        own_client,
        started_at=datetime(2026, 3, 8, tzinfo=UTC),
        points=[
            {"trigger_point_id": "masseter/1", "side": "both", "pressure_seconds": 40, "pain": 8, "release_felt": True}
        ],
    )
    html = text(therapist_client.get(f"/clients/{own_client.id}/sessions/new?repeat=1"))
    assert selected_option(html, "points-0-trigger_point") == "masseter/1"
    assert selected_option(html, "points-1-trigger_point") is None  # the one empty row to fill in
    assert input_value(html, "points-0-pressure_seconds") == "40"
    assert input_value(html, "points-0-side-2") == "both" and is_checked(html, "points-0-side-2")
    assert input_value(html, "points-0-pain") == ""
    assert not is_checked(html, "points-0-release_felt")


# --- history ------------------------------------------------------------------------------------------


def history_entries(html: str) -> list:
    return BeautifulSoup(html, "html.parser").select("#history .history-entry")


def test_session_page_shows_who_changed_what_and_when(therapist_client, own_client, db, other_therapist):
    when = "2026-03-01T09:30"  # a fixed day in the past, whatever the host's and the clinic's zones
    post_session(therapist_client, own_client.id, started_at=when)
    saved = sessions(db)[0]
    url = f"/clients/{own_client.id}/sessions/{saved.id}/edit"
    _, hidden = form_page(therapist_client, url)
    edit = session_data(
        started_at=when,
        pain_after="2",
        pain_regions=["temple", "jaw"],
        **{
            "points-0-trigger_point": "levator-scapulae/1",  # the two rows swapped: not a change in itself
            "points-0-side": "both",
            "points-0-pressure_seconds": "45",
            "points-0-pain": "5",  # was 6
            "points-0-local_twitch": "y",
            "points-0-release_felt": None,
            "points-0-note": "Very tender",
            "points-1-trigger_point": "masseter/1",  # upper trapezius removed, masseter added
            "points-1-side": "left",
            "points-1-pressure_seconds": "30",
            "points-1-pain": "4",
            "points-1-local_twitch": None,
            "points-1-note": "",
        },
    )
    assert therapist_client.post(url, data={**hidden, **edit}).status_code == 302
    html = text(therapist_client.get(f"/clients/{own_client.id}/sessions/{saved.id}"))
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one(".page-head a[href='#history']").get_text().startswith("last edited")
    edited, created = history_entries(html)  # newest first
    assert created.select_one(".edit-head").get_text(" ", strip=True).startswith("Created")
    assert "by Maya Test" in created.select_one(".edit-head").get_text()
    head = edited.select_one(".edit-head").get_text(" ", strip=True)
    assert head.startswith("Edited") and head.endswith("by Maya Test")
    lines = [li.get_text(" ", strip=True) for li in edited.select("ul.changes > li")]
    assert "Pain after : 4/10 → 2/10" in lines
    assert "Added Pain reported in : Jaw and chin" in lines
    assert "Removed Pain reported in : Side of neck" in lines
    assert "Changed Levator scapulae, point 1 (both) : compression pain 6/10 → 5/10" in lines
    assert "Removed Upper trapezius, point 1 (right) : 60 s, pain 7/10, release felt" in lines
    assert "Added Masseter, point 1 (left) : 30 s, pain 4/10" in lines
    assert len(lines) == 6, lines
    assert "[{" not in edited.get_text(), "no raw lists of point records"


def test_session_history_reads_old_audit_rows(therapist_client, own_client, db, therapist, app):
    """Rows stored before readable history existed (two whole point lists, plain values) read the same way,
    stored UTC times shown on the clinic's clock."""
    app.config["CLINIC_TIMEZONE"] = "America/New_York"
    saved = make_session(own_client)
    record = {
        "trigger_point": "upper-trapezius/1",
        "side": "right",
        "pressure_seconds": 60,
        "pain": 6,
        "release_felt": False,
        "local_twitch": False,
        "referral_reproduced": False,
        "note": "",
    }
    db.session.add(
        AuditEvent(
            action="update",
            user_id=therapist.id,
            entity_type="session",
            entity_id=saved.id,
            client_id=own_client.id,
            details={
                "changes": {
                    "started_at": ["2026-03-01T10:00:00+00:00", "2026-03-01T11:30:00+00:00"],
                    "subjective": ["", "Better sleep."],
                    "points": [[record], [{**record, "pressure_seconds": 90, "note": "released"}]],
                }
            },
        )
    )
    db.session.commit()
    [entry] = history_entries(text(therapist_client.get(f"/clients/{own_client.id}/sessions/{saved.id}")))
    lines = [li.get_text(" ", strip=True) for li in entry.select("ul.changes > li")]
    assert lines == [
        "Date and time : 1 Mar 2026, 05:00 → 1 Mar 2026, 06:30",
        "Subjective : (empty) → Better sleep.",
        "Changed Upper trapezius, point 1 (right) : pressure 60 s → 90 s note (empty) → released",
    ]


def test_session_history_is_escaped_and_needs_access(client, own_client, other_therapist, therapist, db):
    saved = make_session(own_client)
    db.session.add(
        AuditEvent(
            action="update",
            user_id=therapist.id,
            entity_type="session",
            entity_id=saved.id,
            client_id=own_client.id,
            details={"changes": {"plan": ["", "<script>alert(1)</script>"]}},
        )
    )
    db.session.commit()
    login_fast(client, therapist)
    html = text(client.get(f"/clients/{own_client.id}/sessions/{saved.id}"))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    login_fast(client, other_therapist)
    assert client.get(f"/clients/{own_client.id}/sessions/{saved.id}").status_code == 404
