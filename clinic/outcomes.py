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
from clinic.kb.sides import SIDES
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


_SIDE_ORDER = {side: n for n, side in enumerate(SIDES)}  # ties between sides in a muscle's counts


class MuscleTally:
    """Muscles treated, counted with plain dictionaries (a long record has thousands of points): how many points,
    in how many sessions, on which sides, how the tissue answered, holds outside the advice. Fed point by point
    (`add`, from point objects: `muscle_counts`) or a trigger point and side at a time (`add_counts`, from the
    summary's own tally of its point tuples), so both count the same way. `ranked()` lists them most treated
    first, with Counters whose order is the same however they were fed: sides most used first (ties in the
    order left, right, both), responses in the order of PointTreatment.RESPONSES."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.stats: dict[str, dict[str, Any]] = {}  # by muscle slug (a point the base no longer has: its id)
        self.keys: dict[str, str] = {}  # trigger point -> its muscle's key

    def entry(self, point_id: str) -> dict[str, Any]:
        """The entry of the point's muscle, made on first use."""
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
        return self.stats[key]

    def add(self, session_id: int, point_id: str, side: str, seconds: int | None, answered: Iterable[str]) -> dict:
        """Count one treated point; `answered` names its responses. Returns its muscle's entry."""
        entry = self.entry(point_id)
        entry["points"] += 1
        entry["sessions"].add(session_id)
        sides = entry["sides"]
        sides[side] = sides.get(side, 0) + 1
        responses = entry["responses"]
        for label in answered:
            responses[label] = responses.get(label, 0) + 1
        entry["outside_hold"] += pressure_outside_advice(seconds)
        return entry

    def add_counts(
        self,
        point_id: str,
        side: str,
        points: int,
        sessions: Iterable[int],
        responses: dict[str, int],
        outside_hold: int,
    ) -> dict:
        """Count `points` treatments of one trigger point on one side, in `sessions`, with `responses` (label ->
        how many) and `outside_hold` holds outside the advice. Returns its muscle's entry."""
        entry = self.entry(point_id)
        entry["points"] += points
        entry["sessions"].update(sessions)
        sides = entry["sides"]
        sides[side] = sides.get(side, 0) + points
        counted = entry["responses"]
        for label, count in responses.items():
            if count:
                counted[label] = counted.get(label, 0) + count
        entry["outside_hold"] += outside_hold
        return entry

    def ranked(self) -> list[dict[str, Any]]:
        ranked = sorted(self.stats.values(), key=lambda e: (-e["points"], e["name"]))
        for entry in ranked:
            entry["sessions"] = len(entry["sessions"])
            entry["sides"] = Counter(
                dict(sorted(entry["sides"].items(), key=lambda item: (-item[1], _SIDE_ORDER.get(item[0], 3))))
            )
            entry["responses"] = Counter(
                {
                    label: entry["responses"][label]
                    for _, label in PointTreatment.RESPONSES
                    if label in entry["responses"]
                }
            )
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
    days = [s.started_at.astimezone(zone).date() for s in sessions]
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


def note_changes(sessions: list[TreatmentSession], field: str, latest: int | None = None) -> list[NoteChange]:
    """A SOAP field over the period: each session where it says something new, oldest first (the last one is
    the latest finding). Sessions that leave it empty or repeat it word for word are left out. With `latest`,
    only the last that many changes, found reading back from the latest session (a long record's earlier notes
    are not looked at)."""
    changes: list[NoteChange] = []  # newest first, while reading back
    zone = clinic_zone()
    wording, since = None, None  # the wording being read back, and the earliest session of it so far
    for session in reversed(sessions):
        text = (getattr(session, field) or "").strip()
        if not text:
            continue
        if text == wording:
            since = session  # the same wording, earlier
            continue
        if wording is not None:
            changes.append(NoteChange(to_local(since.started_at, zone).date(), wording))
            if latest is not None and len(changes) == latest:
                return changes[::-1]
        wording, since = text, session
    if wording is not None:
        changes.append(NoteChange(to_local(since.started_at, zone).date(), wording))
    return changes[::-1]
