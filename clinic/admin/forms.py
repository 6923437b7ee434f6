from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from clinic.admin.services import email_taken
from clinic.forms import KnotworkForm, as_choices
from clinic.models import AuditAction, Role
from clinic.passwords import RULE, AcceptablePassword


class PasswordMixin:
    password = PasswordField(
        "Password",
        validators=[DataRequired(), AcceptablePassword()],
        description=f"{RULE} Share it with the person in private: they must change it when they next log in.",
    )
    confirm = PasswordField(
        "Repeat the password", validators=[DataRequired(), EqualTo("password", message="The passwords differ.")]
    )


class UserForm(PasswordMixin, KnotworkForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=as_choices([(Role.THERAPIST.value, "Therapist"), (Role.ADMIN.value, "Admin")]))
    submit = SubmitField("Add account")

    def validate_email(self, field) -> None:
        if email_taken(field.data):
            raise ValidationError("An account with this email already exists.")


class ResetPasswordForm(PasswordMixin, KnotworkForm):
    submit = SubmitField("Set new password")


class AuditFilterForm(KnotworkForm):
    class Meta:
        csrf = False  # a GET filter: nothing changes

    user = SelectField("User", coerce=int, validators=[Optional()])
    action = SelectField(
        "Action",
        validators=[Optional()],
        choices=as_choices(
            [("", "Any action")] + [(action.value, action.value.replace("_", " ")) for action in AuditAction]
        ),
    )
    # The client is typed (a clinic has thousands): the name words filter on their own; choosing one of the
    # suggestions (audit-filter.js) sets `client`, the chosen client's id, as the record links do.
    client = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    client_name = StringField(
        "Client", validators=[Optional(), Length(max=120)], render_kw={"placeholder": "Part of a name"}
    )
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")


class ClinicForm(KnotworkForm):
    name = StringField("Clinic name", validators=[DataRequired(), Length(max=120)])
    address = TextAreaField(
        "Address", validators=[Optional(), Length(max=255)], description="As it should appear on letters."
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    submit = SubmitField("Save")


class TwoFactorPolicyForm(KnotworkForm):
    require_two_factor = BooleanField("Everyone must log in with two-factor login")
    submit = SubmitField("Save")
