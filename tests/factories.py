"""Factory helpers: build records straight through the models, fast, with sensible defaults."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date
from itertools import count

from clinic.extensions import db
from clinic.models import Client, Role, User

PASSWORD = "correct-horse-battery"
_sequence = count(1)
_password_hash: str | None = None


def reset_sequence() -> None:
    """Number records from 1 again. The `app` fixture calls this for each test's fresh database, so what
    the factories make (names, emails, dates of birth, tokens) does not depend on which tests ran before."""
    global _sequence
    _sequence = count(1)


@contextmanager
def numbered_by(sequence: Iterator[int]) -> Iterator[None]:
    """Number records from `sequence` meanwhile: for a database that outlives a test (the browser tests' one), whose
    records must not be numbered again from 1 when another test resets the numbering for its own fresh database."""
    global _sequence
    saved, _sequence = _sequence, sequence
    try:
        yield
    finally:
        _sequence = saved


def _hashed_password() -> str:
    # Hashing is slow on purpose; hash the shared test password once.
    global _password_hash
    if _password_hash is None:
        probe = User()
        probe.set_password(PASSWORD)
        _password_hash = probe.password_hash
    return _password_hash


def make_user(role: str = Role.THERAPIST, **fields) -> User:
    n = next(_sequence)
    values = {"email": f"user{n}@clinic.example", "name": f"Therapist {n}", "role": role}
    values.update(fields)
    user = User(**values)
    user.password_hash = _hashed_password()
    db.session.add(user)
    db.session.commit()
    return user


def make_client(therapist: User, **fields) -> Client:
    n = next(_sequence)
    values = {
        "full_name": f"Client Number{n}",
        "date_of_birth": date(1980, 1, 1 + n % 28),
        "contraindications": "",
        "therapist": therapist,
    }
    values.update(fields)
    client = Client(**values)
    db.session.add(client)
    db.session.commit()
    return client


def make_session(client: Client, therapist: User | None = None, points: list[dict] | None = None, **fields):
    from datetime import datetime

    from clinic.models import PointTreatment, TreatmentSession

    n = next(_sequence)
    values = {
        "client": client,
        "therapist": therapist or client.therapist,
        "started_at": datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        "length_minutes": 60,
        "pain_before": 6,
        "pain_after": 3,
        "pain_regions": ["temple"],
        "submission_token": f"token-{n}",
    }
    values.update(fields)
    session = TreatmentSession(**values)
    session.points = [
        PointTreatment(position=i, **{"side": "right", "pressure_seconds": 60, "pain": 6, **point})
        for i, point in enumerate(points or [{"trigger_point_id": "upper-trapezius/1"}])
    ]
    db.session.add(session)
    db.session.commit()
    return session


def make_appointment(client: Client, therapist: User | None = None, **fields):
    """An appointment; `starts_at` is an aware UTC datetime (default: 1 March 2026, 10:00 UTC)."""
    from datetime import datetime

    from clinic.models import Appointment

    values = {
        "client": client,
        "therapist": therapist or client.therapist,
        "starts_at": datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        "length_minutes": 60,
        "status": "booked",
        "note": "",
    }
    values.update(fields)
    appointment = Appointment(**values)
    db.session.add(appointment)
    db.session.commit()
    return appointment


def make_intake_link(client: Client, token: str | None = None, **fields):
    """A one-time intake link; returns (link, token). `created_at`/`expires_at` default to now / now + 72 h."""
    from datetime import timedelta

    from clinic.db_types import utcnow
    from clinic.intakes import token_hash
    from clinic.models import IntakeLink

    n = next(_sequence)
    token = token or f"test-token-{n}-abcdefghijklmnopqrstuvwxyz"
    now = utcnow()
    values = {
        "client": client,
        "created_by": client.therapist,
        "token_hash": token_hash(token),
        "created_at": now,
        "expires_at": now + timedelta(hours=72),
    }
    values.update(fields)
    link = IntakeLink(**values)
    db.session.add(link)
    db.session.commit()
    return link, token


def make_intake(client: Client, **fields):
    """A stored intake (with its spent link); `submitted_at` is an aware UTC datetime (default now)."""
    from clinic.db_types import utcnow
    from clinic.models import Intake

    submitted = fields.pop("submitted_at", None) or utcnow()
    link, _ = make_intake_link(client, used_at=submitted)
    values = {
        "client_id": client.id,
        "link_id": link.id,
        "submitted_at": submitted,
        "consent_at": submitted,
        "regions": [{"region": "temple", "side": "right", "intensity": 6}],
        "pain_now": 6,
        "pain_usual": 5,
        "pain_worst": 8,
        "psfs": [{"activity": "Read for an hour", "score": 4}],
        "stress": 5,
        "health_changes": "",
        "medications": "",
        "precautions": [],
        "consent_name": client.full_name,
    }
    values.update(fields)
    intake = Intake(**values)
    db.session.add(intake)
    db.session.commit()
    return intake


def make_audit_event(**fields):
    """An audit event stored as the app stores one: chained (id, `prev_hash`, `hash`) when flushed.
    Tests that need events of their own make them here, never with raw SQL, so `flask audit verify` still
    holds (unless the test back-dates `at` on purpose, which the chain reports)."""
    from clinic.models import AuditEvent

    values = {"action": "view", "entity_type": "", "details": {}}
    values.update(fields)
    event = AuditEvent(**values)
    db.session.add(event)
    db.session.commit()
    return event
