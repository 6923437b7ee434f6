"""Client intake before the visit (DESIGN 11, issue 13): links, the client's form, the therapist's side, outcomes."""

import base64
import hashlib
import socket
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.intakes import (
    ACTIVE,
    LATENT,
    RESOLVED,
    PointTreatmentView,
    muscle_outcomes,
    point_status,
    point_statuses,
    psfs_rows,
    session_pain_regions,
)
from clinic.kb import knowledge_base
from clinic.models import AuditEvent, Intake, IntakeLink, IntakeMiss
from clinic.rules import INTAKE_MISSES_PER_ADDRESS, PSFS_MDC_MEAN
from tests.factories import make_client, make_intake, make_intake_link, make_session
from tests.helpers import (
    csrf_token,
    element,
    element_text,
    field_error,
    has_element,
    input_value,
    is_checked,
    parse,
    selected_option,
    submit,
    text,
    words,
)

SECRETS = {
    "health_history": "Whiplash in 2019 after a cycling crash",
    "medications": "Warfarin 5 mg daily",
    "contraindications": "Varicose veins behind the left knee",
}


@pytest.fixture
def record(therapist):
    return make_client(therapist, full_name="Ingrid Vasquez-Holm", email="ingrid@example.org", **SECRETS)


def audits(action: str, entity_type: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action, AuditEvent.entity_type == entity_type)
        )
    )


def make_link_via_page(client, record):
    page = f"/clients/{record.id}"
    return submit(client, page, {}, action=f"/clients/{record.id}/intake-links")


def token_from(response) -> str:
    url = input_value(response, "intake-url")
    assert "/intake/" in url
    return url.rsplit("/intake/", 1)[1]


def valid_answers(**overrides) -> dict:
    answers = {
        "regions": ["temple", "top-of-shoulder"],
        "side-temple": "right",
        "intensity-temple": "6",
        "side-top-of-shoulder": "both",
        "intensity-top-of-shoulder": "4",
        "pain_now": "6",
        "pain_usual": "5",
        "pain_worst": "8",
        "psfs-0-activity": "Read for an hour",
        "psfs-0-score": "3",
        "psfs-1-activity": "Turn my head when reversing",
        "psfs-1-score": "5",
        "psfs-2-activity": "",
        "stress": "7",
        "health_changes": "Sprained my right wrist",
        "medications": "Started ibuprofen",
        "precautions": ["anticoagulants"],
        "consent_name": "Ingrid Vasquez-Holm",
    }
    answers.update(overrides)
    return {key: value for key, value in answers.items() if value is not None}


def send_intake(http, token: str, answers: dict):
    return submit(http, f"/intake/{token}", answers)


# --- 1. links ----------------------------------------------------------------------------------------------


def test_making_a_link_shows_it_as_text_and_qr_and_stores_only_a_hash(therapist_client, record):
    response = make_link_via_page(therapist_client, record)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = token_from(response)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    qr = element(response, "img[data-qr]")["src"]
    assert qr.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(qr.split(",", 1)[1])
    assert b"<svg" in svg and b'xmlns="http://www.w3.org/2000/svg"' in svg

    link = db.session.scalar(sa.select(IntakeLink))
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert link.expires_at - link.created_at == timedelta(hours=72)
    stored = [value for value in vars(link).values() if isinstance(value, str)]
    assert token not in stored
    (event,) = audits("create", "intake_link")
    assert event.client_id == record.id and event.entity_id == link.id and event.user_id == record.therapist_id


def test_every_new_link_has_its_own_token(therapist_client, record):
    first = token_from(make_link_via_page(therapist_client, record))
    second = token_from(make_link_via_page(therapist_client, record))
    assert first != second and db.session.scalar(sa.select(sa.func.count()).select_from(IntakeLink)) == 2


def test_another_therapist_cannot_make_a_link_or_read_an_intake(client, other_therapist, record):
    from tests.helpers import login_fast

    intake = make_intake(record)
    login_fast(client, other_therapist)
    token = csrf_token(client, "/clients/")
    assert client.post(f"/clients/{record.id}/intake-links", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/clients/{record.id}/intakes/{intake.id}").status_code == 404
    review = client.post(
        f"/clients/{record.id}/intakes/{intake.id}/review", data={"csrf_token": token, "accept": "medications"}
    )
    assert review.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntakeLink)) == 1  # the intake's own


def test_an_intake_is_read_only_under_its_own_client(therapist_client, therapist, record):
    intake = make_intake(record)
    other = make_client(therapist)
    assert therapist_client.get(f"/clients/{other.id}/intakes/{intake.id}").status_code == 404
    assert therapist_client.get(f"/clients/{record.id}/intakes/{intake.id + 99}").status_code == 404


def test_making_a_link_needs_the_csrf_token(therapist_client, record):
    assert therapist_client.post(f"/clients/{record.id}/intake-links").status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntakeLink)) == 0


def test_the_public_form_shows_the_first_name_and_no_health_data(client, record):
    _, token = make_intake_link(record)
    response = client.get(f"/intake/{token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert element_text(response, "h1") == "Before your visit, Ingrid"
    page = words(parse(response))
    assert "Vasquez" not in page
    for secret in SECRETS.values():
        assert secret not in page
    assert "ingrid@example.org" not in text(response)
    (opened,) = audits("view", "intake_link")
    assert opened.user_id is None and opened.client_id == record.id


def test_unknown_used_and_expired_links_get_the_same_404(client, record):
    _, used = make_intake_link(record, used_at=utcnow())
    _, expired = make_intake_link(record, expires_at=utcnow() - timedelta(seconds=1))
    responses = [client.get(f"/intake/{token}") for token in ("no-such-token", used, expired)]
    assert {response.status_code for response in responses} == {404}
    assert len({response.get_data() for response in responses}) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntakeMiss)) == 3


def test_a_link_works_once(client, record):
    link, token = make_intake_link(record)
    response = send_intake(client, token, valid_answers())
    assert response.status_code == 200
    assert element_text(response, "h1") == "Thank you, Ingrid"
    db.session.expire_all()
    assert db.session.get(IntakeLink, link.id).used_at is not None
    assert client.get(f"/intake/{token}").status_code == 404
    again = client.post(f"/intake/{token}", data={"csrf_token": csrf_token(client, "/login"), **valid_answers()})
    assert again.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Intake)) == 1


def test_token_guessing_is_throttled_in_the_database(client, record):
    _, token = make_intake_link(record)
    for n in range(INTAKE_MISSES_PER_ADDRESS):
        assert client.get(f"/intake/guess-{n}").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntakeMiss)) == INTAKE_MISSES_PER_ADDRESS
    assert client.get(f"/intake/{token}").status_code == 429  # even a real link, from this address, for now
    assert client.get(f"/intake/{token}", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200


def test_misses_older_than_the_window_do_not_count(client, record):
    _, token = make_intake_link(record)
    old = utcnow() - timedelta(hours=1)
    db.session.add_all(IntakeMiss(address="127.0.0.1", at=old) for _ in range(INTAKE_MISSES_PER_ADDRESS))
    db.session.commit()
    assert client.get(f"/intake/{token}").status_code == 200


def test_the_link_can_be_sent_by_email_through_smtp(app, therapist_client, record):
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="clinic@example.org")
        page = therapist_client.get(f"/clients/{record.id}")
        assert input_value(page, "intake-email") == "ingrid@example.org"
        response = submit(
            therapist_client,
            f"/clients/{record.id}",
            {"email": "ingrid@example.org"},
            action=f"/clients/{record.id}/intake-links",
        )
    finally:
        controller.stop()
    assert response.status_code == 200
    assert "Sent by email to ingrid@example.org" in element_text(response, ".alert-success")
    (message,) = received
    assert message["To"] == "ingrid@example.org" and message["From"] == "clinic@example.org"
    body = message.get_payload(decode=True).decode()
    assert f"/intake/{token_from(response)}" in body and "Hello Ingrid," in body
    for secret in SECRETS.values():
        assert secret not in body
    (event,) = audits("export", "intake_link")
    assert event.details == {"emailed_to": "ingrid@example.org"}


def test_a_bad_email_address_is_refused_beside_the_field(app, therapist_client, record):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1)
    response = submit(
        therapist_client,
        f"/clients/{record.id}",
        {"email": "not-an-address"},
        action=f"/clients/{record.id}/intake-links",
    )
    assert response.status_code == 400
    assert "email address" in field_error(response, "email")
    assert input_value(response, "email") == "not-an-address"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntakeLink)) == 0


def test_without_smtp_there_is_no_email_field(therapist_client, record):
    assert not has_element(therapist_client.get(f"/clients/{record.id}"), "#intake-email")


# --- 2. the client's form ----------------------------------------------------------------------------------


def test_a_valid_intake_is_stored_with_consent_time_and_audited(client, record, today):
    _, token = make_intake_link(record)
    before = utcnow()
    assert send_intake(client, token, valid_answers()).status_code == 200
    intake = db.session.scalar(sa.select(Intake))
    assert intake.regions == [
        {"region": "temple", "side": "right", "intensity": 6},
        {"region": "top-of-shoulder", "side": "both", "intensity": 4},
    ]
    assert (intake.pain_now, intake.pain_usual, intake.pain_worst, intake.stress) == (6, 5, 8, 7)
    assert intake.psfs == [
        {"activity": "Read for an hour", "score": 3},
        {"activity": "Turn my head when reversing", "score": 5},
    ]
    assert intake.psfs_mean == 4.0
    assert intake.precautions == ["anticoagulants"]
    assert intake.consent_name == "Ingrid Vasquez-Holm" and intake.consent_at >= before - timedelta(seconds=1)
    (event,) = audits("create", "intake")
    assert event.user_id is None and event.client_id == record.id and event.entity_id == intake.id


def test_stress_and_activities_are_optional(client, record):
    _, token = make_intake_link(record)
    answers = valid_answers(stress=None, **{"psfs-0-activity": "", "psfs-0-score": None, "psfs-1-activity": ""})
    answers.pop("psfs-1-score")
    assert send_intake(client, token, answers).status_code == 200
    intake = db.session.scalar(sa.select(Intake))
    assert intake.stress is None and intake.psfs == [] and intake.psfs_mean is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"pain_now": None}, "pain_now", "Choose a number from 0 to 10."),
        ({"pain_usual": "11"}, "pain_usual", "Choose a number from 0 to 10."),
        ({"pain_worst": "-1"}, "pain_worst", "Choose a number from 0 to 10."),
        ({"pain_now": "lots"}, "pain_now", "Choose a number from 0 to 10."),
        ({"stress": "12"}, "stress", "Choose a number from 0 to 10."),
        ({"psfs-1-score": None}, "psfs-1-score", "Choose how well you can do this activity now."),
        ({"psfs-0-activity": ""}, "psfs-0-score", "Name the activity this score is for."),
        ({"psfs-0-score": "15"}, "psfs-0-score", "Choose a number from 0 to 10."),
        ({"psfs-0-activity": "x" * 121}, "psfs-0-activity", "120"),
        ({"health_changes": "x" * 2001}, "health_changes", "2000"),
        ({"medications": "x" * 2001}, "medications", "2000"),
        ({"precautions": ["levitation"]}, "precautions", "not a valid choice"),
        ({"consent_name": ""}, "consent_name", "Type your full name to give consent."),
        ({"consent_name": "I"}, "consent_name", "2"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_kept(client, record, changes, field, message):
    _, token = make_intake_link(record)
    response = send_intake(client, token, valid_answers(**changes))
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert "nothing was sent yet" in element_text(response, ".alert-error")
    # everything typed is still there
    assert is_checked(response, "region-temple") and is_checked(response, "side-temple-right")
    assert selected_option(response, "intensity-temple") == "6"
    assert input_value(response, "psfs-1-activity") == "Turn my head when reversing"
    if field != "medications":
        assert element(response, "#medications").get_text().strip() == "Started ibuprofen"
    if field != "pain_worst":
        assert is_checked(response, "pain_worst-8")
    if field != "consent_name":
        assert input_value(response, "consent_name") == "Ingrid Vasquez-Holm"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Intake)) == 0
    assert db.session.scalar(sa.select(IntakeLink)).used_at is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"side-temple": None}, "Choose left, right or both."),
        ({"side-temple": "middle"}, "Choose left, right or both."),
        ({"intensity-temple": ""}, "Choose how much it hurts there, 0 to 10."),
        ({"intensity-temple": "11"}, "Choose how much it hurts there, 0 to 10."),
    ],
)
def test_a_region_needs_its_side_and_intensity(client, record, changes, message):
    _, token = make_intake_link(record)
    response = send_intake(client, token, valid_answers(**changes))
    assert response.status_code == 400
    assert message in element_text(response, "#region-temple-error")
    assert element(response, '[data-region-row="temple"]')["class"].count("has-error") == 1
    assert is_checked(response, "side-top-of-shoulder-both")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Intake)) == 0


def test_an_unknown_region_is_refused(client, record):
    _, token = make_intake_link(record)
    response = send_intake(client, token, valid_answers(regions=["temple", "tail"]))
    assert response.status_code == 400
    assert "not on the body chart" in element_text(response, "#regions-error")


def test_the_form_posts_need_the_csrf_token(client, record):
    _, token = make_intake_link(record)
    client.get(f"/intake/{token}")
    assert client.post(f"/intake/{token}", data=valid_answers()).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Intake)) == 0


def test_the_form_works_without_javascript_as_a_list(client, record):
    """Every region has a check box, its side and its 0-10 under the DESIGN 11 names."""
    _, token = make_intake_link(record)
    page = parse(client.get(f"/intake/{token}"))
    regions = {tag["value"] for tag in page.select('input[type=checkbox][name="regions"]')}
    assert regions == set(knowledge_base().regions)
    assert {tag["value"] for tag in page.select('input[name="side-heel"]')} == {"left", "right", "both"}
    assert [o["value"] for o in page.select('select[name="intensity-heel"] option')][1:] == [str(n) for n in range(11)]
    assert len(page.select('input[name="pain_now"][type=radio]')) == 11
    assert page.select_one('input[name="psfs-2-activity"]') is not None


def test_a_new_forms_region_list_is_kept_and_a_form_sent_back_shows_its_own(app, client, record):
    """The untouched list is rendered once per knowledge base; a form shown again with errors is rendered with
    what was sent, and does not change the kept list."""
    from clinic.intake.forms import IntakeForm
    from clinic.intake.page import region_list

    _, token = make_intake_link(record)
    with app.test_request_context():
        kb = knowledge_base()
        kept = region_list(kb, IntakeForm(region_ids=list(kb.regions)))
        assert region_list(kb, IntakeForm(region_ids=list(kb.regions))) is kept
        assert "checked" not in kept and "has-error" not in kept
    sent = {"regions": ["heel"], "side-heel": "left", "intensity-heel": "", "consent_name": ""}
    page = parse(submit(client, f"/intake/{token}", sent))
    assert page.select_one('input[name="regions"][value="heel"]').has_attr("checked")
    assert "has-error" in page.select_one('[data-region-row="heel"]')["class"]
    fresh = parse(client.get(f"/intake/{token}"))
    assert not fresh.select("input[name=regions][checked]") and not fresh.select(".region-row.has-error")


# --- 3. the therapist's side -------------------------------------------------------------------------------


def test_the_intake_page_shows_what_the_client_sent(therapist_client, record):
    intake = make_intake(
        record,
        regions=[{"region": "heel", "side": "left", "intensity": 7}],
        pain_now=7,
        psfs=[{"activity": "Walk the dog", "score": 2}, {"activity": "Stand at work", "score": 5}],
        medications="Started apixaban",
    )
    response = therapist_client.get(f"/clients/{record.id}/intakes/{intake.id}")
    assert response.status_code == 200
    assert element_text(response, "[data-pain=now]") == "7"
    assert element_text(response, 'tr[data-region="heel"]') == "Heel left 7"
    assert element_text(response, "[data-psfs-mean]") == "3.5"
    assert element_text(response, "[data-change=medications]") == "Started apixaban"
    drawing = parse(response).select('svg .region.is-selected[data-region="heel"]')
    assert drawing, "the drawing marks the heel"
    (event,) = audits("view", "intake")
    assert event.entity_id == intake.id


def test_the_client_page_lists_intakes(therapist_client, record):
    intake = make_intake(record, pain_now=4, medications="New pills")
    response = therapist_client.get(f"/clients/{record.id}")
    row = element(response, f'tr[data-intake="{intake.id}"]')
    assert [words(td) for td in row.find_all("td")][1:] == ["4", "4.0", "5", "to review"]


def test_the_client_page_counts_every_intake_and_lists_the_latest(therapist_client, record):
    """The count and the latest RECENT_INTAKES come from one query: the count is of all intakes, not of those listed."""
    from clinic.intakes import RECENT_INTAKES

    start = utcnow() - timedelta(days=30)
    made = [
        make_intake(record, pain_now=n % 10, submitted_at=start + timedelta(days=n)) for n in range(RECENT_INTAKES + 2)
    ]
    response = therapist_client.get(f"/clients/{record.id}")
    assert element_text(response, "#intake-title .count") == str(RECENT_INTAKES + 2)
    listed = [int(row["data-intake"]) for row in parse(response).select("tr[data-intake]")]
    assert listed == [intake.id for intake in made[::-1][:RECENT_INTAKES]]


def test_changes_are_offered_and_only_the_ticked_ones_taken_into_the_record(therapist_client, record):
    intake = make_intake(
        record,
        health_changes="Broke a toe",
        medications="Started apixaban",
        precautions=["anticoagulants", "pregnancy"],
    )
    page = therapist_client.get(f"/clients/{record.id}/intakes/{intake.id}")
    offered = {tag["value"] for tag in parse(page).select('input[name="accept"]')}
    assert offered == {"health", "medications", "precaution:anticoagulants", "precaution:pregnancy"}
    assert not any(tag.has_attr("checked") for tag in parse(page).select('input[name="accept"]'))
    db.session.refresh(record)
    assert record.medications == SECRETS["medications"]  # nothing applied by looking

    response = submit(
        therapist_client,
        f"/clients/{record.id}/intakes/{intake.id}",
        {"accept": ["medications", "precaution:anticoagulants"]},
        action=f"/clients/{record.id}/intakes/{intake.id}/review",
        follow_redirects=True,
    )
    assert response.status_code == 200
    db.session.expire_all()
    record = db.session.get(type(record), record.id)
    assert record.medications.startswith(SECRETS["medications"] + "\n\n")
    assert record.medications.endswith("(from the client's intake): Started apixaban")
    assert record.precautions == ["anticoagulants"]
    assert record.health_history == SECRETS["health_history"]
    reviewed = db.session.get(Intake, intake.id)
    assert reviewed.reviewed_at is not None and reviewed.reviewed_by_id == record.therapist_id
    (event,) = [e for e in audits("update", "client") if e.details.get("from_intake") == intake.id]
    assert set(event.details["changes"]) == {"medications", "precautions"}
    assert event.details["changes"]["precautions"] == [[], ["anticoagulants"]]
    assert event.details["declined"] == ["health", "precaution:pregnancy"]
    assert has_element(response, "[data-reviewed]")


def test_reviewing_with_nothing_ticked_changes_nothing(therapist_client, record):
    intake = make_intake(record, medications="Started apixaban")
    version = record.version
    submit(
        therapist_client,
        f"/clients/{record.id}/intakes/{intake.id}",
        {},
        action=f"/clients/{record.id}/intakes/{intake.id}/review",
    )
    db.session.expire_all()
    assert db.session.get(type(record), record.id).version == version
    assert db.session.get(Intake, intake.id).reviewed_at is not None


def test_log_session_is_prefilled_from_the_newest_intake_since_the_last_session(therapist_client, record):
    last = make_session(record, started_at=utcnow() - timedelta(days=7), pain_regions=["heel"])
    make_intake(record, submitted_at=last.started_at - timedelta(days=1), pain_now=9)  # before it: ignored
    make_intake(
        record,
        submitted_at=utcnow() - timedelta(days=2),
        pain_now=2,
        regions=[{"region": "jaw", "side": "left", "intensity": 3}],
    )
    make_intake(
        record,
        submitted_at=utcnow() - timedelta(hours=3),
        pain_now=5,
        regions=[
            {"region": "temple", "side": "right", "intensity": 6},
            {"region": "side-of-neck", "side": "both", "intensity": 4},
        ],
    )
    response = therapist_client.get(f"/clients/{record.id}/sessions/new")
    assert input_value(response, "pain_before") == "5"
    chosen = {tag["value"] for tag in parse(response).select('input[name="pain_regions"][checked]')}
    assert chosen == {"temple:right", "side-of-neck:both"}  # with the side the client gave
    suggestions = [words(a) for a in parse(response).select("[data-suggestions] .suggestion-name")]
    assert "Upper trapezius" in suggestions  # refers to the temple and the side of the neck


def test_no_prefill_from_an_intake_older_than_the_last_session(therapist_client, record):
    make_intake(record, submitted_at=utcnow() - timedelta(days=3), pain_now=9)
    make_session(record, started_at=utcnow() - timedelta(days=1))
    response = therapist_client.get(f"/clients/{record.id}/sessions/new")
    assert input_value(response, "pain_before") == ""
    assert not parse(response).select('input[name="pain_regions"][checked]')


def test_the_session_regions_carry_sides_when_the_form_takes_them(app, record):
    intake = make_intake(
        record,
        regions=[
            {"region": "temple", "side": "right", "intensity": 6},
            {"region": "heel", "side": "both", "intensity": 2},
        ],
    )
    assert session_pain_regions(intake) == ["temple:right", "heel:both"]


# --- 4. outcomes -------------------------------------------------------------------------------------------


def at(day: int) -> datetime:
    return datetime(2026, 10, day, 9, tzinfo=UTC)


def view(pain: int, referral: bool, day: int = 1) -> PointTreatmentView:
    return PointTreatmentView(at(day), pain, referral)


@pytest.mark.parametrize(
    ("history", "status"),
    [
        ([view(8, True)], ACTIVE),
        ([view(2, False), view(7, True)], ACTIVE),
        ([view(8, True), view(5, False)], LATENT),
        ([view(1, False)], LATENT),  # one calm visit is not yet two
        ([view(8, True), view(2, False), view(1, False)], RESOLVED),
        ([view(8, True), view(2, False), view(3, False)], LATENT),  # 3/10 is still tender
        ([view(8, True), view(1, False), view(1, True)], ACTIVE),
        ([view(2, False), view(2, True), view(0, False)], LATENT),
    ],
)
def test_trigger_point_status_rule(history, status):
    assert point_status(history) == status


def test_point_statuses_and_muscle_outcome_from_sessions(app, record):
    kb = knowledge_base()
    pains = [(8, True), (6, True), (5, True), (4, False), (2, False), (3, False)]
    sessions = [
        make_session(
            record,
            started_at=at(1 + 7 * i // 2),
            points=[
                {"trigger_point_id": "upper-trapezius/1", "side": "right", "pain": pain, "referral_reproduced": ref},
                {"trigger_point_id": "upper-trapezius/1", "side": "left", "pain": 2, "referral_reproduced": False},
            ],
        )
        for i, (pain, ref) in enumerate(pains)
    ]
    sessions[-1].points[1].pain = 1
    db.session.commit()
    (outcome,) = muscle_outcomes(sessions, kb)
    assert (outcome.name, outcome.first_pain, outcome.last_pain, outcome.sessions) == ("Upper trapezius", 8, 3, 6)
    assert outcome.referral_gone_since == sessions[3].started_at
    statuses = {(p.point_id, p.side): p.status for p in point_statuses(sessions, kb)}
    assert statuses == {("upper-trapezius/1", "right"): LATENT, ("upper-trapezius/1", "left"): RESOLVED}


def test_psfs_change_is_marked_at_the_minimal_detectable_change(app, record):
    intakes = [
        make_intake(record, submitted_at=at(1), psfs=[{"activity": "a", "score": 2}, {"activity": "b", "score": 3}]),
        make_intake(record, submitted_at=at(8), psfs=[{"activity": "a", "score": 3}, {"activity": "b", "score": 4}]),
        make_intake(record, submitted_at=at(15), psfs=[{"activity": "a", "score": 5}, {"activity": "b", "score": 4}]),
    ]
    rows = psfs_rows(intakes)
    assert [(r.mean, r.change, r.beyond_mdc) for r in rows] == [(2.5, None, False), (3.5, 1.0, False), (4.5, 2.0, True)]
    assert PSFS_MDC_MEAN == 2.0


def test_the_client_page_shows_outcomes_with_their_rules(therapist_client, record):
    make_intake(record, submitted_at=at(1), pain_now=7, psfs=[{"activity": "Read", "score": 2}])
    make_intake(record, submitted_at=at(20), pain_now=3, psfs=[{"activity": "Read", "score": 6}])
    for day, pain, ref in ((2, 8, True), (9, 5, True), (16, 2, False), (21, 2, False)):
        make_session(
            record,
            started_at=at(day),
            pain_before=pain,
            points=[{"trigger_point_id": "upper-trapezius/1", "pain": pain, "referral_reproduced": ref}],
        )
    response = therapist_client.get(f"/clients/{record.id}")
    rows = parse(response).select(".psfs-over-time tbody tr")
    assert [words(r.select_one("td")).split()[-1] for r in rows] == [
        "intake",
        "session",
        "session",
        "session",
        "intake",
        "session",
    ]
    last_intake = parse(response).select(".psfs-over-time tr.intake-row")[-1]
    assert words(last_intake.select_one("[data-cell=psfs-change]")) == "+4.0 ≥ MDC"
    assert words(last_intake.select_one("[data-cell=pain-now]")) == "3"
    assert element_text(response, "[data-muscle-outcome]").startswith(
        "Upper trapezius: compression pain 8 → 2 over 4 sessions, referral no longer reproduced since"
    )
    assert element_text(response, 'tr[data-point="upper-trapezius/1"] [data-cell=status]') == "resolved"
    assert "Resolved: neither tender" in element_text(response, ".status-rule")
    assert "minimal detectable change" in element_text(response, ".psfs-rule")


def test_pain_history_json_gains_intakes(therapist_client, record):
    first = make_intake(record, submitted_at=at(1), pain_now=7, stress=6, psfs=[{"activity": "Read", "score": 2}])
    second = make_intake(record, submitted_at=at(10), pain_now=4, stress=None, psfs=[])
    body = therapist_client.get(f"/clients/{record.id}/pain-history.json").get_json()
    assert [i["id"] for i in body["intakes"]] == [first.id, second.id]
    assert body["intakes"][0] | {"date": None} == {
        "id": first.id,
        "date": None,
        "pain_now": 7,
        "psfs": [{"activity": "Read", "score": 2}],
        "psfs_mean": 2.0,
        "stress": 6,
    }
    assert datetime.fromisoformat(body["intakes"][0]["date"]) == at(1)
    assert body["intakes"][1]["psfs_mean"] is None and body["intakes"][1]["stress"] is None
    narrowed = therapist_client.get(f"/clients/{record.id}/pain-history.json?from=2026-10-05").get_json()
    assert [i["id"] for i in narrowed["intakes"]] == [second.id]


def test_the_summary_shows_the_outcomes(therapist_client, record):
    make_intake(record, submitted_at=at(1), pain_now=7, psfs=[{"activity": "Read", "score": 2}])
    make_session(record, started_at=at(2), points=[{"trigger_point_id": "upper-trapezius/1", "pain": 8}])
    response = therapist_client.get(f"/clients/{record.id}/summary")
    assert response.status_code == 200
    assert element_text(response, "#outcomes-title") == "Outcomes over time"
    assert element_text(response, "[data-status-counts]").startswith(
        "Trigger points treated: 0 active, 1 latent, 0 resolved."
    )
