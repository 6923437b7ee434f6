"""How a client is doing: progress against the first visit (the clinically meaningful rule lives in
clinic.rules) and the muscles treated, with how the tissue answered."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from clinic.history import first_meaningful_session, first_session
from clinic.kb import KnowledgeBase
from clinic.models import Client, TreatmentSession
from clinic.rules import is_meaningful_improvement

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


def client_progress(client: Client, sessions: list[TreatmentSession]) -> Progress:
    """Progress over a period of the client's record: the baseline is their first visit ever and "first
    reached" the first meaningful improvement of their whole history, wherever the period starts or ends."""
    first_visit = first_session(client)
    if first_visit is None or not sessions:
        return progress(sessions, first_visit)
    return progress(sessions, first_visit, first_meaningful_session(client, first_visit))


def muscle_counts(sessions: list[TreatmentSession], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Muscles treated, most often first, with how many points, on which sides and how the tissue answered."""
    stats: dict[str, dict[str, Any]] = {}
    for session in sessions:
        for point in session.points:
            muscle = kb.muscle_of(point.trigger_point_id)
            key = muscle.slug if muscle else point.trigger_point_id
            entry = stats.setdefault(
                key,
                {
                    "muscle": muscle,
                    "name": muscle.name if muscle else key,
                    "points": 0,
                    "sessions": set(),
                    "sides": Counter(),
                    "responses": Counter(),
                    "outside_hold": 0,
                },
            )
            entry["points"] += 1
            entry["sessions"].add(session.id)
            entry["sides"][point.side] += 1
            entry["responses"].update(point.responses)
            entry["outside_hold"] += point.pressure_warning
    ranked = sorted(stats.values(), key=lambda e: (-e["points"], e["name"]))
    for entry in ranked:
        entry["sessions"] = len(entry["sessions"])
    return ranked
