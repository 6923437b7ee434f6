from flask_login import current_user
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from clinic.forms import KnotworkForm
from clinic.passwords import RULE, AcceptablePassword


class CurrentPasswordMixin:
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])

    def validate_current(self, field) -> None:
        if not current_user.check_password(field.data):
            raise ValidationError("This is not your current password.")


class ChangePasswordForm(CurrentPasswordMixin, KnotworkForm):
    password = PasswordField("New password", validators=[DataRequired(), AcceptablePassword()], description=RULE)
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Change password")

    def validate_password(self, field) -> None:
        if field.data and current_user.check_password(field.data):
            raise ValidationError("The new password is the same as the current one.")


class EnableTwoFactorForm(KnotworkForm):
    code = StringField(
        "Code from the app",
        validators=[DataRequired(), Length(max=20)],
        description="The 6 digits the app shows now, to prove it has the key.",
    )
    submit = SubmitField("Turn on two-factor login")


class DisableTwoFactorForm(CurrentPasswordMixin, KnotworkForm):
    submit = SubmitField("Turn off two-factor login")


class RecoveryCodesForm(CurrentPasswordMixin, KnotworkForm):
    submit = SubmitField("Make new recovery codes")
