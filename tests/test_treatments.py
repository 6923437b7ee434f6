"""Logging treatment sessions: validation, all-or-nothing saving, double submits, access and audit."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from sqlalchemy.exc import IntegrityError

from clinic.models import AuditEvent, PointTreatment, TreatmentSession
from tests.factories import make_audit_event, make_client, make_session
from tests.helpers import (
    clinic_today,
    count_queries,
    csrf_token,
    element,
    element_text,
    field_error,
    flashes,
    has_element,
    hidden_inputs,
    input_value,
    is_checked,
    login_fast,
    parse,
    selected_option,
    text,
    words,
)

TOMORROW = "{tomorrow}"  # in a parametrized value: the day after today on the clinic's clock


def session_data(**overrides) -> dict:
    """A complete session form, visited this morning (today on the clinic's clock). Needs the app context."""
    data = {
        "started_at": f"{clinic_today().isoformat()}T09:30",
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
    hidden = {name: value for name, value in hidden_inputs(html).items() if name in HIDDEN_FIELDS}
    assert {"csrf_token", "submission_token"} <= set(hidden), f"not the session form: {url}"
    return html, hidden


HIDDEN_FIELDS = ("csrf_token", "submission_token", "version")


def kit_url(page_html: str) -> str:
    """The address of the form's kit, as the page gives it to its script."""
    return element(page_html, "form[data-session-form]")["data-kit-url"]


def form_kit(client, page_html: str) -> BeautifulSoup:
    """The form's kit, fetched from the address the page gives its script."""
    url = kit_url(page_html)
    response = client.get(url)
    assert response.status_code == 200, url
    return parse(response)


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


def test_form_shows_contraindications_first_and_defaults(therapist_client, own_client, today):
    html, hidden = form_page(therapist_client, f"/clients/{own_client.id}/sessions/new")
    warning = element(html, "section.contraindications")
    assert words(warning.find("p")) == "On warfarin: light pressure only."
    assert warning.find_next("input", id="pain_before") is not None, "the warning comes before the form"
    assert hidden["submission_token"]
    assert input_value(html, "started_at").startswith(today.isoformat() + "T")
    assert input_value(html, "length_minutes") == "60"
    assert has_element(html, "[data-point-picker] [data-picker-figures]")
    assert form_kit(therapist_client, html).select(
        '#picker-figures svg[data-point-picker] [data-tp="upper-trapezius/1"]'
    )


@pytest.mark.parametrize("typed", ["", "None known", "None known.", "n/a", "no", "NIL", " None. "])
def test_session_pages_show_no_contraindications_warning_when_none_are_known(therapist_client, therapist, typed):
    record = make_client(therapist, contraindications=typed)
    saved = make_session(record)
    for url in [f"/clients/{record.id}/sessions/new", f"/clients/{record.id}/sessions/{saved.id}"]:
        html = text(therapist_client.get(url))
        assert not has_element(html, ".contraindications"), url
        assert element_text(html, ".contraindications-none") == "No contraindications or precautions recorded.", url


@pytest.mark.parametrize("typed", ["On warfarin: light pressure only.", "No pressure over the left calf (DVT 2024)."])
def test_session_pages_show_the_contraindications_warning_for_a_real_entry(therapist_client, therapist, typed):
    record = make_client(therapist, contraindications=typed)
    saved = make_session(record)
    for url in [f"/clients/{record.id}/sessions/new", f"/clients/{record.id}/sessions/{saved.id}"]:
        html = text(therapist_client.get(url))
        assert element_text(html, "section.contraindications p") == typed, url
        assert not has_element(html, ".contraindications-none"), url


def test_row_template_for_the_script_uses_the_form_field_names(therapist_client, own_client):
    html, _ = form_page(therapist_client, f"/clients/{own_client.id}/sessions/new")
    template = element(form_kit(therapist_client, html), "template#point-row-template")
    for name in ("trigger_point", "side", "pressure_seconds", "pain", "release_felt", "note"):
        assert has_element(template, f'[name="points-__index__-{name}"]'), name


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
    page = parse(therapist_client.get(f"/clients/{own_client.id}/sessions/{saved.id}"))
    first, second = element(page, "table.points-table tbody").find_all("tr", recursive=False)
    assert words(first.find("a")) == "Upper trapezius"
    assert first.find("a")["href"] == "/knowledge/upper-trapezius"
    assert [words(badge) for badge in first.select(".badge")] == ["outside 30–90 s"]
    assert [words(badge) for badge in second.select(".badge")] == ["above 7"]
    assert element_text(page, "section.contraindications p") == "On warfarin: light pressure only."


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
    assert input_value(html, "points-0-pressure_seconds") == "150"
    rows = parse(html).select(".point-rows [data-point-row]")
    pressure_warnings = [not row.select_one("[data-pressure-warning]").has_attr("hidden") for row in rows]
    assert pressure_warnings == [True, False, False], "beside the 150 s hold only (then 45 s, then the empty row)"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("pain_before", "11", "from 0 to 10"),
        ("pain_before", "", "Enter the pain before."),
        ("pain_after", "-1", "from 0 to 10"),
        ("pain_after", "seven", "Not a valid integer value."),
        ("length_minutes", "0", "from 5 to 240"),
        ("started_at", f"{TOMORROW}T10:00", "after today"),
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
    therapist_client, own_client, db, today, field, value, message
):
    if isinstance(value, str):
        value = value.format(tomorrow=(today + timedelta(days=1)).isoformat())
    response = post_session(therapist_client, own_client.id, **{field: value})
    html = text(response)
    assert response.status_code == 200
    assert message in field_error(html, field)
    assert sessions(db) == []
    # Every point and note typed is still on the form.
    assert words(parse(html).find("textarea", id="subjective")) == "Headache since Monday."
    assert input_value(html, "points-1-note") == "Very tender"
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


@pytest.mark.parametrize(
    "token, message",
    [
        ("", "This form is incomplete: reload the page and enter the session again."),
        ("x" * 65, "Field cannot be longer than 64 characters."),
    ],
)
def test_missing_or_oversized_submission_token_is_refused(therapist_client, own_client, db, token, message):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    response = therapist_client.post(url, data={**hidden, "submission_token": token, **session_data()})
    assert response.status_code == 200
    # A hidden field has no place beside it: its error is the form's alert, after the usual lead-in.
    alert = element_text(response, ".alert-error:not([data-logged-out])")
    assert alert == f"Please correct the form; nothing was saved yet. {message}"
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
    assert element_text(response, "#points-error").startswith("At most 60 points")


def test_opening_the_session_form_is_audited_as_a_view(therapist_client, own_client, db):
    therapist_client.get(f"/clients/{own_client.id}/sessions/new")
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.client_id) == ("view", own_client.id)


def test_the_session_forms_record_their_view_without_reading_the_client_again(app, therapist_client, own_client, db):
    """The view is committed on its own (audit.record_read): the request's client and user stay loaded, where a
    commit of the request's own transaction expired them and the page read them again to render."""
    saved = make_session(own_client)
    for url, entity in [
        (f"/clients/{own_client.id}/sessions/new", ("client", own_client.id)),
        (f"/clients/{own_client.id}/sessions/{saved.id}/edit", ("session", saved.id)),
    ]:
        with count_queries(app) as counted:
            assert therapist_client.get(url).status_code == 200
        event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert (event.action, event.client_id, event.entity_type, event.entity_id) == ("view", own_client.id, *entity)
        client_reads = [s for s in counted.statements if s.lstrip().startswith("SELECT") and "FROM clients" in s]
        assert len(client_reads) == 1, url


def test_resubmitting_changes_after_back_offers_them_as_an_edit(therapist_client, own_client, db):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    therapist_client.post(url, data={**hidden, **session_data()})
    response = therapist_client.post(url, data={**hidden, **session_data(plan="Changed plan")})
    html = text(response)
    saved = sessions(db)[0]
    assert response.status_code == 200
    saved_flash, message = flashes(html)  # the first save's redirect was never followed
    assert saved_flash == "Session saved."
    assert message.startswith("This session was already saved. Your changes are below")
    assert words(parse(html).find("textarea", id="plan")) == "Changed plan"
    assert element(html, "form.session-form")["action"] == f"/clients/{own_client.id}/sessions/{saved.id}/edit"
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
    saved = make_session(own_client, pain_after=3)
    own_client.archived_at = datetime.now(UTC)
    db.session.commit()
    detail = f"/clients/{own_client.id}/sessions/{saved.id}"
    response = therapist_client.get(f"{detail}/edit")
    assert response.status_code == 302 and response.headers["Location"] == detail
    # Posting a complete, valid edit or a new session changes nothing either.
    token = csrf_token(therapist_client, detail)
    edit = {"csrf_token": token, "submission_token": "edit", "version": str(saved.version)}
    response = therapist_client.post(f"{detail}/edit", data={**edit, **session_data(pain_after="1")})
    assert response.status_code == 302 and response.headers["Location"] == detail
    new = {"csrf_token": token, "submission_token": "fresh-token"}
    response = therapist_client.post(f"/clients/{own_client.id}/sessions/new", data={**new, **session_data()})
    assert response.status_code == 302 and response.headers["Location"] == f"/clients/{own_client.id}"
    refusal = "This client is archived. Restore them before"
    assert flashes(therapist_client.get(detail)) == [
        f"{refusal} editing their sessions.",
        f"{refusal} logging a session.",
    ]
    db.session.expire_all()
    assert [(s.id, s.pain_after, s.version) for s in sessions(db)] == [(saved.id, 3, saved.version)]
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action.in_(["create", "update"]))) is None


def test_blood_pressure_must_be_plausible(therapist_client, own_client, db):
    html = text(post_session(therapist_client, own_client.id, systolic_before="80", diastolic_before="90"))
    assert "The diastolic reading must be lower than the systolic." in html and sessions(db) == []


def test_add_point_button_without_javascript_adds_a_row_and_saves_nothing(therapist_client, own_client, db):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    response = therapist_client.post(url, data={**hidden, **session_data(pain_before=""), "add_point": "masseter/1"})
    html = text(response)
    assert response.status_code == 200 and sessions(db) == []
    assert selected_option(html, "points-2-trigger_point") == "masseter/1"
    assert input_value(html, "points-1-note") == "Very tender"
    assert not has_element(html, ".field .error"), "adding a row is not a save attempt"


def test_suggestions_follow_the_reported_regions(therapist_client, own_client):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    html = text(therapist_client.post(url, data={**hidden, **session_data(pain_regions=["heel"]), "suggest": "1"}))
    suggestions = {
        words(item.select_one(".suggestion-name")): [
            button["data-add-point"] for button in item.select("[data-add-point]")
        ]
        for item in element(html, "ol[data-suggestions]").find_all("li")
    }
    assert "soleus/1" in suggestions["Soleus"]


# --- the form's kit: its knowledge-base parts as one cached document (issue 16) -------------------------


def test_the_form_kit_is_public_cached_for_a_year_and_holds_what_the_script_needs(app, therapist_client, therapist, db):
    import json

    from clinic.kb import knowledge_base
    from clinic.security import CONTENT_SECURITY_POLICY

    record = make_client(therapist, full_name="Zebedee Quillfeather", precautions=["pregnancy"])
    html, _ = form_page(therapist_client, f"/clients/{record.id}/sessions/new")
    url = kit_url(html)
    assert re.fullmatch(r"/session-form-kit/[0-9a-f]{20}", url)
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 200 and anonymous.mimetype == "text/html"
    assert anonymous.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert anonymous.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY.split("script-src")[1].split(";")[0]
    # no session cookie on it, and nothing that makes it vary by cookie: one copy for everyone, kept by the browser
    assert "Set-Cookie" not in anonymous.headers and "Vary" not in anonymous.headers
    logged_in = therapist_client.get(url)
    assert logged_in.data == anonymous.data and "Set-Cookie" not in logged_in.headers
    assert "Vary" not in logged_in.headers and logged_in.headers["Cache-Control"] == anonymous.headers["Cache-Control"]
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before, "no client data read, none audited"

    kit = parse(anonymous)
    body = anonymous.get_data(as_text=True)
    assert "Zebedee" not in body and "Quillfeather" not in body and therapist.email not in body
    assert not kit.select("script[src]") and all(tag["type"] == "application/json" for tag in kit.select("script"))
    points = [point.id for point in knowledge_base().points()]
    for view in ("front", "back"):
        dots = kit.select(f'#picker-figures svg[data-point-picker][data-view="{view}"] .tp-dot')
        assert {dot.get("data-tp") or dot.get("data-mirror-of") for dot in dots} <= set(points) and dots, view
    assert {dot["data-tp"] for dot in kit.select("#picker-figures .tp-dot[data-tp]")} == set(points)
    row = kit.find("template", id="point-row-template")
    assert row.find("select", attrs={"name": "points-__index__-trigger_point", "data-point-options": ""})
    every_point = [option["value"] for option in kit.find("template", id="point-options").find_all("option")]
    assert every_point == ["", *points]
    assert kit.find("template", id="mini-figures").find("svg")
    data = json.loads(kit.select_one("script#session-form-kit-data").get_text())
    assert set(data) == {"muscles", "points", "pointOrder", "regionNames", "rules"}
    assert data["pointOrder"] == points and data["points"]["soleus/1"]["muscle"] == "soleus"
    assert "SCM" in " ".join(" ".join(name) for name in data["muscles"]["sternocleidomastoid"]["names"]).upper()
    assert data["regionNames"]["calf"] == knowledge_base().region_names["calf"]


def test_the_form_page_no_longer_carries_the_kit(therapist_client, therapist):
    """The picker's figures, the templates and the knowledge data are in the kit alone; the page keeps what depends
    on the request (where drafts go, the client's safety facts) and the visible pain chart."""
    import json

    record = make_client(therapist, precautions=["pregnancy"])
    html, _ = form_page(therapist_client, f"/clients/{record.id}/sessions/new")
    page = parse(html)
    assert not page.find("template") and not page.select("svg[data-point-picker]")
    assert not page.select_one("[data-point-picker] [data-picker-figures]").find_all(True)
    assert page.select('[data-pain-chart] svg[data-interactive] .region[data-region="temple"]')
    data = json.loads(page.select_one("#session-form-data").get_text())
    assert set(data) == {"api", "draft", "safety"}
    assert data["safety"]["precautions"] == ["Pregnancy"]
    kit = therapist_client.get(kit_url(html)).data
    assert len(html.encode()) < len(kit), "the kit is most of what the form was"
    # without the kit (or JavaScript) the empty row still offers every point, and the buttons still submit
    empty = page.select_one("select#points-0-trigger_point")
    assert len(empty.select("option")) > 100 and not empty.has_attr("data-point-options")
    assert page.select_one('button[type=submit][name="add_row"]') and page.select_one('button[name="suggest"]')
    unavailable = page.select_one("[data-kit-unavailable]")
    assert unavailable.has_attr("hidden") and "picker could not be loaded" in unavailable.get_text()


def test_the_kit_version_follows_its_content_and_an_old_version_gets_the_current_kit(
    app, therapist_client, therapist, monkeypatch
):
    """A new knowledge base (a deploy) makes a new kit under a new URL; a form opened before it asks for the old
    version and gets the current kit, not kept for long (checked again with its ETag)."""
    from clinic.kb import KnowledgeBase, knowledge_base

    record = make_client(therapist)
    first_url = kit_url(form_page(therapist_client, f"/clients/{record.id}/sessions/new")[0])
    first = therapist_client.get(first_url)
    kb = knowledge_base()
    renamed = kb.muscles["soleus"].model_copy(update={"name": "Soleus renamed"})
    monkeypatch.setitem(
        app.extensions, "knowledge_base", KnowledgeBase(regions=kb.regions, muscles={**kb.muscles, "soleus": renamed})
    )
    second_url = kit_url(form_page(therapist_client, f"/clients/{record.id}/sessions/new")[0])
    assert second_url != first_url
    second = therapist_client.get(second_url)
    assert "Soleus renamed" in second.get_data(as_text=True) and "Soleus renamed" not in first.get_data(as_text=True)
    assert second.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    old = therapist_client.get(first_url)
    assert old.status_code == 200 and old.data == second.data
    assert old.headers["Cache-Control"] == "no-cache" and old.headers["ETag"] == f'"{second_url.rsplit("/", 1)[1]}"'
    again = therapist_client.get(first_url, headers={"If-None-Match": old.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    for not_a_version in ("current", "0" * 19, "G" * 20, "2147483648"):
        assert therapist_client.get(f"/session-form-kit/{not_a_version}").status_code == 404, not_a_version


# --- all or nothing, and once only ------------------------------------------------------------------


def test_double_submit_stores_one_session(therapist_client, own_client, db):
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    first = therapist_client.post(url, data={**hidden, **session_data()})
    second = therapist_client.post(url, data={**hidden, **session_data()})
    assert len(sessions(db)) == 1
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert flashes(therapist_client.get(second.headers["Location"])) == [
        "Session saved.",
        "This session was already saved; it was not stored twice.",
    ]


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
    post_session(therapist_client, own_client.id, confirm_near="y")  # the same minute: confirmed as separate
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


def test_a_therapists_latest_session_today_uses_an_index(db, therapist):
    """The form's "after the last session" time: without the index the database sorts all of the therapist's
    sessions on every form."""
    from clinic.treatments.queries import therapists_last_today

    indexes = {
        index["name"]: index["column_names"] for index in sa.inspect(db.engine).get_indexes("treatment_sessions")
    }
    assert indexes["ix_treatment_sessions_therapist_started"] == ["therapist_id", "started_at"]
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL's plan depends on its statistics; SQLite's on the indexes alone
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        therapists_last_today(therapist)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    statement, parameters = sent[-1]
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    assert any("ix_treatment_sessions_therapist_started" in row[-1] for row in plan), plan
    assert not any("TEMP B-TREE" in row[-1] for row in plan), plan


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
    assert response.status_code == 409
    [message] = flashes(response)
    assert message.startswith("This session was changed by someone else while you were editing.")
    assert input_value(text(response), "pain_after") == "5"
    db.session.refresh(saved)
    assert saved.pain_after == 1


# --- client page and repeat ---------------------------------------------------------------------------


def test_client_page_lists_sessions_newest_first_paginated(therapist_client, own_client, app):
    app.config["SESSIONS_PER_PAGE"] = 2
    for day in (1, 2, 3):
        make_session(own_client, started_at=datetime(2026, 3, day, 10, tzinfo=UTC))

    def sessions_card(url):
        card = element(therapist_client.get(url), "section.sessions-card")
        rows = [[words(cell) for cell in row.find_all("td")] for row in card.select("tbody tr")]
        return rows, words(card.select_one(".pager span"))

    rows, pager = sessions_card(f"/clients/{own_client.id}")
    assert [row[0][:10] for row in rows] == ["3 Mar 2026", "2 Mar 2026"] and pager == "Page 1 of 2"
    assert rows[0][3] == "Upper trapezius"
    rows, pager = sessions_card(f"/clients/{own_client.id}?page=2")
    assert [row[0][:10] for row in rows] == ["1 Mar 2026"] and pager == "Page 2 of 2"


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


# --- safety on the form: cautions meeting precautions, red flags, release order (issue 12) ------------


def edit_soup(http, client, points, regions=("temple",)) -> BeautifulSoup:
    saved = make_session(client, points=[{"trigger_point_id": p} for p in points], pain_regions=list(regions))
    html, _ = form_page(http, f"/clients/{client.id}/sessions/{saved.id}/edit")
    return BeautifulSoup(html, "html.parser")


def row_for(soup: BeautifulSoup, point_id: str):
    select = next(
        s
        for s in soup.select("[data-point-rows] select")
        if s.select_one("option[selected]") and s.select_one("option[selected]")["value"] == point_id
    )
    return select.find_parent(attrs={"data-point-row": True})


def test_hip_replacement_client_sees_the_matching_caution_and_unsuitable_self_care(therapist_client, therapist):
    client = make_client(therapist, precautions=["hip-replacement"])
    soup = edit_soup(therapist_client, client, ["gluteus-minimus/1", "upper-trapezius/1"])
    box = row_for(soup, "gluteus-minimus/1").select_one("[data-point-cautions]")
    met = box.select("li.caution-met")
    assert len(met) == 1 and "posterior-approach hip replacement" in met[0].get_text()
    assert met[0].select_one(".caution-flag").get_text(strip=True) == "For this client (hip replacement):"
    [unsuitable] = box.select(".self-care-unsuitable")
    assert "fall across the body" in unsuitable.get_text()
    # the trapezius row has a caution too, but it meets none of this client's precautions
    trapezius = row_for(soup, "upper-trapezius/1").select_one("[data-point-cautions]")
    assert trapezius.select("li.caution") and not trapezius.select(".caution-met")


def test_another_client_sees_the_cautions_unmarked(therapist_client, therapist):
    client = make_client(therapist)
    soup = edit_soup(therapist_client, client, ["gluteus-minimus/1"])
    box = row_for(soup, "gluteus-minimus/1").select_one("[data-point-cautions]")
    assert any("posterior-approach hip replacement" in li.get_text() for li in box.select("li.caution"))
    assert not box.select(".caution-met") and not box.select(".self-care-unsuitable")


def test_warfarin_client_is_warned_on_the_calf_and_inner_thigh(therapist_client, therapist):
    client = make_client(therapist, precautions=["anticoagulants"])
    soup = edit_soup(therapist_client, client, ["soleus/1", "adductor-longus-brevis/1"])
    calf = row_for(soup, "soleus/1").select_one("[data-point-cautions]")
    assert "takes anticoagulants (blood thinners)" in calf.select_one("li.caution-met .caution-flag").get_text()
    thigh = row_for(soup, "adductor-longus-brevis/1").select_one("[data-point-cautions]")
    assert any("Deep medial thigh" in li.get_text() for li in thigh.select("li.caution-met"))


def test_script_data_carries_the_client_marks_for_rows_added_by_clicking(therapist_client, therapist):
    import json

    client = make_client(therapist, precautions=["pregnancy"])
    html = form_page(therapist_client, f"/clients/{client.id}/sessions/new")[0]
    safety = json.loads(parse(html).select_one("#session-form-data").get_text())["safety"]
    assert safety["precautions"] == ["Pregnancy"]
    assert any(c["met"] == ["Pregnancy"] for c in safety["cautions"]["gastrocnemius"])
    assert safety["unsuitableSelfCare"]["pyramidalis"][0]["unsuitable"] == ["Pregnancy"]
    assert "gluteus-minimus" not in safety["unsuitableSelfCare"]
    assert "quadratus-lumborum" in safety["keys"]["gluteus-minimus"]
    assert safety["redFlags"]["calf"]
    # the empty row the script copies (from the form's kit) has the box it fills
    template = BeautifulSoup(
        form_kit(therapist_client, html).select_one("#point-row-template").decode_contents(), "html.parser"
    )
    assert template.select_one("[data-point-cautions]") is not None


def test_the_area_list_ticks_each_clients_own_areas_with_their_sides(therapist_client, therapist):
    """The list is kept per choice of areas: a client's ticked areas never show on another client's form."""
    from tests.factories import make_intake

    sent = make_client(therapist)
    make_intake(sent, regions=[{"region": "temple", "side": "right", "intensity": 6}])
    plain = make_client(therapist)
    for record, ticked in [(sent, {"temple": "temple:right"}), (plain, {}), (sent, {"temple": "temple:right"})]:
        soup = BeautifulSoup(form_page(therapist_client, f"/clients/{record.id}/sessions/new")[0], "html.parser")
        boxes = soup.select(".region-check-list input[name=pain_regions]")
        assert len(boxes) > 40
        assert {box["data-region-id"]: box["value"] for box in boxes if box.has_attr("checked")} == ticked


def test_only_a_row_added_empty_and_never_sent_counts_as_untouched(app):
    """An untouched row's markup is kept per place; anything typed, chosen or refused makes it a row of its own."""
    from werkzeug.datastructures import MultiDict

    from clinic.kb import knowledge_base
    from clinic.treatments.forms import session_form

    with app.test_request_context():
        form = session_form(knowledge_base(), clinic_today(), meta={"csrf": False})
        assert form.add_point().form.is_untouched()
        assert not form.add_point({"trigger_point": "soleus/1"}).form.is_untouched()
        assert not form.add_point({"pain": 0, "side": "left"}).form.is_untouched()
        for sent in ({"points-0-side": "left"}, {"points-0-pressure_seconds": "abc"}, {"points-0-note": ""}):
            sent_form = session_form(knowledge_base(), clinic_today(), formdata=MultiDict(sent), meta={"csrf": False})
            assert not sent_form.points.entries[0].form.is_untouched(), sent


def test_script_data_block_is_its_data_serialized_as_json_block_would_and_each_client_gets_its_own(
    app, therapist_client, therapist
):
    """The block is assembled from parts serialized once (the knowledge base's, a set of precautions' safety facts):
    the same text as `json_block` of the whole, and a second client's precautions never get the first one's facts."""
    from flask import render_template_string

    from clinic.kb import knowledge_base
    from clinic.treatments.page import script_data

    pregnant = make_client(therapist, precautions=["pregnancy"])
    other = make_client(therapist, precautions=["anticoagulants", "pregnancy"])
    for client in (pregnant, other, pregnant):
        soup = BeautifulSoup(form_page(therapist_client, f"/clients/{client.id}/sessions/new")[0], "html.parser")
        block = soup.select_one("#session-form-data").decode_contents()
        with app.test_request_context():
            expected = render_template_string(
                "{{ data|json_block }}", data=script_data(knowledge_base(), client, "new")
            )
        assert block == expected


def test_red_flags_of_the_marked_regions_say_refer_before_treating(therapist_client, therapist):
    client = make_client(therapist)
    soup = edit_soup(therapist_client, client, ["soleus/1"], regions=("calf", "low-back"))
    box = soup.select_one("[data-session-red-flags]")
    assert not box.has_attr("hidden")
    assert box.select_one("h3").get_text(strip=True) == "Red flags: refer before treating"
    regions = [li["data-flag-region"] for li in box.select("[data-red-flag-list] li")]
    assert regions[0] == "calf" and "low-back" in regions
    assert any("saddle" in li.get_text() for li in box.select("[data-red-flag-list] li"))


def test_no_red_flags_without_marked_regions(therapist_client, therapist):
    client = make_client(therapist)
    soup = edit_soup(therapist_client, client, ["soleus/1"], regions=())
    box = soup.select_one("[data-session-red-flags]")
    assert box.has_attr("hidden") and not box.select("li")


def test_release_order_suggests_keys_before_their_satellites(therapist_client, therapist):
    client = make_client(therapist)
    soup = edit_soup(therapist_client, client, ["temporalis/1", "upper-trapezius/1", "soleus/1"])
    steps = soup.select("[data-release-order] [data-release-steps] li")
    order = [li["data-release-muscle"] for li in steps]
    # lower trapezius keeps the upper trapezius going, which (with the SCM) keeps the temporalis going
    assert order.index("lower-trapezius") < order.index("upper-trapezius") < order.index("temporalis")
    assert order.index("sternocleidomastoid") < order.index("temporalis")
    assert "soleus" not in order  # no relation: nothing to order
    suggested = {li["data-release-muscle"] for li in steps if "suggested" in li.get("class", [])}
    assert suggested == {"lower-trapezius", "sternocleidomastoid"}
    trapezius = next(li for li in steps if li["data-release-muscle"] == "upper-trapezius")
    assert "often keeps" in trapezius.get_text() and "temporalis" in trapezius.get_text()


def test_release_order_is_hidden_when_no_point_has_a_relation(therapist_client, therapist):
    client = make_client(therapist)
    soup = edit_soup(therapist_client, client, ["popliteus/1"])
    assert soup.select_one("[data-release-order]").has_attr("hidden")


def test_a_point_added_without_javascript_shows_its_caution_before_saving(therapist_client, therapist, db):
    client = make_client(therapist, precautions=["clot-history"])
    url = f"/clients/{client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    data = {
        **hidden,
        **session_data(**{"points-1-trigger_point": None, "points-1-side": None}),
        "add_point": "gastrocnemius/1",
    }
    data = {k: v for k, v in data.items() if not k.startswith("points-1-")}
    soup = BeautifulSoup(text(therapist_client.post(url, data=data)), "html.parser")
    box = row_for(soup, "gastrocnemius/1").select_one("[data-point-cautions]")
    assert "history of blood clots (dvt)" in box.select_one("li.caution-met .caution-flag").get_text()
    assert sessions(db) == []


# --- point of care: sides, near sessions, drafts, error summary ------------------------------------------

from clinic.models import SessionDraft  # noqa: E402


def test_pain_regions_keep_their_side_and_old_plain_ids_still_show(therapist_client, own_client, db):
    response = post_session(therapist_client, own_client.id, pain_regions=["temple:left", "jaw:both", "low-back"])
    assert response.status_code == 302
    saved = sessions(db)[0]
    assert saved.pain_regions == ["temple:left", "jaw:both", "low-back"]
    page = BeautifulSoup(text(therapist_client.get(response.headers["Location"])), "html.parser")
    reported = page.find("dt", string="Reported in").find_next_sibling("dd")
    assert reported.get_text(strip=True) == "Temple (left), Jaw and chin (both sides), Low back"
    old = make_session(own_client, pain_regions=["temple", "ear"])
    page = BeautifulSoup(text(therapist_client.get(f"/clients/{own_client.id}/sessions/{old.id}")), "html.parser")
    assert page.find("dt", string="Reported in").find_next_sibling("dd").get_text(strip=True) == "Temple, Ear"


def test_a_bad_side_on_a_region_is_refused_beside_the_field(therapist_client, own_client, db):
    response = post_session(therapist_client, own_client.id, pain_regions=["temple:up"])
    page = BeautifulSoup(text(response), "html.parser")
    assert page.find(id="pain_regions-error").get_text(strip=True) == "Unknown body region: temple:up."
    assert sessions(db) == []


def test_a_point_without_a_side_is_refused_not_defaulted(therapist_client, own_client, db):
    response = post_session(therapist_client, own_client.id, **{"points-1-side": None})
    page = BeautifulSoup(text(response), "html.parser")
    assert page.find(id="points-1-side-error").get_text(strip=True) == "Choose left, right or both."
    summary = page.select_one("[data-error-summary]")
    assert summary.select_one(".error-count").get_text(" ", strip=True).startswith("1 problem to correct")
    link = summary.select_one(".error-links a")
    assert link["href"] == "#points-1-side-0" and page.find(id="points-1-side-0") is not None
    assert sessions(db) == []


def test_error_summary_counts_and_links_every_error(therapist_client, own_client):
    response = post_session(
        therapist_client, own_client.id, pain_before="11", length_minutes="", **{"points-0-pain": "12"}
    )
    page = BeautifulSoup(text(response), "html.parser")
    links = [a["href"] for a in page.select("[data-error-summary] .error-links a")]
    assert links == ["#length_minutes", "#pain_before", "#points-0-pain"]
    assert page.select_one("[data-error-summary] .error-count").get_text(" ", strip=True).startswith("3 problems")
    assert all(page.find(id=href[1:]) is not None for href in links)


def test_a_session_within_30_minutes_of_another_asks_first(therapist_client, own_client, db):
    post_session(therapist_client, own_client.id)
    close = f"{clinic_today().isoformat()}T09:50"
    response = post_session(therapist_client, own_client.id, started_at=close, subjective="Second visit?")
    page = BeautifulSoup(text(response), "html.parser")
    assert page.select_one("#near-warning") is not None
    assert page.find("textarea", attrs={"name": "subjective"}).get_text().strip() == "Second visit?"
    assert len(sessions(db)) == 1
    confirmed = post_session(therapist_client, own_client.id, started_at=close, confirm_near="y")
    assert confirmed.status_code == 302 and len(sessions(db)) == 2
    far = post_session(therapist_client, own_client.id, started_at=f"{clinic_today().isoformat()}T10:40")
    assert far.status_code == 302 and len(sessions(db)) == 3


def draft_post(client, client_id, body, token_page=None):
    page = token_page or f"/clients/{client_id}/sessions/new"
    html = text(client.get(page))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return client.post(f"/clients/{client_id}/sessions/draft", json=body, headers={"X-CSRFToken": token})


def test_draft_is_saved_offered_restored_and_discarded_on_save(therapist_client, own_client, db):
    fields = {
        "submission_token": ["draft-token-1"],
        "started_at": [f"{clinic_today().isoformat()}T08:15"],
        "length_minutes": ["45"],
        "pain_before": ["6"],
        "pain_regions": ["temple:left"],
        "points-0-trigger_point": ["masseter/1"],
        "points-0-side": ["left"],
        "points-0-pressure_seconds": ["40"],
        "csrf_token": ["never kept"],
    }
    assert draft_post(therapist_client, own_client.id, {"scope": "new", "fields": fields}).status_code == 200
    stored = db.session.scalar(sa.select(SessionDraft))
    assert "csrf_token" not in stored.fields and stored.fields["pain_before"] == ["6"]
    assert all("masseter" not in str(event.details) for event in db.session.scalars(sa.select(AuditEvent)))

    offer = BeautifulSoup(text(therapist_client.get(f"/clients/{own_client.id}/sessions/new")), "html.parser")
    assert offer.select_one("[data-draft-offer] a")["href"] == "?draft=1"
    restored = text(therapist_client.get(f"/clients/{own_client.id}/sessions/new?draft=1"))
    assert input_value(restored, "pain_before") == "6" and input_value(restored, "length_minutes") == "45"
    assert input_value(restored, "submission_token") == "draft-token-1"
    assert selected_option(restored, "points-0-trigger_point") == "masseter/1"
    soup = BeautifulSoup(restored, "html.parser")
    assert soup.find("input", attrs={"name": "pain_regions", "value": "temple:left"}).has_attr("checked")

    post_session(therapist_client, own_client.id)
    assert db.session.scalar(sa.select(SessionDraft)) is None  # saving the session throws the draft away


def test_draft_discard_on_request_and_others_never_see_it(therapist_client, own_client, other_therapist, app, db):
    draft_post(therapist_client, own_client.id, {"scope": "new", "fields": {"pain_before": ["3"]}})
    other = app.test_client()
    login_fast(other, other_therapist)
    assert other.get(f"/clients/{own_client.id}/sessions/new?draft=1").status_code == 404
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(other.get("/clients/new"))).group(1)
    assert (
        other.post(
            f"/clients/{own_client.id}/sessions/draft", json={"fields": {}}, headers={"X-CSRFToken": token}
        ).status_code
        == 404
    )
    assert db.session.scalar(sa.select(SessionDraft)).fields == {"pain_before": ["3"]}

    html = text(therapist_client.get(f"/clients/{own_client.id}/sessions/new"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = therapist_client.post(
        f"/clients/{own_client.id}/sessions/draft/discard", data={"csrf_token": token, "scope": "new"}
    )
    assert response.status_code == 302 and db.session.scalar(sa.select(SessionDraft)) is None
    again = therapist_client.post(
        f"/clients/{own_client.id}/sessions/draft/discard", data={"csrf_token": token, "scope": "new"}
    )
    assert again.status_code == 404


def test_draft_needs_csrf_and_a_sensible_body(therapist_client, own_client, db):
    assert therapist_client.post(f"/clients/{own_client.id}/sessions/draft", json={"fields": {}}).status_code == 400
    assert draft_post(therapist_client, own_client.id, {"fields": ["not", "a", "dict"]}).status_code == 400
    assert draft_post(therapist_client, own_client.id, {"fields": {"a": [1]}}).status_code == 400
    assert draft_post(therapist_client, own_client.id, {"scope": "99999", "fields": {}}).status_code == 404
    assert db.session.scalar(sa.select(SessionDraft)) is None


def test_a_draft_of_an_edit_is_kept_apart_from_a_new_session(therapist_client, own_client, db):
    stored = make_session(own_client, pain_before=6)
    edit_url = f"/clients/{own_client.id}/sessions/{stored.id}/edit"
    response = draft_post(
        therapist_client, own_client.id, {"scope": str(stored.id), "fields": {"pain_before": ["2"]}}, edit_url
    )
    assert response.status_code == 200
    assert db.session.scalar(sa.select(SessionDraft)).scope == str(stored.id)
    assert (
        BeautifulSoup(text(therapist_client.get(f"/clients/{own_client.id}/sessions/new")), "html.parser").select_one(
            "[data-draft-offer]"
        )
        is None
    )
    assert input_value(text(therapist_client.get(edit_url)), "pain_before") == "6"
    assert input_value(text(therapist_client.get(edit_url + "?draft=1")), "pain_before") == "2"


def test_time_quick_choices_offer_now_the_end_of_the_last_session_and_hours(
    therapist_client, own_client, therapist, app
):
    from clinic.clock import local_now, to_utc

    started = local_now().replace(hour=0, minute=5)
    make_session(own_client, therapist=therapist, started_at=to_utc(started), length_minutes=50)
    page = BeautifulSoup(text(therapist_client.get(f"/clients/{own_client.id}/sessions/new")), "html.parser")
    choices = {
        button.get_text(strip=True): button["data-time"] for button in page.select("[data-time-choices] [data-time]")
    }
    assert choices["After the last session (00:55)"] == "00:55"
    assert choices["08:00"] == "08:00" and choices["19:00"] == "19:00"
    assert any(label.startswith("Now (") for label in choices)


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
    make_audit_event(
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
    [entry] = history_entries(text(therapist_client.get(f"/clients/{own_client.id}/sessions/{saved.id}")))
    lines = [li.get_text(" ", strip=True) for li in entry.select("ul.changes > li")]
    assert lines == [
        "Date and time : 1 Mar 2026, 05:00 → 1 Mar 2026, 06:30",
        "Subjective : (empty) → Better sleep.",
        "Changed Upper trapezius, point 1 (right) : pressure 60 s → 90 s note (empty) → released",
    ]


def test_session_history_is_escaped_and_needs_access(client, own_client, other_therapist, therapist, db):
    saved = make_session(own_client)
    make_audit_event(
        action="update",
        user_id=therapist.id,
        entity_type="session",
        entity_id=saved.id,
        client_id=own_client.id,
        details={"changes": {"plan": ["", "<script>alert(1)</script>"]}},
    )
    login_fast(client, therapist)
    html = text(client.get(f"/clients/{own_client.id}/sessions/{saved.id}"))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    login_fast(client, other_therapist)
    assert client.get(f"/clients/{own_client.id}/sessions/{saved.id}").status_code == 404


def test_the_trigger_point_list_is_on_the_page_once_not_in_every_row(therapist_client, therapist):
    """Repeating a six-point session: each filled row's select holds only its point (the script copies the
    page's one list in); the empty row keeps the whole list, so the form works without JavaScript."""
    person = make_client(therapist)
    chosen = [
        "upper-trapezius/1",
        "levator-scapulae/1",
        "masseter/1",
        "soleus/1",
        "sternocleidomastoid/1",
        "temporalis/1",
    ]
    make_session(person, points=[{"trigger_point_id": point} for point in chosen])
    page = parse(therapist_client.get(f"/clients/{person.id}/sessions/new?repeat=last"))
    rows = [select for select in page.select("select[name$=trigger_point]") if select.find_parent("template") is None]
    assert [len(select.select("option")) > 2 for select in rows] == [False] * len(chosen) + [True]  # the empty row
    # (CSS selectors skip what a <template> holds: find_all reads it.)
    kit = form_kit(therapist_client, str(page))
    every_point = kit.find("template", id="point-options").find_all("option")
    assert len(every_point) == len(rows[-1].select("option")) > 100
    for index, point in enumerate(chosen):
        select = page.find("select", id=f"points-{index}-trigger_point")
        assert [option["value"] for option in select.select("option")] == ["", point]
        assert selected_option(page, f"points-{index}-trigger_point") == point
    template_row = kit.find("template", id="point-row-template").find("select")
    assert [option["value"] for option in template_row.find_all("option")] == [""]


def test_an_edit_that_loses_the_race_after_its_version_check_is_a_409_with_the_input(
    therapist_client, own_client, db, monkeypatch
):
    """Someone saves between this edit's version check and its flush: the lazy load of the points (an
    autoflush) and the audit entry's flush meet the stale row. The 409 page with the typed changes, never a 500."""
    from clinic.treatments import services

    saved = make_session(own_client)
    url = f"/clients/{own_client.id}/sessions/{saved.id}/edit"
    _, hidden = form_page(therapist_client, url)
    version_check = services.check_version

    def someone_saves_right_after_the_check(record, version):
        version_check(record, version)
        with db.engine.begin() as other:
            other.execute(
                sa.update(TreatmentSession)
                .where(TreatmentSession.id == record.id)
                .values(pain_after=1, version=TreatmentSession.version + 1)
            )

    monkeypatch.setattr(services, "check_version", someone_saves_right_after_the_check)
    response = therapist_client.post(url, data={**hidden, **session_data(pain_after="5", **{"points-0-pain": "3"})})
    assert response.status_code == 409
    [message] = flashes(response)
    assert message.startswith("This session was changed by someone else while you were editing.")
    assert input_value(text(response), "pain_after") == "5" and input_value(text(response), "points-0-pain") == "3"
    db.session.expire_all()
    assert db.session.get(TreatmentSession, saved.id).pain_after == 1
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "update")) is None


def test_a_submission_token_of_another_clients_session_is_a_409_with_the_input(therapist_client, own_client, db):
    other = make_client(own_client.therapist, full_name="Olga Other")
    taken = make_session(other, submission_token="used-for-olga")
    url = f"/clients/{own_client.id}/sessions/new"
    _, hidden = form_page(therapist_client, url)
    response = therapist_client.post(
        url, data={**hidden, "submission_token": "used-for-olga", **session_data(pain_before="8")}
    )
    assert response.status_code == 409
    [message] = flashes(response)
    assert message.startswith("This form was already used to save a session for another client")
    assert input_value(text(response), "pain_before") == "8"
    fresh = hidden_inputs(text(response))["submission_token"]
    assert fresh and fresh != "used-for-olga"
    assert [session.id for session in sessions(db)] == [taken.id]  # nothing stored for this client
    assert therapist_client.post(url, data={**hidden, "submission_token": fresh, **session_data()}).status_code == 302
    assert [session.client_id for session in sessions(db)] == [other.id, own_client.id]


def test_each_rows_referral_picture_reuses_the_one_figure_on_the_page(therapist_client, therapist, app):
    """The body figure is on the form once (a definition); each filled row's small pictures <use> it and draw only
    the muscle's shaded regions, so a six-point form does not carry the whole figure twelve more times."""
    from clinic.kb import knowledge_base

    person = make_client(therapist)
    chosen = ["upper-trapezius/1", "soleus/1"]
    make_session(person, points=[{"trigger_point_id": point} for point in chosen])
    response = therapist_client.get(f"/clients/{person.id}/sessions/new?repeat=last")
    page = parse(response)
    for view in ("front", "back"):
        bases = page.select(f"svg.figure-sprite defs g#figure-base-{view}")
        assert len(bases) == 1 and bases[0].select(".region[data-region]")
    with app.app_context():
        kb = knowledge_base()
        muscles = [kb.muscle_of(point) for point in chosen]
    for index, muscle in enumerate(muscles):
        row = page.find("select", id=f"points-{index}-trigger_point").find_parent(attrs={"data-point-row": True})
        pictures = row.select("[data-point-pattern] svg")
        assert [svg["data-view"] for svg in pictures] == ["front", "back"]
        for svg in pictures:
            assert svg.select_one("use")["href"] == f"#figure-base-{svg['data-view']}"
            shaded = {group["data-region"]: group["class"] for group in svg.select("g[data-region]")}
            drawn = set(muscle.refers_to.primary + muscle.refers_to.secondary)
            assert set(shaded) <= drawn
            for region, classes in shaded.items():
                assert ("is-primary" in classes) == (region in muscle.refers_to.primary)
        assert {g["data-region"] for svg in pictures for g in svg.select("g[data-region]")} == drawn
    # a form without filled rows has no small pictures, so no figure to share either
    empty = parse(therapist_client.get(f"/clients/{make_client(therapist).id}/sessions/new"))
    assert empty.select("svg.figure-sprite") == [] and empty.select("[data-point-row]")
