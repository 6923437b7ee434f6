"""A client's session record read back, for the pages, charts and reports that show it."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from clinic.clock import to_local
from clinic.extensions import db
from clinic.models import Client, PointTreatment, TreatmentSession, User
from clinic.periods import utc_bounds
from clinic.rules import meaningful_threshold


class NewestFirstPage(Pagination):
    """One page of a period's session records, newest first, cut from the records the page has read already
    (sessions_in_period, oldest first) instead of querying the sessions, their points and therapists again."""

    def _query_items(self) -> list["SessionRecord"]:
        records = self._query_args["records"]
        end = len(records) - self._query_offset
        return records[max(end - self.per_page, 0) : max(end, 0)][::-1]

    def _query_count(self) -> int:
        return len(self._query_args["records"])


def _within(query: sa.Select, date_from: date | None, date_to: date | None) -> sa.Select:
    start, end = utc_bounds(date_from, date_to)
    if start:
        query = query.where(TreatmentSession.started_at >= start)
    if end:
        query = query.where(TreatmentSession.started_at <= end)
    return query


class PointRecord(NamedTuple):
    """A treated point read for display: the columns the client page shows and the model's read-only properties,
    without an ORM object (thousands of those cost far more than the query that reads them); a tuple, made from
    its row in one step."""

    session_id: int
    trigger_point_id: str
    side: str
    pressure_seconds: int
    pain: int
    release_felt: bool
    local_twitch: bool
    referral_reproduced: bool

    RESPONSES = PointTreatment.RESPONSES
    pressure_warning = property(PointTreatment.pressure_warning.fget)
    pain_warning = property(PointTreatment.pain_warning.fget)
    responses = property(PointTreatment.responses.fget)


class SessionRecord:
    """A session read for display (see PointRecord): the columns the client page shows, its points and its
    therapist (one object per therapist, shared by their sessions)."""

    pain_change = property(TreatmentSession.pain_change.fget)

    def __init__(self, values: dict[str, Any], therapist: User) -> None:
        self.__dict__.update(values)
        self.therapist = therapist
        self.points: list[PointRecord] = []


# What the client page shows of each session and point (the table, the figures, the outcomes, the last visit's
# plan and length): a session's notes, pain regions and vitals and a point's note stay in the database, so a long
# period reads and converts a fraction of the values.
_SESSION_COLUMNS = [
    TreatmentSession.id,
    TreatmentSession.therapist_id,
    TreatmentSession.started_at,
    TreatmentSession.length_minutes,
    TreatmentSession.pain_before,
    TreatmentSession.pain_after,
    TreatmentSession.plan,
]
_POINT_COLUMNS = [getattr(PointTreatment, field) for field in PointRecord._fields]
# What the physician summary reads of each session (its counts, trend, findings and plan): a long record's other
# columns, its pain regions (counted in SQL: summary_complaints) and its therapists (therapists_of) stay in the
# database.
_SUMMARY_SESSION_COLUMNS = [
    TreatmentSession.id,
    TreatmentSession.started_at,
    TreatmentSession.pain_before,
    TreatmentSession.pain_after,
    TreatmentSession.objective,
    TreatmentSession.assessment,
    TreatmentSession.plan,
]
_SUMMARY_POINT_COLUMNS = [
    PointTreatment.session_id,
    PointTreatment.trigger_point_id,
    PointTreatment.side,
    PointTreatment.pain,
    PointTreatment.pressure_seconds,
    # The responses as 0 or 1, as SQLite stores them (what a tally adds up): no conversion per value.
    *(sa.type_coerce(getattr(PointTreatment, field), sa.Integer) for field, _ in PointTreatment.RESPONSES),
]


def sessions_in_period(
    client: Client, date_from: date | None = None, date_to: date | None = None
) -> list[SessionRecord]:
    """The client's sessions, oldest first, with their points and therapists, as read-only records: three
    queries however many there are (the sessions' columns, their points', the therapists)."""
    query = (
        sa.select(*_SESSION_COLUMNS)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
    )
    return _records(_within(query, date_from, date_to))


def summary_sessions(client: Client, date_from: date | None = None, date_to: date | None = None) -> list[sa.Row]:
    """The client's sessions in a period, oldest first, as rows of _SUMMARY_SESSION_COLUMNS (read by name:
    `row.pain_before`), without points, pain regions or therapists: one query, no object per session beyond
    its row."""
    query = (
        sa.select(*_SUMMARY_SESSION_COLUMNS)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
    )
    db.session.flush()  # as the ORM's autoflush would: the Core connection below reads what the session holds
    return db.session.connection().execute(_within(query, date_from, date_to)).all()


def summary_complaints(client: Client, date_from: date | None = None, date_to: date | None = None) -> list[tuple]:
    """The pain regions the client reported in a period, counted by the database: (the session's list of
    regions, how many sessions reported that very list), in the order each list was first reported. A long
    record repeats a handful of lists, so a few rows come back however many sessions there are."""
    regions = sa.cast(TreatmentSession.pain_regions, sa.Text)  # PostgreSQL cannot group json values themselves
    query = (
        sa.select(regions, sa.func.count(), sa.func.min(TreatmentSession.started_at).label("first"))
        .where(TreatmentSession.client_id == client.id)
        .group_by(regions)
        .order_by("first", regions)
    )
    rows = db.session.execute(_within(query, date_from, date_to)).all()
    return [(json.loads(text), count) for text, count, _ in rows]


def summary_points(client: Client, date_from: date | None = None, date_to: date | None = None) -> list[tuple]:
    """Every point treated in the client's sessions of a period as a plain tuple of _SUMMARY_POINT_COLUMNS
    (session id first), in the order a record reads them (sessions by start and id, points by position): one
    query, no object per point (a 1,000-session record has some 6,000)."""
    query = (
        sa.select(*_SUMMARY_POINT_COLUMNS)
        .join(TreatmentSession, TreatmentSession.id == PointTreatment.session_id)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at, TreatmentSession.id, PointTreatment.position, PointTreatment.id)
    )
    db.session.flush()
    return db.session.connection().execute(_within(query, date_from, date_to)).all()


def _records(query: sa.Select) -> list[SessionRecord]:
    """The sessions `query` (a select of the session columns) reads, as records with points and therapists."""
    db.session.flush()  # as the ORM's autoflush would: the Core connection below reads what the session holds
    connection = db.session.connection()  # Core rows: the ORM's per-row loading is not needed for plain columns
    result = connection.execute(query)
    names = list(result.keys())  # once: a row mapping works its keys out again for every row
    rows = [dict(zip(names, row, strict=True)) for row in result.all()]  # fetchall: not a fetch per row
    if not rows:
        return []
    therapist_ids = {row["therapist_id"] for row in rows}
    therapists = {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(therapist_ids)))}
    sessions = {row["id"]: SessionRecord(row, therapists[row["therapist_id"]]) for row in rows}
    # A batch names its sessions; a long period selects them again (a list of thousands of ids is too many
    # parameters for some drivers).
    ids = (
        list(sessions) if len(sessions) <= EXPORT_BATCH else query.with_only_columns(TreatmentSession.id).order_by(None)
    )
    points = connection.execute(
        sa.select(*_POINT_COLUMNS)
        .where(PointTreatment.session_id.in_(ids))
        .order_by(PointTreatment.session_id, PointTreatment.position, PointTreatment.id)
    )
    for point in points.all():
        sessions[point[0]].points.append(PointRecord._make(point))  # session_id first
    return list(sessions.values())


def pain_history_rows(
    client: Client, date_from: date | None = None, date_to: date | None = None
) -> tuple[list[tuple], list[tuple]]:
    """What the pain-history JSON shows, as plain tuples: the sessions (id, start, pain before, pain after),
    oldest first, and their points (session id, trigger point, side, pressure, pain) in session and row order.
    Two queries of the needed columns only, however long the record."""
    sessions = _within(
        sa.select(
            TreatmentSession.id, TreatmentSession.started_at, TreatmentSession.pain_before, TreatmentSession.pain_after
        )
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at, TreatmentSession.id),
        date_from,
        date_to,
    )
    db.session.flush()  # as the ORM's autoflush would: the Core connection below reads what the session holds
    connection = db.session.connection()  # Core rows: the ORM's per-row loading is not needed for plain columns
    session_rows = connection.execute(sessions).tuples().all()
    if not session_rows:
        return [], []
    point_rows = (
        connection.execute(
            sa.select(
                PointTreatment.session_id,
                PointTreatment.trigger_point_id,
                PointTreatment.side,
                PointTreatment.pressure_seconds,
                PointTreatment.pain,
            )
            .where(PointTreatment.session_id.in_(sessions.with_only_columns(TreatmentSession.id).order_by(None)))
            .order_by(PointTreatment.session_id, PointTreatment.position, PointTreatment.id)
        )
        .tuples()
        .all()
    )
    return session_rows, point_rows


EXPORT_BATCH = 500  # sessions read at a time by a streamed export


class ExportPoint(NamedTuple):
    """A treated point as the exports write it (a plain tuple: an export reads thousands)."""

    session_id: int
    id: int
    trigger_point_id: str
    side: str
    pressure_seconds: int
    pain: int
    release_felt: bool
    local_twitch: bool
    referral_reproduced: bool
    note: str


class ExportSession(NamedTuple):
    """A session as the exports write it, with its therapist's name and its points in their order."""

    id: int
    started_at: datetime
    updated_at: datetime | None
    therapist_id: int
    therapist_name: str
    length_minutes: int
    pain_before: int
    pain_after: int
    pain_regions: list[str]
    stress_before: int | None
    stress_after: int | None
    heart_rate_before: int | None
    heart_rate_after: int | None
    systolic_before: int | None
    systolic_after: int | None
    diastolic_before: int | None
    diastolic_after: int | None
    overload_cause: str
    subjective: str
    objective: str
    assessment: str
    plan: str
    points: list[ExportPoint]


_EXPORT_SESSION_COLUMNS = [
    getattr(TreatmentSession, field) for field in ExportSession._fields if field not in ("therapist_name", "points")
]
_EXPORT_SESSION_COLUMNS.insert(ExportSession._fields.index("therapist_name"), User.name)
_EXPORT_POINT_COLUMNS = [getattr(PointTreatment, field) for field in ExportPoint._fields]


def export_batches(
    client: Client, date_from: date | None = None, date_to: date | None = None
) -> Iterator[list[ExportSession]]:
    """The client's sessions in a period, oldest first, EXPORT_BATCH at a time (keyset on start and id), so an
    export holds one batch in memory however long the record: two queries a batch (the sessions with their
    therapist's name, then their points), plain tuples rather than objects."""
    size = EXPORT_BATCH
    after: tuple[datetime, int] | None = None
    db.session.flush()  # as the ORM's autoflush would: the Core connection below reads what the session holds
    connection = db.session.connection()
    while True:
        query = (
            sa.select(*_EXPORT_SESSION_COLUMNS)
            .join(User, User.id == TreatmentSession.therapist_id)
            .where(TreatmentSession.client_id == client.id)
            .order_by(TreatmentSession.started_at, TreatmentSession.id)
            .limit(size)
        )
        if after is not None:
            started, last_id = after
            query = query.where(
                sa.or_(
                    TreatmentSession.started_at > started,
                    sa.and_(TreatmentSession.started_at == started, TreatmentSession.id > last_id),
                )
            )
        rows = connection.execute(_within(query, date_from, date_to)).all()  # fetchall: not a fetch per row
        batch = {row[0]: ExportSession(*row, []) for row in rows}
        if not batch:
            return
        points = connection.execute(
            sa.select(*_EXPORT_POINT_COLUMNS)
            .where(PointTreatment.session_id.in_(list(batch)))
            .order_by(PointTreatment.session_id, PointTreatment.position, PointTreatment.id)
        )
        for point in points.all():
            batch[point[0]].points.append(ExportPoint._make(point))
        sessions = list(batch.values())
        yield sessions
        if len(sessions) < size:
            return
        after = (sessions[-1].started_at, sessions[-1].id)


def span(client: Client, date_from: date | None = None, date_to: date | None = None):
    """How many sessions the period holds and the first and last start (None, None without sessions): one query."""
    query = sa.select(
        sa.func.count(TreatmentSession.id),
        sa.func.min(TreatmentSession.started_at),
        sa.func.max(TreatmentSession.started_at),
    ).where(TreatmentSession.client_id == client.id)
    count, first, last = db.session.execute(_within(query, date_from, date_to)).one()
    return count, _aware(first) if first else None, _aware(last) if last else None


def therapists_of(client: Client, date_from: date | None = None, date_to: date | None = None) -> list[User]:
    """The therapists who treated the client in the period, in the order of their first session there."""
    firsts = _within(
        sa.select(TreatmentSession.therapist_id, sa.func.min(TreatmentSession.started_at).label("first"))
        .where(TreatmentSession.client_id == client.id)
        .group_by(TreatmentSession.therapist_id),
        date_from,
        date_to,
    ).subquery()
    return list(
        db.session.scalars(sa.select(User).join(firsts, firsts.c.therapist_id == User.id).order_by(firsts.c.first))
    )


def recent_start(client: Client, sessions: int) -> date | None:
    """The clinic day of the client's `sessions`-th latest session when they have more than that many (the
    start of a default period that holds them), else None: one query, served by the client-and-date index."""
    rows = db.session.scalars(
        sa.select(TreatmentSession.started_at)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at.desc(), TreatmentSession.id.desc())
        .offset(sessions - 1)
        .limit(2)
    ).all()
    return to_local(_aware(rows[0])).date() if len(rows) == 2 else None


def first_session(client: Client) -> TreatmentSession | None:
    """The client's first session ever: the baseline, whatever period is being looked at."""
    return db.session.scalar(
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
        .limit(1)
    )


def last_session(client: Client) -> TreatmentSession | None:
    return db.session.scalar(
        sa.select(TreatmentSession)
        .where(TreatmentSession.client_id == client.id)
        .order_by(TreatmentSession.started_at.desc(), TreatmentSession.id.desc())
        .limit(1)
    )


def first_meaningful_session(client: Client, first_visit: TreatmentSession) -> TreatmentSession | None:
    """The first session after the first visit, in the client's whole history, whose pain on arrival is a
    clinically meaningful improvement on the first visit's (clinic.rules), or None."""
    baseline = first_visit.pain_before
    if baseline <= 0:
        return None  # nothing to improve
    return db.session.scalar(
        sa.select(TreatmentSession)
        .where(
            TreatmentSession.client_id == client.id,
            TreatmentSession.id != first_visit.id,
            TreatmentSession.pain_before <= meaningful_threshold(baseline),
        )
        .order_by(TreatmentSession.started_at, TreatmentSession.id)
        .limit(1)
    )


def last_visits(client_ids: list[int]) -> dict[int, datetime]:
    """Each client's latest session start, for a list page: one grouped query (the client-and-date index)."""
    if not client_ids:
        return {}
    rows = db.session.execute(
        sa.select(TreatmentSession.client_id, sa.func.max(TreatmentSession.started_at))
        .where(TreatmentSession.client_id.in_(client_ids))
        .group_by(TreatmentSession.client_id)
    )
    return {client_id: _aware(started) for client_id, started in rows}


def _aware(moment: datetime) -> datetime:
    # max() comes back without the column type's conversion on some databases: stored times are UTC.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
