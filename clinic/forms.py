"""The forms' base classes and the validators shared by the feature forms.

Every form of the app inherits `KnotworkForm` (a sub-form in a FieldList/FormField inherits `KnotworkSubForm`):
text that holds a control character (a NUL byte, an escape, ...) is refused with a message beside its field,
so it never reaches the database, an export or a PDF. `tests/test_hostile_input.py` fails when a form does not.
"""

import re
from datetime import date

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Form, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import Select
from wtforms.widgets.core import clean_key

from clinic.clock import clinic_today

# C0 controls, DEL, C1 controls and the bidirectional overrides and isolates (which can make a name read
# backwards in the audit log or an export). A multi-line field (a textarea) may hold tab, newline and carriage
# return; a one-line field none.
_INVISIBLE = "\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROL_ONE_LINE = re.compile(f"[\x00-\x1f{_INVISIBLE}]")
_CONTROL_MULTI_LINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_INVISIBLE}]")
CONTROL_CHARACTER_MESSAGE = "This contains a control character (such as a NUL byte) that can't be stored; remove it."


def has_control_characters(text: str, multi_line: bool = False) -> bool:
    return bool((_CONTROL_MULTI_LINE if multi_line else _CONTROL_ONE_LINE).search(text))


def _sent_control_characters(field) -> bool:
    """What was sent for the field (raw) and what it holds now, checked both."""
    multi_line = field.type == "TextAreaField"
    values = [value for value in (field.raw_data or []) if isinstance(value, str)]
    if isinstance(field.data, str):
        values.append(field.data)
    elif isinstance(field.data, list | tuple):
        values.extend(value for value in field.data if isinstance(value, str))
    return any(has_control_characters(value, multi_line) for value in values)


class _RefusesControlCharacters:
    """After the usual checks, every text field that holds a control character gets an error beside it."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)  # type: ignore[misc]
        refused = False
        for field in self:  # type: ignore[attr-defined]
            entries = field.entries if field.type == "FieldList" else [field]
            for entry in entries:
                if entry.type == "FormField":
                    continue  # the sub-form (a KnotworkSubForm) checks its own fields
                if _sent_control_characters(entry):
                    if CONTROL_CHARACTER_MESSAGE not in entry.errors:
                        entry.errors = [*entry.errors, CONTROL_CHARACTER_MESSAGE]
                    refused = True
        return valid and not refused


class KnotworkForm(_RefusesControlCharacters, FlaskForm):
    """The base of every form of the app (CSRF from Flask-WTF, control characters refused)."""


class KnotworkSubForm(_RefusesControlCharacters, Form):
    """The base of a row in a FieldList(FormField(...)): no CSRF of its own, control characters refused."""


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


class ConfirmForm(KnotworkForm):
    """A form with only the CSRF token: for actions confirmed with one button."""

    submit = SubmitField("Confirm")


def html_params(**kwargs) -> Markup:
    """WTForms' `html_params` (a tag's attributes, sorted; True as a bare name, False left out), the same markup
    about three times faster, for the widgets of our own that render many tags (WTForms formats each attribute
    with `Markup.format`, whose escaping formatter costs ~50 microseconds a tag). WTForms' own widgets keep theirs."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = clean_key(key)
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")  # a Markup value may hold a bare quote
            params.append(f'{escape(key)}="{text}"')
    return Markup(" ".join(params))


class ManyOptionsSelect(Select):
    """WTForms' select with its plain options (no attributes of their own) written directly, the same markup
    about five times faster: for a select of hundreds of options (a therapist's clients)."""

    @classmethod
    def render_option(cls, choice, **kwargs) -> Markup:
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        value = str(escape(choice.value)).replace('"', "&quot;")
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{value}">{escape(choice.label or choice.value)}</option>')


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


class ProfileForm(KnotworkForm):
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
