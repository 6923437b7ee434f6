"""What a URL and a request body may carry, checked before any of it reaches the database.

- `<int:...>` in every route is `BoundedIntConverter`: an id beyond the id column's range (2^31-1) is 404
  on every database, as an id that does not exist is, instead of an overflow on PostgreSQL.
- `int_arg()` reads a whole-number query argument (`?page=`, `?client=`, `?therapist=`, ...) the one way:
  anything that is not a whole number from 1 to MAX_RECORD_ID counts as absent.
- `refuse_nul_bytes` answers 400 to a query string or a JSON body that holds a NUL byte: no database stores
  one (PostgreSQL refuses it, SQLite keeps it and hands it to exports). Form fields are checked by the forms
  (`clinic.forms.KnotworkForm`), which say so beside the field.
"""

from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from clinic.rules import MAX_RECORD_ID


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` that matches only ids a record can have: 0 to MAX_RECORD_ID (a larger one is 404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed=False):
        super().__init__(
            map, fixed_digits=fixed_digits, min=min, max=MAX_RECORD_ID if max is None else max, signed=signed
        )


def parse_record_id(raw: Any) -> int | None:
    """A whole number from 1 to MAX_RECORD_ID written in ASCII digits, else None."""
    text = str(raw).strip() if raw is not None else ""
    if not text or len(text) > len(str(MAX_RECORD_ID)) or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_RECORD_ID else None


def int_arg(name: str) -> int | None:
    """A whole-number query argument in the range of a record id (a page number too), else None."""
    return parse_record_id(request.args.get(name))


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def refuse_nul_bytes() -> None:
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            abort(400, description="The address holds a NUL byte.")
    if request.is_json and _holds_nul(request.get_json(silent=True)):
        abort(400, description="The request holds a NUL byte.")


def init_params(app: Flask) -> None:
    """Before the blueprints: the converter is read when their rules are added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul_bytes)
