"""The period a page or report covers: `?from=YYYY-MM-DD&to=YYYY-MM-DD`, both optional, in clinic days."""

from datetime import date, datetime, time

from werkzeug.datastructures import MultiDict

from clinic.clock import to_utc


class PeriodError(ValueError):
    pass


def parse_period(args: MultiDict) -> tuple[date | None, date | None]:
    """Refuses bad dates and an end before the start."""
    bounds = []
    for name in ("from", "to"):
        text = (args.get(name) or "").strip()
        try:
            bounds.append(date.fromisoformat(text) if text else None)
        except ValueError:
            raise PeriodError(f"'{name}' must be a date as YYYY-MM-DD, not {text!r}.") from None
    if bounds[0] and bounds[1] and bounds[1] < bounds[0]:
        raise PeriodError("The end date is before the start date.")
    return bounds[0], bounds[1]


def period_args(date_from: date | None, date_to: date | None) -> dict[str, str]:
    """The period as query arguments for links, leaving out open ends."""
    return {name: value.isoformat() for name, value in (("from", date_from), ("to", date_to)) if value}


def utc_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """The first and last moment of the period in UTC, for comparing with stored times.

    Each bound is taken on the clinic's clock. A bound that has no UTC time (the clinic's 9999-12-31 ends after
    the last moment UTC can hold when the clinic is west of UTC; 0001-01-01 starts before the first when east)
    lies beyond any stored time, so it is an open bound."""
    return _utc_or_open(date_from, time.min), _utc_or_open(date_to, time.max)


def _utc_or_open(day: date | None, moment: time) -> datetime | None:
    if day is None:
        return None
    try:
        return to_utc(datetime.combine(day, moment))
    except OverflowError:
        return None
