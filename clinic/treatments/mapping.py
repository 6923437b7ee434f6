"""Between the session form and the stored session: what a validated form says, ready to store, and a
stored session put back into a form (to edit it, or to repeat its points)."""

from typing import Any

from clinic.clock import to_local, to_utc
from clinic.kb import sides
from clinic.models import TreatmentSession
from clinic.treatments.forms import SessionForm

# A point row's own fields, besides which trigger point it is.
POINT_FIELDS = ("side", "pressure_seconds", "pain", "release_felt", "local_twitch", "referral_reproduced", "note")


def form_values(form: SessionForm) -> dict[str, Any]:
    """What the validated form says, ready to store: UTC time, and only the rows that were filled in."""
    values = {field: form[field].data for field in TreatmentSession.EDITABLE_FIELDS}
    values["started_at"] = to_utc(form.started_at.data)
    values["pain_regions"] = sides.merged(form.pain_regions.data)
    for text in ("subjective", "objective", "assessment", "plan"):
        values[text] = values[text] or ""
    values["points"] = [
        {"trigger_point_id": point.trigger_point.data, **{name: point[name].data for name in POINT_FIELDS}}
        for point in form.filled_points()
    ]
    for point in values["points"]:
        point["note"] = point["note"] or ""
    return values


def fill_form(form: SessionForm, session: TreatmentSession) -> None:
    for field in TreatmentSession.EDITABLE_FIELDS:
        form[field].data = getattr(session, field)
    form.started_at.data = to_local(session.started_at)
    form.version.data = str(session.version)
    form.submission_token.data = session.submission_token
    for point in session.points:
        form.add_point({"trigger_point": point.trigger_point_id, **{f: getattr(point, f) for f in POINT_FIELDS}})


def repeat_points(form: SessionForm, previous: TreatmentSession) -> None:
    """Most follow-ups treat the same points: copy where and how long, not this visit's responses or pain."""
    for point in previous.points:
        form.add_point(
            {"trigger_point": point.trigger_point_id, "side": point.side, "pressure_seconds": point.pressure_seconds}
        )
