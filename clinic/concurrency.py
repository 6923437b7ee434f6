"""Optimistic locking: records carry a version, and a save made from a stale form is refused, not merged."""

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
