"""The physician summary's content, and the CSV and FHIR exports."""

import csv
import io
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

from clinic import audit
from clinic.clock import clinic_zone, to_local
from clinic.db_types import utcnow
from clinic.figures import pain_figure
from clinic.kb import KnowledgeBase
from clinic.models import AuditAction, Client, PointTreatment, TreatmentSession
from clinic.outcomes import client_progress, muscle_counts
from clinic.periods import period_args

# --- physician summary ---------------------------------------------------------------------------


def complaint_regions(sessions: list[TreatmentSession]) -> list[str]:
    """Regions where the client reported pain, most often reported first."""
    counts = Counter(region for session in sessions for region in session.pain_regions)
    return [region for region, _ in counts.most_common()]


def summary_context(
    client: Client, sessions: list[TreatmentSession], kb: KnowledgeBase, date_from: date | None, date_to: date | None
) -> dict[str, Any]:
    muscles = muscle_counts(sessions, kb)
    state = client_progress(client, sessions)
    therapists = list(dict.fromkeys(session.therapist.name for session in sessions)) or [client.therapist.name]
    latest_plan = next((s.plan for s in reversed(sessions) if s.plan), "")
    return {
        "client": client,
        "sessions": sessions,
        "period_start": date_from or (to_local(sessions[0].started_at).date() if sessions else None),
        "period_end": date_to or (to_local(sessions[-1].started_at).date() if sessions else None),
        "progress": state,
        "complaints": complaint_regions(sessions),
        "muscles": muscles,
        "responses": {
            "points": sum(m["points"] for m in muscles),
            "counts": sum((m["responses"] for m in muscles), Counter()),
            "outside_hold": sum(m["outside_hold"] for m in muscles),
        },
        "response_labels": PointTreatment.RESPONSES,
        "latest_plan": latest_plan,
        "therapists": therapists,
        "figures": {"pain": _summary_chart(pain_figure(sessions, state))} if sessions else {},
    }


SUMMARY_CHART_HEIGHT = 280  # px: the printed chart's whole height, legend included (summary.css leaves it be)


def _summary_chart(figure: dict) -> dict:
    figure["layout"]["height"] = SUMMARY_CHART_HEIGHT
    return figure


def record_summary_view(client: Client, date_from: date | None, date_to: date | None, printed: bool = False) -> None:
    audit.record(
        AuditAction.EXPORT if printed else AuditAction.VIEW,
        client=client,
        entity_type="summary",
        entity_id=client.id,
        details={"period": period_args(date_from, date_to), "printed": printed},
    )


# --- CSV -------------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "session_id",
    "date",
    "length_minutes",
    "pain_before",
    "pain_after",
    "pain_regions",
    "overload_cause",
    "therapist",
    "trigger_point",
    "muscle",
    "side",
    "pressure_seconds",
    "compression_pain",
    "release_felt",
    "local_twitch",
    "referral_reproduced",
    "point_note",
    "subjective",
    "objective",
    "assessment",
    "plan",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A spreadsheet runs a cell starting with = + - @ as a formula: make such text plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def sessions_csv(sessions: list[TreatmentSession], kb: KnowledgeBase) -> str:
    """One row per treated point (a session without points still gets one row). UTF-8 with a BOM, so
    spreadsheet programs read accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for session in sessions:
        shared = {
            "session_id": session.id,
            "date": session.started_at.astimezone(clinic_zone()).isoformat(timespec="minutes"),
            "length_minutes": session.length_minutes,
            "pain_before": session.pain_before,
            "pain_after": session.pain_after,
            "pain_regions": "; ".join(kb.region_names.get(r, r) for r in session.pain_regions),
            "overload_cause": session.overload_cause,
            "therapist": session.therapist.name,
            "subjective": session.subjective,
            "objective": session.objective,
            "assessment": session.assessment,
            "plan": session.plan,
        }
        for point in session.points or [None]:
            row = dict(shared)
            if point is not None:
                muscle = kb.muscle_of(point.trigger_point_id)
                row.update(
                    {
                        "trigger_point": point.trigger_point_id,
                        "muscle": muscle.name if muscle else "",
                        "side": point.side,
                        "pressure_seconds": point.pressure_seconds,
                        "compression_pain": point.pain,
                        **{field: "yes" if getattr(point, field) else "no" for field, _ in point.RESPONSES},
                        "point_note": point.note,
                    }
                )
            writer.writerow([neutralise(row.get(column, "")) for column in CSV_COLUMNS])
    return "\ufeff" + buffer.getvalue()


# --- FHIR R4 ---------------------------------------------------------------------------------------

PAIN_SEVERITY = {
    "system": "http://loinc.org",
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
REGION_SYSTEM = "https://knotwork.example/fhir/CodeSystem/body-region"
TRIGGER_POINT_SYSTEM = "https://knotwork.example/fhir/CodeSystem/trigger-point"


def _urn(kind: str, key: Any) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'knotwork/{kind}/{key}')}"


def fhir_bundle(client: Client, sessions: list[TreatmentSession], kb: KnowledgeBase) -> dict[str, Any]:
    """A FHIR R4 collection Bundle: the Patient, an Encounter per session, pain Observations (LOINC 72514-3)
    before and after with the reported body sites, and a Procedure per treated trigger point."""
    patient_ref = _urn("patient", client.id)
    given, _, family = client.full_name.rpartition(" ")
    entries = [
        {
            "fullUrl": patient_ref,
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "https://knotwork.example/fhir/client-id", "value": str(client.id)}],
                "name": [
                    {
                        "text": client.full_name,
                        "family": family or client.full_name,
                        **({"given": given.split()} if given else {}),
                    }
                ],
                "birthDate": client.date_of_birth.isoformat(),
                **(
                    {
                        "telecom": [
                            t
                            for t in (
                                {"system": "phone", "value": client.phone} if client.phone else None,
                                {"system": "email", "value": client.email} if client.email else None,
                            )
                            if t
                        ]
                    }
                    if client.phone or client.email
                    else {}
                ),
            },
        }
    ]
    for session in sessions:
        encounter_ref = _urn("encounter", session.id)
        start = session.started_at
        end = start + timedelta(minutes=session.length_minutes)
        entries.append(
            {
                "fullUrl": encounter_ref,
                "resource": {
                    "resourceType": "Encounter",
                    "status": "finished",
                    "class": {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "AMB",
                        "display": "ambulatory",
                    },
                    "type": [{"text": "Manual therapy: myofascial trigger point treatment"}],
                    "subject": {"reference": patient_ref},
                    "period": {"start": start.isoformat(), "end": end.isoformat()},
                },
            }
        )
        body_site = {
            "coding": [
                {"system": REGION_SYSTEM, "code": region, "display": kb.region_names.get(region, region)}
                for region in session.pain_regions
            ],
            "text": ", ".join(kb.region_names.get(region, region) for region in session.pain_regions) or "Not recorded",
        }
        for when, moment, value in (("before", start, session.pain_before), ("after", end, session.pain_after)):
            entries.append(
                {
                    "fullUrl": _urn(f"pain-{when}", session.id),
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "category": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                        "code": "survey",
                                        "display": "Survey",
                                    }
                                ]
                            }
                        ],
                        "code": {"coding": [PAIN_SEVERITY], "text": f"Pain severity {when} treatment"},
                        "subject": {"reference": patient_ref},
                        "encounter": {"reference": encounter_ref},
                        "effectiveDateTime": moment.isoformat(),
                        "valueInteger": value,
                        "bodySite": body_site,
                    },
                }
            )
        for point in session.points:
            found = kb.point(point.trigger_point_id)
            label = found.name if found else point.trigger_point_id
            responses = point.responses
            entries.append(
                {
                    "fullUrl": _urn("procedure", point.id),
                    "resource": {
                        "resourceType": "Procedure",
                        "status": "completed",
                        "code": {"text": "Ischemic compression of a myofascial trigger point"},
                        "subject": {"reference": patient_ref},
                        "encounter": {"reference": encounter_ref},
                        "performedDateTime": start.isoformat(),
                        "bodySite": [
                            {
                                "coding": [
                                    {"system": TRIGGER_POINT_SYSTEM, "code": point.trigger_point_id, "display": label}
                                ],
                                "text": f"{label} ({point.side})",
                            }
                        ],
                        "note": [
                            {
                                "text": f"Pressure held {point.pressure_seconds} s; pain during compression {point.pain}/10"
                                + (f"; {', '.join(responses)}" if responses else "")
                                + (f". {point.note}" if point.note else "")
                            }
                        ],
                    },
                }
            )
    return {"resourceType": "Bundle", "type": "collection", "timestamp": utcnow().isoformat(), "entry": entries}


def record_export(client: Client, export_format: str, sessions: int, period: dict[str, str]) -> None:
    audit.record(
        AuditAction.EXPORT,
        client=client,
        entity_type="export",
        entity_id=client.id,
        details={"format": export_format, "sessions": sessions, "period": period},
    )
