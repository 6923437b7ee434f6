"""The appointment form (contract field names: client, start, length_minutes, status, note) and the small forms
of the book's one-tap actions."""

from datetime import datetime

from wtforms import BooleanField, DateTimeLocalField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from clinic.clock import exists_locally
from clinic.forms import KnotworkForm, ManyOptionsSelect, as_choices
from clinic.models import AppointmentStatus
from clinic.rules import APPOINTMENT_LENGTH_RANGE, APPOINTMENT_NOTE_MAX

STATUS_LABELS = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.ARRIVED: "Arrived",
    AppointmentStatus.COMPLETED: "Completed",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.NO_SHOW: "No-show",
}


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ClinicDateTimeField(DateTimeLocalField):
    """A date and time on the clinic's clock, with a message a person can act on."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the date and time, for example 2026-03-14 09:30.")


class AppointmentForm(KnotworkForm):
    version = HiddenField()
    client = SelectField(
        "Client", coerce=_int_or_none, validators=[InputRequired("Choose the client.")], widget=ManyOptionsSelect()
    )
    therapist = SelectField("Therapist", coerce=_int_or_none, widget=ManyOptionsSelect())
    start = ClinicDateTimeField(
        "Date and time", format="%Y-%m-%dT%H:%M", validators=[InputRequired("Enter the date and time.")]
    )
    length_minutes = IntegerField(
        "Length (minutes)",
        validators=[
            InputRequired("Enter the length."),
            NumberRange(*APPOINTMENT_LENGTH_RANGE, message="Enter a whole number from %(min)s to %(max)s minutes."),
        ],
    )
    status = SelectField(
        "Status",
        choices=as_choices((status.value, label) for status, label in STATUS_LABELS.items()),
        default=AppointmentStatus.BOOKED.value,
    )
    note = StringField(
        "Note",
        validators=[Optional(), Length(max=APPOINTMENT_NOTE_MAX)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        description="Short and practical (room, parking, reminder). Clinical notes belong in the session.",
    )
    book_anyway = BooleanField("Book anyway: I know about the overlap")

    def __init__(self, *args, clients=(), therapists=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.client.choices = as_choices([("", "— choose a client —"), *clients])
        if therapists is None:
            del self.therapist  # a therapist books for themselves
        else:
            self.therapist.choices = as_choices(therapists)

    def validate_client(self, field) -> None:
        if field.data not in {choice.value for choice in self.client.choices if choice.value != ""}:
            raise ValidationError("Choose one of your clients.")

    def validate_therapist(self, field) -> None:
        if field.data not in {choice.value for choice in self.therapist.choices}:
            raise ValidationError("Choose a therapist.")

    def validate_start(self, field) -> None:
        if field.data is None:
            return
        if field.data < datetime(2000, 1, 1) or field.data.year > 2999:
            raise ValidationError("Check the year.")
        if not exists_locally(field.data):
            raise ValidationError(
                "The clocks go forward at that time, so it does not exist on the clinic's clock. Choose another time."
            )


class StatusForm(KnotworkForm):
    """One tap on the day's page or the book: arrived, cancelled, no-show, booked again."""

    status = SelectField(choices=as_choices((status.value, label) for status, label in STATUS_LABELS.items()))
    version = HiddenField()
    next = HiddenField()


class CalendarFeedForm(KnotworkForm):
    action = HiddenField(validators=[InputRequired()])

    def validate_action(self, field) -> None:
        if field.data not in ("make", "revoke"):
            raise ValidationError("Unknown action.")
