"""A client's pain history as JSON: the contract of DESIGN section 7."""

from datetime import datetime
from typing import Any

from clinic.clock import clinic_zone
from clinic.intakes import intake_history
from clinic.kb import KnowledgeBase
from clinic.models import Client, Intake


def pain_history_from_rows(
    client: Client, session_rows: list[tuple], point_rows: list[tuple], kb: KnowledgeBase, intakes: list[Intake] = ()
) -> dict[str, Any]:
    """DESIGN 7, with the client's intakes of DESIGN 11 (oldest first) beside the sessions: built in one pass from
    plain tuples (clinic.history.pain_history_rows)."""
    zone = clinic_zone()
    muscle_names: dict[str, str] = {}
    points: dict[int, list[dict[str, Any]]] = {}
    for session_id, trigger_point, side, pressure_seconds, pain in point_rows:
        muscle = muscle_names.get(trigger_point)
        if muscle is None:
            muscle = muscle_names[trigger_point] = kb.muscle_name(trigger_point)
        points.setdefault(session_id, []).append(
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
                "date": _local(started_at, zone),
                "pain_before": pain_before,
                "pain_after": pain_after,
                "points": points.get(session_id, []),
            }
            for session_id, started_at, pain_before, pain_after in session_rows
        ],
        "intakes": intake_history(list(intakes)),
    }


def _local(moment: datetime, zone) -> str:
    return moment.astimezone(zone).isoformat()
