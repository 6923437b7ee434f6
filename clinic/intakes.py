"""Client intakes as the rest of the app needs them (DESIGN 11): the one-time link's token, a client's intakes
read back, the pre-fill of the next session, and the outcomes over time that the client page, the physician
summary and `pain-history.json` show (PSFS with its minimal detectable change, per-muscle outcome, and a
status per treated trigger point)."""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from clinic.clock import clinic_zone
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.kb import KnowledgeBase
from clinic.models import Client, Intake, IntakeLink, TreatmentSession
from clinic.periods import utc_bounds
from clinic.rules import PSFS_MDC_MEAN, RESOLVED_VISITS, TENDER_FROM

# --- the link's token ------------------------------------------------------------------------------------


def new_token(nbytes: int) -> str:
    """A URL-safe token with `nbytes` bytes of randomness from the operating system's generator."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """What is stored instead of the token. A plain SHA-256 suffices: the token is 256 random bits, so there is
    nothing to gain from a slow hash, and the lookup stays one indexed equality."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def usable_link(token: str) -> IntakeLink | None:
    """The link this token names if it is unused and unexpired; None for unknown, used and expired alike."""
    if not token or len(token) > 200:
        return None
    link = db.session.scalar(sa.select(IntakeLink).where(IntakeLink.token_hash == token_hash(token)))
    if link is None or not link.usable(utcnow()):
        return None
    return link


def first_name(client: Client) -> str:
    """All the public intake page may say about who it is for."""
    parts = client.full_name.split()
    return parts[0] if parts else ""


# --- a client's intakes read back ------------------------------------------------------------------------


def intakes_in_period(client: Client, date_from: date | None = None, date_to: date | None = None) -> list[Intake]:
    """The client's intakes, oldest first, within the period (clinic dates, both ends included)."""
    query = sa.select(Intake).where(Intake.client_id == client.id).order_by(Intake.submitted_at, Intake.id)
    start, end = utc_bounds(date_from, date_to)
    if start:
        query = query.where(Intake.submitted_at >= start)
    if end:
        query = query.where(Intake.submitted_at <= end)
    return list(db.session.scalars(query))


def newest_since_last_session(client: Client) -> Intake | None:
    """The intake that should start the next session: the newest one sent after the last session began
    (any, if the client has had no session yet)."""
    last_start = (
        sa.select(sa.func.max(TreatmentSession.started_at))
        .where(TreatmentSession.client_id == client.id)
        .scalar_subquery()
    )
    return db.session.scalar(  # one statement: the form asks this on every visit
        sa.select(Intake)
        .where(Intake.client_id == client.id, sa.or_(last_start.is_(None), Intake.submitted_at > last_start))
        .order_by(Intake.submitted_at.desc(), Intake.id.desc())
        .limit(1)
    )


def session_pain_regions(intake: Intake) -> list[str]:
    """The intake's regions as the session form's `pain_regions` values (DESIGN 10: the id with the side the
    client gave, `:left`, `:right` or `:both`)."""
    return list(dict.fromkeys(f"{item['region']}:{item['side']}" for item in intake.regions))


# --- pain-history.json ------------------------------------------------------------------------------------


def intake_history(intakes: list[Intake]) -> list[dict[str, Any]]:
    """The `intakes` list of pain-history.json (DESIGN 11), oldest first as given."""
    return [
        {
            "id": intake.id,
            "date": intake.submitted_at.astimezone(clinic_zone()).isoformat(),
            "pain_now": intake.pain_now,
            "psfs": [{"activity": item["activity"], "score": item["score"]} for item in intake.psfs],
            "psfs_mean": intake.psfs_mean,
            "stress": intake.stress,
        }
        for intake in intakes
    ]


# --- outcomes over time -----------------------------------------------------------------------------------


@dataclass
class PsfsRow:
    intake: Intake
    mean: float | None
    change: float | None  # against the first intake with a PSFS
    beyond_mdc: bool  # the change is at least the minimal detectable change (either way)


def psfs_rows(intakes: list[Intake]) -> list[PsfsRow]:
    """One row per intake (oldest first), its PSFS mean against the first intake that had one."""
    rows: list[PsfsRow] = []
    baseline: float | None = None
    for intake in intakes:
        mean = intake.psfs_mean
        change = None
        if mean is not None:
            if baseline is None:
                baseline = mean
            else:
                change = round(mean - baseline, 1)
        rows.append(PsfsRow(intake, mean, change, change is not None and abs(change) >= PSFS_MDC_MEAN))
    return rows


def psfs_rule() -> str:
    return (
        f"The minimal detectable change of the PSFS mean is about {PSFS_MDC_MEAN:g} points: a smaller change "
        "may be measurement noise"
    )


def pain_timeline(intakes: list[Intake], sessions: list[TreatmentSession]) -> list[dict[str, Any]]:
    """Pain as the client reported it before each visit (intakes) beside the pain recorded at the sessions,
    in order of time."""
    rows = [
        {"at": intake.submitted_at, "kind": "intake", "pain": intake.pain_now, "record": intake} for intake in intakes
    ]
    rows += [
        {"at": session.started_at, "kind": "session", "pain": session.pain_before, "after": session.pain_after}
        for session in sessions
    ]
    return sorted(rows, key=lambda row: row["at"])


@dataclass
class MuscleOutcome:
    name: str
    first_pain: int
    last_pain: int
    sessions: int
    first_at: datetime
    last_at: datetime
    referral_last_at: datetime | None  # the last session where one of its points reproduced the referral
    referral_gone_since: datetime | None  # the first session after that, if there was one

    @property
    def change(self) -> int:
        return self.last_pain - self.first_pain


def muscle_outcomes(sessions: list[TreatmentSession], kb: KnowledgeBase) -> list[MuscleOutcome]:
    """Per muscle, oldest session first: its compression pain (the highest of its points in a session) at the
    first and the latest session it was treated in, and whether its referral is still reproduced. Most-treated
    first."""
    visits: dict[str, list[tuple[datetime, int, bool]]] = {}
    for session in sessions:
        per_muscle: dict[str, tuple[int, bool]] = {}
        for point in session.points:
            name = kb.muscle_name(point.trigger_point_id)
            pain, reproduced = per_muscle.get(name, (0, False))
            per_muscle[name] = (max(pain, point.pain), reproduced or point.referral_reproduced)
        for name, (pain, reproduced) in per_muscle.items():
            visits.setdefault(name, []).append((session.started_at, pain, reproduced))
    return muscle_outcomes_of(visits)


def muscle_outcomes_of(visits: dict[str, list[tuple[datetime, int, bool]]]) -> list[MuscleOutcome]:
    """muscle_outcomes() from each muscle's sessions, oldest first: (start, highest compression pain, whether
    one of its points reproduced the referral)."""
    outcomes = []
    for name, rows in visits.items():
        reproduced_at = [at for at, _, reproduced in rows if reproduced]
        last_reproduced = reproduced_at[-1] if reproduced_at else None
        gone_since = None
        if last_reproduced is not None:
            gone_since = next((at for at, _, _ in rows if at > last_reproduced), None)
        outcomes.append(
            MuscleOutcome(
                name, rows[0][1], rows[-1][1], len(rows), rows[0][0], rows[-1][0], last_reproduced, gone_since
            )
        )
    return sorted(outcomes, key=lambda o: (-o.sessions, o.name))


ACTIVE, LATENT, RESOLVED = "active", "latent", "resolved"
STATUS_ORDER = {ACTIVE: 0, LATENT: 1, RESOLVED: 2}


def status_rule() -> str:
    return (
        "Active: its referral reproduced the client's pain at its latest treatment. "
        f"Latent: tender only (compression pain {TENDER_FROM}/10 or more) or not yet calm for long enough. "
        f"Resolved: neither tender (below {TENDER_FROM}/10) nor reproducing the referral at each of its last "
        f"{RESOLVED_VISITS} treatments."
    )


class PointTreatmentView(NamedTuple):  # a tuple: a long record makes thousands, and a tuple is the cheapest
    at: datetime
    pain: int
    referral: bool


@dataclass
class PointStatus:
    point_id: str
    side: str
    name: str
    status: str
    treatments: list[PointTreatmentView] = field(default_factory=list)

    @property
    def last(self) -> PointTreatmentView:
        return self.treatments[-1]


def point_status(treatments: list[PointTreatmentView]) -> str:
    """The status of one trigger point from its treatments, oldest first (the rule of `status_rule`)."""
    recent = treatments[-RESOLVED_VISITS:]
    if len(recent) == RESOLVED_VISITS and all(t.pain < TENDER_FROM and not t.referral for t in recent):
        return RESOLVED
    if treatments[-1].referral:
        return ACTIVE
    return LATENT


def point_statuses(sessions: list[TreatmentSession], kb: KnowledgeBase) -> list[PointStatus]:
    """Every treated trigger point (per side), with its status: active first, then latent, then resolved."""
    found: dict[tuple[str, str], PointStatus] = {}
    for session in sessions:
        for point in session.points:
            key = (point.trigger_point_id, point.side)
            if key not in found:
                known = kb.point(point.trigger_point_id)
                name = f"{known.muscle.name} {known.point.number}" if known else point.trigger_point_id
                found[key] = PointStatus(point.trigger_point_id, point.side, name, LATENT)
            found[key].treatments.append(PointTreatmentView(session.started_at, point.pain, point.referral_reproduced))
    for entry in found.values():
        entry.status = point_status(entry.treatments)
    return sorted(found.values(), key=lambda e: (STATUS_ORDER[e.status], e.name, e.side))


@dataclass
class Outcomes:
    intakes: list[Intake]
    psfs: list[PsfsRow]
    pain: list[dict[str, Any]]
    muscles: list[MuscleOutcome]
    points: list[PointStatus]

    @property
    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_ORDER, 0)
        for point in self.points:
            counts[point.status] += 1
        return counts

    @property
    def has_psfs(self) -> bool:
        return any(row.mean is not None for row in self.psfs)

    @property
    def status_rule(self) -> str:
        return status_rule()

    @property
    def psfs_rule(self) -> str:
        return psfs_rule()


def outcomes(
    client: Client,
    sessions: list[TreatmentSession],
    kb: KnowledgeBase,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Outcomes:
    """Everything the outcome sections show for this client and period (sessions oldest first)."""
    intakes = intakes_in_period(client, date_from, date_to)
    return Outcomes(
        intakes,
        psfs_rows(intakes),
        pain_timeline(intakes, sessions),
        muscle_outcomes(sessions, kb),
        point_statuses(sessions, kb),
    )


RECENT_INTAKES = 5  # intakes listed on the client page (each links to the whole intake)


def client_panel(
    client: Client,
    sessions: list[TreatmentSession],
    kb: KnowledgeBase,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    """What the client page's intake section shows: how many intakes, the latest ones and the outcomes in the
    period."""
    # One query for the count and the latest: the window counts every intake of the client before LIMIT cuts.
    rows = db.session.execute(
        sa.select(Intake, sa.func.count().over())
        .where(Intake.client_id == client.id)
        .order_by(Intake.submitted_at.desc(), Intake.id.desc())
        .limit(RECENT_INTAKES)
    ).all()
    return {
        "count": rows[0][1] if rows else 0,
        "recent": [intake for intake, _ in rows],
        "outcomes": outcomes(client, sessions, kb, date_from, date_to),
    }
