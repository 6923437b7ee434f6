"""SQL statements per request do not grow with the data a page shows (issue 16, point 4): each page is asked
once on a small record, the record is then made much larger (more sessions, points, therapists, clients,
audit rows, appointments and intakes), and the page asked again. An N+1 (a lazy load per session, point,
therapist or client) makes the second count larger and fails here."""

from datetime import UTC, datetime, timedelta

import pytest

from clinic.extensions import db
from clinic.models import AuditEvent, Role
from tests.factories import make_appointment, make_client, make_intake, make_session, make_user
from tests.helpers import clinic_today, count_queries, login_fast

POINTS = [
    {"trigger_point_id": "upper-trapezius/1", "side": "left"},
    {"trigger_point_id": "levator-scapulae/1", "pain": 8, "pressure_seconds": 150},
    {"trigger_point_id": "sternocleidomastoid/1", "release_felt": True},
]


def _day(offset: int) -> datetime:
    return datetime(2025, 6, 1, 15, 0, tzinfo=UTC) + timedelta(days=offset)


@pytest.fixture
def record(app, therapist, admin):
    """A client with two sessions, an intake and an appointment today; `grow()` makes everything larger."""
    person = make_client(therapist, full_name="Ana Lopez")
    first = make_session(person, started_at=_day(0), points=POINTS[:1], objective="tight", plan="stretch")
    make_session(person, started_at=_day(3), points=POINTS[:2])
    intake = make_intake(person)
    today = clinic_today()
    noon = datetime(today.year, today.month, today.day, 17, 0, tzinfo=UTC)
    make_appointment(person, starts_at=noon)

    def grow():
        colleagues = [make_user(Role.THERAPIST) for _ in range(4)]
        for n in range(24):
            make_session(
                person,
                therapist=colleagues[n % 4],
                started_at=_day(10 + 7 * n),
                points=POINTS,
                objective=f"finding {n}",
                assessment=f"assessment {n}",
                plan=f"plan {n}",
                heart_rate_before=70,
            )
        for n in range(30):
            other = make_client(therapist if n % 2 else colleagues[n % 4], full_name=f"Ana Other{n}")
            make_session(other, started_at=_day(n))
            make_appointment(other, starts_at=noon + timedelta(minutes=30 * (n % 8)))
        for _ in range(3):
            make_intake(person)
        db.session.add_all(
            AuditEvent(user_id=[therapist, admin, *colleagues][n % 6].id, action="view", client_id=person.id)
            for n in range(120)
        )
        db.session.commit()

    return {"client": person, "first": first, "intake": intake, "today": today, "grow": grow}


def _pages(record) -> dict[str, str]:
    client_id = record["client"].id
    base = f"/clients/{client_id}"
    return {
        "client page": base,
        "client page, period": f"{base}?from=2025-01-01&to=2026-12-31",
        "pain history": f"{base}/pain-history.json",
        "summary": f"{base}/summary",
        "csv export": f"{base}/export.csv",
        "fhir export": f"{base}/export.fhir.json",
        "session form, new": f"{base}/sessions/new",
        "session form, repeat": f"{base}/sessions/new?repeat=last",
        "session form, edit": f"{base}/sessions/{record['first'].id}/edit",
        "session page": f"{base}/sessions/{record['first'].id}",
        "client list": "/clients/",
        "client search": "/clients/?q=ana",
        "appointments day": f"/appointments/?date={record['today'].isoformat()}",
        "appointments week": f"/appointments/?date={record['today'].isoformat()}&view=week",
        "intake review": f"{base}/intakes/{record['intake'].id}",
    }


THERAPIST_PAGES = [
    "client page",
    "client page, period",
    "pain history",
    "summary",
    "csv export",
    "fhir export",
    "session form, new",
    "session form, repeat",
    "session form, edit",
    "session page",
    "client list",
    "client search",
    "appointments day",
    "appointments week",
    "intake review",
]
ADMIN_PAGES = {
    "audit log": "/admin/audit",
    "audit log, client filter": "/admin/audit?client={client}",
    "audit log, user filter": "/admin/audit?user={therapist}",
    "admin client list": "/clients/",
}


def _statements(app, client, url: str) -> list[str]:
    with count_queries(app) as counted:
        response = client.get(url)
        response.get_data()  # a streamed body runs its queries while it is read
    assert response.status_code == 200, url
    return counted.statements


def _compare(app, client, url: str, grow) -> None:
    _statements(app, client, url)  # first use: anything cached per process is loaded
    small = _statements(app, client, url)
    grow()
    large = _statements(app, client, url)
    assert small, f"{url} ran no SQL at all: the counter is not listening"
    assert len(large) == len(small), f"{url}: {len(small)} statements before growing, {len(large)} after:\n" + (
        "\n".join(large)
    )


@pytest.mark.parametrize("page", THERAPIST_PAGES)
def test_therapist_pages_run_as_many_queries_for_a_large_record_as_for_a_small_one(
    app, client, therapist, record, page
):
    login_fast(client, therapist)
    _compare(app, client, _pages(record)[page], record["grow"])


@pytest.mark.parametrize("page", list(ADMIN_PAGES))
def test_admin_pages_run_as_many_queries_for_a_large_clinic_as_for_a_small_one(
    app, client, admin, therapist, record, page
):
    login_fast(client, admin)
    url = ADMIN_PAGES[page].format(client=record["client"].id, therapist=therapist.id)
    _compare(app, client, url, record["grow"])


def test_the_counter_sees_an_n_plus_one(app, therapist, record):
    """The check above can fail: a lazy load per session counts one statement each."""
    from clinic.models import TreatmentSession

    with count_queries(app) as few:
        for session in db.session.query(TreatmentSession).all():
            db.session.expire(session)
    record["grow"]()
    db.session.expire_all()
    with count_queries(app) as many:
        sessions = db.session.query(TreatmentSession).all()
        for session in sessions:
            _ = session.therapist.name
    assert many.count > few.count + 4
