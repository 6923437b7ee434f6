"""The client's intake form, the therapist's link form and the review of the changes a client reported."""

from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import FormField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import FieldList
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.forms import KnotworkForm, KnotworkSubForm, as_choices
from clinic.models import Side
from clinic.precautions import PRECAUTIONS
from clinic.rules import INTAKE_TEXT_MAX, PAIN_RANGE, PSFS_ACTIVITIES

SCALE_MESSAGE = f"Choose a number from {PAIN_RANGE[0]} to {PAIN_RANGE[1]}."
SIDES = tuple(side.value for side in Side)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _scale(label: str, required: bool = True, description: str = "") -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(SCALE_MESSAGE) if required else Optional(),
            NumberRange(*PAIN_RANGE, message=SCALE_MESSAGE),
        ],
        description=description,
    )


class PsfsItemForm(KnotworkSubForm):
    """One activity of the Patient-Specific Functional Scale (free to use: Stratford et al. 1995)."""

    activity = StringField("Activity", validators=[Optional(), Length(max=120)], filters=[_strip])
    score = IntegerField("How well can you do it now?")

    def validate_score(self, field) -> None:
        sent = field.raw_data[0].strip() if field.raw_data else ""
        if sent and (field.data is None or not PAIN_RANGE[0] <= field.data <= PAIN_RANGE[1]):
            raise ValidationError(SCALE_MESSAGE)
        if self.activity.data and not sent:
            raise ValidationError("Choose how well you can do this activity now.")
        if sent and not self.activity.data:
            raise ValidationError("Name the activity this score is for.")


class IntakeForm(KnotworkForm):
    """DESIGN 11's field names. The regions (`regions`, `side-<id>`, `intensity-<id>`) are read by
    `validate_regions_of`, since their names follow the region ids."""

    pain_now = _scale("Pain right now")
    pain_usual = _scale("Usual pain")
    pain_worst = _scale("Worst pain in the last week")
    psfs = FieldList(FormField(PsfsItemForm), min_entries=PSFS_ACTIVITIES, max_entries=PSFS_ACTIVITIES)
    stress = _scale("Stress", required=False, description="0 = calm, 10 = the most stressed you have been.")
    health_changes = TextAreaField(
        "Changes to your health since your last visit",
        validators=[Optional(), Length(max=INTAKE_TEXT_MAX)],
        filters=[_strip],
        description="New conditions, injuries, operations, a pregnancy. Leave empty if nothing changed.",
    )
    medications = TextAreaField(
        "Changes to your medications",
        validators=[Optional(), Length(max=INTAKE_TEXT_MAX)],
        filters=[_strip],
        description="Started, stopped or changed. Mention blood thinners and pain medication.",
    )
    precautions = SelectMultipleField(
        "New since your last visit",
        choices=as_choices(PRECAUTIONS.items()),
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    consent_name = StringField(
        "Type your full name to consent",
        validators=[InputRequired("Type your full name to give consent."), Length(min=2, max=120)],
        filters=[_strip],
    )

    def __init__(self, *args, region_ids: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.region_ids = region_ids
        self.region_values: dict[str, dict[str, Any]] = {}
        self.region_errors: dict[str, str] = {}
        self.regions_error = ""

    def read_regions(self, formdata: MultiDict) -> None:
        """Keep what was sent for each region, so a page shown again with errors shows it as typed."""
        chosen = formdata.getlist("regions")
        self.region_values = {
            region: {
                "checked": region in chosen,
                "side": formdata.get(f"side-{region}", ""),
                "intensity": formdata.get(f"intensity-{region}", "").strip(),
            }
            for region in self.region_ids
        }
        unknown = [region for region in chosen if region not in self.region_values]
        self.regions_error = "Some of the areas sent are not on the body chart; choose them again." if unknown else ""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self.region_errors = {}
        for region, value in self.region_values.items():
            if not value["checked"]:
                continue
            problems = []
            if value["side"] not in SIDES:
                problems.append("Choose left, right or both.")
            intensity = value["intensity"]
            if not (intensity.isdigit() and PAIN_RANGE[0] <= int(intensity) <= PAIN_RANGE[1]):
                problems.append(f"Choose how much it hurts there, {PAIN_RANGE[0]} to {PAIN_RANGE[1]}.")
            if problems:
                self.region_errors[region] = " ".join(problems)
        return valid and not self.region_errors and not self.regions_error

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.region_errors or self.regions_error)

    def regions_data(self) -> list[dict[str, Any]]:
        """The chosen regions as stored, in the order of the region list."""
        return [
            {"region": region, "side": value["side"], "intensity": int(value["intensity"])}
            for region, value in self.region_values.items()
            if value["checked"]
        ]

    def psfs_data(self) -> list[dict[str, Any]]:
        return [
            {"activity": item.activity.data, "score": item.score.data}
            for item in self.psfs
            if item.activity.data and item.score.data is not None
        ]


class IntakeLinkForm(KnotworkForm):
    """Making a link. With SMTP configured the link can also go to the client by email."""

    email = StringField(
        "Also send it by email to",
        validators=[Optional(), Email("Enter an email address like name@example.com."), Length(max=254)],
        filters=[_strip],
        description="Leave empty to copy the link or show the QR code instead.",
    )


class ReviewForm(KnotworkForm):
    """Which of the changes the client reported go into the client record: nothing is applied unless ticked."""

    accept = SelectMultipleField(
        "Accept into the client record",
        choices=[],
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
