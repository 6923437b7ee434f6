"""The physician summary and the exports: content, audit, access, CSV safety and FHIR validity."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.models import AuditEvent
from clinic.reports.services import neutralise
from tests.factories import make_client, make_session
from tests.helpers import clinic_zone, definitions, element, login_fast, text


def at(day: int) -> datetime:
    return datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(days=day)


@pytest.fixture
def record(therapist):
    client = make_client(
        therapist,
        full_name="Summary Client",
        physician_name="Dr. Rao",
        physician_contact="Fax 555-0100",
        contraindications="Anticoagulants: light pressure.",
        health_history="Neck pain after a fall in January.",
    )
    make_session(
        client,
        started_at=at(0),
        pain_before=8,
        pain_after=5,
        pain_regions=["temple", "side-of-neck"],
        points=[
            {
                "trigger_point_id": "upper-trapezius/1",
                "side": "right",
                "pressure_seconds": 60,
                "pain": 7,
                "release_felt": True,
            },
            {"trigger_point_id": "levator-scapulae/1", "side": "both", "pressure_seconds": 120, "pain": 6},
        ],
    )
    make_session(
        client,
        started_at=at(14),
        pain_before=4,
        pain_after=2,
        pain_regions=["temple"],
        plan='=HYPERLINK("http://evil") review in 2 weeks',
        points=[
            {
                "trigger_point_id": "upper-trapezius/1",
                "side": "right",
                "pressure_seconds": 45,
                "pain": 5,
                "local_twitch": True,
                "note": "-2 after release",
            }
        ],
    )
    return client


def events(db, action):
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# --- summary ---------------------------------------------------------------------------------------------


def test_summary_holds_what_a_physician_needs(therapist_client, record, db):
    response = therapist_client.get(f"/clients/{record.id}/summary")
    html = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    for expected in [
        "Summary Client",
        "Born ",
        "Dr. Rao",
        "Fax 555-0100",
        "1 Mar 2026 – 15 Mar 2026",
        "2 sessions",
        "Temple, Side of neck",
        "Neck pain after a fall",
        "Anticoagulants: light pressure.",
        'data-chart="pain"',
        "Upper trapezius",
        "Levator scapulae",
        "right 2",
        "release felt 1",
        "local twitch 1",
        "review in 2 weeks",
        "Maya Test, massage therapist",
        "not a diagnosis",
    ]:
        assert expected in html, expected
    assert 'class="main-nav"' not in html, "no navigation on the printable page"
    # Baseline 8, latest 4: -4, 50%: meaningful.
    assert definitions(html, "dl.pain-figures") == {
        "First visit, 1 Mar 2026": "8",
        "Latest visit, on arrival": "4",
        "Change": "-4",
        "Clinically meaningful?": "Yes",
    }


@pytest.mark.parametrize("query", ["", "?from=2026-03-10", "?to=2026-03-20"])
def test_summary_first_meaningful_improvement_is_the_whole_records(therapist_client, therapist, query):
    """Reached on day 5 (8 -> 4), not kept (6 later): the same first visit and "first reached" whether the summary
    covers the whole record (read from its sessions) or a period (read from the database)."""
    client = make_client(therapist, full_name="Up And Down")
    for day, pain in ((0, 8), (2, 7), (5, 4), (9, 5), (14, 4), (21, 6)):
        make_session(client, started_at=at(day), pain_before=pain, pain_after=pain - 1)
    html = text(therapist_client.get(f"/clients/{client.id}/summary{query}"))
    figures = definitions(html, "dl.pain-figures")
    assert figures["First visit, 1 Mar 2026"] == "8" and figures["Latest visit, on arrival"] == (
        "4" if query.startswith("?to") else "6"
    )
    if query.startswith("?to"):
        assert figures["Clinically meaningful?"] == "Yes"
    else:
        assert figures["Clinically meaningful?"] == "Reached, not kept"
    assert "First reached on 6 Mar 2026" in html


def test_summary_period_and_audit(therapist_client, record, db):
    html = text(therapist_client.get(f"/clients/{record.id}/summary?from=2026-03-10"))
    assert "1 session" in html and "Levator scapulae" not in html
    # The baseline is still the client's first visit, outside the period: 8 then, 4 now.
    figures = definitions(html, "dl.pain-figures")
    assert figures["First visit, 1 Mar 2026"] == "8" and figures["Latest visit, on arrival"] == "4"
    assert figures["Change"] == "-4" and figures["Clinically meaningful?"] == "Yes"
    [event] = events(db, "view")
    assert (event.entity_type, event.client_id, event.details["period"]) == (
        "summary",
        record.id,
        {"from": "2026-03-10"},
    )


def test_printing_the_summary_is_audited(therapist_client, record, db):
    html = text(therapist_client.get(f"/clients/{record.id}/summary"))
    token = element(html, "body.summary-page")["data-csrf"]
    response = therapist_client.post(f"/clients/{record.id}/summary/printed", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    [event] = events(db, "export")
    assert event.details["printed"] is True
    assert therapist_client.post(f"/clients/{record.id}/summary/printed").status_code == 400  # no CSRF token


def test_summary_with_no_sessions_says_so(therapist_client, therapist):
    empty = make_client(therapist)
    html = text(therapist_client.get(f"/clients/{empty.id}/summary"))
    assert "No sessions were recorded in this period." in html and 'data-chart="pain"' not in html


def test_summary_bad_period_is_400(therapist_client, record):
    assert therapist_client.get(f"/clients/{record.id}/summary?from=2026-04-01&to=2026-03-01").status_code == 400


def test_csv_and_json_dates_are_in_the_clinic_time_zone(therapist_client, record, app):
    app.config["CLINIC_TIMEZONE"] = "America/New_York"
    rows = read_csv(therapist_client.get(f"/clients/{record.id}/export.csv"))
    assert (rows[0]["date"], rows[0]["time"]) == ("2026-03-01", "05:00")
    body = therapist_client.get(f"/clients/{record.id}/pain-history.json").get_json()
    assert body["sessions"][0]["date"] == "2026-03-01T05:00:00-05:00"


def test_summary_lists_at_most_twelve_muscles(therapist_client, therapist, app):
    from clinic.kb import knowledge_base

    with app.test_request_context():
        slugs = list(knowledge_base().muscles)[:15]
    client = make_client(therapist)
    make_session(client, points=[{"trigger_point_id": f"{slug}/1"} for slug in slugs])
    html = text(therapist_client.get(f"/clients/{client.id}/summary"))
    assert "And 3 more muscles" in html


def test_exports_record_the_period(therapist_client, record, db, app):
    # Pinned: a period ending 9999-12-31 fails west of UTC (see test_a_far_future_end_date_is_fine in test_charts).
    app.config["CLINIC_TIMEZONE"] = "UTC"
    therapist_client.get(f"/clients/{record.id}/export.csv?from=2026-03-10&to=9999-12-31")
    [event] = events(db, "export")
    assert event.details == {"format": "csv", "sessions": 1, "period": {"from": "2026-03-10", "to": "9999-12-31"}}


# --- CSV -------------------------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_csv_has_a_row_per_point_and_is_audited(therapist_client, record, db):
    response = therapist_client.get(f"/clients/{record.id}/export.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert len(rows) == 3
    assert rows[0]["muscle"] == "Upper trapezius" and rows[0]["pressure_seconds"] == "60"
    assert rows[0]["release_felt"] == "yes" and rows[0]["pain_regions"] == "Temple; Side of neck"
    # The moment of the session on the clinic's clock: a date and a time a spreadsheet reads as such.
    local = at(0).astimezone(clinic_zone())
    assert (rows[0]["date"], rows[0]["time"]) == (local.date().isoformat(), local.strftime("%H:%M"))
    [event] = events(db, "export")
    assert event.details == {"format": "csv", "sessions": 2, "period": {}}


def test_csv_names_the_client_and_the_dates_it_covers(therapist_client, therapist):
    client = make_client(therapist, full_name="Zoë O'Neill-Łukasz", date_of_birth=date(1988, 4, 12))
    make_session(client, started_at=at(3))
    make_session(client, started_at=at(20))
    response = therapist_client.get(f"/clients/{client.id}/export.csv")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="zoe-o-neill-ukasz_2026-03-04_to_2026-03-21_sessions.csv"'
    )
    response = therapist_client.get(f"/clients/{client.id}/export.csv?from=2026-03-01&to=2026-03-10")
    assert (
        'filename="zoe-o-neill-ukasz_2026-03-01_to_2026-03-10_sessions.csv"' in response.headers["Content-Disposition"]
    )
    rows = read_csv(response)
    assert [(row["client_name"], row["client_date_of_birth"]) for row in rows] == [("Zoë O'Neill-Łukasz", "1988-04-12")]
    fhir = therapist_client.get(f"/clients/{client.id}/export.fhir.json")
    assert 'filename="zoe-o-neill-ukasz_2026-03-04_to_2026-03-21_fhir-R4B.json"' in fhir.headers["Content-Disposition"]
    empty = make_client(therapist, full_name="No Visits")
    assert (
        "no-visits_no-sessions_sessions.csv"
        in therapist_client.get(f"/clients/{empty.id}/export.csv").headers["Content-Disposition"]
    )


def test_csv_dates_and_times_are_what_spreadsheets_read(therapist_client, record):
    for row in read_csv(therapist_client.get(f"/clients/{record.id}/export.csv")):
        assert datetime.strptime(row["date"], "%Y-%m-%d") and datetime.strptime(row["time"], "%H:%M")
        assert datetime.strptime(row["client_date_of_birth"], "%Y-%m-%d")


def test_csv_holds_stress_and_vitals(therapist_client, therapist):
    client = make_client(therapist)
    make_session(
        client,
        stress_before=7,
        stress_after=3,
        heart_rate_before=82,
        heart_rate_after=68,
        systolic_before=138,
        diastolic_before=88,
        systolic_after=124,
        diastolic_after=80,
    )
    make_session(client, started_at=at(7))  # nothing measured: empty cells, not "None"
    rows = read_csv(therapist_client.get(f"/clients/{client.id}/export.csv"))
    vitals = ["stress", "heart_rate", "systolic", "diastolic"]
    assert [rows[0][f"{v}_{w}"] for w in ("before", "after") for v in vitals] == [
        "7", "82", "138", "88", "3", "68", "124", "80"
    ]  # fmt: skip
    assert {rows[1][f"{v}_{w}"] for w in ("before", "after") for v in vitals} == {""}


def test_csv_neutralises_formulas(therapist_client, record):
    rows = read_csv(therapist_client.get(f"/clients/{record.id}/export.csv"))
    assert rows[2]["plan"].startswith("'=HYPERLINK")
    assert rows[2]["point_note"] == "'-2 after release"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("plain", "plain"),
        (5, 5),
        ("", ""),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_csv_session_without_points_still_has_a_row(therapist_client, therapist):
    client = make_client(therapist)
    make_session(client, points=[])
    from clinic.extensions import db as _db
    from clinic.models import TreatmentSession

    session = _db.session.scalar(sa.select(TreatmentSession))
    session.points = []
    _db.session.commit()
    rows = read_csv(therapist_client.get(f"/clients/{client.id}/export.csv"))
    assert len(rows) == 1 and rows[0]["trigger_point"] == ""


# --- FHIR ------------------------------------------------------------------------------------------------


def test_fhir_bundle_validates_and_holds_the_records(therapist_client, record, db):
    from fhir.resources.R4B.bundle import Bundle

    response = therapist_client.get(f"/clients/{record.id}/export.fhir.json")
    assert response.mimetype == "application/fhir+json"
    data = json.loads(response.get_data(as_text=True))
    bundle = Bundle.model_validate(data)  # raises if any resource is not valid FHIR
    kinds = [entry.resource.__resource_type__ for entry in bundle.entry]
    assert kinds.count("Patient") == 1 and kinds.count("Encounter") == 2
    assert kinds.count("Observation") == 4 and kinds.count("Procedure") == 3
    pain = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert all(
        o["code"]["coding"][0]
        == {
            "system": "http://loinc.org",
            "code": "72514-3",
            "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        }
        for o in pain
    )
    assert [o["valueInteger"] for o in pain] == [8, 5, 4, 2]
    assert pain[0]["bodySite"]["text"] == "Temple, Side of neck"
    patient = data["entry"][0]["resource"]
    assert patient["birthDate"] == record.date_of_birth.isoformat() and patient["name"][0]["family"] == "Client"
    urls = {e["fullUrl"] for e in data["entry"]}
    references = [e["resource"]["subject"]["reference"] for e in data["entry"] if "subject" in e["resource"]]
    assert set(references) <= urls
    [event] = events(db, "export")
    assert event.details == {"format": "fhir", "sessions": 2, "period": {}}


def test_fhir_bundle_has_vitals_stress_notes_practitioner_and_coded_laterality(therapist_client, therapist, db):
    from fhir.resources.R4B.bundle import Bundle

    therapist.credentials = "RMT"
    therapist.registration_number = "CMTO-12345"
    therapist.phone = "555-0199"
    db.session.commit()
    client = make_client(therapist)
    make_session(
        client,
        stress_before=7,
        stress_after=3,
        heart_rate_before=82,
        systolic_before=138,
        diastolic_before=88,
        subjective="Headache <worse> & neck stiff",
        assessment="Upper trapezius active point.",
        points=[
            {"trigger_point_id": "upper-trapezius/1", "side": "left"},
            {"trigger_point_id": "masseter/1", "side": "both"},
        ],
    )
    response = therapist_client.get(f"/clients/{client.id}/export.fhir.json")
    assert response.headers["Content-Type"] == "application/fhir+json; fhirVersion=4.3"
    data = response.get_json(force=True)
    Bundle.model_validate(data)
    resources = [entry["resource"] for entry in data["entry"]]
    by_code = {r["code"]["coding"][0]["code"]: r for r in resources if r["resourceType"] == "Observation"}
    heart = by_code["8867-4"]
    assert heart["valueQuantity"] == {
        "value": 82,
        "unit": "beats/minute",
        "system": "http://unitsofmeasure.org",
        "code": "/min",
    }
    assert heart["category"][0]["coding"][0]["code"] == "vital-signs"
    pressure = by_code["85354-9"]
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"]) for c in pressure["component"]] == [
        ("8480-6", 138),
        ("8462-4", 88),
    ]
    stress = [
        r
        for r in resources
        if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "perceived-stress"
    ]
    assert [r["valueInteger"] for r in stress] == [7, 3]
    [practitioner] = [r for r in resources if r["resourceType"] == "Practitioner"]
    assert practitioner["name"][0]["text"] == "Maya Test"
    assert practitioner["qualification"][0]["code"]["text"] == "RMT"
    assert practitioner["qualification"][0]["identifier"][0]["value"] == "CMTO-12345"
    practitioner_url = next(e["fullUrl"] for e in data["entry"] if e["resource"] is practitioner)
    procedures = [r for r in resources if r["resourceType"] == "Procedure"]
    assert {p["performer"][0]["actor"]["reference"] for p in procedures} == {practitioner_url}
    assert all(o["performer"][0]["reference"] == practitioner_url for o in by_code.values())
    laterality = [p["bodySite"][0]["extension"][0]["valueCodeableConcept"]["coding"][0] for p in procedures]
    assert [(c["system"], c["code"]) for c in laterality] == [
        ("http://snomed.info/sct", "7771000"),
        ("http://snomed.info/sct", "51440002"),
    ]
    [notes] = [r for r in resources if r["resourceType"] == "Composition"]
    sections = {s["title"]: s for s in notes["section"]}
    assert set(sections) == {"Subjective", "Assessment"}, "empty notes are left out"
    assert sections["Subjective"]["code"]["coding"][0]["code"] == "61150-9"
    assert "Headache &lt;worse&gt; &amp; neck stiff" in sections["Subjective"]["text"]["div"]
    assert notes["author"] == [{"reference": practitioner_url}]


# --- access ------------------------------------------------------------------------------------------------


def test_reports_are_404_for_other_therapists(client, record, other_therapist, db):
    login_fast(client, other_therapist)
    for url in [
        f"/clients/{record.id}/summary",
        f"/clients/{record.id}/export.csv",
        f"/clients/{record.id}/export.fhir.json",
    ]:
        response = client.get(url)
        assert response.status_code == 404 and "Summary Client" not in text(response), url
    assert events(db, "export") == [] and events(db, "view") == []


# --- the summary's additions ----------------------------------------------------------------------------


def summary_soup(client, client_id: int, query: str = ""):
    from bs4 import BeautifulSoup

    return BeautifulSoup(text(client.get(f"/clients/{client_id}/summary{query}")), "html.parser")


def test_summary_names_the_clinic_and_the_therapists_credentials_and_contact(therapist_client, therapist, record, db):
    from clinic.models import ClinicSettings

    db.session.add(ClinicSettings(id=1, name="Riverside Myotherapy", address="12 Mill Lane\nLeeds", phone="0113 555"))
    therapist.credentials, therapist.registration_number, therapist.phone = "RMT", "CMTO-4411", "555-0142"
    db.session.commit()
    soup = summary_soup(therapist_client, record.id)
    clinic = soup.select_one(".clinic-block")
    assert clinic.select_one(".clinic-name").get_text() == "Riverside Myotherapy"
    assert "12 Mill Lane\nLeeds" in clinic.get_text() and "0113 555" in clinic.get_text()
    [who] = soup.select(".id-grid .therapist")
    assert who.get_text(" ", strip=True) == "Maya Test , RMT Reg. no. CMTO-4411 555-0142 maya@clinic.example"


def test_summary_without_clinic_details_still_renders(therapist_client, record):
    soup = summary_soup(therapist_client, record.id)
    assert soup.select_one(".clinic-name") is None and "Prepared" in soup.select_one(".clinic-block").get_text()


def test_summary_shows_latest_findings_and_where_they_changed(therapist_client, therapist):
    client = make_client(therapist)
    for day, objective, assessment in (
        (0, "Taut band in right upper trapezius.", "Active trigger points, neck."),
        (7, "Taut band in right upper trapezius.", ""),
        (14, "Band softer; neck rotation full.", "Improving."),
    ):
        make_session(client, started_at=at(day), objective=objective, assessment=assessment)
    soup = summary_soup(therapist_client, client.id)
    objective = soup.select_one(".finding-objective")
    assert (
        objective.select_one(".latest").get_text(" ", strip=True)
        == "Latest, 15 Mar 2026: Band softer; neck rotation full."
    )
    assert [li.get_text(" ", strip=True) for li in objective.select(".earlier li")] == [
        "Until then, from 1 Mar 2026: Taut band in right upper trapezius."
    ]
    assessment = soup.select_one(".finding-assessment")
    assert assessment.select_one(".latest").get_text(" ", strip=True) == "Latest, 15 Mar 2026: Improving."
    assert [li.get_text(" ", strip=True) for li in assessment.select(".earlier li")] == [
        "Until then, from 1 Mar 2026: Active trigger points, neck."
    ]


def test_summary_gives_attendance_and_frequency(therapist_client, therapist):
    client = make_client(therapist)
    for day in (0, 7, 14, 28):
        make_session(client, started_at=at(day))
    attendance = summary_soup(therapist_client, client.id).select_one(".attendance").get_text(" ", strip=True)
    assert attendance == "4 sessions over 4 weeks: on average every 9 days, longest gap 14 days"
    one = make_client(therapist)
    make_session(one, started_at=at(0))
    assert summary_soup(therapist_client, one.id).select_one(".attendance").get_text(strip=True) == "1 session"


def test_summary_flags_pain_getting_worse_in_plain_words(therapist_client, therapist):
    client = make_client(therapist, medications="Warfarin 5 mg")
    make_session(client, started_at=at(0), pain_before=8)
    make_session(client, started_at=at(7), pain_before=9)
    flag = summary_soup(therapist_client, client.id).select_one(".flag-worse")
    assert flag.get_text(" ", strip=True) == (
        "Pain is worse than at the first visit: 9/10 on arrival at the latest visit, up from 8/10 on 1 Mar 2026."
    )


def test_summary_does_not_flag_a_stable_or_improving_client(therapist_client, record):
    assert summary_soup(therapist_client, record.id).select_one(".flag-worse") is None


def test_exports_stream_in_batches_each_session_once_after_the_audit_row(therapist_client, therapist, db, monkeypatch):
    """Read a few sessions at a time (two share a start time: the keyset must neither skip nor repeat one);
    each export is recorded with its session count (counted in SQL, not from the stream); FHIR is compact JSON."""
    from clinic import history

    monkeypatch.setattr(history, "EXPORT_BATCH", 2)
    person = make_client(therapist, full_name="Long Record")
    starts = [at(0), at(1), at(1), at(2), at(3)]
    made = [
        make_session(person, started_at=start, points=[{"trigger_point_id": "upper-trapezius/1"}]) for start in starts
    ]
    expected = sorted((session.started_at, session.id) for session in made)
    response = therapist_client.get(f"/clients/{person.id}/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [int(row["session_id"]) for row in rows] == [session_id for _, session_id in expected]

    fhir = therapist_client.get(f"/clients/{person.id}/export.fhir.json")
    body = fhir.get_data(as_text=True)
    bundle = json.loads(body)
    assert body == json.dumps(bundle, separators=(",", ":"), ensure_ascii=False)  # compact: no indent, no spaces
    encounters = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"]
    assert len(encounters) == len(made)
    # More sessions than a batch outside an export (the charts): their points are found by a subquery.
    history = therapist_client.get(f"/clients/{person.id}/pain-history.json").get_json()["sessions"]
    assert [(s["id"], len(s["points"])) for s in history] == [(session_id, 1) for _, session_id in expected]
    exports = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [(event.details["format"], event.details["sessions"]) for event in exports] == [("csv", 5), ("fhir", 5)]


def test_fhir_procedures_written_as_text_are_what_the_encoder_writes(therapist_client, therapist):
    """The Procedures are written as JSON text (constant parts once): the file must be exactly the compact
    encoding of the document it parses to, quotes, backslashes and non-ASCII in a note included, with
    name-based UUIDs as uuid5 makes them."""
    import uuid

    from clinic.reports.services import _urn

    person = make_client(therapist, full_name="Zoë O'Brien")
    points = [
        {"trigger_point_id": "upper-trapezius/1", "side": "left", "note": 'Said "ouch" \\ then relaxed: ça va'},
        {"trigger_point_id": "soleus/1", "side": "both", "release_felt": True, "referral_reproduced": True},
    ]
    make_session(person, points=points)
    body = therapist_client.get(f"/clients/{person.id}/export.fhir.json").get_data(as_text=True)
    data = json.loads(body)
    assert body == json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    procedures = [e for e in data["entry"] if e["resource"]["resourceType"] == "Procedure"]
    assert [p["resource"]["bodySite"][0]["coding"][0]["code"] for p in procedures] == ["upper-trapezius/1", "soleus/1"]
    first = procedures[0]["resource"]
    assert first["note"][0]["text"].endswith('. Said "ouch" \\ then relaxed: ça va')
    assert first["bodySite"][0]["extension"][0]["valueCodeableConcept"]["text"] == "left"
    assert "release felt" in procedures[1]["resource"]["note"][0]["text"].lower()
    for kind, key in (("procedure", 1), ("encounter", 12345), ("patient", "x/y")):
        assert _urn(kind, key) == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'knotwork/{kind}/{key}')}"


# --- the summary's one pass over the points (issue 16) ------------------------------------------------


def test_summary_point_aggregates_equal_the_three_passes_over_point_objects(therapist):
    """point_aggregates() over history.summary_points() gives what muscle_counts, muscle_outcomes and
    point_statuses give over the full records, in the same order (ties in first-seen order), whole record and a
    period; with a point the base no longer has, two sessions at one moment, responses and long holds."""
    from clinic.history import sessions_in_period, summary_points, summary_sessions
    from clinic.intakes import muscle_outcomes, point_statuses
    from clinic.kb import knowledge_base
    from clinic.outcomes import muscle_counts
    from clinic.reports.services import point_aggregates

    client = make_client(therapist, full_name="Many Points")
    ids = ["upper-trapezius/1", "levator-scapulae/1", "upper-trapezius/2", "retired-muscle/9", "sternocleidomastoid/1"]
    for day in range(14):
        points = [
            {
                "trigger_point_id": ids[(day + n) % len(ids)],
                "side": ("left", "right", "both")[(day * 2 + n) % 3],
                "pain": (day * 3 + n) % 10,
                "pressure_seconds": (20, 60, 120)[(day + 2 * n) % 3],
                "release_felt": (day + n) % 2 == 0,
                "local_twitch": (day * n) % 3 == 1,
                "referral_reproduced": day < 9 and (day + n) % 4 == 0,
            }
            for n in range(1 + day % 4)
        ]
        make_session(client, started_at=at(day // 2 * 3), pain_before=(day * 7) % 11, points=points)
    kb = knowledge_base()
    for period in ((None, None), (at(6).date(), at(15).date())):
        full = sessions_in_period(client, *period)
        muscles, outcomes, statuses = point_aggregates(
            summary_sessions(client, *period), summary_points(client, *period), kb
        )
        expected = muscle_counts(full, kb)
        assert [m["name"] for m in muscles] == [m["name"] for m in expected]
        assert "retired-muscle/9" in [m["name"] for m in muscles]
        for got, want in zip(muscles, expected, strict=True):
            assert got == want
            assert list(got["sides"].items()) == list(want["sides"].items())
            assert list(got["responses"].items()) == list(want["responses"].items())
        assert outcomes == muscle_outcomes(full, kb)
        assert any(o.referral_gone_since for o in outcomes)
        assert statuses == point_statuses(full, kb)
        assert {s.status for s in statuses} >= {"active", "latent"}


# --- the FHIR document, written as text, against the same document built as dicts (issue 16) -------------------


def _urn(kind: str, key) -> str:
    import uuid

    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'knotwork/{kind}/{key}')}"


def _session_resources_as_dicts(session, patient: str, practitioner: str) -> list[dict]:
    """A session's entries as the export built them as dicts before it wrote them as text: the reference."""
    import html

    from clinic.clock import to_local
    from clinic.kb import knowledge_base, sides
    from clinic.reports import services as fhir

    kb = knowledge_base()
    encounter = _urn("encounter", session.id)
    start = session.started_at
    end = start + timedelta(minutes=session.length_minutes)
    entries = [
        {
            "fullUrl": encounter,
            "resource": {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB",
                    "display": "ambulatory",
                },
                "type": [{"text": "Manual therapy: myofascial trigger point treatment"}],
                "subject": {"reference": patient},
                "participant": [{"individual": {"reference": practitioner}}],
                "period": {"start": start.isoformat(), "end": end.isoformat()},
            },
        }
    ]

    def observation(key, code, category, moment, text, **value):
        display = category.replace("-", " ").title()
        return {
            "fullUrl": _urn(key, session.id),
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "category": [{"coding": [{"system": fhir.OBSERVATION_CATEGORY, "code": category, "display": display}]}],
                "code": {"coding": [code], "text": text},
                "subject": {"reference": patient},
                "encounter": {"reference": encounter},
                "performer": [{"reference": practitioner}],
                "effectiveDateTime": moment.isoformat(),
                **value,
            },
        }

    def quantity(value, unit, code):
        return {"value": value, "unit": unit, "system": fhir.UCUM, "code": code}

    body_site = {
        "coding": [
            {"system": fhir.REGION_SYSTEM, "code": region, "display": kb.region_names.get(region, region)}
            for region in sides.region_ids(session.pain_regions)
        ],
        "text": ", ".join(sides.labels(session.pain_regions, kb.region_names)) or "Not recorded",
    }
    for when, moment in (("before", start), ("after", end)):
        entries.append(
            observation(
                f"pain-{when}",
                fhir.PAIN_SEVERITY,
                "survey",
                moment,
                f"Pain severity {when} treatment",
                valueInteger=getattr(session, f"pain_{when}"),
                bodySite=body_site,
            )
        )
        if (stress := getattr(session, f"stress_{when}")) is not None:
            entries.append(
                observation(
                    f"stress-{when}",
                    fhir.STRESS,
                    "survey",
                    moment,
                    f"Perceived stress {when} treatment",
                    valueInteger=stress,
                )
            )
        if (rate := getattr(session, f"heart_rate_{when}")) is not None:
            entries.append(
                observation(
                    f"heart-rate-{when}",
                    fhir.HEART_RATE,
                    "vital-signs",
                    moment,
                    f"Heart rate {when} treatment",
                    valueQuantity=quantity(rate, "beats/minute", "/min"),
                )
            )
        pressures = (
            (fhir.SYSTOLIC, getattr(session, f"systolic_{when}")),
            (fhir.DIASTOLIC, getattr(session, f"diastolic_{when}")),
        )
        if any(value is not None for _, value in pressures):
            entries.append(
                observation(
                    f"blood-pressure-{when}",
                    fhir.BLOOD_PRESSURE,
                    "vital-signs",
                    moment,
                    f"Blood pressure {when} treatment",
                    component=[
                        {"code": {"coding": [code]}, "valueQuantity": quantity(value, "mmHg", "mm[Hg]")}
                        for code, value in pressures
                        if value is not None
                    ],
                )
            )
    sections = [
        {
            "title": title,
            "code": {"coding": [code]},
            "text": {
                "status": "generated",
                "div": '<div xmlns="http://www.w3.org/1999/xhtml">'
                + "<br/>".join(html.escape(line) for line in getattr(session, field).splitlines())
                + "</div>",
            },
        }
        for field, title, code in fhir.SOAP_SECTIONS
        if getattr(session, field).strip()
    ]
    if sections:
        entries.append(
            {
                "fullUrl": _urn("notes", session.id),
                "resource": {
                    "resourceType": "Composition",
                    "status": "final",
                    "type": {"coding": [fhir.PROGRESS_NOTE], "text": "SOAP notes"},
                    "subject": {"reference": patient},
                    "encounter": {"reference": encounter},
                    "date": (session.updated_at or start).isoformat(),
                    "author": [{"reference": practitioner}],
                    "title": f"Manual therapy session notes, {to_local(start).date().isoformat()}",
                    "section": sections,
                },
            }
        )
    for point in session.points:
        found = kb.point(point.trigger_point_id)
        label = found.name if found else point.trigger_point_id
        note = f"Pressure held {point.pressure_seconds} s; pain during compression {point.pain}/10"
        note += f"; {', '.join(point.responses)}" if point.responses else ""
        note += f". {point.note}" if point.note else ""
        laterality = {"coding": [fhir.LATERALITY[point.side]], "text": point.side}
        entries.append(
            {
                "fullUrl": _urn("procedure", point.id),
                "resource": {
                    "resourceType": "Procedure",
                    "status": "completed",
                    "code": {"text": "Ischemic compression of a myofascial trigger point"},
                    "subject": {"reference": patient},
                    "encounter": {"reference": encounter},
                    "performedDateTime": start.isoformat(),
                    "performer": [{"actor": {"reference": practitioner}}],
                    "bodySite": [
                        {
                            "extension": [{"url": fhir.LATERALITY_EXTENSION, "valueCodeableConcept": laterality}],
                            "coding": [
                                {"system": fhir.TRIGGER_POINT_SYSTEM, "code": point.trigger_point_id, "display": label}
                            ],
                            "text": f"{label} ({point.side})",
                        }
                    ],
                    "note": [{"text": note}],
                },
            }
        )
    return entries


def test_fhir_written_as_text_is_the_document_the_dicts_made(therapist_client, therapist, db):
    """Every resource is written by filling in JSON text: the export parses to the very document (same resources,
    same fields, same order) the dict-building code made, and is its compact encoding, for sessions with and
    without vitals, notes, points, sides and responses, a trigger point the base no longer has, text that JSON
    or HTML must escape, and % signs (the templates are filled with %)."""
    from clinic.models import TreatmentSession

    person = make_client(therapist, full_name="Zoë O'Brien")
    make_session(
        person,
        started_at=at(0),
        pain_regions=["temple:left", "temple:right", "low-back", "no-such-region"],
        stress_before=7,
        stress_after=3,
        heart_rate_before=82,
        heart_rate_after=70,
        systolic_before=138,
        diastolic_after=80,
        subjective='Headache <worse> & "neck" stiff\nslept 50% less\r\nça va',
        objective="   ",
        assessment="100% better %s %(x)s",
        plan="Every week",
        points=[
            {"trigger_point_id": "upper-trapezius/1", "side": "left", "note": 'Said "ouch" \\ 20%'},
            {"trigger_point_id": "retired-muscle/9", "side": "both", "release_felt": True, "local_twitch": True},
            {"trigger_point_id": "soleus/1", "side": "right", "referral_reproduced": True},
        ],
    )
    make_session(person, started_at=at(3), pain_regions=[], points=[])
    make_session(person, started_at=at(3), plan="a plan", diastolic_before=90)
    body = therapist_client.get(f"/clients/{person.id}/export.fhir.json").get_data(as_text=True)
    data = json.loads(body)
    assert body == json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    patient, practitioner = _urn("patient", person.id), _urn("practitioner", therapist.id)
    assert [entry["fullUrl"] for entry in data["entry"][:2]] == [patient, practitioner]
    db.session.expire_all()
    sessions = db.session.scalars(
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == person.id)
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
    ).all()
    expected = [entry for session in sessions for entry in _session_resources_as_dicts(session, patient, practitioner)]
    assert data["entry"][2:] == expected


def test_exports_reach_the_server_in_a_few_large_chunks(therapist_client, therapist, monkeypatch):
    """A server writes each chunk of a streamed body to the socket: the exports gather about STREAM_CHUNK
    characters per chunk instead of handing over each session on its own."""
    from clinic.reports import services

    monkeypatch.setattr(services, "STREAM_CHUNK", 12_000)
    person = make_client(therapist)
    for day in range(12):
        make_session(person, started_at=at(day), points=[{"trigger_point_id": "upper-trapezius/1"}] * 3)
    for export in ("export.csv", "export.fhir.json"):
        response = therapist_client.get(f"/clients/{person.id}/{export}")
        chunks = list(response.response)
        assert all(isinstance(chunk, bytes) for chunk in chunks)
        assert all(len(chunk) >= 12_000 for chunk in chunks[:-1]), export
        assert len(chunks) < 12, (export, [len(chunk) for chunk in chunks])


def test_fhir_adds_the_practitioner_of_a_session_saved_after_the_therapists_were_read(app, therapist):
    """The therapists are read before the sessions stream: one who appears only in the stream still gets their
    Practitioner, before the first session that refers to it."""
    from clinic.history import export_batches
    from clinic.kb import knowledge_base
    from clinic.reports.services import fhir_bundle

    person = make_client(therapist)
    make_session(person)
    with app.test_request_context():
        data = json.loads(b"".join(fhir_bundle(person, [], export_batches(person), knowledge_base())))
    kinds = [entry["resource"]["resourceType"] for entry in data["entry"]]
    assert kinds[:3] == ["Patient", "Practitioner", "Encounter"]
    practitioner = data["entry"][1]
    assert practitioner["fullUrl"] == _urn("practitioner", therapist.id)
    assert practitioner["resource"]["name"][0]["text"] == therapist.name
    assert data["entry"][2]["resource"]["participant"][0]["individual"]["reference"] == practitioner["fullUrl"]


# --- a long record's summary (issue 16) -------------------------------------------------------------------


def test_summary_of_a_long_record_charts_monthly_averages_and_says_so(therapist_client, therapist, app):
    """Beyond MANY_SESSIONS sessions the printed chart would be hundreds of lines: it draws each calendar month's
    averages (with the month's lowest to highest pain before shaded) and the page says so."""
    from clinic.figures import MANY_SESSIONS

    app.config["CLINIC_TIMEZONE"] = "UTC"
    client = make_client(therapist)
    days = range(MANY_SESSIONS + 1)  # 1 March to 30 April 2026: 31 sessions in March, 30 in April
    for day in days:
        make_session(client, started_at=at(day), pain_before=3 + day % 5, pain_after=1 + day % 2)
    soup = summary_soup(therapist_client, client.id)
    note = soup.select_one(".chart-note").get_text(" ", strip=True)
    assert f"With {len(days)} sessions the chart shows each calendar month's average pain" in note
    figure = json.loads(soup.select_one("#chart-data").string)["pain"]
    assert figure["title"] == "Pain before and after sessions, average of each month"
    traces = {trace["name"]: trace for trace in figure["data"]}
    before, after = traces["Pain before, monthly average"], traces["Pain after, monthly average"]
    march, april = [3 + day % 5 for day in days if day < 31], [3 + day % 5 for day in days if day >= 31]
    assert before["x"] == after["x"] == ["2026-03-15", "2026-04-15"]
    assert before["y"] == [round(sum(march) / 31, 1), round(sum(april) / 30, 1)]
    assert after["y"] == [round(sum(1 + d % 2 for d in days if d < 31) / 31, 1), 1.5]
    assert before["customdata"] == [[31, 3, 7], [30, 3, 7]]  # sessions, lowest and highest pain before
    assert traces["Pain before, lowest to highest in the month"]["y"] == [7, 7, 3, 3]
    assert all(len(trace["x"]) < len(days) for trace in figure["data"]), "no trace draws every session"
    # A short record still shows every session, without the note.
    short = make_client(therapist)
    make_session(short, started_at=at(0))
    assert summary_soup(therapist_client, short.id).select_one(".chart-note") is None


def test_summary_findings_read_back_only_the_latest_changes(app):
    """note_changes(..., latest=n) is the last n of note_changes(...), read from the end of the record."""
    from types import SimpleNamespace

    from clinic.outcomes import note_changes

    wordings = ["A", "", "A", "B", " B ", "", "A", "C", "C", "", "D"]
    sessions = [SimpleNamespace(started_at=at(day), objective=text) for day, text in enumerate(wordings)]
    with app.app_context():
        app.config["CLINIC_TIMEZONE"] = "UTC"
        full = note_changes(sessions, "objective")
        assert [(c.on.day, c.text) for c in full] == [(1, "A"), (4, "B"), (7, "A"), (8, "C"), (11, "D")]
        for latest in range(1, 7):
            assert note_changes(sessions, "objective", latest) == full[-latest:]
        assert note_changes([], "objective", 3) == []


def test_muscle_tally_orders_sides_and_responses_the_same_however_fed(app):
    """The summary's table reads the same whether the tally was fed point by point or a point and side at a time:
    sides most used first, ties left, right, both; responses in the order of PointTreatment.RESPONSES."""
    from clinic.kb import knowledge_base
    from clinic.outcomes import MuscleTally

    with app.app_context():
        by_point, by_counts = MuscleTally(knowledge_base()), MuscleTally(knowledge_base())
        for session_id, side, answered in ((1, "both", ["referral reproduced"]), (2, "right", []), (3, "left", [])):
            by_point.add(session_id, "upper-trapezius/1", side, 60, answered)
        by_point.add(4, "upper-trapezius/2", "right", 200, ["local twitch", "release felt"])
        by_counts.add_counts("upper-trapezius/2", "right", 1, [4], {"release felt": 1, "local twitch": 1}, 1)
        by_counts.add_counts("upper-trapezius/1", "both", 1, [1], {"referral reproduced": 1}, 0)
        by_counts.add_counts("upper-trapezius/1", "left", 1, [3], {}, 0)
        by_counts.add_counts("upper-trapezius/1", "right", 1, [2], {}, 0)
        [one], [other] = by_point.ranked(), by_counts.ranked()
    assert one == other and (one["points"], one["sessions"], one["outside_hold"]) == (4, 4, 1)
    assert (
        list(one["sides"].most_common())
        == list(other["sides"].most_common())
        == [
            ("right", 2),
            ("left", 1),
            ("both", 1),
        ]
    )
    assert list(one["responses"]) == list(other["responses"]) == ["release felt", "local twitch", "referral reproduced"]
