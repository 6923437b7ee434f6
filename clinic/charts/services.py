"""A client's pain history as JSON: the contract of DESIGN section 7."""

from typing import Any

from clinic.clock import clinic_zone
from clinic.kb import KnowledgeBase
from clinic.models import Client, TreatmentSession


def pain_history(client: Client, sessions: list[TreatmentSession], kb: KnowledgeBase) -> dict[str, Any]:
    return {
        "client_id": client.id,
        "sessions": [
            {
                "id": session.id,
                "date": session.started_at.astimezone(clinic_zone()).isoformat(),
                "pain_before": session.pain_before,
                "pain_after": session.pain_after,
                "points": [
                    {
                        "trigger_point": point.trigger_point_id,
                        "muscle": kb.muscle_name(point.trigger_point_id),
                        "side": point.side,
                        "pressure_seconds": point.pressure_seconds,
                        "pain": point.pain,
                    }
                    for point in session.points
                ],
            }
            for session in sessions
        ],
    }
