from datetime import date

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.forms import KnotworkForm, NotBefore, NotInFuture, as_choices
from clinic.precautions import PRECAUTIONS

_strip = [lambda value: value.strip() if isinstance(value, str) else value]


class ClientForm(KnotworkForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)], filters=_strip)
    date_of_birth = DateField(
        "Date of birth",
        validators=[
            InputRequired(message="Enter the date of birth."),
            NotInFuture(),
            NotBefore(date(1900, 1, 1), "Check the year: that is before 1900."),
        ],
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=40)], filters=_strip)
    email = EmailField("Email", validators=[Optional(), Email(), Length(max=254)], filters=_strip)
    address = StringField("Address", validators=[Optional(), Length(max=255)], filters=_strip)
    physician_name = StringField("Physician", validators=[Optional(), Length(max=120)], filters=_strip)
    physician_contact = StringField(
        "Physician contact",
        validators=[Optional(), Length(max=255)],
        filters=_strip,
        description="Practice, phone or fax, for sending the summary.",
    )
    contraindications = TextAreaField(
        "Contraindications",
        validators=[Optional(), Length(max=4000)],
        filters=_strip,
        description="Shown at the top of every session form: areas to avoid, conditions that limit pressure.",
    )
    precautions = SelectMultipleField(
        "Precautions",
        choices=as_choices(PRECAUTIONS.items()),
        validators=[Optional()],
        description="Tick what applies: the session form marks the cautions and self-care that meet these.",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    health_history = TextAreaField("Health history", validators=[Optional(), Length(max=10000)], filters=_strip)
    medications = TextAreaField(
        "Medications",
        validators=[Optional(), Length(max=4000)],
        filters=_strip,
        description="Note blood thinners and pain medication: they change how pressure feels and bruises.",
    )
    consent_date = DateField(
        "Consent signed on",
        validators=[Optional(), NotInFuture(), NotBefore(date(1900, 1, 1), "Check the year: that is before 1900.")],
        description="Leave empty until the client has signed the consent form.",
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10000)], filters=_strip)
    # Optimistic locking: the version the person started editing from.
    version = HiddenField()
    # Shown only when a client with the same name and date of birth exists: ticking it adds the client anyway.
    add_anyway = BooleanField("This is a different person: add them anyway")
    submit = SubmitField("Save client")

    def validate_consent_date(self, field) -> None:
        if field.data and self.date_of_birth.data and field.data < self.date_of_birth.data:
            raise ValidationError("Consent can't be signed before the date of birth.")


class AdminClientForm(ClientForm):
    therapist_id = SelectField("Assigned therapist", coerce=int, validators=[DataRequired()])


class SharingForm(KnotworkForm):
    therapist_id = SelectField("Assigned therapist", coerce=int, validators=[DataRequired()])
    shared_with = SelectMultipleField(
        "Also shared with",
        coerce=int,
        validators=[Optional()],
        description="These therapists can see and edit this client too.",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    submit = SubmitField("Save sharing")


class ShareForm(KnotworkForm):
    """A therapist shares their own client: with whom, not to whom it belongs."""

    shared_with = SelectMultipleField(
        "Share with",
        coerce=int,
        validators=[Optional()],
        description="These colleagues can see this client, log and edit sessions, for example while covering "
        "for you. Untick a name to take the client back.",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    submit = SubmitField("Save sharing")
