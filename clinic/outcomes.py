"""How a client is doing: progress against the first visit (the clinically meaningful rule lives in
clinic.rules) and the muscles treated, with how the tissue answered."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from clinic.clock import clinic_zone, to_local
from clinic.history import first_meaningful_session, first_session
from clinic.kb import KnowledgeBase
from clinic.models import Client, PointTreatment, TreatmentSession
from clinic.rules import is_meaningful_improvement, pressure_outside_advice

SEARCH = object()  # progress(): find the first meaningful improvement among the sessions given


@dataclass
class Progress:
    baseline: int | None
    baseline_session: TreatmentSession | None
    latest: int | None
    change: int | None
    meaningful: bool
    first_meaningful: TreatmentSession | None


def progress(
    sessions: list[TreatmentSession],
    first_visit: TreatmentSession | None = None,
    first_meaningful: TreatmentSession | None | object = SEARCH,
) -> Progress:
    """Baseline is the pain before the client's first session ever (`first_visit`; by default the first of
    `sessions`), so a period that starts mid-course is still measured from the start. Progress is read from
    each later session's pain before (what the client arrives with): lasting change, not the relief right
    after treatment. `first_meaningful`, when given, is the first session of the whole history that reached a
    meaningful improvement (`client_progress` looks it up); otherwise it is sought among `sessions`."""
    first_visit = first_visit or (sessions[0] if sessions else None)
    if not sessions or first_visit is None:
        return Progress(None, None, None, None, False, None)
    baseline = first_visit.pain_before
    later = [s for s in sessions if s.id != first_visit.id]
    latest = later[-1].pain_before if later else baseline  # one visit: no follow-up yet, no change
    if first_meaningful is SEARCH:
        first_meaningful = next((s for s in later if is_meaningful_improvement(baseline, s.pain_before)), None)
    return Progress(
        baseline, first_visit, latest, latest - baseline, is_meaningful_improvement(baseline, latest), first_meaningful
    )


def client_progress(client: Client, sessions: list[TreatmentSession], *, whole_record: bool = False) -> Progress:
    """Progress over a period of the client's record: the baseline is their first visit ever and "first
    reached" the first meaningful improvement of their whole history, wherever the period starts or ends.
    With `whole_record` (`sessions` is every session the client has had) both are found in `sessions`."""
    if whole_record:
        return progress(sessions)
    first_visit = first_session(client)
    if first_visit is None or not sessions:
        return progress(sessions, first_visit)
    return progress(sessions, first_visit, first_meaningful_session(client, first_visit))


class MuscleTally:
    """Muscles treated, counted point by point with plain dictionaries (a long record has thousands of points):
    how many points, in how many sessions, on which sides, how the tissue answered, holds outside the advice.
    `ranked()` lists them most treated first, Counters at the end. Fed from point objects (`muscle_counts`) or
    from the summary's tuples (reports), so both count the same way."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.stats: dict[str, dict[str, Any]] = {}  # by muscle slug (a point the base no longer has: its id)
        self.keys: dict[str, str] = {}  # trigger point -> its muscle's key

    def add(self, session_id: int, point_id: str, side: str, seconds: int | None, answered: Iterable[str]) -> dict:
        """Count one treated point; `answered` names its responses. Returns its muscle's entry."""
        key = self.keys.get(point_id)
        if key is None:
            muscle = self.kb.muscle_of(point_id)
            key = self.keys[point_id] = muscle.slug if muscle else point_id
            if key not in self.stats:
                self.stats[key] = {
                    "muscle": muscle,
                    "name": muscle.name if muscle else key,
                    "points": 0,
                    "sessions": set(),
                    "sides": {},
                    "responses": {},
                    "outside_hold": 0,
                }
        entry = self.stats[key]
        entry["points"] += 1
        entry["sessions"].add(session_id)
        sides = entry["sides"]
        sides[side] = sides.get(side, 0) + 1
        responses = entry["responses"]
        for label in answered:
            responses[label] = responses.get(label, 0) + 1
        entry["outside_hold"] += pressure_outside_advice(seconds)
        return entry

    def ranked(self) -> list[dict[str, Any]]:
        ranked = sorted(self.stats.values(), key=lambda e: (-e["points"], e["name"]))
        for entry in ranked:
            entry["sessions"] = len(entry["sessions"])
            entry["sides"] = Counter(entry["sides"])
            entry["responses"] = Counter(entry["responses"])
        return ranked


def muscle_counts(sessions: list[TreatmentSession], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Muscles treated, most often first, with how many points, on which sides and how the tissue answered."""
    tally = MuscleTally(kb)
    responses = PointTreatment.RESPONSES
    for session in sessions:
        for point in session.points:
            answered = [label for field, label in responses if getattr(point, field)]
            tally.add(session.id, point.trigger_point_id, point.side, point.pressure_seconds, answered)
    return tally.ranked()


@dataclass
class Attendance:
    sessions: int
    first: date | None
    last: date | None
    weeks: float  # from the first to the last session of the period
    mean_interval_days: float | None  # None with fewer than two sessions
    longest_gap_days: int | None


def attendance(sessions: list[TreatmentSession]) -> Attendance:
    """How often the client came in the period: the count, the span, the usual interval and the longest gap."""
    zone = clinic_zone()
    days = [to_local(s.started_at, zone).date() for s in sessions]
    if not days:
        return Attendance(0, None, None, 0, None, None)
    gaps = [(later - earlier).days for earlier, later in zip(days, days[1:], strict=False)]
    return Attendance(
        sessions=len(days),
        first=days[0],
        last=days[-1],
        weeks=round((days[-1] - days[0]).days / 7, 1),
        mean_interval_days=round(sum(gaps) / len(gaps), 1) if gaps else None,
        longest_gap_days=max(gaps) if gaps else None,
    )


@dataclass
class NoteChange:
    on: date
    text: str


def note_changes(sessions: list[TreatmentSession], field: str) -> list[NoteChange]:
    """A SOAP field over the period: each session where it says something new, oldest first (the last one is
    the latest finding). Sessions that leave it empty or repeat it word for word are left out."""
    changes: list[NoteChange] = []
    zone = clinic_zone()  # once: a long record has a change at most sessions
    for session in sessions:
        text = (getattr(session, field) or "").strip()
        if text and (not changes or changes[-1].text != text):
            changes.append(NoteChange(to_local(session.started_at, zone).date(), text))
    return changes
