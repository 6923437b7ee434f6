"""The clinic's wall clock. Times are stored in UTC; "today" and what people type and read are local."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def clinic_today() -> date:
    return datetime.now(clinic_zone()).date()


def local_now() -> datetime:
    """Now on the clinic's wall clock, to the minute, as a date-time form field shows it."""
    return datetime.now(clinic_zone()).replace(second=0, microsecond=0, tzinfo=None)


def to_utc(local: datetime) -> datetime:
    return local.replace(tzinfo=clinic_zone()).astimezone(UTC)


def to_local(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """`zone`: the clinic's zone read once by a caller converting many times (reading it costs a context look-up)."""
    return moment.astimezone(zone or clinic_zone()).replace(tzinfo=None)


def exists_locally(local: datetime) -> bool:
    """False for a wall-clock time the clinic's clocks skip (the hour lost when daylight-saving time starts)."""
    return to_local(to_utc(local)) == local
