"""The one password rule, used by every form that sets a password and by `flask users`: the length from
clinic.rules and not on the list of common passwords shipped in clinic/data (its README names the source)."""

from functools import cache
from pathlib import Path

from wtforms.validators import ValidationError

from clinic.rules import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"

RULE = f"At least {PASSWORD_MIN_LENGTH} characters, and not a commonly used password."


@cache
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str) -> str | None:
    """Why this password may not be used, in a sentence; None when it may."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"The password needs at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"The password may have at most {PASSWORD_MAX_LENGTH} characters."
    if password.strip().lower() in common_passwords():
        return "This password is on a list of commonly used passwords; choose another."
    return None


class AcceptablePassword:
    """The WTForms validator: the message of `password_problem` beside the field."""

    def __call__(self, _form, field) -> None:
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
