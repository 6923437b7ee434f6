"""Optimistic locking: records carry a version, and a save made from a stale form is refused, not merged.

A versioned UPDATE that matches no row raises SQLAlchemy's `StaleDataError` wherever the session happens to
flush: at the service's own flush, inside `audit.record()`, or in an autoflush before a lazy load. Every one of
them becomes `StaleRecordError`, which the edit views answer with the 409 conflict page and the typed changes;
the app's error handler answers any that still escapes with a 409 too (`clinic.errors`).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm.exc import StaleDataError

from clinic.extensions import db


class StaleRecordError(Exception):
    """The record changed since the form was opened; saving would overwrite someone's work."""


def check_version(record, version: str | None) -> None:
    """The form says which version it was opened on; refuse it when that is no longer the stored one."""
    if version != str(record.version):
        raise StaleRecordError


def flush_or_stale() -> None:
    """Flush; a versioned UPDATE that matched no row means someone else saved first."""
    try:
        db.session.flush()
    except StaleDataError as stale:
        raise StaleRecordError from stale


@contextmanager
def editing() -> Iterator[None]:
    """An edit of a versioned record: no autoflush while values are set and related rows are read (a lazy load
    would flush the half-made change), then one flush; a stale version anywhere in it is StaleRecordError."""
    try:
        with db.session.no_autoflush:
            yield
        db.session.flush()
    except StaleDataError as stale:
        raise StaleRecordError from stale
