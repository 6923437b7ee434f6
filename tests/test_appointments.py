"""The appointment book (DESIGN 12): the model's checks, who sees what, booking and double bookings, daylight
saving, the day at "/", sessions logged from an appointment, the client page, the calendar feed, query counts."""

from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from icalendar import Calendar
from sqlalchemy.exc import IntegrityError

from clinic.clock import clinic_today, to_local, to_utc
from clinic.models import Appointment, AuditEvent, TreatmentSession
from tests.conftest import build_app
from tests.factories import make_appointment, make_client, make_session
from tests.helpers import count_queries, csrf_token, login_fast, submit, text


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(text(response), "html.parser")


def today_at(hour: int, minute: int = 0) -> datetime:
    """A moment today on the clinic's clock, as stored (UTC)."""
    return to_utc(datetime.combine(clinic_today(), time(hour, minute)))


def form_data(client_id, start: str, length="60", status="booked", note="", **extra) -> dict:
    return {"client": str(client_id), "start": start, "length_minutes": length, "status": status, "note": note, **extra}


def future_day() -> str:
    return (clinic_today() + timedelta(days=3)).isoformat()


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- the model's checks ---


@pytest.mark.parametrize(
    "fields",
    [{"status": "maybe"}, {"length_minutes": 0}, {"length_minutes": 241}],
    ids=["unknown status", "no length", "too long"],
)
def test_the_database_refuses_a_bad_appointment(db, therapist, fields):
    record = make_client(therapist)
    with pytest.raises(IntegrityError):
        make_appointment(record, **fields)
    db.session.rollback()
    assert count(db, Appointment) == 0


def test_only_a_completed_appointment_links_a_session(db, therapist):
    record = make_client(therapist)
    session = make_session(record)
    with pytest.raises(IntegrityError):
        make_appointment(record, session_id=session.id, status="booked")
    db.session.rollback()
    make_appointment(record, session_id=session.id, status="completed")
    with pytest.raises(IntegrityError):  # one session, one appointment
        make_appointment(record, session_id=session.id, status="completed")
    db.session.rollback()


# --- access: the same rules as clients ---


def test_every_appointment_url_is_404_for_another_therapist(app, client, therapist, other_therapist, db):
    hidden = make_client(other_therapist, full_name="Hidden Hartley")
    appointment = make_appointment(hidden, starts_at=today_at(10))
    login_fast(client, therapist)
    token = csrf_token(client, "/appointments/")
    rules = [rule for rule in app.url_map.iter_rules() if "appointment_id" in rule.arguments]
    assert {rule.endpoint for rule in rules} == {"appointments.edit", "appointments.change_status"}
    for rule in rules:
        url = rule.rule.replace("<int:appointment_id>", str(appointment.id))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token, "status": "cancelled", "version": "1"} if method == "POST" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code == 404, (method, url)
            assert "Hidden Hartley" not in text(response)
    for url in (
        f"/appointments/new?client={hidden.id}",
        f"/clients/{hidden.id}/sessions/new?appointment={appointment.id}",
    ):
        assert client.get(url).status_code == 404, url
    # Nor does the book or the day show it.
    for url in ("/", "/appointments/", f"/appointments/?view=week&therapist={other_therapist.id}"):
        assert "Hidden Hartley" not in text(client.get(url)), url
    db.session.refresh(appointment)
    assert appointment.status == "booked"
    # Every 404 above is kept as a `denied` attempt by this therapist, and nothing else is recorded.
    recorded = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert {(event.action, event.user_id) for event in recorded} == {("denied", therapist.id)}
    assert [(event.entity_type, event.entity_id) for event in recorded] == [("appointment", appointment.id)] * 3 + [
        ("client", hidden.id)
    ] * 2


def test_a_session_form_refuses_an_appointment_of_another_client(therapist_client, therapist):
    mine = make_client(therapist)
    other = make_client(therapist)
    appointment = make_appointment(other, starts_at=today_at(9))
    assert therapist_client.get(f"/clients/{mine.id}/sessions/new?appointment={appointment.id}").status_code == 404
    assert therapist_client.get(f"/clients/{mine.id}/sessions/new?appointment=abc").status_code == 404
    assert therapist_client.get(f"/clients/{mine.id}/sessions/new?appointment=999999").status_code == 404


def test_the_owner_sees_any_therapists_book(admin_client, therapist, other_therapist):
    record = make_client(other_therapist, full_name="Olive Owned")
    appointment = make_appointment(record, starts_at=today_at(11))
    page = soup(admin_client.get(f"/appointments/?therapist={other_therapist.id}"))
    row = page.select_one(f'[data-appointment="{appointment.id}"]')
    assert row.select_one(".visit-client").get_text(strip=True) == "Olive Owned"
    assert admin_client.get(f"/appointments/{appointment.id}").status_code == 200
    day = soup(admin_client.get("/"))  # all therapists' day
    assert day.select_one(f'[data-appointment="{appointment.id}"] .visit-client').get_text(strip=True) == "Olive Owned"


def test_the_book_needs_a_login(client):
    response = client.get("/appointments/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- booking, moving, cancelling ---


def test_book_an_appointment(therapist_client, therapist, db):
    record = make_client(therapist, full_name="Bea Booked")
    response = submit(
        therapist_client,
        "/appointments/new",
        form_data(record.id, f"{future_day()}T09:30", length="45", note="Side entrance"),
    )
    assert response.status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert (appointment.client_id, appointment.therapist_id) == (record.id, therapist.id)
    assert appointment.starts_at == to_utc(datetime.fromisoformat(f"{future_day()}T09:30"))
    assert (appointment.length_minutes, appointment.status, appointment.note) == (45, "booked", "Side entrance")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "appointment"))
    assert (event.action, event.entity_id, event.client_id) == ("create", appointment.id, record.id)
    day = soup(therapist_client.get(response.headers["Location"]))
    row = day.select_one(f'[data-appointment="{appointment.id}"]')
    assert row.select_one(".visit-start").get_text(strip=True) == "09:30"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("length_minutes", "0", "from 5 to 240 minutes"),
        ("length_minutes", "abc", "from 5 to 240 minutes"),
        ("start", "tomorrow", "date and time"),
        ("client", "", "Choose"),
        ("status", "maybe", "Not a valid choice"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_the_rest_is_kept(
    therapist_client, therapist, db, field, value, message
):
    record = make_client(therapist)
    data = form_data(record.id, f"{future_day()}T10:00", length="50", note="Keep me")
    data[field] = value
    page = soup(submit(therapist_client, "/appointments/new", data))
    error = page.select_one(f"#{field}-error")
    assert error is not None and message.lower() in error.get_text().lower(), page.select(".error")
    assert page.select_one("#note")["value"] == "Keep me"
    if field != "start":
        assert page.select_one("#start")["value"] == f"{future_day()}T10:00"
    assert count(db, Appointment) == 0


def test_a_client_the_therapist_may_not_see_cannot_be_booked(therapist_client, other_therapist, db):
    hidden = make_client(other_therapist)
    page = soup(submit(therapist_client, "/appointments/new", form_data(hidden.id, f"{future_day()}T10:00")))
    assert "Choose" in page.select_one("#client-error").get_text()
    assert count(db, Appointment) == 0


def test_without_csrf_nothing_is_booked(therapist_client, therapist, db):
    record = make_client(therapist)
    response = therapist_client.post("/appointments/new", data=form_data(record.id, f"{future_day()}T10:00"))
    assert response.status_code == 400
    assert count(db, Appointment) == 0


def test_double_booking_the_therapist_warns_and_may_be_overridden(therapist_client, therapist, db):
    first = make_client(therapist, full_name="Fay First")
    second = make_client(therapist, full_name="Sid Second")
    start = to_utc(datetime.fromisoformat(f"{future_day()}T10:00"))
    existing = make_appointment(first, starts_at=start, length_minutes=60)
    data = form_data(second.id, f"{future_day()}T10:30", length="30")
    page = soup(submit(therapist_client, "/appointments/new", data))
    warning = page.select_one("[data-overlaps]")
    assert warning is not None
    assert "Fay First" in warning.select_one(f'[data-overlap="{existing.id}"]').get_text()
    assert "same therapist" in warning.get_text()
    assert page.select_one("#book_anyway") is not None
    assert count(db, Appointment) == 1
    response = submit(therapist_client, "/appointments/new", {**data, "book_anyway": "y"})
    assert response.status_code == 302
    assert count(db, Appointment) == 2
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "create"))
    assert event.details["double_booked_with"] == [existing.id]


def test_double_booking_the_client_with_another_therapist_warns(admin_client, therapist, other_therapist, db):
    record = make_client(therapist, full_name="Cleo Client")
    start = to_utc(datetime.fromisoformat(f"{future_day()}T14:00"))
    make_appointment(record, starts_at=start, length_minutes=90)
    data = form_data(record.id, f"{future_day()}T15:00", therapist=str(other_therapist.id))
    page = soup(submit(admin_client, "/appointments/new", data))
    assert "same client" in page.select_one("[data-overlaps]").get_text()
    assert count(db, Appointment) == 1


def test_back_to_back_and_cancelled_appointments_are_no_double_booking(therapist_client, therapist, db):
    record = make_client(therapist)
    other = make_client(therapist)
    day = future_day()
    make_appointment(record, starts_at=to_utc(datetime.fromisoformat(f"{day}T09:00")), length_minutes=60)
    make_appointment(other, starts_at=to_utc(datetime.fromisoformat(f"{day}T10:00")), status="cancelled")
    response = submit(therapist_client, "/appointments/new", form_data(other.id, f"{day}T10:00"))
    assert response.status_code == 302
    assert count(db, Appointment) == 3


def test_move_an_appointment_and_the_audit_keeps_old_and_new(therapist_client, therapist, db):
    record = make_client(therapist)
    appointment = make_appointment(record, starts_at=to_utc(datetime.fromisoformat(f"{future_day()}T09:00")))
    url = f"/appointments/{appointment.id}"
    page = soup(therapist_client.get(url))
    assert page.select_one("#start")["value"] == f"{future_day()}T09:00"
    response = submit(therapist_client, url, form_data(record.id, f"{future_day()}T13:00", version="1"))
    assert response.status_code == 302
    db.session.refresh(appointment)
    assert appointment.starts_at == to_utc(datetime.fromisoformat(f"{future_day()}T13:00"))
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "update"))
    old, new = event.details["changes"]["starts_at"]
    assert (datetime.fromisoformat(new) - datetime.fromisoformat(old)) == timedelta(hours=4)


def test_the_appointment_form_records_its_view_and_reads_its_records_once(app, therapist_client, therapist, db):
    """The view is committed on its own: the appointment, its client and the user are not expired and read again
    to render, and the client choice reads only the columns it shows."""
    record = make_client(therapist, full_name="Zoe Quinn")
    appointment = make_appointment(record, starts_at=to_utc(datetime.fromisoformat(f"{future_day()}T09:00")))
    url = f"/appointments/{appointment.id}"
    with count_queries(app) as counted:
        page = soup(therapist_client.get(url))
    event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (event.action, event.entity_type, event.entity_id, event.client_id) == (
        "view",
        "appointment",
        appointment.id,
        record.id,
    )
    reads = [s for s in counted.statements if s.lstrip().startswith("SELECT")]
    assert len([s for s in reads if "FROM appointments" in s]) == 1
    assert not [s for s in reads if "clients.health_history" in s]  # not whole client rows for the choice
    assert (
        page.select_one(f'#client option[value="{record.id}"]').get_text()
        == f"Zoe Quinn (born {record.date_of_birth:%Y})"
    )


def test_a_stale_edit_is_refused_and_keeps_what_was_typed(therapist_client, therapist, db):
    record = make_client(therapist)
    appointment = make_appointment(record, starts_at=to_utc(datetime.fromisoformat(f"{future_day()}T09:00")))
    url = f"/appointments/{appointment.id}"
    appointment.note = "changed elsewhere"
    db.session.commit()
    response = submit(therapist_client, url, form_data(record.id, f"{future_day()}T11:00", note="mine", version="1"))
    assert response.status_code == 409
    assert soup(response).select_one("#note")["value"] == "mine"


@pytest.mark.parametrize("status", ["cancelled", "no-show", "arrived"])
def test_one_tap_status(therapist_client, therapist, db, status):
    record = make_client(therapist)
    appointment = make_appointment(record, starts_at=today_at(10))
    response = submit(
        therapist_client,
        "/",
        {"status": status, "version": "1", "next": "/"},
        action=f"/appointments/{appointment.id}/status",
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    db.session.refresh(appointment)
    assert appointment.status == status
    row = soup(therapist_client.get("/")).select_one(f'[data-appointment="{appointment.id}"]')
    assert row.select_one("[data-status-label]").get_text(strip=True).lower() == status


def test_status_change_needs_csrf_and_never_redirects_away(therapist_client, therapist, db):
    record = make_client(therapist)
    appointment = make_appointment(record, starts_at=today_at(10))
    url = f"/appointments/{appointment.id}/status"
    assert therapist_client.post(url, data={"status": "cancelled"}).status_code == 400
    response = submit(
        therapist_client, "/", {"status": "cancelled", "version": "1", "next": "//evil.example/"}, action=url
    )
    assert response.headers["Location"].startswith("/appointments/?date=")
    db.session.refresh(appointment)
    assert appointment.status == "cancelled"


# --- daylight saving (America/New_York: clocks go back on 1 November 2026, forward on 8 March 2026) ---


@pytest.fixture
def new_york(database_url):
    app = build_app(database_url, CLINIC_TIMEZONE="America/New_York")
    with app.app_context():
        yield app
        from clinic.extensions import db as _db

        _db.session.remove()


def test_a_week_across_the_clocks_going_back(new_york, db):
    from tests.factories import make_user

    therapist = make_user(name="Dee Ess")
    record = make_client(therapist, full_name="Tim Zone")
    moments = {
        # local wall clock -> UTC: EDT is UTC-4 until 2:00 on 1 November, then EST is UTC-5
        "saturday-morning": datetime(2026, 10, 31, 14, 0, tzinfo=UTC),  # 10:00 EDT
        "saturday-late": datetime(2026, 11, 1, 3, 30, tzinfo=UTC),  # 23:30 EDT, still Saturday
        "sunday-early": datetime(2026, 11, 1, 4, 30, tzinfo=UTC),  # 00:30 EDT, Sunday
        "sunday-morning": datetime(2026, 11, 1, 15, 0, tzinfo=UTC),  # 10:00 EST
    }
    ids = {name: make_appointment(record, starts_at=moment, length_minutes=30).id for name, moment in moments.items()}
    client = new_york.test_client()
    login_fast(client, therapist)
    page = soup(client.get("/appointments/?view=week&date=2026-10-29"))
    saturday = page.select_one('[data-day="2026-10-31"]')
    sunday = page.select_one('[data-day="2026-11-01"]')

    def shown(day, name):
        item = day.select_one(f'[data-appointment="{ids[name]}"]')
        return item.select_one(".visit-start").get_text(strip=True) if item else None

    assert shown(saturday, "saturday-morning") == "10:00"
    assert shown(saturday, "saturday-late") == "23:30"
    assert shown(sunday, "sunday-early") == "00:30"
    assert shown(sunday, "sunday-morning") == "10:00"
    assert shown(saturday, "sunday-early") is None and shown(sunday, "saturday-late") is None
    # The day view of the 25-hour day holds both Sunday appointments, at their wall-clock times.
    day = soup(client.get("/appointments/?date=2026-11-01"))
    assert [row.get_text(strip=True) for row in day.select("[data-appointment] .visit-start")] == ["00:30", "10:00"]


def test_booking_at_a_wall_clock_time_on_the_change_days(new_york, db):
    from tests.factories import make_user

    therapist = make_user(name="Dee Ess")
    record = make_client(therapist)
    client = new_york.test_client()
    login_fast(client, therapist)
    for local, utc in (("2026-10-31T10:00", 14), ("2026-11-01T10:00", 15)):
        response = submit(client, "/appointments/new", form_data(record.id, local))
        assert response.status_code == 302, local
        stored = db.session.scalar(sa.select(Appointment).order_by(Appointment.id.desc()).limit(1))
        assert stored.starts_at.hour == utc and stored.starts_at.tzinfo is not None
        page = soup(client.get(f"/appointments/{stored.id}"))
        assert page.select_one("#start")["value"] == local  # read back as typed
    # 2:30 on 8 March 2026 never happens in New York: refused beside the field, not shifted silently.
    page = soup(submit(client, "/appointments/new", form_data(record.id, "2026-03-08T02:30")))
    assert "clocks go forward" in page.select_one("#start-error").get_text()
    assert count(db, Appointment) == 2


# --- the day at "/" and logging a session from an appointment ---


def test_today_shows_the_latest_sessions_plan_and_its_clinic_date(therapist_client, therapist):
    client = make_client(therapist, full_name="Lena Latest")
    make_session(client, started_at=datetime(2025, 3, 1, 15, 0, tzinfo=UTC), plan="Older plan")
    # 02:30 UTC on 10 March is still 9 March on a clinic clock west of UTC, 10 March east of it.
    latest = datetime(2025, 3, 10, 2, 30, tzinfo=UTC)
    make_session(client, started_at=latest, plan="Newest plan")
    make_appointment(client, starts_at=today_at(9))
    plan = soup(therapist_client.get("/")).select_one("[data-plan]").get_text(" ", strip=True)
    shown = to_local(latest).date()
    assert plan == f"Last plan ({shown.day} {shown.strftime('%b %Y')}) : Newest plan"


def test_today_shows_contraindications_plan_and_log_session(therapist_client, therapist, other_therapist):
    careful = make_client(
        therapist,
        full_name="Carla Careful",
        contraindications="On warfarin: light pressure.",
        precautions=["anticoagulants", "pregnancy"],
    )
    plain = make_client(therapist, full_name="Pete Plain", contraindications="None known.")
    make_session(careful, plan="Weekly; stretch the upper trapezius at home.")
    first = make_appointment(careful, starts_at=today_at(9), length_minutes=45)
    second = make_appointment(plain, starts_at=today_at(11))
    not_today = make_appointment(plain, starts_at=today_at(11) + timedelta(days=1))
    theirs = make_appointment(make_client(other_therapist, full_name="Not Mine"), starts_at=today_at(10))
    page = soup(therapist_client.get("/"))
    rows = page.select("[data-appointment]")
    assert [row["data-appointment"] for row in rows] == [str(first.id), str(second.id)]
    careful_row, plain_row = rows
    assert careful_row.select_one(".visit-start").get_text(strip=True) == "09:00"
    assert "On warfarin: light pressure." in careful_row.select_one("[data-contraindications]").get_text()
    assert plain_row.select_one("[data-contraindications]") is None
    assert careful_row.select_one("[data-precautions]").get_text(" ", strip=True) == (
        "Precautions Pregnancy, Takes anticoagulants (blood thinners)"
    )
    assert plain_row.select_one("[data-precautions]") is None
    assert plain_row.select_one(".visit-contra-none").get_text(strip=True) == (
        "No contraindications or precautions recorded."
    )
    assert "stretch the upper trapezius" in careful_row.select_one("[data-plan]").get_text()
    assert "First visit" in plain_row.select_one("[data-plan]").get_text()
    log = careful_row.find("a", string="Log session")
    assert log["href"] == f"/clients/{careful.id}/sessions/new?appointment={first.id}"
    assert not page.select(f'[data-appointment="{not_today.id}"], [data-appointment="{theirs.id}"]')


def test_log_session_prefills_links_and_completes(therapist_client, therapist, db):
    record = make_client(therapist)
    appointment = make_appointment(record, starts_at=today_at(8, 30), length_minutes=75)
    url = f"/clients/{record.id}/sessions/new?appointment={appointment.id}"
    page = soup(therapist_client.get(url))
    start = datetime.combine(clinic_today(), time(8, 30)).strftime("%Y-%m-%dT%H:%M")
    assert page.select_one("#started_at")["value"] == start
    assert page.select_one("#length_minutes")["value"] == "75"
    token = page.select_one("#submission_token")["value"]
    response = submit(
        therapist_client,
        url,
        {
            "submission_token": token,
            "started_at": start,
            "length_minutes": "75",
            "pain_before": "6",
            "pain_after": "3",
            "overload_cause": "unknown",
        },
    )
    assert response.status_code == 302
    session = db.session.scalar(sa.select(TreatmentSession))
    db.session.refresh(appointment)
    assert (appointment.status, appointment.session_id) == ("completed", session.id)
    assert session.started_at == appointment.starts_at and session.length_minutes == 75
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "appointment", AuditEvent.action == "update")
    )
    assert event.details == {"changes": {"status": ["booked", "completed"]}, "session": session.id}
    # The day now offers the session, not another log; opening the link again goes to the session.
    row = soup(therapist_client.get("/")).select_one(f'[data-appointment="{appointment.id}"]')
    assert row.find("a", string="Log session") is None
    assert row.find("a", string="Open session")["href"] == f"/clients/{record.id}/sessions/{session.id}"
    again = therapist_client.get(url)
    assert again.headers["Location"] == f"/clients/{record.id}/sessions/{session.id}"
    # ...and a session linked to it keeps it completed.
    response = submit(
        therapist_client,
        f"/appointments/{appointment.id}",
        form_data(record.id, start, length="75", status="cancelled", version=str(appointment.version)),
    )
    assert "stays completed" in soup(response).select_one("#status-error").get_text()


def test_a_session_without_an_appointment_still_saves(therapist_client, therapist, db):
    record = make_client(therapist)
    appointment = make_appointment(record, starts_at=today_at(8))
    page = soup(therapist_client.get(f"/clients/{record.id}/sessions/new"))
    response = submit(
        therapist_client,
        f"/clients/{record.id}/sessions/new",
        {
            "submission_token": page.select_one("#submission_token")["value"],
            "started_at": page.select_one("#started_at")["value"],
            "length_minutes": "60",
            "pain_before": "5",
            "pain_after": "4",
            "overload_cause": "unknown",
        },
    )
    assert response.status_code == 302
    assert count(db, TreatmentSession) == 1
    db.session.refresh(appointment)
    assert (appointment.status, appointment.session_id) == ("booked", None)


# --- the client page and the client list ---


def test_client_page_shows_next_and_last_visit_and_books_the_plans_next_visit(therapist_client, therapist):
    record = make_client(therapist)
    last = make_session(record, started_at=today_at(9) - timedelta(days=1), plan="Next visit in 2 weeks.")
    page = soup(therapist_client.get(f"/clients/{record.id}"))
    assert "No session" not in page.select_one("[data-last-visit]").get_text()
    assert page.select_one("[data-last-visit] a")["href"] == f"/clients/{record.id}/sessions/{last.id}"
    assert "Nothing booked" in page.select_one("[data-next-visit]").get_text()
    book = page.select_one("[data-book-next]")
    suggested = (datetime.combine(clinic_today(), time(9)) + timedelta(days=13)).strftime("%Y-%m-%dT%H:%M")
    assert parse_qs(urlsplit(book["href"]).query)["start"] == [suggested]
    form = soup(therapist_client.get(book["href"]))
    assert form.select_one("#start")["value"] == suggested
    assert form.select_one("#client option[selected]")["value"] == str(record.id)
    upcoming = make_appointment(record, starts_at=today_at(15) + timedelta(days=2))
    page = soup(therapist_client.get(f"/clients/{record.id}"))
    assert page.select_one("[data-next-visit] a")["href"] == f"/appointments/{upcoming.id}"
    assert page.select_one("[data-book-next]") is None


def test_client_list_has_a_next_visit_column(therapist_client, therapist):
    booked = make_client(therapist, full_name="Aaron Booked")
    make_client(therapist, full_name="Zed Unbooked")
    make_appointment(booked, starts_at=today_at(10) + timedelta(days=5))
    make_appointment(booked, starts_at=today_at(10) + timedelta(days=2), status="cancelled")
    make_appointment(booked, starts_at=today_at(10) + timedelta(days=9))
    page = soup(therapist_client.get("/clients/"))
    headers = [th.get_text(strip=True) for th in page.select("thead th")]
    cells = {
        row.select_one("td a").get_text(strip=True): row.select("td")[headers.index("Next visit")].get_text(strip=True)
        for row in page.select("tbody tr")
    }
    expected = (datetime.combine(clinic_today(), time(10)) + timedelta(days=5)).strftime("%-d %b %Y, %H:%M")
    assert cells == {"Aaron Booked": expected, "Zed Unbooked": "—"}


# --- the calendar feed ---


def _make_feed(client) -> str:
    page = soup(submit(client, "/appointments/calendar-feed", {"action": "make"}))
    return page.select_one("[data-feed-url]")["value"]


def test_the_feed_has_times_and_initials_only(therapist_client, therapist, db):
    record = make_client(
        therapist,
        full_name="Daniel Whitford",
        contraindications="On warfarin",
        health_history="Neck pain",
    )
    make_session(record, plan="Secret plan", subjective="Secret words")
    appointment = make_appointment(record, starts_at=today_at(10), length_minutes=45, note="Back door code QX7Z")
    make_appointment(record, starts_at=today_at(13), status="cancelled")
    url = _make_feed(therapist_client)
    assert url.startswith("http://localhost/calendar/") and url.endswith(".ics")
    stored = db.session.get(type(therapist), therapist.id).calendar_token_hash
    assert stored and stored not in url  # only a hash is kept
    therapist_client.post("/logout", data={"csrf_token": csrf_token(therapist_client, "/")})
    response = therapist_client.get(url.removeprefix("http://localhost"))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "no-store"
    body = text(response)
    for secret in (
        "Daniel",
        "Whitford",
        "warfarin",
        "Neck",
        "Secret",
        "QX7Z",
        "Back door",
    ):  # no digits: the stamps hold any
        assert secret not in body, secret
    events = Calendar.from_ical(response.data).walk("VEVENT")
    assert len(events) == 1
    (event,) = events
    assert str(event["SUMMARY"]) == "D.W."
    assert event.decoded("DTSTART") == appointment.starts_at
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=45)
    assert set(event.keys()) <= {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "STATUS", "TRANSP"}


def test_a_revoked_or_replaced_feed_address_is_404(therapist_client, therapist):
    first = _make_feed(therapist_client).removeprefix("http://localhost")
    second = _make_feed(therapist_client).removeprefix("http://localhost")
    assert therapist_client.get(first).status_code == 404
    assert therapist_client.get(second).status_code == 200
    page = soup(submit(therapist_client, "/appointments/calendar-feed", {"action": "revoke"}, follow_redirects=True))
    assert page.select_one("[data-feed-state]")["data-feed-state"] == "none"
    assert therapist_client.get(second).status_code == 404
    assert therapist_client.get("/calendar/not-a-token.ics").status_code == 404


def test_the_feed_page_needs_csrf(therapist_client, therapist, db):
    assert therapist_client.post("/appointments/calendar-feed", data={"action": "make"}).status_code == 400
    db.session.refresh(therapist)
    assert therapist.calendar_token_hash is None


# --- what a day costs ---


def _queries_for(app, client, url) -> int:
    from clinic.extensions import db as _db

    statements = []

    def listen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = _db.engine
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    return len([s for s in statements if not s.startswith("PRAGMA")])


def test_a_day_costs_the_same_queries_with_3_or_30_appointments(app, therapist_client, therapist, db):
    def fill(n):
        db.session.execute(sa.delete(Appointment))
        db.session.commit()
        for i in range(n):
            record = make_client(therapist, contraindications="Light pressure" if i % 2 else "")
            make_session(record, plan=f"Plan {i}")
            make_appointment(record, starts_at=today_at(8) + timedelta(minutes=20 * i), length_minutes=20)

    costs = {}
    for n in (3, 30):
        fill(n)
        costs[n] = {
            url: _queries_for(app, therapist_client, url) for url in ("/", "/appointments/", "/appointments/?view=week")
        }
        assert len(soup(therapist_client.get("/")).select("[data-appointment]")) == n
    print("queries per request (3 vs 30 appointments):", costs)
    assert costs[3] == costs[30]
    # The login check (user, login session), the clinic, the day, its sessions and the audit entry (the chain's lock
    # and head, on PostgreSQL also the next id, then the insert).
    assert costs[30]["/"] <= 9


def test_book_pages_have_no_inline_script_or_style_and_are_not_cached(admin_client, therapist):
    from tests.test_security import _ScriptCheck

    record = make_client(therapist, contraindications="Light pressure")
    appointment = make_appointment(record, starts_at=today_at(10))
    pages = [
        "/",
        "/appointments/",
        f"/appointments/?view=week&therapist={therapist.id}",
        "/appointments/new",
        f"/appointments/{appointment.id}",
        "/appointments/calendar-feed",
        f"/clients/{record.id}",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        checker = _ScriptCheck()
        checker.feed(text(response))
        assert checker.problems == [], (url, checker.problems)


def test_a_bad_date_or_view_is_said_not_ignored(therapist_client):
    page = soup(therapist_client.get("/appointments/?date=2026-13-45&view=month"))
    assert "is not a date" in page.select_one(".alert-error").get_text()
    assert page.select_one("h1").get_text(strip=True).endswith(clinic_today().strftime("%-d %b %Y"))


def test_the_feed_text_folds_long_lines_and_parses_back(app):
    from datetime import UTC, datetime

    from clinic.appointments.services import calendar_feed

    host = "a-very-long-clinic-host-name-for-folding.knotwork.example"
    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    body = calendar_feed(None, [(12345, start, 50, "Ann Marie O'Neil")], host)
    lines = body.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines) and any(line.startswith(b" ") for line in lines)
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["UID"]) == f"appointment-12345@{host}"
    assert str(event["SUMMARY"]) == "A.M.O."
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(minutes=50)


def test_feed_times_are_utc_without_fractions_of_a_second():
    from datetime import UTC, datetime, timezone

    from clinic.appointments.services import _ical_time

    assert _ical_time(datetime(2026, 3, 1, 9, 5, 7, 999_999, tzinfo=UTC)) == "20260301T090507Z"
    assert _ical_time(datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))) == "20251231T223000Z"


def test_the_feed_gives_each_event_its_own_uid_and_client_initials(app):
    """The feed writes a client's summary once and reuses it: each event still carries its own client's."""
    from datetime import UTC, datetime

    from clinic.appointments.services import calendar_feed

    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    names = ["Ann Lee", "Bo Park", "Ann Lee", "Bo Park", "Cy"]
    rows = [(n + 1, start + timedelta(hours=n), 50, name) for n, name in enumerate(names)]
    events = Calendar.from_ical(calendar_feed(None, rows, "clinic,example")).walk("VEVENT")
    assert [str(event["SUMMARY"]) for event in events] == ["A.L.", "B.P.", "A.L.", "B.P.", "C."]
    assert [str(event["UID"]) for event in events] == [f"appointment-{n}@clinic,example" for n in range(1, 6)]


@pytest.mark.parametrize(
    "query",
    ["", "?all=1", "?from=2000-01-01", "?to=2000-01-01", "?from=2000-01-01&to=2000-01-02", "?from=2999-01-01"],
)
def test_the_last_visit_is_the_latest_session_whatever_period_is_shown(therapist_client, therapist, query):
    """The client page reads the latest session from the period's sessions when the period is open-ended, and
    from the database otherwise: either way it is the client's latest, and ties on the start go to the later id."""
    record = make_client(therapist)
    started = today_at(9) - timedelta(days=3)
    make_session(record, started_at=started - timedelta(days=7))
    make_session(record, started_at=started)
    latest = make_session(record, started_at=started)
    page = soup(therapist_client.get(f"/clients/{record.id}{query}"))
    assert page.select_one("[data-last-visit] a")["href"] == f"/clients/{record.id}/sessions/{latest.id}"
