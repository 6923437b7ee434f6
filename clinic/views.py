"""Small helpers shared by the feature views."""

from typing import Any

from flask import flash, redirect
from werkzeug.wrappers import Response

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A spreadsheet runs a cell starting with = + - @ as a formula: make such text plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def archived_refusal(doing: str, back_to: str) -> Response:
    """An archived client's record is read-only: say so and go back."""
    flash(f"This client is archived. Restore them before {doing}.", "error")
    return redirect(back_to)
