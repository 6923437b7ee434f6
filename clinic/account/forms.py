from flask_login import current_user
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from clinic.forms import KnotworkForm

MIN_PASSWORD_LENGTH = 10


class ChangePasswordForm(KnotworkForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Change password")

    def validate_current(self, field) -> None:
        if not current_user.check_password(field.data):
            raise ValidationError("This is not your current password.")

    def validate_password(self, field) -> None:
        if field.data and current_user.check_password(field.data):
            raise ValidationError("The new password is the same as the current one.")
