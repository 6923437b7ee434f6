"""The session form: the session's own fields and one sub-form per treated point. Built by `session_form`,
inside a request or not."""

from datetime import date, datetime

from markupsafe import Markup
from wtforms import (
    BooleanField,
    Choice,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, Select

from clinic.forms import KnotworkForm, KnotworkSubForm, QuickSelect, as_choices
from clinic.kb import KnowledgeBase, sides
from clinic.models.treatment import OverloadCause, Side
from clinic.rules import (
    DIASTOLIC_RANGE,
    HEART_RATE_RANGE,
    LENGTH_RANGE,
    MAX_POINTS_PER_SESSION,
    PAIN_RANGE,
    PRESSURE_RANGE,
    SYSTOLIC_RANGE,
)

PAIN_SCALE = f"{PAIN_RANGE[0]}-{PAIN_RANGE[1]}"
_strip = [lambda value: value.strip() if isinstance(value, str) else value]


def _range(low: int, high: int, unit: str = "") -> NumberRange:
    return NumberRange(low, high, message=f"Enter a whole number from {low} to {high}{unit}.")


def _optional_range(label: str, bounds: tuple[int, int], unit: str = "") -> IntegerField:
    return IntegerField(label, validators=[Optional(), _range(*bounds, unit)])


class ChosenOnlySelect(QuickSelect):
    """A row's trigger-point select. A row with a chosen point (a repeated, edited or re-shown session) holds
    only the empty choice and its point: the form's kit carries the whole list once (`point_options`, a
    <template>) and the script copies it in, instead of every row repeating ~160 options. An empty row keeps the whole
    list, so the form still works without JavaScript; the script's row template (`compact`) does not. The
    field's name, value and validation are those of any select."""

    def __call__(self, field, **kwargs):
        if not (field.data or getattr(field, "compact", False)):
            return self._whole_list(field, **kwargs)
        kwargs["data-point-options"] = ""
        options = [  # the two options picked from the declared ones, not all ~160 normalized to find them
            self.render_option(
                Choice(choice.value, choice.label, field.coerce(choice.value) == field.data, choice.render_kw)
            )
            for choice in field.choices
            if not choice.value or choice.value == field.data
        ]
        return self.select_tag(field, "".join(options), **kwargs)

    def _whole_list(self, field, **kwargs) -> Markup:
        """An empty row's select: the options (the same for every empty row: nothing chosen) are rendered once
        per list and kept; the select's own attributes are the field's."""
        key = (id(field.choices), field.data)
        kept = _whole_lists.get(key)
        if kept is not None and kept[0] is field.choices:
            options = kept[1]
        else:
            options = self.options(field)
            if len(_whole_lists) >= 8:
                _whole_lists.clear()
            _whole_lists[key] = (field.choices, options)  # the list kept with its id, which stays its own
        return self.select_tag(field, options, **kwargs)


# (id of a choices list, data) -> (that list, an empty row's options); the lists are the knowledge base's, kept
_whole_lists: dict[tuple, tuple[list, str]] = {}


def point_options(choices) -> Markup:
    """The whole list of trigger points (grouped by muscle) as one select, for the page's <template>."""
    field = SelectField(choices=choices, validate_choice=False).bind(Form(), "point_options")
    field.process(None)
    return Select()(field, id="point-options-list")


class PointForm(KnotworkSubForm):
    """One treated trigger point. A row left entirely empty is ignored, not an error."""

    trigger_point = SelectField("Trigger point", validate_choice=False, widget=ChosenOnlySelect())
    side = RadioField(
        "Side",
        choices=as_choices((side.value, side.value.capitalize()) for side in Side),
        validate_choice=False,
    )
    pressure_seconds = IntegerField("Pressure held (s)", validators=[Optional(), _range(*PRESSURE_RANGE, " seconds")])
    pain = IntegerField(f"Pain during compression ({PAIN_SCALE})", validators=[Optional(), _range(*PAIN_RANGE)])
    release_felt = BooleanField("Release felt")
    local_twitch = BooleanField("Local twitch")
    referral_reproduced = BooleanField("Referral reproduced")
    note = StringField("Note", validators=[Optional(), Length(max=500)], filters=_strip)

    def is_blank(self) -> bool:
        typed = [self.pressure_seconds.raw_data, self.pain.raw_data, self.note.data]
        return (
            not self.trigger_point.data
            and not any(value and value != [""] for value in typed)
            and not (self.release_felt.data or self.local_twitch.data or self.referral_reproduced.data)
        )

    def is_untouched(self) -> bool:
        """Added empty (the row left to fill in) and never sent: nothing typed, given or refused, so its markup
        depends on its place alone."""
        return all(
            not field.raw_data and (field.data is None or field.data is False) and not field.errors for field in self
        )

    def validate(self, extra_validators=None) -> bool:
        if self.is_blank():
            return True
        valid = super().validate(extra_validators)
        known = {choice.value for choice in self.trigger_point.choices}
        if not self.trigger_point.data:
            self.trigger_point.errors = ["Choose the trigger point for this row, or clear the row."]
            valid = False
        elif self.trigger_point.data not in known:
            self.trigger_point.errors = [f"Unknown trigger point {self.trigger_point.data!r}."]
            valid = False
        if self.side.data not in {side.value for side in Side}:
            self.side.errors = ["Choose left, right or both."]
            valid = False
        for field in (self.pressure_seconds, self.pain):
            if field.data is None and not field.errors:
                field.errors = ["Enter a number."]
                valid = False
        return valid


class SessionForm(KnotworkForm):
    submission_token = HiddenField(
        validators=[
            InputRequired("This form is incomplete: reload the page and enter the session again."),
            Length(max=64),
        ]
    )
    version = HiddenField()
    started_at = DateTimeLocalField(
        "Date and time", format="%Y-%m-%dT%H:%M", validators=[InputRequired(message="Enter the date and time.")]
    )
    length_minutes = IntegerField(
        "Length (minutes)", validators=[InputRequired("Enter the length."), _range(*LENGTH_RANGE, " minutes")]
    )
    pain_before = IntegerField(
        f"Pain before ({PAIN_SCALE})", validators=[InputRequired("Enter the pain before."), _range(*PAIN_RANGE)]
    )
    pain_after = IntegerField(
        f"Pain after ({PAIN_SCALE})", validators=[InputRequired("Enter the pain after."), _range(*PAIN_RANGE)]
    )
    pain_regions = SelectMultipleField(
        "Where the client reports pain",
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    stress_before = _optional_range(f"Stress before ({PAIN_SCALE})", PAIN_RANGE)
    stress_after = _optional_range(f"Stress after ({PAIN_SCALE})", PAIN_RANGE)
    heart_rate_before = _optional_range("Heart rate before (bpm)", HEART_RATE_RANGE)
    heart_rate_after = _optional_range("Heart rate after (bpm)", HEART_RATE_RANGE)
    systolic_before = _optional_range("Systolic before (mmHg)", SYSTOLIC_RANGE)
    systolic_after = _optional_range("Systolic after (mmHg)", SYSTOLIC_RANGE)
    diastolic_before = _optional_range("Diastolic before (mmHg)", DIASTOLIC_RANGE)
    diastolic_after = _optional_range("Diastolic after (mmHg)", DIASTOLIC_RANGE)
    overload_cause = RadioField(
        "Suspected overload",
        default=OverloadCause.UNKNOWN.value,
        choices=as_choices(
            [
                (OverloadCause.ACUTE.value, "Acute (a sudden strain)"),
                (OverloadCause.SUSTAINED.value, "Sustained (held posture)"),
                (OverloadCause.REPETITIVE.value, "Repetitive (same movement)"),
                (OverloadCause.UNKNOWN.value, "Not known"),
            ]
        ),
    )
    subjective = TextAreaField(
        "Subjective", validators=[Optional(), Length(max=5000)], filters=_strip, description="What the client reports."
    )
    objective = TextAreaField(
        "Objective",
        validators=[Optional(), Length(max=5000)],
        filters=_strip,
        description="What you found: posture, range of motion, palpation.",
    )
    assessment = TextAreaField("Assessment", validators=[Optional(), Length(max=5000)], filters=_strip)
    plan = TextAreaField(
        "Plan",
        validators=[Optional(), Length(max=5000)],
        filters=_strip,
        description="Next visit, home care, referral.",
    )
    points = FieldList(FormField(PointForm), max_entries=MAX_POINTS_PER_SESSION)
    # Ticked after the form warned that another session of this client starts close to this one.
    confirm_near = BooleanField("Yes, this is a separate session: save it")
    save = SubmitField("Save session")
    near_sessions: tuple = ()  # set when another session of the client starts close to this one

    def __init__(self, *args, today: date, region_choices=(), point_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.pain_regions.choices = as_choices(region_choices)
        self.point_choices = point_choices
        for entry in self.points:
            entry.form.trigger_point.choices = point_choices

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        formdata = self.meta.wrap_formdata(self, formdata)
        # FieldList silently drops rows beyond max_entries: count what was sent, to refuse rather than drop.
        self.rows_sent = len({key.split("-")[1] for key in (formdata or {}) if key.startswith("points-")})
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)

    def add_point(self, data: dict | None = None):
        """Another row, unless the form already has as many as it may."""
        if len(self.points.entries) >= MAX_POINTS_PER_SESSION:
            return None
        entry = self.points.append_entry(data)
        entry.form.trigger_point.choices = self.point_choices
        return entry

    def validate_started_at(self, field) -> None:
        if field.data and field.data.date() > self.today:
            raise ValidationError("A session can't be dated after today.")
        if field.data and field.data < datetime(2000, 1, 1):
            raise ValidationError("Check the year.")

    def validate_points(self, field) -> None:
        if self.rows_sent > MAX_POINTS_PER_SESSION:
            raise ValidationError(f"At most {MAX_POINTS_PER_SESSION} points can be saved in one session.")

    def validate_pain_regions(self, field) -> None:
        known = {choice.value for choice in field.choices}
        unknown = [region for region in field.data if not sides.is_valid(region, known)]
        if unknown:
            raise ValidationError(f"Unknown body region: {', '.join(unknown)}.")

    def validate_diastolic_before(self, field) -> None:
        _diastolic_below_systolic(self.systolic_before, field)

    def validate_diastolic_after(self, field) -> None:
        _diastolic_below_systolic(self.systolic_after, field)

    def filled_points(self) -> list[PointForm]:
        return [entry.form for entry in self.points if not entry.form.is_blank()]


def _diastolic_below_systolic(systolic, diastolic) -> None:
    if systolic.data is not None and diastolic.data is not None and diastolic.data >= systolic.data:
        raise ValidationError("The diastolic reading must be lower than the systolic.")


def session_form(kb: KnowledgeBase, today: date, **kwargs) -> SessionForm:
    """The form with the knowledge base's regions and trigger points as its choices; `today` is the clinic's
    date, the latest a session may be dated."""
    regions, points = form_choices(kb)
    return SessionForm(today=today, region_choices=regions, point_choices=points, **kwargs)


def form_choices(kb: KnowledgeBase) -> tuple[list, list[SelectChoice]]:
    """The regions and the trigger points (grouped by muscle) as choices: the same for every form of a base, so
    made once per base."""
    return kb.built_once("session_form_choices", lambda: _choices(kb))


def _choices(kb: KnowledgeBase) -> tuple[list, list[SelectChoice]]:
    regions = [(region.id, region.name) for region in kb.regions.values()]
    points = [SelectChoice("", "— choose a trigger point —")] + [
        SelectChoice(point.id, point.description, optgroup=point.muscle.name) for point in kb.points()
    ]
    return regions, points
