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
from wtforms.fields import Label
from wtforms.fields.choices import SelectFieldBase
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import Button, Input, ListWidget, Select, TextArea
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


class _QuickMarkupMeta:
    """Every bound field of our forms gets its widget in the quick version (`quick_widget`)."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]
        field.widget = quick_widget(field.widget)
        field.label = QuickLabel(field.label.field_id, field.label.text)
        if isinstance(field, SelectFieldBase):  # a radio or checkbox list draws each choice with its option widget
            field.option_widget = quick_widget(field.option_widget)
        return field


class KnotworkForm(_RefusesControlCharacters, FlaskForm):
    """The base of every form of the app (CSRF from Flask-WTF, control characters refused, quick markup)."""

    class Meta(_QuickMarkupMeta):
        pass


class KnotworkSubForm(_RefusesControlCharacters, Form):
    """The base of a row in a FieldList(FormField(...)): no CSRF of its own, control characters refused."""

    class Meta(_QuickMarkupMeta):
        pass


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
    about three times faster (WTForms formats each attribute with `Markup.format`, whose escaping formatter costs
    ~50 microseconds a tag): every widget of our forms writes its attributes with it (`quick_widget`)."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = clean_key(key)
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")  # a Markup value may hold a bare quote
            params.append(f'{escape(key)}="{text}"')
    return Markup(" ".join(params))


def validation_attributes(widget, field, attributes: dict) -> None:
    """What WTForms' widgets add from the field's validators (required, maxlength, ...) unless given."""
    flags = getattr(field, "flags", {})
    for name in dir(flags):
        if name in widget.validation_attrs and name not in attributes:
            attributes[name] = getattr(flags, name)


class QuickSelect(Select):
    """WTForms' select, the same markup, its tag and options written with `html_params`."""

    def __call__(self, field, **kwargs) -> Markup:
        return self.select_tag(field, self.options(field), **kwargs)

    def options(self, field) -> str:
        """The field's options (in their groups), as markup."""
        render = self.render_option
        parts = []
        if field.has_groups():
            for group, choices in field._iter_groups_normalized():
                if group is not None:
                    parts.append(f"<optgroup {html_params(label=group)}>")
                parts.extend(render(choice) for choice in choices)
                if group is not None:
                    parts.append("</optgroup>")
        else:
            parts.extend(render(choice) for choice in field._iter_choices_normalized())
        return "".join(parts)

    def select_tag(self, field, options: str, **kwargs) -> Markup:
        """The select element around `options`, with the field's name, id and validation attributes."""
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        validation_attributes(self, field, kwargs)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")

    @classmethod
    def render_option(cls, choice, **kwargs) -> Markup:
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        attributes = {"value": value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            attributes["selected"] = True
        return Markup(f"<option {html_params(**attributes)}>{escape(choice.label or choice.value)}</option>")


class QuickTextArea(TextArea):
    """WTForms' textarea, the same markup, written with `html_params`."""

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        validation_attributes(self, field, kwargs)
        return Markup(f"<textarea {html_params(name=field.name, **kwargs)}>\r\n{escape(field._value())}</textarea>")


class QuickListWidget(ListWidget):
    """WTForms' list of choices (checkboxes, radios), the same markup, its tag written with `html_params`."""

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        parts = [f"<{self.html_tag} {html_params(**kwargs)}>"]
        for option in field:
            # a choice's own label is WTForms' (the choices are not bound by our Meta)
            label = QuickLabel(option.label.field_id, option.label.text)()
            first, second = (label, option()) if self.prefix_label else (option(), label)
            parts.append(f"<li>{first} {second}</li>")
        parts.append(f"</{self.html_tag}>")
        return Markup("".join(parts))


class QuickLabel(Label):
    """WTForms' label, the same markup, its attributes written with `html_params`."""

    def __call__(self, text=None, **kwargs) -> Markup:
        if "for_" in kwargs:
            kwargs["for"] = kwargs.pop("for_")
        else:
            kwargs.setdefault("for", self.field_id)
        attributes = html_params(**kwargs)
        return Markup(f"<label{' ' if attributes else ''}{attributes}>{escape(text or self.text)}</label>")


_QUICK_CLASSES: dict[type, type] = {Select: QuickSelect, TextArea: QuickTextArea, ListWidget: QuickListWidget}


def _quick_class(kind: type) -> type:
    """The quick version of a widget class: WTForms' inputs and buttons choose their attribute writer with a
    class attribute, so a subclass that names `html_params` is all they need; the others are written above."""
    quick = _QUICK_CLASSES.get(kind)
    if quick is None:
        quick = kind
        if issubclass(kind, Input | Button) and kind.html_params is not html_params:
            quick = type(kind.__name__, (kind,), {"html_params": staticmethod(html_params), "__module__": __name__})
        _QUICK_CLASSES[kind] = quick
    return quick


def quick_widget(widget):
    """`widget` drawn with `html_params` rather than WTForms' own (the same markup; WTForms formats each attribute
    with `Markup.format`, about 30 microseconds each: 6 ms of a session form of eight points). A copy with the same
    settings (a select's `multiple`, an input's type); a widget of our own, or one WTForms does not write this way,
    is kept as it is."""
    quick = _quick_class(type(widget))
    if quick is type(widget):
        return widget
    copy = quick.__new__(quick)
    copy.__dict__.update(vars(widget))
    return copy


class ManyOptionsSelect(QuickSelect):
    """The select with its plain options (no attributes of their own) written directly, the same markup about
    five times faster again: for a select of hundreds of options (a therapist's clients)."""

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
