"""Demo data for trying the app: an admin, two therapists and a dozen clients with their past sessions.
Idempotent: running it again adds nothing."""

import random
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from clinic.admin.services import create_user
from clinic.appointments.services import create_appointment
from clinic.auth.services import find_user_by_email
from clinic.booking import complete_with_session
from clinic.clients.services import create_client, update_client
from clinic.clock import clinic_today, to_utc
from clinic.extensions import db
from clinic.kb import KnowledgeBase, knowledge_base
from clinic.kb.checker import rank_candidates
from clinic.models import Appointment, AppointmentStatus, Client, ClinicSettings, Role, TreatmentSession
from clinic.treatments.services import create_session, new_submission_token

DEMO_USERS = [
    {"email": "admin@knotwork.example", "password": "knotwork-admin", "name": "Ruth Okafor", "role": Role.ADMIN},
    {
        "email": "maya@knotwork.example",
        "password": "knotwork-maya",
        "name": "Maya Lindqvist",
        "role": Role.THERAPIST,
        "credentials": "RMT",
        "registration_number": "DEMO-0101",
    },
    {
        "email": "sam@knotwork.example",
        "password": "knotwork-sam",
        "name": "Sam Ferreira",
        "role": Role.THERAPIST,
        "credentials": "LMT",
        "registration_number": "DEMO-0102",
    },
]

_NONE = "None known."

DEMO_CLIENTS = [
    {
        "therapist": "maya@knotwork.example",
        "full_name": "Daniel Whitford",
        "pain_regions": ["temple", "side-of-neck", "back-of-neck"],
        "date_of_birth": date(1978, 3, 14),
        "phone": "555-0142",
        "email": "d.whitford@example.com",
        "physician_name": "Dr. Helen Marsh",
        "physician_contact": "Riverside Family Practice, 555-0190",
        "health_history": "Office work, 9 h/day at a laptop. Right-sided neck pain and temple headaches 3-4 days a week for 6 months, worse late afternoon.",
        "medications": "Ibuprofen 400 mg as needed (2-3 times a week).",
        "contraindications": _NONE,
        "consent_date": date(2026, 2, 2),
        "notes": "Prefers morning appointments.",
    },
    {
        "therapist": "maya@knotwork.example",
        "full_name": "Priya Raman",
        "pain_regions": ["jaw", "tmj", "teeth"],
        "date_of_birth": date(1991, 7, 2),
        "phone": "555-0117",
        "email": "priya.r@example.com",
        "physician_name": "Dr. Tomás Vega",
        "physician_contact": "Northgate Clinic, fax 555-0177",
        "health_history": "Jaw clicking and aching on chewing, left more than right; wakes with a sore jaw. Dentist fitted a night guard in 2025.",
        "medications": _NONE,
        "contraindications": "Avoid intraoral work: client declined consent for it.",
        "consent_date": date(2026, 3, 10),
        "notes": "",
    },
    {
        "therapist": "maya@knotwork.example",
        "full_name": "George Abernathy",
        "pain_regions": ["low-back", "buttock", "hip-side"],
        "date_of_birth": date(1956, 11, 23),
        "phone": "555-0163",
        "email": "",
        "physician_name": "Dr. Helen Marsh",
        "physician_contact": "Riverside Family Practice, 555-0190",
        "health_history": "Low back pain after lifting a garden planter 8 weeks ago; pain into the right buttock and outer hip. Type 2 diabetes, well controlled.",
        "medications": "Warfarin 5 mg daily; metformin.",
        "contraindications": "On warfarin: light pressure only, check for bruising each visit. Reduced sensation in both feet: no deep work on the feet.",
        "precautions": ["anticoagulants", "neuropathy"],
        "consent_date": date(2026, 1, 20),
        "notes": "Uses a cane on bad days; table height low.",
    },
    {
        "therapist": "maya@knotwork.example",
        "full_name": "Lena Kowalczyk",
        "pain_regions": ["heel", "sole"],
        "date_of_birth": date(1985, 5, 9),
        "phone": "555-0121",
        "email": "lena.k@example.com",
        "physician_name": "Dr. Amir Haddad",
        "physician_contact": "City Sports Medicine, 555-0101",
        "health_history": "Recreational runner, 30 km/week. Sharp heel pain on the first steps in the morning for 3 months.",
        "medications": _NONE,
        "contraindications": _NONE,
        "consent_date": date(2026, 4, 1),
        "notes": "Training for a half marathon in spring.",
    },
    {
        "therapist": "maya@knotwork.example",
        "full_name": "Marcus Bell",
        "pain_regions": ["elbow-lateral", "forearm-back"],
        "date_of_birth": date(1969, 9, 30),
        "phone": "555-0188",
        "email": "mbell@example.com",
        "physician_name": "Dr. Tomás Vega",
        "physician_contact": "Northgate Clinic, fax 555-0177",
        "health_history": "Painter and decorator. Outer elbow pain on the right when gripping brushes; forearm fatigue.",
        "medications": "Naproxen when needed.",
        "contraindications": "Recent cortisone injection, right lateral elbow (2026-10-02): no direct pressure on the injection site for 6 weeks.",
        "consent_date": date(2026, 5, 18),
        "notes": "",
    },
    {
        "therapist": "maya@knotwork.example",
        "full_name": "Aiko Tanaka",
        "pain_regions": ["between-shoulder-blades", "side-of-neck"],
        "date_of_birth": date(1998, 1, 17),
        "phone": "555-0135",
        "email": "aiko.t@example.com",
        "physician_name": "",
        "physician_contact": "",
        "health_history": "Violinist. Pain between the shoulder blades and the left side of the neck during long rehearsals.",
        "medications": _NONE,
        "contraindications": _NONE,
        "consent_date": date(2026, 6, 3),
        "notes": "No physician on file yet; asked client to bring details.",
    },
    {
        "therapist": "sam@knotwork.example",
        "full_name": "Robert Nguyen",
        "pain_regions": ["front-of-shoulder", "side-of-shoulder", "upper-arm-back"],
        "date_of_birth": date(1962, 4, 4),
        "phone": "555-0155",
        "email": "",
        "physician_name": "Dr. Claire Dubois",
        "physician_contact": "Harbour Medical Centre, 555-0133",
        "health_history": "Frozen shoulder (right), diagnosed 4 months ago; cannot reach behind the back. Physiotherapy ongoing.",
        "medications": "Paracetamol 1 g as needed.",
        "contraindications": "Hypertension, controlled: check blood pressure if headache or dizziness.",
        "precautions": ["hypertension"],
        "consent_date": date(2026, 2, 14),
        "notes": "Works with physio: share notes with consent.",
    },
    {
        "therapist": "sam@knotwork.example",
        "full_name": "Sofia Marchetti",
        "pain_regions": ["thigh-back", "buttock", "thigh-inner"],
        "date_of_birth": date(1988, 12, 12),
        "phone": "555-0109",
        "email": "sofia.m@example.com",
        "physician_name": "Dr. Amir Haddad",
        "physician_contact": "City Sports Medicine, 555-0101",
        "health_history": "Pain in the back of the thigh and buttock after sprint training; sitting aggravates it.",
        "medications": _NONE,
        "contraindications": "Pregnant, 14 weeks (2026-11): side-lying only, no deep abdominal or prone work.",
        "precautions": ["pregnancy"],
        "consent_date": date(2026, 7, 7),
        "notes": "",
    },
    {
        "therapist": "sam@knotwork.example",
        "full_name": "Ahmed Saleh",
        "pain_regions": ["thumb", "fingers", "forearm-front"],
        "date_of_birth": date(1975, 8, 21),
        "phone": "555-0172",
        "email": "a.saleh@example.com",
        "physician_name": "Dr. Claire Dubois",
        "physician_contact": "Harbour Medical Centre, 555-0133",
        "health_history": "Delivery driver. Tingling and ache in the thumb and index finger of the right hand, worse at night; nerve study pending.",
        "medications": _NONE,
        "contraindications": "Awaiting nerve conduction study: refer back if numbness spreads or weakness appears.",
        "consent_date": date(2026, 8, 12),
        "notes": "",
    },
    {
        "therapist": "sam@knotwork.example",
        "full_name": "Hannah Brooks",
        "pain_regions": ["forehead", "eye", "ear"],
        "date_of_birth": date(2001, 3, 3),
        "phone": "555-0114",
        "email": "hbrooks@example.com",
        "physician_name": "",
        "physician_contact": "",
        "health_history": "Student, long hours studying. Frontal headaches and eye strain; ringing in the left ear at times.",
        "medications": "Combined oral contraceptive.",
        "contraindications": _NONE,
        "consent_date": date(2026, 9, 1),
        "notes": "",
    },
    {
        "therapist": "sam@knotwork.example",
        "full_name": "Walter Greene",
        "pain_regions": ["knee-front", "thigh-front", "hip-side"],
        "date_of_birth": date(1949, 6, 15),
        "phone": "555-0168",
        "email": "",
        "physician_name": "Dr. Helen Marsh",
        "physician_contact": "Riverside Family Practice, 555-0190",
        "health_history": "Knee pain, front of the right knee, when climbing stairs. Osteoarthritis both knees. Hip replacement left side 2019 (posterior approach); aches over the outer left hip after walking.",
        "medications": "Apixaban 5 mg twice daily; amlodipine.",
        "contraindications": "On apixaban: light pressure only. Left hip replacement: no deep work around the joint, avoid hip flexion beyond 90 degrees.",
        "precautions": ["hip-replacement", "anticoagulants"],
        "consent_date": date(2026, 3, 28),
        "notes": "Hard of hearing on the left: speak on his right.",
    },
    {
        "therapist": "sam@knotwork.example",
        "full_name": "Isabel Ortega",
        "pain_regions": ["temple", "occiput", "top-of-shoulder"],
        "date_of_birth": date(1983, 10, 5),
        "phone": "555-0126",
        "email": "isa.ortega@example.com",
        "physician_name": "Dr. Tomás Vega",
        "physician_contact": "Northgate Clinic, fax 555-0177",
        "health_history": "Migraine 2-3 times a month, with neck and shoulder tension between attacks.",
        "medications": "Sumatriptan as needed.",
        "contraindications": "No treatment during a migraine attack; reschedule.",
        "consent_date": date(2026, 5, 5),
        "notes": "",
    },
]

DEMO_CLINIC = {"name": "Knotwork Demo Clinic", "address": "1 Example Street, Demo Town", "phone": "555-0100"}


def treated_point(rng: random.Random, pain: tuple[int, int]) -> dict:
    """How a demo point was treated and how the tissue answered (side, hold, compression pain within `pain`,
    responses): the same mix in both demo clinics, drawn in this order so a seed gives the same clinic."""
    return {
        "side": rng.choice(["right", "right", "left", "both"]),
        "pressure_seconds": rng.choice([20, 45, 60, 60, 75, 90, 100]),
        "pain": rng.randint(*pain),
        "release_felt": rng.random() < 0.6,
        "local_twitch": rng.random() < 0.25,
        "referral_reproduced": rng.random() < 0.4,
    }


def seed_demo() -> int:
    """Create what is missing; return how many records were added."""
    kb = knowledge_base()
    created = 0
    for account in DEMO_USERS:
        if find_user_by_email(account["email"]) is None:
            # The demo logins are published and the demo stays one command: no forced change for them.
            user = create_user(
                account["email"], account["name"], account["password"], account["role"], must_change_password=False
            )
            user.credentials = account.get("credentials", "")
            user.registration_number = account.get("registration_number", "")
            created += 1
    if db.session.get(ClinicSettings, 1) is None:
        db.session.add(ClinicSettings(id=1, **DEMO_CLINIC))
        created += 1
    for record in DEMO_CLIENTS:
        data = {key: value for key, value in record.items() if key not in ("therapist", "pain_regions")}
        client = db.session.scalar(
            sa.select(Client).where(
                Client.full_name == data["full_name"], Client.date_of_birth == data["date_of_birth"]
            )
        )
        if client is None:
            client = create_client(data, find_user_by_email(record["therapist"]))
            created += 1
        elif data.get("precautions") and not client.precautions:
            # A demo clinic seeded before precautions existed gets them, audited like any edit.
            update_client(client, {"precautions": data["precautions"]}, str(client.version))
        if db.session.scalar(sa.select(TreatmentSession.id).where(TreatmentSession.client_id == client.id).limit(1)):
            continue
        for values in demo_sessions(client, record["pain_regions"], kb):
            create_session(client, client.therapist, new_submission_token(), values)
            created += 1
    for account in DEMO_USERS:
        if account["role"] == Role.THERAPIST:
            created += demo_appointments(find_user_by_email(account["email"]))
    db.session.flush()
    return created


def demo_appointments(therapist) -> int:
    """A week of the book around today: each client's latest session (the last week or so) as the completed
    appointment it was logged from, a no-show, and appointments ahead, three of them today."""
    if db.session.scalar(sa.select(Appointment.id).where(Appointment.therapist_id == therapist.id).limit(1)):
        return 0
    rng = random.Random(therapist.email)
    clients = list(
        db.session.scalars(sa.select(Client).where(Client.therapist_id == therapist.id).order_by(Client.full_name))
    )
    created = 0
    week_ago = datetime.now(UTC) - timedelta(days=8)
    for client in clients:
        latest = db.session.scalar(
            sa.select(TreatmentSession)
            .where(TreatmentSession.client_id == client.id)
            .order_by(TreatmentSession.started_at.desc())
            .limit(1)
        )
        if latest is not None and latest.started_at >= week_ago:
            appointment = _book(client, latest.started_at, latest.length_minutes, AppointmentStatus.BOOKED)
            complete_with_session(appointment, latest)
            created += 1
    today = clinic_today()
    missed = _book(
        clients[0], to_utc(datetime.combine(today - timedelta(days=2), time(17))), 60, AppointmentStatus.NO_SHOW
    )
    missed.note = "Did not come; phoned, no answer."
    created += 1
    hours = [9, 10, 11, 13, 14, 15, 16, 17]
    for offset in range(5):
        day = today + timedelta(days=offset)
        if offset and day.weekday() == 6:  # closed on Sundays (but a demo always has a today)
            continue
        count = 3 if offset == 0 else rng.randint(1, 3)
        for hour, client in zip(sorted(rng.sample(hours, count)), rng.sample(clients, count), strict=True):
            length = rng.choice([45, 60, 60, 90])
            _book(client, to_utc(datetime.combine(day, time(hour))), length, AppointmentStatus.BOOKED)
            created += 1
    return created


def _book(client: Client, starts_at: datetime, length: int, status: AppointmentStatus) -> Appointment:
    values = {
        "client_id": client.id,
        "therapist_id": client.therapist_id,
        "starts_at": starts_at,
        "length_minutes": length,
        "status": status.value,
        "note": "",
    }
    return create_appointment(values, overlaps=[])


def demo_sessions(client: Client, regions: list[str], kb: KnowledgeBase) -> list[dict]:
    """5-30 weekly sessions ending last week, treating the muscles that refer to the complaint.
    Seeded by the client's name, so every run makes the same history."""
    rng = random.Random(client.full_name)
    count = rng.randint(5, 30)
    improving = rng.random() < 0.7
    muscles = [candidate.muscle for candidate in rank_candidates(kb, regions)[:4]]
    usual_points = [point for muscle in muscles for point in muscle.trigger_points[:2]]
    first_day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(weeks=count)
    pain = rng.randint(6, 9)
    sessions = []
    for week in range(count):
        if improving:
            pain = max(1, pain - rng.choice([0, 0, 1, 1, 1]) + rng.choice([0, 0, 0, 1]))
        else:
            pain = min(10, max(2, pain + rng.choice([-2, -1, 0, 0, 1, 1])))
        treated = rng.sample(usual_points, k=min(len(usual_points), rng.randint(3, 6)))
        sessions.append(
            {
                "started_at": first_day + timedelta(weeks=week, days=rng.randint(0, 2), hours=rng.randint(0, 7)),
                "length_minutes": rng.choice([45, 60, 60, 60, 90]),
                "pain_before": pain,
                "pain_after": max(0, pain - rng.randint(1, 3)),
                "pain_regions": regions,
                "stress_before": None,
                "stress_after": None,
                "heart_rate_before": None,
                "heart_rate_after": None,
                "systolic_before": None,
                "systolic_after": None,
                "diastolic_before": None,
                "diastolic_after": None,
                "overload_cause": rng.choice(["sustained", "repetitive", "acute", "unknown"])
                if week == 0
                else "unknown",
                "subjective": f"Pain {pain}/10 on arrival." if week else "First visit; see health history.",
                "objective": "Taut bands with tender nodules in the treated muscles.",
                "assessment": "Improving." if improving and week > 2 else "",
                "plan": "Weekly; home stretches as shown.",
                "points": [
                    {"trigger_point_id": point.id, **treated_point(rng, pain=(5, 8)), "note": ""} for point in treated
                ],
            }
        )
    return sessions
