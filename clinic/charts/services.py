"""A client's pain history as JSON: the contract of DESIGN section 7."""

from typing import Any

import orjson

from clinic.clock import clinic_zone
from clinic.intakes import intake_history
from clinic.kb import KnowledgeBase
from clinic.models import Client, Intake


def pain_history_json(
    client: Client, session_rows: list[tuple], point_rows: list[tuple], kb: KnowledgeBase, intakes: list[Intake] = ()
) -> bytes:
    """pain_history_from_rows() as compact JSON bytes in the document's own key order (orjson: a 1,000-session
    record is some 850 KB, which the standard library's encoder takes several times longer to write)."""
    return orjson.dumps(pain_history_from_rows(client, session_rows, point_rows, kb, intakes))


def pain_history_from_rows(
    client: Client, session_rows: list[tuple], point_rows: list[tuple], kb: KnowledgeBase, intakes: list[Intake] = ()
) -> dict[str, Any]:
    """DESIGN 7, with the client's intakes of DESIGN 11 (oldest first) beside the sessions: built in one pass over
    each list of plain tuples (clinic.history.pain_history_rows; points in session and row order)."""
    zone = clinic_zone()
    muscle_names: dict[str, str] = {}
    points: dict[int, list[dict[str, Any]]] = {}
    current, session_points = None, []
    for session_id, trigger_point, side, pressure_seconds, pain in point_rows:
        if session_id != current:  # the rows come session by session: one dictionary look-up per session
            current, session_points = session_id, points.setdefault(session_id, [])
        muscle = muscle_names.get(trigger_point)
        if muscle is None:
            muscle = muscle_names[trigger_point] = kb.muscle_name(trigger_point)
        session_points.append(
            {
                "trigger_point": trigger_point,
                "muscle": muscle,
                "side": side,
                "pressure_seconds": pressure_seconds,
                "pain": pain,
            }
        )
    return {
        "client_id": client.id,
        "sessions": [
            {
                "id": session_id,
                "date": started_at.astimezone(zone).isoformat(),
                "pain_before": pain_before,
                "pain_after": pain_after,
                "points": points.get(session_id, []),
            }
            for session_id, started_at, pain_before, pain_after in session_rows
        ],
        "intakes": intake_history(list(intakes)),
    }
