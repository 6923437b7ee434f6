"""The physician summary's content, and the CSV and FHIR exports."""

import csv
import hashlib
import html
import io
import json
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any

from clinic import audit
from clinic.clock import to_local
from clinic.db_types import utcnow
from clinic.figures import MANY_SESSIONS, monthly_pain_figure, pain_figure
from clinic.history import summary_complaints, therapists_of
from clinic.intakes import (
    STATUS_ORDER,
    MuscleOutcome,
    Outcomes,
    PointStatus,
    PointTreatmentView,
    intakes_in_period,
    muscle_outcomes_of,
    pain_timeline,
    point_status,
    psfs_rows,
)
from clinic.kb import KnowledgeBase, sides
from clinic.models import AuditAction, Client, PointTreatment, TreatmentSession, User
from clinic.outcomes import MuscleTally, attendance, client_progress, note_changes
from clinic.periods import period_args
from clinic.profiles import clinic_settings
from clinic.rules import SUMMARY_FINDINGS, is_worsening, pressure_outside_advice
from clinic.views import neutralise

# --- physician summary ---------------------------------------------------------------------------


def complaint_regions(reported: list[tuple[list[str], int]]) -> list[str]:
    """Regions where the client reported pain, most often reported first, from history.summary_complaints()."""
    counts: Counter = Counter()
    for values, sessions in reported:
        for region in sides.region_ids(values):
            counts[region] += sessions
    return [region for region, _ in counts.most_common()]


def summary_context(
    client: Client,
    sessions: list,
    kb: KnowledgeBase,
    date_from: date | None,
    date_to: date | None,
    muscles: list[dict[str, Any]],
) -> dict[str, Any]:
    """`sessions` as history.summary_sessions() reads them; `muscles` as muscle_counts() gives them
    (point_aggregates() counts them from the summary's point tuples)."""
    state = client_progress(client, sessions)
    latest_plan = next((s.plan for s in reversed(sessions) if s.plan), "")
    monthly = len(sessions) > MANY_SESSIONS
    return {
        "client": client,
        "sessions": sessions,
        "period_start": covered_period(sessions, date_from, date_to)[0],
        "period_end": covered_period(sessions, date_from, date_to)[1],
        "progress": state,
        "complaints": complaint_regions(summary_complaints(client, date_from, date_to)),
        "muscles": muscles,
        "responses": {
            "points": sum(m["points"] for m in muscles),
            "counts": sum((m["responses"] for m in muscles), Counter()),
            "outside_hold": sum(m["outside_hold"] for m in muscles),
        },
        "response_labels": PointTreatment.RESPONSES,
        "latest_plan": latest_plan,
        "findings": {
            "objective": note_changes(sessions, "objective", SUMMARY_FINDINGS),
            "assessment": note_changes(sessions, "assessment", SUMMARY_FINDINGS),
        },
        "attendance": attendance(sessions),
        "worsening": is_worsening(state.baseline, state.latest),
        "clinic": clinic_settings(),
        "therapists": therapists_of(client, date_from, date_to) or [client.therapist],
        "monthly_chart": monthly,
        "figures": {"pain": _summary_chart((monthly_pain_figure if monthly else pain_figure)(sessions, state))}
        if sessions
        else {},
    }


# --- the summary's point counts -----------------------------------------------------------------------------
# What outcomes.muscle_counts, intakes.muscle_outcomes and intakes.point_statuses work out from every treated
# point, worked out in one pass over the points as plain tuples (a 1,000-session client has some 6,000), counting
# per trigger point and side and handing the muscles' tally a few sums at the end. Same results, same order;
# tests/test_reports.py compares the two. (Grouping in SQL was tried: on SQLite a grouped pass over 6,000 points
# costs as much as reading them, and the statuses' "last three treatments" needs a window query that costs more.)


def point_aggregates(
    sessions: list, points: list[tuple], kb: KnowledgeBase
) -> tuple[list[dict[str, Any]], list[MuscleOutcome], list[PointStatus]]:
    """(outcomes.muscle_counts, intakes.muscle_outcomes, intakes.point_statuses) of `sessions` in one pass over
    their points as history.summary_points() reads them (tuples in the order of the record, responses as 0 or
    1): the same results in the same order as those three passes over point objects, at a fraction of the cost."""
    started = {session.id: session.started_at for session in sessions}
    # Per trigger point and side: [its muscle's name, points, sessions, release, twitch, referral, holds outside
    # the advice, its treatments as (start, pain, referral)].
    tallies: dict[tuple[str, str], list] = {}
    # Per muscle name, each session it was treated in: [start, its points' highest pain, a referral reproduced].
    visits: dict[str, list[list]] = {}
    this_session: dict[str, list] = {}  # the current session's entries of `visits`, by muscle name
    current = at = None
    outside_advice = pressure_outside_advice  # a local name: looked up once, not per point
    for session_id, point_id, side, pain, seconds, release, twitch, referral in points:
        if session_id != current:
            current, at, this_session = session_id, started[session_id], {}
        tally = tallies.get((point_id, side))
        if tally is None:
            tally = tallies[(point_id, side)] = [kb.muscle_name(point_id), 0, set(), 0, 0, 0, 0, []]
        referred = referral == 1
        tally[1] += 1
        tally[2].add(session_id)
        tally[3] += release
        tally[4] += twitch
        tally[5] += referred
        tally[6] += outside_advice(seconds)
        tally[7].append((at, pain, referred))
        visit = this_session.get(tally[0])
        if visit is None:
            this_session[tally[0]] = visit = [at, pain, referred]
            visits.setdefault(tally[0], []).append(visit)
        else:
            if pain > visit[1]:
                visit[1] = pain
            if referred:
                visit[2] = True
    muscles = MuscleTally(kb)
    statuses = []
    labels = [label for _, label in PointTreatment.RESPONSES]
    for (point_id, side), (_, count, in_sessions, *responses, outside, treated) in tallies.items():
        muscles.add_counts(point_id, side, count, in_sessions, dict(zip(labels, responses, strict=True)), outside)
        known = kb.point(point_id)
        name = f"{known.muscle.name} {known.point.number}" if known else point_id
        views = list(map(PointTreatmentView._make, treated))
        statuses.append(PointStatus(point_id, side, name, point_status(views), views))
    statuses.sort(key=lambda e: (STATUS_ORDER[e.status], e.name, e.side))
    return muscles.ranked(), muscle_outcomes_of(visits), statuses


def summary_outcomes(
    client: Client,
    sessions: list[TreatmentSession],
    muscles: list[MuscleOutcome],
    points: list[PointStatus],
    date_from: date | None,
    date_to: date | None,
) -> Outcomes:
    """intakes.outcomes() with the muscle outcomes and point statuses of point_aggregates()."""
    intakes = intakes_in_period(client, date_from, date_to)
    return Outcomes(intakes, psfs_rows(intakes), pain_timeline(intakes, sessions), muscles, points)


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

VITAL_COLUMNS = [
    "stress_before",
    "stress_after",
    "heart_rate_before",
    "heart_rate_after",
    "systolic_before",
    "diastolic_before",
    "systolic_after",
    "diastolic_after",
]
CSV_COLUMNS = [
    "client_name",
    "client_date_of_birth",
    "session_id",
    "date",
    "time",
    "length_minutes",
    "pain_before",
    "pain_after",
    *VITAL_COLUMNS,
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


def sessions_csv(client: Client, sessions: Iterable[TreatmentSession], kb: KnowledgeBase) -> Iterator[str]:
    """One row per treated point (a session without points still gets one row), each naming the client and
    their date of birth. Dates are YYYY-MM-DD and times HH:MM on the clinic's clock, in separate columns, which
    spreadsheet programs read as dates and times. UTF-8 with a BOM, so they read accents correctly. Yielded a
    session at a time (the header with the BOM first), so a long record streams."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for session in sessions:
        _write_session_rows(writer, client, session, kb)
        yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _write_session_rows(writer, client: Client, session: TreatmentSession, kb: KnowledgeBase) -> None:
    local = to_local(session.started_at)
    shared = {
        "client_name": client.full_name,
        "client_date_of_birth": client.date_of_birth.isoformat(),
        "session_id": session.id,
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "length_minutes": session.length_minutes,
        "pain_before": session.pain_before,
        "pain_after": session.pain_after,
        **{column: _blank_if_none(getattr(session, column)) for column in VITAL_COLUMNS},
        "pain_regions": "; ".join(sides.labels(session.pain_regions, kb.region_names)),
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


def _blank_if_none(value: Any) -> Any:
    return "" if value is None else value


def export_filename(client: Client, start: date | None, end: date | None, kind: str) -> str:
    """e.g. `ana-lopez_2026-03-01_to_2026-04-30_sessions.csv`: the client and the dates the file covers."""
    name = slugify(client.full_name) or f"client-{client.id}"
    span = f"{start.isoformat()}_to_{end.isoformat()}" if start and end else "no-sessions"
    return f"{name}_{span}_{kind}"


def slugify(text: str) -> str:
    """ASCII letters and digits joined by hyphens (accents dropped to their base letter)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def covered_period(sessions: list[TreatmentSession], date_from: date | None, date_to: date | None):
    """The dates an export or summary covers: the period asked for, its open ends closed by the sessions."""
    first = sessions[0].started_at if sessions else None
    last = sessions[-1].started_at if sessions else None
    return covered_span(first, last, date_from, date_to)


def covered_span(first: datetime | None, last: datetime | None, date_from: date | None, date_to: date | None):
    """covered_period() from the first and last session's start (history.span reads them in one query)."""
    start = date_from or (to_local(first).date() if first else None)
    end = date_to or (to_local(last).date() if last else None)
    return start, end


# --- FHIR R4B ---------------------------------------------------------------------------------------
# The bundle is FHIR R4B (4.3.0); every resource and element used here is the same in R4 (4.0.1), so R4
# systems read it too. tests/test_reports.py validates it with fhir.resources' R4B models.

FHIR_VERSION = "4.3.0"
FHIR_RELEASE = "R4B"
FHIR_MIMETYPE = "application/fhir+json; fhirVersion=4.3"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PAIN_SEVERITY = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
HEART_RATE = {"system": LOINC, "code": "8867-4", "display": "Heart rate"}
BLOOD_PRESSURE = {"system": LOINC, "code": "85354-9", "display": "Blood pressure panel with all children optional"}
SYSTOLIC = {"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}
DIASTOLIC = {"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}
# No LOINC code says "perceived stress, 0-10 numeric rating": the app's own code system names it.
OBSERVATION_SYSTEM = "https://knotwork.example/fhir/CodeSystem/observation"
STRESS = {"system": OBSERVATION_SYSTEM, "code": "perceived-stress", "display": "Perceived stress (0-10)"}
# The session's SOAP notes, a Composition per session: a progress note with one section per letter.
PROGRESS_NOTE = {"system": LOINC, "code": "11506-3", "display": "Progress note"}
SOAP_SECTIONS = (
    ("subjective", "Subjective", {"system": LOINC, "code": "61150-9", "display": "Subjective Narrative"}),
    ("objective", "Objective", {"system": LOINC, "code": "61149-1", "display": "Objective Narrative"}),
    ("assessment", "Assessment", {"system": LOINC, "code": "51848-0", "display": "Evaluation note"}),
    ("plan", "Plan", {"system": LOINC, "code": "18776-5", "display": "Plan of care note"}),
)
# Laterality of a treated point, coded with SNOMED CT qualifier values.
LATERALITY = {
    "left": {"system": SNOMED, "code": "7771000", "display": "Left"},
    "right": {"system": SNOMED, "code": "24028007", "display": "Right"},
    "both": {"system": SNOMED, "code": "51440002", "display": "Right and left"},
}
LATERALITY_EXTENSION = "https://knotwork.example/fhir/StructureDefinition/laterality"
REGION_SYSTEM = "https://knotwork.example/fhir/CodeSystem/body-region"
TRIGGER_POINT_SYSTEM = "https://knotwork.example/fhir/CodeSystem/trigger-point"
PRACTITIONER_SYSTEM = "https://knotwork.example/fhir/practitioner-id"


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def _urn(kind: str, key: Any) -> str:
    """urn:uuid: of uuid5(NAMESPACE_URL, "knotwork/<kind>/<key>"), computed directly (uuid.UUID objects cost
    more than the hash, and an export makes one per resource)."""
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + f"knotwork/{kind}/{key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"urn:uuid:{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _human_name(full_name: str) -> dict[str, Any]:
    given, _, family = full_name.rpartition(" ")
    return {"text": full_name, "family": family or full_name, **({"given": given.split()} if given else {})}


def _telecom(phone: str, email: str) -> dict[str, Any]:
    telecom = [{"system": kind, "value": value} for kind, value in (("phone", phone), ("email", email)) if value]
    return {"telecom": telecom} if telecom else {}


def _narrative(text: str) -> dict[str, str]:
    lines = "<br/>".join(html.escape(line) for line in text.splitlines())
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{lines}</div>'}


def _practitioner(user: User) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "identifier": [{"system": PRACTITIONER_SYSTEM, "value": str(user.id)}],
        "name": [_human_name(user.name)],
        **_telecom(user.phone, user.email),
    }
    if user.credentials or user.registration_number:
        registration = {"identifier": [{"value": user.registration_number}]} if user.registration_number else {}
        resource["qualification"] = [{"code": {"text": user.credentials or "Massage therapist"}, **registration}]
    return resource


def fhir_bundle(
    client: Client, therapists: list[User], sessions: Iterable[TreatmentSession], kb: KnowledgeBase
) -> Iterator[str]:
    """A FHIR R4B collection Bundle (see FHIR_VERSION) as compact JSON text, yielded a session at a time so a
    long record streams: the Patient; a Practitioner per treating therapist (`therapists`, in the order of
    their first session); per session an Encounter, pain Observations before and after (LOINC 72514-3) with
    the reported body sites, stress and vital-sign Observations where recorded (heart rate 8867-4; blood
    pressure panel 85354-9 with systolic 8480-6 and diastolic 8462-4), a Composition holding the SOAP notes,
    and a Procedure per treated trigger point with its laterality coded in SNOMED CT. The therapist is the
    performer throughout."""
    patient_ref = _urn("patient", client.id)
    head = {"resourceType": "Bundle", "type": "collection", "timestamp": utcnow().isoformat()}
    yield _compact(head)[:-1] + ',"entry":['
    yield _compact(
        {
            "fullUrl": patient_ref,
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "https://knotwork.example/fhir/client-id", "value": str(client.id)}],
                "name": [_human_name(client.full_name)],
                "birthDate": client.date_of_birth.isoformat(),
                **_telecom(client.phone, client.email),
            },
        }
    )
    practitioners: dict[int, str] = {}
    for user in therapists:
        practitioners[user.id] = _urn("practitioner", user.id)
        yield "," + _compact({"fullUrl": practitioners[user.id], "resource": _practitioner(user)})
    for session in sessions:
        if session.therapist_id not in practitioners:  # a session saved after the list was read
            practitioners[session.therapist_id] = _urn("practitioner", session.therapist_id)
            yield "," + _compact(
                {"fullUrl": practitioners[session.therapist_id], "resource": _practitioner(session.therapist)}
            )
        practitioner_ref = practitioners[session.therapist_id]
        entries = list(_session_entries(session, patient_ref, practitioner_ref, kb))
        # one encoder call per session: its entries, without the brackets; then its points, written as text
        yield "," + _compact(entries)[1:-1] + _procedures(session, patient_ref, practitioner_ref, kb)
    yield "]}"


# Compact separators keep the C encoder (indent forces the slow pure-Python one) and the file small; one encoder
# made once (json.dumps with arguments makes a new one per call).
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


# Constant parts of the resources, built once and shared (the encoder only reads them).
_CATEGORIES = {
    category: [
        {"coding": [{"system": OBSERVATION_CATEGORY, "code": category, "display": category.replace("-", " ").title()}]}
    ]
    for category in ("survey", "vital-signs")
}


def _observation(
    key: str, code: dict, category: str, refs: dict, moment: datetime, text: str, **value: Any
) -> dict[str, Any]:
    return {
        "fullUrl": _urn(key, refs["session"]),
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "category": _CATEGORIES[category],
            "code": {"coding": [code], "text": text},
            "subject": {"reference": refs["patient"]},
            "encounter": {"reference": refs["encounter"]},
            "performer": [{"reference": refs["practitioner"]}],
            "effectiveDateTime": moment.isoformat(),
            **value,
        },
    }


def _quantity(value: int, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _session_entries(session: TreatmentSession, patient_ref: str, practitioner_ref: str, kb: KnowledgeBase):
    encounter_ref = _urn("encounter", session.id)
    refs = {"session": session.id, "patient": patient_ref, "encounter": encounter_ref, "practitioner": practitioner_ref}
    start = session.started_at
    end = start + timedelta(minutes=session.length_minutes)
    yield {
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
            "participant": [{"individual": {"reference": practitioner_ref}}],
            "period": {"start": start.isoformat(), "end": end.isoformat()},
        },
    }
    body_site = {
        "coding": [
            {"system": REGION_SYSTEM, "code": region, "display": kb.region_names.get(region, region)}
            for region in sides.region_ids(session.pain_regions)
        ],
        "text": ", ".join(sides.labels(session.pain_regions, kb.region_names)) or "Not recorded",
    }
    for when, moment in (("before", start), ("after", end)):
        pain = getattr(session, f"pain_{when}")
        yield _observation(
            f"pain-{when}",
            PAIN_SEVERITY,
            "survey",
            refs,
            moment,
            f"Pain severity {when} treatment",
            valueInteger=pain,
            bodySite=body_site,
        )
        stress = getattr(session, f"stress_{when}")
        if stress is not None:
            yield _observation(
                f"stress-{when}",
                STRESS,
                "survey",
                refs,
                moment,
                f"Perceived stress {when} treatment",
                valueInteger=stress,
            )
        heart_rate = getattr(session, f"heart_rate_{when}")
        if heart_rate is not None:
            yield _observation(
                f"heart-rate-{when}",
                HEART_RATE,
                "vital-signs",
                refs,
                moment,
                f"Heart rate {when} treatment",
                valueQuantity=_quantity(heart_rate, "beats/minute", "/min"),
            )
        systolic, diastolic = getattr(session, f"systolic_{when}"), getattr(session, f"diastolic_{when}")
        if systolic is not None or diastolic is not None:
            components = [
                {"code": {"coding": [code]}, "valueQuantity": _quantity(value, "mmHg", "mm[Hg]")}
                for code, value in ((SYSTOLIC, systolic), (DIASTOLIC, diastolic))
                if value is not None
            ]
            yield _observation(
                f"blood-pressure-{when}",
                BLOOD_PRESSURE,
                "vital-signs",
                refs,
                moment,
                f"Blood pressure {when} treatment",
                component=components,
            )
    sections = [
        {"title": title, "code": {"coding": [code]}, "text": _narrative(getattr(session, field))}
        for field, title, code in SOAP_SECTIONS
        if getattr(session, field).strip()
    ]
    if sections:
        yield {
            "fullUrl": _urn("notes", session.id),
            "resource": {
                "resourceType": "Composition",
                "status": "final",
                "type": {"coding": [PROGRESS_NOTE], "text": "SOAP notes"},
                "subject": {"reference": patient_ref},
                "encounter": {"reference": encounter_ref},
                "date": (session.updated_at or start).isoformat(),
                "author": [{"reference": practitioner_ref}],
                "title": f"Manual therapy session notes, {to_local(start).date().isoformat()}",
                "section": sections,
            },
        }


def _procedures(session: TreatmentSession, patient_ref: str, practitioner_ref: str, kb: KnowledgeBase) -> str:
    """A Procedure per treated point, as the JSON text the encoder would write for
    {"fullUrl": ..., "resource": {"resourceType": "Procedure", ...}} (keys in this order), each entry preceded
    by a comma: the parts that are the same for every point of the session are encoded once, and each point's
    own values (its id's URN, trigger point, side, note) are encoded as strings. The largest part of an export
    (a session has several points), so it is built without a dict per point."""
    if not session.points:
        return ""
    head = (
        '","resource":{"resourceType":"Procedure","status":"completed",'
        '"code":{"text":"Ischemic compression of a myofascial trigger point"},'
        f'"subject":{{"reference":{_string(patient_ref)}}},'
        f'"encounter":{{"reference":{_string(_urn("encounter", session.id))}}},'
        f'"performedDateTime":{_string(session.started_at.isoformat())},'
        f'"performer":[{{"actor":{{"reference":{_string(practitioner_ref)}}}}}],'
        '"bodySite":[{"extension":[{"url":' + _string(LATERALITY_EXTENSION) + ',"valueCodeableConcept":{"coding":['
    )
    parts = []
    for point in session.points:
        found = kb.point(point.trigger_point_id)
        label = found.name if found else point.trigger_point_id
        responses = point.responses
        note = (
            f"Pressure held {point.pressure_seconds} s; pain during compression {point.pain}/10"
            + (f"; {', '.join(responses)}" if responses else "")
            + (f". {point.note}" if point.note else "")
        )
        side = _string(point.side)
        parts.append(
            ',{"fullUrl":"'
            + _urn("procedure", point.id)
            + head
            + _LATERALITY_JSON[point.side]
            + '],"text":'
            + side
            + '}}],"coding":[{"system":'
            + _TRIGGER_POINT_SYSTEM_JSON
            + ',"code":'
            + _string(point.trigger_point_id)
            + ',"display":'
            + _string(label)
            + '}],"text":'
            + _string(f"{label} ({point.side})")
            + '}],"note":[{"text":'
            + _string(note)
            + "}]}}"
        )
    return "".join(parts)


_string = encode_basestring  # a str as a JSON string, as the compact encoder writes it (ensure_ascii=False)
_LATERALITY_JSON = {side: _compact(coding) for side, coding in LATERALITY.items()}
_TRIGGER_POINT_SYSTEM_JSON = _string(TRIGGER_POINT_SYSTEM)


def record_export(client: Client, export_format: str, sessions: int, period: dict[str, str]) -> None:
    audit.record(
        AuditAction.EXPORT,
        client=client,
        entity_type="export",
        entity_id=client.id,
        details={"format": export_format, "sessions": sessions, "period": period},
    )
