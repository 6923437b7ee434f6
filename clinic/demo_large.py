"""A large generated clinic for benchmarks (`flask demo large`, DESIGN 13): therapists, clients with a skewed
number of sessions (a few with 1,000+), real trigger points with sides, the audit rows the app writes,
appointments and intakes.

It writes straight into the app's own tables with SQLAlchemy Core (executemany in batches, one transaction per
batch): going through the services would take hours for 200,000 sessions. What it writes has the shape the
services give (same columns, same audit `details`), so the pages read it as they read real data. Every row gets
an explicit id (the database is empty), so children name their parents without a round trip; PostgreSQL's
sequences are moved past them at the end. Deterministic for a given --seed (and today's date).

Composition layer, like clinic/demo.py: it may read the knowledge base and the models, no feature imports it.
"""

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from clinic.demo import DEMO_USERS, treated_point
from clinic.extensions import db
from clinic.kb import knowledge_base
from clinic.kb.checker import rank_candidates
from clinic.models import (
    Appointment,
    AuditAction,
    AuditEvent,
    Client,
    ClinicSettings,
    Intake,
    IntakeLink,
    PointTreatment,
    Role,
    TreatmentSession,
    User,
    client_shares,
)
from clinic.models.audit import GENESIS_HASH, link

BATCH = 5000
# The generated therapists beyond the demo's two log in with this (the demo's own accounts keep theirs).
LARGE_PASSWORD = "knotwork-demo"
# Heavy clients: this many clients get 1,000-1,200 sessions when the total allows it.
HEAVY_CLIENTS = 3
HEAVY_RANGE = (1000, 1200)
# Appointments: sessions in this many past days were logged from a completed appointment; this many days ahead
# are booked.
BOOKED_PAST_DAYS = 60
BOOKED_AHEAD_DAYS = 14
INTAKE_SHARE = 0.1  # clients with an intake

FIRST_NAMES = [
    "Aaliyah",
    "Aiden",
    "Amara",
    "Andrés",
    "Anika",
    "Arjun",
    "Beatriz",
    "Benjamin",
    "Carmen",
    "Chen",
    "Chloe",
    "Daniel",
    "Dmitri",
    "Elena",
    "Elif",
    "Emeka",
    "Emma",
    "Farah",
    "Felix",
    "Fatima",
    "Gabriel",
    "Grace",
    "Hana",
    "Hugo",
    "Ibrahim",
    "Ingrid",
    "Isaac",
    "Jamal",
    "Jana",
    "Javier",
    "Jin",
    "Kofi",
    "Laila",
    "Lars",
    "Leah",
    "Liam",
    "Lucía",
    "Malik",
    "Marta",
    "Mateo",
    "Mei",
    "Mohammed",
    "Nadia",
    "Noah",
    "Nora",
    "Olivia",
    "Omar",
    "Oscar",
    "Priya",
    "Rafael",
    "Rosa",
    "Samir",
    "Sara",
    "Sean",
    "Sofia",
    "Tariq",
    "Thea",
    "Tomás",
    "Valentina",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Abbott",
    "Adeyemi",
    "Alvarez",
    "Andersen",
    "Bakker",
    "Banerjee",
    "Becker",
    "Bianchi",
    "Brennan",
    "Castillo",
    "Chowdhury",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fernandes",
    "Fischer",
    "Gallagher",
    "Garcia",
    "Haddad",
    "Hansen",
    "Hoffmann",
    "Ibrahim",
    "Ivanova",
    "Jensen",
    "Kaur",
    "Kim",
    "Kowalski",
    "Larsen",
    "Li",
    "Lopez",
    "Mahmoud",
    "Martin",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Park",
    "Patel",
    "Petrov",
    "Quinn",
    "Rahman",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Sato",
    "Tanaka",
    "Torres",
    "Virtanen",
    "Wagner",
    "Walsh",
    "Wójcik",
    "Yamamoto",
    "Zhang",
]
PHYSICIANS = (
    ("Dr. Helen Marsh", "Riverside Family Practice, 555-0190"),
    ("Dr. Tomás Vega", "Northgate Clinic, fax 555-0177"),
    ("Dr. Amir Haddad", "City Sports Medicine, 555-0101"),
    ("Dr. Claire Dubois", "Harbour Medical Centre, 555-0133"),
    ("", ""),
)
HISTORIES = (
    "Office work at a laptop most of the day; neck and shoulder tension worse in the afternoon.",
    "Recreational runner; pain builds over the week and eases with rest.",
    "Manual work, lifting most days; aching after long shifts.",
    "Long hours driving; stiffness on getting out of the car.",
    "Musician, long rehearsals; pain during and after practice.",
    "Parent of a toddler, carries the child on one hip; aching by evening.",
)
MEDICATIONS = ("None known.", "Ibuprofen as needed.", "Paracetamol 1 g as needed.", "Metformin.", "Amlodipine.")
CONTRAINDICATIONS = ("None known.", "None known.", "None known.", "Hypertension, controlled.", "Light pressure only.")
PRECAUTION_SETS = ([], [], [], [], ["hypertension"], ["anticoagulants"], ["pregnancy"], ["neuropathy"])
SUBJECTIVE = (
    "Pain {pain}/10 on arrival; slept badly.",
    "Pain {pain}/10; better for two days after the last visit.",
    "Pain {pain}/10; worse after a long week at work.",
    "Pain {pain}/10; stretches done most days.",
)
OBJECTIVE = (
    "Taut bands with tender nodules in the treated muscles.",
    "Local twitch responses on palpation; range of motion reduced on the affected side.",
    "Tenderness less marked than last visit; range of motion near full.",
)
ASSESSMENT = ("Improving.", "Stable.", "Slow progress; perpetuating factors remain.", "")
PLAN = ("Weekly; home stretches as shown.", "Every two weeks; posture breaks at work.", "Review in a month.")
POINT_NOTES = ("", "", "", "", "", "", "very tender", "eased on second pass", "referral to the temple")
PSFS_ACTIVITIES = ("sitting at work", "running", "lifting a child", "sleeping on the side", "driving", "gardening")
ADDRESSES = ("127.0.0.1", "10.0.0.12", "10.0.0.15", "192.168.1.20")


class NotEmpty(Exception):
    """The database already holds data."""


@dataclass
class Made:
    """What was generated, for the command's report."""

    therapists: int = 0
    clients: int = 0
    sessions: int = 0
    points: int = 0
    audit_events: int = 0
    appointments: int = 0
    intakes: int = 0
    # client id -> (session count, therapist email), for picking the benchmark's clients
    per_client: dict[int, tuple[int, str]] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def client_with(self, sessions: int) -> tuple[int, int, str]:
        """(client id, sessions, therapist email) of the client whose session count is nearest `sessions`."""
        client_id, (count, email) = min(self.per_client.items(), key=lambda item: (abs(item[1][0] - sessions), item[0]))
        return client_id, count, email


def database_is_empty() -> bool:
    for model in (User, Client, TreatmentSession, AuditEvent, Appointment, Intake):
        if db.session.scalar(sa.select(model.id).limit(1)) is not None:
            return False
    return True


class Writer:
    """Rows buffered per table, written with executemany in batches, one transaction per batch."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        self.engine = db.engine
        self.buffers: dict[sa.Table, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}
        self.progress = progress

    def add(self, table: sa.Table, row: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= BATCH:
            # Every table, parents first: a child row never reaches the database before its parent.
            self.flush_all()

    def flush(self, table: sa.Table) -> None:
        rows = self.buffers.get(table)
        if not rows:
            return
        with self.engine.begin() as connection:
            connection.execute(table.insert(), rows)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        self.buffers[table] = []

    def flush_all(self) -> None:
        # Parents before children, so foreign keys hold at every commit.
        for table in db.metadata.sorted_tables:
            self.flush(table)


class Ids:
    """Explicit ids, counted from 1 per table."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def next(self, table: sa.Table) -> int:
        value = self.last.get(table.name, 0) + 1
        self.last[table.name] = value
        return value


def generate(
    therapists: int,
    clients: int,
    sessions: int,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _message: None,
) -> Made:
    """Fill an empty database; raise NotEmpty otherwise. The caller checks that demo data is allowed."""
    if therapists < 1 or clients < 1 or sessions < 0:
        raise ValueError("at least one therapist and one client")
    if not database_is_empty():
        raise NotEmpty("the database is not empty: `flask demo large` fills an empty one")
    db.session.rollback()  # the checks' transaction; the writer uses its own connections
    rng = random.Random(seed)
    kb = knowledge_base()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    writer = Writer(progress)
    ids = Ids()
    made = Made()
    audit = AuditRows(writer, ids)

    staff = _users(writer, ids, therapists, now, made)
    admin_id, therapist_rows = staff[0][0], staff[1:]
    writer.add(
        ClinicSettings.__table__,
        {"id": 1, "name": "Knotwork Large Clinic", "address": "1 Bench Street", "phone": "555-0100", "updated_at": now},
    )
    for therapist_id, email in therapist_rows:
        audit.add(
            now - timedelta(days=2000),
            AuditAction.CREATE,
            user_id=admin_id,
            entity_type="user",
            entity_id=therapist_id,
            details={"email": email, "role": Role.THERAPIST.value},
        )
    counts = session_counts(rng, clients, sessions)
    client_rows = _clients(writer, ids, audit, rng, counts, therapist_rows, now, kb, made)
    progress(f"{made.therapists} therapists, {made.clients} clients")
    _sessions(writer, ids, audit, rng, client_rows, therapist_rows, now, kb, made)
    _future_appointments(writer, ids, audit, rng, client_rows, therapist_rows, now, made)
    _intakes(writer, ids, audit, rng, client_rows, now, kb, made)
    writer.flush_all()
    progress(f"{made.sessions} sessions, {made.points} points; writing the audit log")
    audit.write()
    writer.flush_all()
    made.audit_events = writer.counts.get(AuditEvent.__tablename__, 0)
    _move_sequences(ids)
    return made


def _users(writer: Writer, ids: Ids, therapists: int, now: datetime, made: Made) -> list:
    """The demo's owner and therapists (with the demo passwords), then generated therapists."""
    hashes: dict[str, str] = {}

    def password_hash(password: str) -> str:
        if password not in hashes:  # hashed once per password (argon2 is slow on purpose), as the model does
            user = User()
            user.set_password(password)
            hashes[password] = user.password_hash
        return hashes[password]

    admin = DEMO_USERS[0]
    demo_therapists = [account for account in DEMO_USERS if account["role"] == Role.THERAPIST]
    accounts = [admin]
    for number in range(therapists):
        if number < len(demo_therapists):
            accounts.append(demo_therapists[number])
        else:
            first, last = FIRST_NAMES[number % len(FIRST_NAMES)], LAST_NAMES[(number * 7) % len(LAST_NAMES)]
            accounts.append(
                {
                    "email": f"therapist{number + 1:02d}@knotwork.example",
                    "password": LARGE_PASSWORD,
                    "name": f"{first} {last}",
                    "role": Role.THERAPIST,
                    "credentials": "RMT",
                    "registration_number": f"LARGE-{number + 1:04d}",
                }
            )
    result = []
    for account in accounts:
        user_id = ids.next(User.__table__)
        writer.add(
            User.__table__,
            {
                "id": user_id,
                "email": account["email"],
                "name": account["name"],
                "role": account["role"].value,
                "password_hash": password_hash(account["password"]),
                "active": True,
                "session_token": hashlib.sha256(account["email"].encode()).hexdigest()[:32],
                "created_at": now - timedelta(days=2000),
                "calendar_token_hash": None,
                "calendar_token_created_at": None,
                "credentials": account.get("credentials", ""),
                "registration_number": account.get("registration_number", ""),
                "phone": "",
            },
        )
        result.append((user_id, account["email"]))
        made.logins.append((account["email"], account["password"]))
    made.therapists = therapists
    writer.flush(User.__table__)
    return result


def session_counts(rng: random.Random, clients: int, sessions: int) -> list[int]:
    """Sessions per client, skewed: a few heavy clients (1,000-1,200 when the total allows, else a tenth of it
    each), one client with exactly 10, the rest drawn from a long-tailed distribution; the sum is `sessions`."""
    counts = [0] * clients
    remaining = sessions
    heavy = min(HEAVY_CLIENTS, max(clients - 2, 0))
    for index in range(heavy):
        if sessions >= 20 * HEAVY_RANGE[1]:
            counts[index] = rng.randint(*HEAVY_RANGE)
        else:
            counts[index] = max(1, sessions // 10)
        remaining -= counts[index]
    if clients > heavy and remaining >= 10:
        counts[heavy] = 10
        remaining -= 10
    rest = list(range(heavy + 1, clients))
    if not rest:
        counts[0] += max(remaining, 0)
        return counts
    cap = max(min(counts[:heavy] or [remaining]) - 1, 1) if heavy else remaining
    weights = [min(rng.paretovariate(1.3), 40.0) for _ in rest]
    total = sum(weights)
    for index, weight in zip(rest, weights, strict=True):
        counts[index] = min(cap, int(remaining * weight / total))
    short = sessions - sum(counts)
    position = 0
    while short > 0:
        index = rest[position % len(rest)]
        if counts[index] < cap:
            counts[index] += 1
            short -= 1
        position += 1
        if position > 10 * len(rest) * max(sessions, 1):
            counts[0] += short  # every other client is at the cap
            break
    return counts


@dataclass
class ClientRow:
    id: int
    therapist_id: int
    sessions: int
    regions: list[str]
    points: list[str]
    shared_with: int | None
    improving: bool


def _clients(writer, ids, audit, rng, counts, therapist_rows, now, kb, made) -> list[ClientRow]:
    region_ids = list(kb.regions)
    result = []
    point_cache: dict[tuple[str, ...], list[str]] = {}
    email_of = dict(therapist_rows)
    for number, count in enumerate(counts):
        client_id = ids.next(Client.__table__)
        therapist_id, _email = therapist_rows[number % len(therapist_rows)]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        physician, contact = rng.choice(PHYSICIANS)
        created = now - timedelta(days=2000 - number % 300)
        complaint = sorted(rng.sample(region_ids, rng.randint(1, 3)))
        key = tuple(complaint)
        if key not in point_cache:
            muscles = [candidate.muscle for candidate in rank_candidates(kb, complaint)[:4]]
            point_cache[key] = [point.id for muscle in muscles for point in muscle.trigger_points[:3]]
        points = point_cache[key] or [point.point.id for point in kb.points()][:6]
        regions = [
            f"{region}:{rng.choice(['left', 'right', 'both'])}" if rng.random() < 0.7 else region
            for region in complaint
        ]
        writer.add(
            Client.__table__,
            {
                "id": client_id,
                "full_name": name,
                "date_of_birth": date(1940 + rng.randint(0, 65), rng.randint(1, 12), rng.randint(1, 28)),
                "phone": f"555-{rng.randint(0, 9999):04d}",
                "email": f"{first.lower()}.{last.lower()}{client_id}@example.com" if rng.random() < 0.8 else "",
                "address": f"{rng.randint(1, 300)} Example Road",
                "physician_name": physician,
                "physician_contact": contact,
                "health_history": rng.choice(HISTORIES),
                "medications": rng.choice(MEDICATIONS),
                "contraindications": rng.choice(CONTRAINDICATIONS),
                "precautions": rng.choice(PRECAUTION_SETS),
                "consent_date": created.date(),
                "notes": "",
                "therapist_id": therapist_id,
                "archived_at": now - timedelta(days=rng.randint(1, 300)) if count < 3 and rng.random() < 0.3 else None,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            },
        )
        audit.add(
            created,
            AuditAction.CREATE,
            user_id=therapist_id,
            client_id=client_id,
            details={"full_name": name},
        )
        shared = None
        if len(therapist_rows) > 1 and rng.random() < 0.05:
            shared = rng.choice([row[0] for row in therapist_rows if row[0] != therapist_id])
            writer.add(client_shares, {"client_id": client_id, "user_id": shared})
        result.append(ClientRow(client_id, therapist_id, count, regions, points, shared, rng.random() < 0.7))
        made.per_client[client_id] = (count, email_of[therapist_id])
    made.clients = len(counts)
    writer.flush(Client.__table__)
    writer.flush(client_shares)
    return result


class AuditRows:
    """Every audit row goes through `add`, with the columns and `details` shape clinic/audit.py writes (so a
    later column, e.g. a hash chain, is added in one place)."""

    def __init__(self, writer: Writer, ids: Ids) -> None:
        self.writer = writer
        self.ids = ids
        self.address = 0
        self.rows: list[tuple] = []

    def add(
        self,
        at: datetime,
        action: AuditAction,
        *,
        user_id: int | None,
        client_id: int | None = None,
        entity_type: str = "",
        entity_id: int | None = None,
        details: dict[str, Any] | None = None,
        attempted_email: str = "",
    ) -> None:
        if client_id is not None and not entity_type:
            entity_type, entity_id = "client", client_id
        self.address += 1
        # Kept as tuples until `write`, which numbers them in time order as the app would have.
        self.rows.append(
            (
                at,
                user_id,
                attempted_email,
                action.value,
                entity_type,
                entity_id,
                client_id,
                details or {},
                ADDRESSES[self.address % len(ADDRESSES)],
            )
        )

    def write(self) -> None:
        """Written oldest first and hash-chained by the app's own `link`, so `flask audit verify` passes."""
        self.rows.sort(key=lambda row: row[0])
        table = AuditEvent.__table__
        events = (
            {
                "at": at,
                "user_id": user_id,
                "attempted_email": attempted_email,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "client_id": client_id,
                "details": details,
                "address": address,
            }
            for at, user_id, attempted_email, action, entity_type, entity_id, client_id, details, address in self.rows
        )
        for row in link(events, GENESIS_HASH, None, lambda: self.ids.next(table)):
            self.writer.add(table, row)
        self.rows = []


def _session_times(rng: random.Random, count: int, now: datetime) -> Iterator[datetime]:
    """`count` visits ending in the last weeks, oldest first: a heavy client comes most days, others weekly or so."""
    if not count:
        return
    gap = 1.6 if count >= 500 else rng.choice([5, 7, 7, 10, 14])
    end = now - timedelta(days=rng.randint(1, 40))
    start_day = (end - timedelta(days=gap * count)).date()
    for index in range(count):
        day = start_day + timedelta(days=int(index * gap))
        yield datetime.combine(day, time(13 + rng.randint(0, 9), rng.choice([0, 15, 30, 45])), tzinfo=UTC)


def _sessions(writer, ids, audit, rng, client_rows, therapist_rows, now, kb, made) -> None:
    session_table = TreatmentSession.__table__
    point_table = PointTreatment.__table__
    booked_since = now - timedelta(days=BOOKED_PAST_DAYS)
    done = 0
    for row in client_rows:
        pain = rng.randint(5, 9)
        logins: set[tuple[int, date]] = set()
        for visit, started_at in enumerate(_session_times(rng, row.sessions, now)):
            therapist_id = row.shared_with if row.shared_with and rng.random() < 0.2 else row.therapist_id
            if row.improving:
                pain = min(10, max(1, pain - rng.choice([0, 0, 1, 1]) + rng.choice([0, 0, 0, 1])))
            else:
                pain = min(10, max(2, pain + rng.choice([-2, -1, 0, 0, 1, 1])))
            session_id = ids.next(session_table)
            vitals = rng.random() < 0.25
            writer.add(
                session_table,
                {
                    "id": session_id,
                    "client_id": row.id,
                    "therapist_id": therapist_id,
                    "started_at": started_at,
                    "length_minutes": rng.choice([30, 45, 60, 60, 60, 90]),
                    "pain_before": pain,
                    "pain_after": max(0, pain - rng.randint(0, 3)),
                    "pain_regions": row.regions,
                    "stress_before": rng.randint(2, 8) if vitals else None,
                    "stress_after": rng.randint(1, 6) if vitals else None,
                    "heart_rate_before": rng.randint(60, 90) if vitals else None,
                    "heart_rate_after": rng.randint(55, 80) if vitals else None,
                    "systolic_before": rng.randint(110, 145) if vitals else None,
                    "systolic_after": rng.randint(105, 140) if vitals else None,
                    "diastolic_before": rng.randint(70, 92) if vitals else None,
                    "diastolic_after": rng.randint(65, 88) if vitals else None,
                    "overload_cause": rng.choice(["sustained", "repetitive", "acute"]) if visit == 0 else "unknown",
                    "subjective": rng.choice(SUBJECTIVE).format(pain=pain),
                    "objective": rng.choice(OBJECTIVE),
                    "assessment": rng.choice(ASSESSMENT),
                    "plan": rng.choice(PLAN),
                    "submission_token": f"large-{session_id}",
                    "created_at": started_at + timedelta(minutes=70),
                    "updated_at": started_at + timedelta(minutes=70),
                    "version": 1,
                },
            )
            treated = rng.sample(row.points, k=min(len(row.points), rng.randint(3, 9)))
            for position, point_id in enumerate(treated):
                writer.add(
                    point_table,
                    {
                        "id": ids.next(point_table),
                        "session_id": session_id,
                        "position": position,
                        "trigger_point_id": point_id,
                        **treated_point(rng, pain=(3, 9)),
                        "note": rng.choice(POINT_NOTES),
                    },
                )
            made.points += len(treated)
            saved = started_at + timedelta(minutes=70)
            day = started_at.date()
            if (therapist_id, day) not in logins:
                logins.add((therapist_id, day))
                audit.add(started_at - timedelta(minutes=20), AuditAction.LOGIN, user_id=therapist_id)
            # Opening the client, then the form (its contraindications), saving, then what was looked at after.
            audit.add(started_at - timedelta(minutes=5), AuditAction.VIEW, user_id=therapist_id, client_id=row.id)
            audit.add(started_at - timedelta(minutes=4), AuditAction.VIEW, user_id=therapist_id, client_id=row.id)
            audit.add(
                saved,
                AuditAction.CREATE,
                user_id=therapist_id,
                client_id=row.id,
                entity_type="session",
                entity_id=session_id,
                details={"points": len(treated)},
            )
            if rng.random() < 0.35:
                audit.add(
                    saved + timedelta(seconds=2),
                    AuditAction.VIEW,
                    user_id=therapist_id,
                    client_id=row.id,
                    entity_type="session",
                    entity_id=session_id,
                )
            if rng.random() < 0.2:
                audit.add(
                    saved + timedelta(seconds=20),
                    AuditAction.VIEW,
                    user_id=therapist_id,
                    client_id=row.id,
                    entity_type="pain-history",
                    entity_id=row.id,
                    details={"period": {}},
                )
            if rng.random() < 0.02:
                printed = rng.random() < 0.5
                audit.add(
                    saved + timedelta(minutes=1),
                    AuditAction.EXPORT if printed else AuditAction.VIEW,
                    user_id=therapist_id,
                    client_id=row.id,
                    entity_type="summary",
                    entity_id=row.id,
                    details={"period": {}, "printed": printed},
                )
            if started_at >= booked_since:
                _booking(writer, ids, audit, row.id, therapist_id, started_at, 60, "completed", session_id, made)
            done += 1
            made.sessions = done
            if done % 20000 == 0:
                writer.progress(f"{done} sessions")
        if row.sessions >= 3 and rng.random() < 0.05:
            audit.add(
                now - timedelta(days=rng.randint(1, 30)),
                AuditAction.EXPORT,
                user_id=row.therapist_id,
                client_id=row.id,
                entity_type="export",
                entity_id=row.id,
                details={"format": rng.choice(["csv", "fhir"]), "sessions": row.sessions, "period": {}},
            )


def _booking(writer, ids, audit, client_id, therapist_id, starts_at, length, status, session_id, made) -> int:
    """An appointment booked ten days ahead and, unless still booked, its change of status: rows and audit entries
    as the appointment book writes them. Returns its id."""
    appointment_id = ids.next(Appointment.__table__)
    booked_at = starts_at - timedelta(days=10)
    changed_at = starts_at + timedelta(minutes=length + 10) if status == "completed" else starts_at
    writer.add(
        Appointment.__table__,
        {
            "id": appointment_id,
            "client_id": client_id,
            "therapist_id": therapist_id,
            "starts_at": starts_at,
            "length_minutes": length,
            "status": status,
            "note": "",
            "session_id": session_id,
            "created_at": booked_at,
            "updated_at": booked_at if status == "booked" else changed_at,
            "version": 1 if status == "booked" else 2,
        },
    )
    audit.add(
        booked_at,
        AuditAction.CREATE,
        user_id=therapist_id,
        client_id=client_id,
        entity_type="appointment",
        entity_id=appointment_id,
        details={"starts_at": starts_at.isoformat(), "length_minutes": length, "therapist": therapist_id},
    )
    if status != "booked":
        details = {"changes": {"status": ["booked", status]}}
        audit.add(
            changed_at,
            AuditAction.UPDATE,
            user_id=therapist_id,
            client_id=client_id,
            entity_type="appointment",
            entity_id=appointment_id,
            details={**details, "session": session_id} if session_id else details,
        )
    made.appointments += 1
    return appointment_id


def _future_appointments(writer, ids, audit, rng, client_rows, therapist_rows, now, made) -> None:
    """Each therapist's book for the next two weeks (today included), plus a few cancellations and no-shows."""
    by_therapist: dict[int, list[ClientRow]] = {}
    for row in client_rows:
        by_therapist.setdefault(row.therapist_id, []).append(row)
    today = now.date()
    for therapist_id, _email in therapist_rows:
        mine = by_therapist.get(therapist_id, [])
        if not mine:
            continue
        for offset in range(-3, BOOKED_AHEAD_DAYS):
            day = today + timedelta(days=offset)
            if day.weekday() == 6:
                continue
            hours = sorted(rng.sample(range(13, 23), rng.randint(4, 7)))
            for hour in hours:
                row = rng.choice(mine)
                starts_at = datetime.combine(day, time(hour), tzinfo=UTC)
                if offset < 0:
                    status = rng.choice(["cancelled", "no-show"])
                elif offset == 0 and hour < now.hour:
                    status = "arrived"
                else:
                    status = "booked"
                length = rng.choice([45, 60, 60, 90])
                _booking(writer, ids, audit, row.id, therapist_id, starts_at, length, status, None, made)


def _intakes(writer, ids, audit, rng, client_rows, now, kb, made) -> None:
    """A tenth of the clients sent an intake before a recent visit; some are still to be reviewed."""
    for row in client_rows:
        if not row.sessions or rng.random() >= INTAKE_SHARE:
            continue
        link_id = ids.next(IntakeLink.__table__)
        made_at = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
        used_at = made_at + timedelta(hours=rng.randint(1, 40))
        writer.add(
            IntakeLink.__table__,
            {
                "id": link_id,
                "client_id": row.id,
                "created_by_id": row.therapist_id,
                "token_hash": hashlib.sha256(f"large-intake-{link_id}".encode()).hexdigest(),
                "created_at": made_at,
                "expires_at": made_at + timedelta(hours=72),
                "used_at": used_at,
                "emailed_to": "",
            },
        )
        audit.add(
            made_at,
            AuditAction.CREATE,
            user_id=row.therapist_id,
            client_id=row.id,
            entity_type="intake_link",
            entity_id=link_id,
            details={"expires_at": (made_at + timedelta(hours=72)).isoformat()},
        )
        audit.add(
            used_at - timedelta(minutes=6),
            AuditAction.VIEW,
            user_id=None,
            client_id=row.id,
            entity_type="intake_link",
            entity_id=link_id,
            details={"by": "client"},
        )
        intake_id = ids.next(Intake.__table__)
        changes = rng.random() < 0.4
        reviewed = rng.random() < 0.6
        consent_name = f"Client {row.id}"
        writer.add(
            Intake.__table__,
            {
                "id": intake_id,
                "client_id": row.id,
                "link_id": link_id,
                "submitted_at": used_at,
                "regions": [
                    {
                        "region": region.partition(":")[0],
                        "side": region.partition(":")[2] or "both",
                        "intensity": rng.randint(2, 9),
                    }
                    for region in row.regions
                ],
                "pain_now": rng.randint(2, 8),
                "pain_usual": rng.randint(2, 8),
                "pain_worst": rng.randint(5, 10),
                "psfs": [
                    {"activity": activity, "score": rng.randint(2, 9)}
                    for activity in rng.sample(PSFS_ACTIVITIES, rng.randint(1, 3))
                ],
                "stress": rng.randint(1, 9) if rng.random() < 0.7 else None,
                "health_changes": "Started physiotherapy last week." if changes else "",
                "medications": "Now taking ibuprofen at night." if changes and rng.random() < 0.5 else "",
                "precautions": [],
                "consent_name": consent_name,
                "consent_at": used_at,
                "reviewed_at": used_at + timedelta(hours=20) if changes and reviewed else None,
                "reviewed_by_id": row.therapist_id if changes and reviewed else None,
            },
        )
        audit.add(
            used_at,
            AuditAction.CREATE,
            user_id=None,
            client_id=row.id,
            entity_type="intake",
            entity_id=intake_id,
            details={"link_id": link_id, "by": "client", "consent_name": consent_name},
        )
        made.intakes += 1


def _move_sequences(ids: Ids) -> None:
    """PostgreSQL hands out ids from a sequence: move each past the ids written here; then gather the planner's
    statistics, as autovacuum would a few minutes later, so a benchmark started at once sees the same plans."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table, last in ids.last.items():
            connection.execute(
                sa.text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"), {"table": table, "last": last}
            )
        connection.execute(sa.text("ANALYZE"))
