"""The physician summary's content, and the CSV and FHIR exports."""

import csv
import hashlib
import html
import io
import itertools
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
from clinic.clock import clinic_zone, to_local
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.figures import MANY_SESSIONS, monthly_pain_figure, pain_figure
from clinic.history import ExportSession, summary_complaints, therapists_of
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
    # Without a period the sessions are the whole record: its first visit and first meaningful improvement are
    # among them (no queries for them).
    state = client_progress(client, sessions, whole_record=date_from is None and date_to is None)
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
# A row is the session's columns, the point's (blank for a session without points), then the session's notes.
SESSION_COLUMNS = [
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
]
POINT_COLUMNS = [
    "trigger_point",
    "muscle",
    "side",
    "pressure_seconds",
    "compression_pain",
    *(field for field, _ in PointTreatment.RESPONSES),
    "point_note",
]
NOTE_COLUMNS = ["subjective", "objective", "assessment", "plan"]
CSV_COLUMNS = [*SESSION_COLUMNS, *POINT_COLUMNS, *NOTE_COLUMNS]

STREAM_CHUNK = 256 * 1024  # characters an export gathers before handing them to the server in one write


def sessions_csv(client: Client, batches: Iterable[list[ExportSession]], kb: KnowledgeBase) -> Iterator[bytes]:
    """One row per treated point (a session without points still gets one row), each naming the client and
    their date of birth. Dates are YYYY-MM-DD and times HH:MM on the clinic's clock, in separate columns, which
    spreadsheet programs read as dates and times. UTF-8 with a BOM, so they read accents correctly. Text a
    spreadsheet would run as a formula is neutralised. Streamed (history.export_batches) in chunks."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    cells = _CsvCells()
    buffer.write(cells(CSV_COLUMNS) + "\r\n")
    client_cells = [neutralise(client.full_name), client.date_of_birth.isoformat()]
    zone = clinic_zone()
    points_of: dict[tuple[str, str], str] = {}  # (trigger point, side) -> its id, muscle name and side, as CSV
    no_point = cells([""] * len(POINT_COLUMNS))
    for batch in batches:
        for session in batch:
            local = to_local(session.started_at, zone)
            head = cells(
                [
                    *client_cells,
                    session.id,
                    local.date().isoformat(),
                    local.time().isoformat("minutes"),  # HH:MM, as strftime("%H:%M") at a fraction of its cost
                    session.length_minutes,
                    session.pain_before,
                    session.pain_after,
                    *(_blank_if_none(getattr(session, column)) for column in VITAL_COLUMNS),
                    neutralise("; ".join(sides.labels(session.pain_regions, kb.region_names))),
                    neutralise(session.overload_cause),
                    neutralise(session.therapist_name),
                ]
            )
            notes = cells(
                [neutralise(session.subjective), neutralise(session.objective)]
                + [neutralise(session.assessment), neutralise(session.plan)]
            )
            if not session.points:
                buffer.write(f"{head},{no_point},{notes}\r\n")
            for point in session.points:
                named = points_of.get((point.trigger_point_id, point.side))
                if named is None:
                    muscle = kb.muscle_of(point.trigger_point_id)
                    named = points_of[point.trigger_point_id, point.side] = cells(
                        [
                            neutralise(point.trigger_point_id),
                            neutralise(muscle.name) if muscle else "",
                            neutralise(point.side),
                        ]
                    )
                own = cells(
                    [
                        point.pressure_seconds,
                        point.pain,
                        "yes" if point.release_felt else "no",
                        "yes" if point.local_twitch else "no",
                        "yes" if point.referral_reproduced else "no",
                        neutralise(point.note),
                    ]
                )
                buffer.write(f"{head},{named},{own},{notes}\r\n")
            if buffer.tell() >= STREAM_CHUNK:
                yield _drain(buffer)
    yield _drain(buffer)


class _CsvCells:
    """Cells as the csv module writes them in a row, without the line end. A row of the export is its session's
    cells, the point's and the session's notes, each written once and joined with commas: the csv module quotes
    each cell on its own merits, so the joined text is what writing the whole row at once writes (and a
    session's cells and long notes are not written again for each of its points)."""

    def __init__(self) -> None:
        self._line = io.StringIO()
        self._writer = csv.writer(self._line, lineterminator="\r\n")  # "\r\n" in a cell is quoted as in a file

    def __call__(self, values: list[Any]) -> str:
        self._writer.writerow(values)
        text = self._line.getvalue()
        self._line.seek(0)
        self._line.truncate()
        return text[:-2]


def _blank_if_none(value: Any) -> Any:
    return "" if value is None else value


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode()


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
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}  # RFC 4122: 10xx in the top bits


def _urn_json(kind: str, key: Any) -> str:
    """The urn:uuid: of uuid5(NAMESPACE_URL, "knotwork/<kind>/<key>") as a JSON string (hex digits, dashes and
    colons need no escaping), computed directly (uuid.UUID objects cost more than the hash, and an export makes
    one per resource): the SHA-1's first 32 hex digits with the version digit set to 5 and the variant bits to
    10."""
    digest = hashlib.sha1(_URL_NAMESPACE + f"knotwork/{kind}/{key}".encode()).hexdigest()
    return (
        f'"urn:uuid:{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-{_VARIANT[digest[16]]}{digest[17:20]}-{digest[20:32]}"'
    )


def _urn(kind: str, key: Any) -> str:
    return _urn_json(kind, key)[1:-1]


def _human_name(full_name: str) -> dict[str, Any]:
    given, _, family = full_name.rpartition(" ")
    return {"text": full_name, "family": family or full_name, **({"given": given.split()} if given else {})}


def _telecom(phone: str, email: str) -> dict[str, Any]:
    telecom = [{"system": kind, "value": value} for kind, value in (("phone", phone), ("email", email)) if value]
    return {"telecom": telecom} if telecom else {}


def _narrative_div(text: str) -> str:
    lines = "<br/>".join(html.escape(text).splitlines())  # escaping adds and removes no line breaks
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{lines}</div>'


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
    client: Client, therapists: list[User], batches: Iterable[list[ExportSession]], kb: KnowledgeBase
) -> Iterator[bytes]:
    """A FHIR R4B collection Bundle (see FHIR_VERSION) as compact JSON, streamed (history.export_batches) in
    chunks: the Patient; a Practitioner per treating therapist (`therapists`, in the order of their first
    session); per session an Encounter, pain Observations before and after (LOINC 72514-3) with the reported
    body sites, stress and vital-sign Observations where recorded (heart rate 8867-4; blood pressure panel
    85354-9 with systolic 8480-6 and diastolic 8462-4), a Composition holding the SOAP notes, and a Procedure
    per treated trigger point with its laterality coded in SNOMED CT. The therapist is the performer
    throughout."""
    return _chunks(_bundle_text(client, therapists, batches, kb))


def _bundle_text(
    client: Client, therapists: list[User], batches: Iterable[list[ExportSession]], kb: KnowledgeBase
) -> Iterator[str]:
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
    practitioners: dict[int, str] = {}  # therapist id -> the reference to their Practitioner, as JSON text

    def practitioner_entry(user: User) -> str:
        reference = _urn("practitioner", user.id)
        practitioners[user.id] = f'"{reference}"'
        return "," + _compact({"fullUrl": reference, "resource": _practitioner(user)})

    for user in therapists:
        yield practitioner_entry(user)
    sessions = _SessionEntries(f'"{patient_ref}"', kb)
    for batch in batches:
        for session in batch:
            if session.therapist_id not in practitioners:  # a session saved after the list was read
                yield practitioner_entry(db.session.get(User, session.therapist_id))
            yield sessions.text(session, practitioners[session.therapist_id])
        sessions.body_sites.clear()  # the pain regions' combinations: kept a batch at a time
    yield "]}"


def _chunks(pieces: Iterable[str]) -> Iterator[bytes]:
    """`pieces` gathered into chunks of about STREAM_CHUNK characters, as UTF-8: the server writes each chunk to
    the socket, and a few large writes cost less than one per session."""
    gathered: list[str] = []
    size = 0
    for piece in pieces:
        gathered.append(piece)
        size += len(piece)
        if size >= STREAM_CHUNK:
            yield "".join(gathered).encode()
            gathered.clear()
            size = 0
    yield "".join(gathered).encode()


# Compact separators keep the C encoder (indent forces the slow pure-Python one) and the file small; one encoder
# made once (json.dumps with arguments makes a new one per call).
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_string = encode_basestring  # a str as a JSON string, as the compact encoder writes it (ensure_ascii=False)


def _hole(name: str) -> str:
    """A place in a _JsonTemplate's shape that each resource fills with a value of its own."""
    return f"\0{name}\0"


_HOLE = re.compile(r'"\\u0000(\w+)\\u0000"')  # a _hole() as the encoder writes it


class _JsonTemplate:
    """The compact JSON text of `shape`, exactly as _compact writes it, with a place left wherever `shape` holds a
    _hole(): fill() takes each place's value as JSON text, in the order the places come in the text, which
    `holes` names (checked here, when the module loads). An export writes thousands of resources that differ in
    a few values: filling in text costs a fraction of building a dict for each and encoding it."""

    def __init__(self, shape: Any, *holes: str) -> None:
        parts = _HOLE.split(_compact(shape))
        if tuple(parts[1::2]) != holes:
            raise ValueError(f"the holes come in the order {parts[1::2]}, not {list(holes)}")
        self._text = "%s".join(part.replace("%", "%%") for part in parts[0::2])

    def fill(self, *values: str) -> str:
        return self._text % values


_ENCOUNTER = _JsonTemplate(
    {
        "fullUrl": _hole("url"),
        "resource": {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB",
                "display": "ambulatory",
            },
            "type": [{"text": "Manual therapy: myofascial trigger point treatment"}],
            "subject": {"reference": _hole("patient")},
            "participant": [{"individual": {"reference": _hole("practitioner")}}],
            "period": {"start": _hole("start"), "end": _hole("end")},
        },
    },
    "url",
    "patient",
    "practitioner",
    "start",
    "end",
)


def _observation(code: dict, category: str, text: str, **value: Any) -> dict[str, Any]:
    return {
        "fullUrl": _hole("url"),
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": OBSERVATION_CATEGORY,
                            "code": category,
                            "display": category.replace("-", " ").title(),
                        }
                    ]
                }
            ],
            "code": {"coding": [code], "text": text},
            "subject": {"reference": _hole("patient")},
            "encounter": {"reference": _hole("encounter")},
            "performer": [{"reference": _hole("practitioner")}],
            "effectiveDateTime": _hole("moment"),
            **value,
        },
    }


def _quantity(value: Any, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


_OBSERVED = ("url", "patient", "encounter", "practitioner", "moment")  # the holes every Observation has
# Per "before" and "after" treatment: the Observations of pain, stress, heart rate and blood pressure.
_PAIN = {
    when: _JsonTemplate(
        _observation(
            PAIN_SEVERITY,
            "survey",
            f"Pain severity {when} treatment",
            valueInteger=_hole("value"),
            bodySite=_hole("site"),
        ),
        *_OBSERVED,
        "value",
        "site",
    )
    for when in ("before", "after")
}
_STRESS = {
    when: _JsonTemplate(
        _observation(STRESS, "survey", f"Perceived stress {when} treatment", valueInteger=_hole("value")),
        *_OBSERVED,
        "value",
    )
    for when in ("before", "after")
}
_HEART_RATE = {
    when: _JsonTemplate(
        _observation(
            HEART_RATE,
            "vital-signs",
            f"Heart rate {when} treatment",
            valueQuantity=_quantity(_hole("value"), "beats/minute", "/min"),
        ),
        *_OBSERVED,
        "value",
    )
    for when in ("before", "after")
}
_BLOOD_PRESSURE = {
    when: _JsonTemplate(
        _observation(BLOOD_PRESSURE, "vital-signs", f"Blood pressure {when} treatment", component=_hole("components")),
        *_OBSERVED,
        "components",
    )
    for when in ("before", "after")
}
_PRESSURE_COMPONENTS = [
    _JsonTemplate({"code": {"coding": [code]}, "valueQuantity": _quantity(_hole("value"), "mmHg", "mm[Hg]")}, "value")
    for code in (SYSTOLIC, DIASTOLIC)
]


_SECTIONS = [
    (
        field,
        _JsonTemplate(
            {"title": title, "code": {"coding": [code]}, "text": {"status": "generated", "div": _hole("div")}}, "div"
        ),
    )
    for field, title, code in SOAP_SECTIONS
]
_COMPOSITION = _JsonTemplate(
    {
        "fullUrl": _hole("url"),
        "resource": {
            "resourceType": "Composition",
            "status": "final",
            "type": {"coding": [PROGRESS_NOTE], "text": "SOAP notes"},
            "subject": {"reference": _hole("patient")},
            "encounter": {"reference": _hole("encounter")},
            "date": _hole("date"),
            "author": [{"reference": _hole("practitioner")}],
            "title": _hole("title"),
            "section": _hole("sections"),
        },
    },
    "url",
    "patient",
    "encounter",
    "date",
    "practitioner",
    "title",
    "sections",
)
_PROCEDURE = _JsonTemplate(
    {
        "fullUrl": _hole("url"),
        "resource": {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"text": "Ischemic compression of a myofascial trigger point"},
            "subject": {"reference": _hole("patient")},
            "encounter": {"reference": _hole("encounter")},
            "performedDateTime": _hole("performed"),
            "performer": [{"actor": {"reference": _hole("practitioner")}}],
            "bodySite": _hole("site"),
            "note": [{"text": _hole("note")}],
        },
    },
    "url",
    "patient",
    "encounter",
    "performed",
    "practitioner",
    "site",
    "note",
)


def _response_words(answers: tuple[bool, ...]) -> str:
    """ "; release felt, local twitch" and the like, for (release felt, local twitch, referral reproduced)."""
    words = [label for (_, label), yes in zip(PointTreatment.RESPONSES, answers, strict=True) if yes]
    return f"; {', '.join(words)}" if words else ""


_RESPONSE_WORDS = {
    answers: _response_words(answers)
    for answers in itertools.product((False, True), repeat=len(PointTreatment.RESPONSES))
}


class _SessionEntries:
    """A session's entries as JSON text, each preceded by a comma: its Encounter, Observations, Composition and
    Procedures. The parts that repeat (the patient, the body sites of a set of pain regions or of a trigger point
    on a side) are written once and kept."""

    def __init__(self, patient: str, kb: KnowledgeBase) -> None:
        self.patient = patient
        self.kb = kb
        self.zone = clinic_zone()
        self.body_sites: dict[tuple[str, ...], str] = {}  # pain regions -> the pain Observations' bodySite
        self.point_sites: dict[tuple[str, str], str] = {}  # (trigger point, side) -> a Procedure's bodySite

    def text(self, session: ExportSession, practitioner: str) -> str:
        key = session.id
        patient = self.patient
        encounter = _urn_json("encounter", key)
        start = session.started_at
        end = start + timedelta(minutes=session.length_minutes)
        start_text, end_text = f'"{start.isoformat()}"', f'"{end.isoformat()}"'
        entries = [_ENCOUNTER.fill(encounter, patient, practitioner, start_text, end_text)]
        body_site = self.body_site(session.pain_regions)
        for when, moment, pain, stress, heart_rate, systolic, diastolic in (
            (
                "before",
                start_text,
                session.pain_before,
                session.stress_before,
                session.heart_rate_before,
                session.systolic_before,
                session.diastolic_before,
            ),
            (
                "after",
                end_text,
                session.pain_after,
                session.stress_after,
                session.heart_rate_after,
                session.systolic_after,
                session.diastolic_after,
            ),
        ):
            observed = (patient, encounter, practitioner, moment)
            entries.append(_PAIN[when].fill(_urn_json(f"pain-{when}", key), *observed, str(pain), body_site))
            if stress is not None:
                entries.append(_STRESS[when].fill(_urn_json(f"stress-{when}", key), *observed, str(stress)))
            if heart_rate is not None:
                entries.append(_HEART_RATE[when].fill(_urn_json(f"heart-rate-{when}", key), *observed, str(heart_rate)))
            if systolic is not None or diastolic is not None:
                components = ",".join(
                    template.fill(str(value))
                    for template, value in zip(_PRESSURE_COMPONENTS, (systolic, diastolic), strict=True)
                    if value is not None
                )
                entries.append(
                    _BLOOD_PRESSURE[when].fill(_urn_json(f"blood-pressure-{when}", key), *observed, f"[{components}]")
                )
        sections = [
            template.fill(_string(_narrative_div(getattr(session, field))))
            for field, template in _SECTIONS
            if getattr(session, field).strip()
        ]
        if sections:
            entries.append(
                _COMPOSITION.fill(
                    _urn_json("notes", key),
                    patient,
                    encounter,
                    f'"{(session.updated_at or start).isoformat()}"',
                    practitioner,
                    _string(f"Manual therapy session notes, {to_local(start, self.zone).date().isoformat()}"),
                    f"[{','.join(sections)}]",
                )
            )
        for point in session.points:
            note = (
                f"Pressure held {point.pressure_seconds} s; pain during compression {point.pain}/10"
                + _RESPONSE_WORDS[point.release_felt, point.local_twitch, point.referral_reproduced]
                + (f". {point.note}" if point.note else "")
            )
            entries.append(
                _PROCEDURE.fill(
                    _urn_json("procedure", point.id),
                    patient,
                    encounter,
                    start_text,
                    practitioner,
                    self.point_site(point.trigger_point_id, point.side),
                    _string(note),
                )
            )
        return "," + ",".join(entries)

    def body_site(self, regions: list[str]) -> str:
        """The pain Observations' bodySite: the reported regions, coded, and how a person reads them."""
        key = tuple(regions)
        if key not in self.body_sites:
            names = self.kb.region_names
            self.body_sites[key] = _compact(
                {
                    "coding": [
                        {"system": REGION_SYSTEM, "code": region, "display": names.get(region, region)}
                        for region in sides.region_ids(regions)
                    ],
                    "text": ", ".join(sides.labels(regions, names)) or "Not recorded",
                }
            )
        return self.body_sites[key]

    def point_site(self, point_id: str, side: str) -> str:
        """A Procedure's bodySite: the side, coded in SNOMED CT, and the trigger point."""
        key = (point_id, side)
        if key not in self.point_sites:
            found = self.kb.point(point_id)
            label = found.name if found else point_id
            self.point_sites[key] = _compact(
                [
                    {
                        "extension": [
                            {
                                "url": LATERALITY_EXTENSION,
                                "valueCodeableConcept": {"coding": [LATERALITY[side]], "text": side},
                            }
                        ],
                        "coding": [{"system": TRIGGER_POINT_SYSTEM, "code": point_id, "display": label}],
                        "text": f"{label} ({side})",
                    }
                ]
            )
        return self.point_sites[key]


def record_export(client: Client, export_format: str, sessions: int, period: dict[str, str]) -> None:
    audit.record(
        AuditAction.EXPORT,
        client=client,
        entity_type="export",
        entity_id=client.id,
        details={"format": export_format, "sessions": sessions, "period": period},
    )
