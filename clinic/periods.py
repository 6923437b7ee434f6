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
    """The first and last moment of the period in UTC, for comparing with stored times."""
    start = to_utc(datetime.combine(date_from, time.min)) if date_from else None
    end = to_utc(datetime.combine(date_to, time.max)) if date_to else None
    return start, end
