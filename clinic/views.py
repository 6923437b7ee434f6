"""Small helpers shared by the feature views."""

from flask import flash, redirect
from werkzeug.wrappers import Response


def archived_refusal(doing: str, back_to: str) -> Response:
    """An archived client's record is read-only: say so and go back."""
    flash(f"This client is archived. Restore them before {doing}.", "error")
    return redirect(back_to)
