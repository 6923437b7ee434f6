from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from clinic.forms import KnotworkForm


class LoginForm(KnotworkForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Log in")


class CodeForm(KnotworkForm):
    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=20)],
        description="The 6 digits your authenticator app shows now, or one of your recovery codes.",
    )
    submit = SubmitField("Continue")
