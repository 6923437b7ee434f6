"""Validators shared by the feature forms."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from clinic.clock import clinic_today


class NotInFuture:
    def __init__(self, message: str = "This date can't be in the future.") -> None:
        self.message = message

    def __call__(self, _form, field) -> None:
        if field.data and field.data > clinic_today():
            raise ValidationError(self.message)


class NotBefore:
    def __init__(self, earliest: date, message: str) -> None:
        self.earliest = earliest
        self.message = message

    def __call__(self, _form, field) -> None:
        if field.data and field.data < self.earliest:
            raise ValidationError(self.message)


def as_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token: for actions confirmed with one button."""

    submit = SubmitField("Confirm")


def error_links(form) -> list[tuple[str, str, str]]:
    """Every field error of a form, sub-forms and lists included, as (field id, label, message) in page order:
    the error summary at the top of a form links each one to its field."""
    found: list[tuple[str, str, str]] = []

    def walk(fields, prefix_label: str = "") -> None:
        for field in fields:
            if field.type == "FieldList":
                for number, entry in enumerate(field.entries, start=1):
                    walk([entry], f"Point {number}: ")
                found.extend((field.id, field.label.text, e) for e in field.errors if isinstance(e, str))
            elif field.type == "FormField":
                walk(field.form, prefix_label)
            elif field.errors and field.type not in ("HiddenField", "CSRFTokenField"):
                target = f"{field.id}-0" if field.type == "RadioField" else field.id
                found.extend((target, prefix_label + field.label.text, error) for error in field.errors)

    walk(form)
    return found


class ProfileForm(FlaskForm):
    """A therapist's professional profile: on their own account page, and the owner's page for any account."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    credentials = StringField(
        "Credentials",
        validators=[Optional(), Length(max=120)],
        description="As a physician should read them, e.g. RMT, LMT, BSc.",
    )
    registration_number = StringField(
        "Registration number", validators=[Optional(), Length(max=60)], description="Your licence or college number."
    )
    phone = StringField(
        "Work phone", validators=[Optional(), Length(max=40)], description="Printed on the physician summary."
    )
    submit = SubmitField("Save profile")
