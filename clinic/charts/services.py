"""A client's pain history as JSON: the contract of DESIGN section 7."""

from typing import Any

from clinic.clock import clinic_zone
from clinic.intakes import intake_history
from clinic.kb import KnowledgeBase
from clinic.models import Client, Intake, TreatmentSession


def pain_history(
    client: Client, sessions: list[TreatmentSession], kb: KnowledgeBase, intakes: list[Intake] = ()
) -> dict[str, Any]:
    """DESIGN 7, with the client's intakes of DESIGN 11 (oldest first) beside the sessions."""
    zone = clinic_zone()
    return {
        "client_id": client.id,
        "sessions": [
            {
                "id": session.id,
                "date": session.started_at.astimezone(zone).isoformat(),
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
        "intakes": intake_history(list(intakes)),
    }
