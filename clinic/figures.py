"""The client's charts as Plotly figures (JSON-ready dicts), built on the server so page scripts only draw
them. The client page shows all four; the physician summary the pain trend alone."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from clinic.clock import clinic_zone, to_local
from clinic.kb import KnowledgeBase
from clinic.models import TreatmentSession
from clinic.outcomes import Progress, muscle_counts, progress
from clinic.rules import ADVISED_PRESSURE, COMPRESSION_PAIN_TARGET, meaningful_threshold, pressure_outside_advice

TOP_MUSCLES = 5  # lines in the compression-pain chart
MOST_TREATED = 10  # bars in the most-treated chart


def figures(sessions: list[TreatmentSession], kb: KnowledgeBase, state: Progress | None = None) -> dict[str, dict]:
    """Plotly figures as JSON-ready dicts (plain dicts and lists, no Plotly figure objects: those cost far
    more than the drawing data), built here so the page script only draws them. Each figure carries
    its title beside `data` and `layout` (`title`): pages show it as a caption above the chart, where the
    chart's toolbar can never cover it."""
    if not sessions:
        return {}
    state = state or progress(sessions)
    counts = muscle_counts(sessions, kb)
    # Worked out once for the three charts over time: each session's clinic date and each point's muscle.
    dates = _dates(sessions)
    point_ids = {point.trigger_point_id for session in sessions for point in session.points}
    muscles = {point_id: kb.muscle_name(point_id) for point_id in point_ids}
    return {
        "pain": _titled(_pain_figure(sessions, state, dates)),
        "muscles": _titled(_muscle_pain_figure(sessions, dates, muscles, counts)),
        "counts": _titled(_counts_figure(counts)),
        "pressure": _titled(_pressure_figure(sessions, dates, muscles)),
    }


def pain_figure(sessions: list[TreatmentSession], state: Progress | None = None) -> dict:
    """The pain trend alone (the physician summary's one chart)."""
    return _titled(_pain_figure(sessions, state or progress(sessions), _dates(sessions)))


def _titled(figure: dict) -> dict:
    """The figure with its title moved out of the drawing into `title`."""
    figure["title"] = figure["layout"].pop("title", {}).get("text", "")
    return figure


# The parts of Plotly's default template these charts rely on (the colours of the lines, the text colour, the
# axes without grid lines), written out: the whole template is many kilobytes in every figure.
TEMPLATE = {
    "layout": {
        "colorway": [
            "#636efa",
            "#EF553B",
            "#00cc96",
            "#ab63fa",
            "#FFA15A",
            "#19d3f3",
            "#FF6692",
            "#B6E880",
            "#FF97FF",
            "#FECB52",
        ],
        "font": {"color": "#2a3f5f"},
        "hoverlabel": {"align": "left"},
        **{
            axis: {
                "gridcolor": "white",
                "linecolor": "white",
                "ticks": "",
                "title": {"standoff": 15},
                "zerolinecolor": "white",
                "automargin": True,
                "zerolinewidth": 2,
            }
            for axis in ("xaxis", "yaxis")
        },
    }
}


def _figure(layout: dict, traces: list[dict] | None = None) -> dict:
    return {"data": traces or [], "layout": {**layout, "template": TEMPLATE}}


def _scatter(**fields) -> dict:
    return {**fields, "type": "scatter"}


def _layout(title: str, **extra) -> dict:
    return {
        "title": {"text": title},
        # The top margin holds the toolbar (shown on hover, with a mouse), clear of the data.
        "margin": {"l": 48, "r": 16, "t": 30, "b": 40},
        "height": 340,
        "legend": {"orientation": "h", "y": -0.12, "yanchor": "top", "x": 0, "font": {"size": 11}},
        "hovermode": "closest",
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, sans-serif"},
        **extra,
    }


def _dates(sessions: list[TreatmentSession]) -> list[str]:
    zone = clinic_zone()
    return [to_local(s.started_at, zone).isoformat() for s in sessions]


DAY_MS = 86_400_000
# Tick labels by the distance between ticks: the day and month with the year, down to years alone. Never
# the fraction of a second Plotly falls back to when every point sits on one instant.
DATE_TICKS = [
    {"dtickrange": [None, DAY_MS], "value": "%-d %b %H:%M"},
    {"dtickrange": [DAY_MS, "M1"], "value": "%-d %b %Y"},
    {"dtickrange": ["M1", "M12"], "value": "%b %Y"},
    {"dtickrange": ["M12", None], "value": "%Y"},
]
MIN_TIME_PAD = timedelta(days=3)  # the time axis reaches at least this far beyond the first and last session


def time_range(sessions: list[TreatmentSession]) -> tuple[str, str]:
    """The time axis's ends: the sessions with some room either side (a single session gets a week)."""
    first, last = to_local(sessions[0].started_at), to_local(sessions[-1].started_at)
    pad = max(MIN_TIME_PAD, (last - first) * 0.03)
    return (first - pad).isoformat(), (last + pad).isoformat()


def _time_axis(sessions: list[TreatmentSession]) -> dict:
    return {
        "type": "date",
        "range": list(time_range(sessions)),
        "tickformatstops": DATE_TICKS,
        "hoverformat": "%-d %b %Y",
        "automargin": True,
        "nticks": 6,
    }


def _flat_line(x_range: tuple[str, str], y: float, name: str, **line) -> dict:
    """A reference level drawn as a legend entry, so its label never sits on the data."""
    return _scatter(
        x=list(x_range), y=[y, y], name=name, mode="lines", line={"width": 1, "dash": "dot", **line}, hoverinfo="skip"
    )


MANY_SESSIONS = 60  # beyond this, single sessions are noise: draw monthly averages over faint raw lines


def _mode(sessions: list) -> str:
    # Markers help with a few sessions and become noise with hundreds.
    return "lines+markers" if len(sessions) <= MANY_SESSIONS else "lines"


def _monthly(points: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    """Average values per calendar month (points are (ISO date-time, value)), dated the 15th."""
    months: dict[str, list[float]] = defaultdict(list)
    for when, value in points:
        months[when[:7]].append(value)
    keys = sorted(months)
    return [f"{key}-15" for key in keys], [round(sum(months[key]) / len(months[key]), 2) for key in keys]


def _pain_figure(sessions: list[TreatmentSession], state: Progress, dates: list[str]) -> dict:
    """Pain before and after each session against the baseline, with the level that counts as a clinically
    meaningful improvement and a marker at the first session that reached it. Each session's markers carry
    its id (customdata[0]), so a click can open it. `dates`: the sessions' (_dates)."""
    figure = _pain_axes("Pain before and after each session", sessions, state)
    traces = figure["data"]
    many = len(sessions) > MANY_SESSIONS
    width = 1 if many else 2  # many sessions: faint raw lines under the monthly average
    raw = {"opacity": 0.3} if many else {}
    traces.append(
        _scatter(
            x=dates,
            y=[s.pain_before for s in sessions],
            name="Pain before",
            mode=_mode(sessions),
            line={"color": "#a8271f", "width": width},
            marker={"size": 8},
            customdata=[[s.id, s.pain_before - state.baseline] for s in sessions],
            hovertemplate="%{x|%d %b %Y}: %{y}/10 before (%{customdata[1]:+d} from first visit)<extra></extra>",
            **raw,
        )
    )
    traces.append(
        _scatter(
            x=dates,
            y=[s.pain_after for s in sessions],
            name="Pain after",
            mode=_mode(sessions),
            line={"color": "#2f6f73", "width": width, "dash": "dot"},
            marker={"size": 8},
            customdata=[[s.id] for s in sessions],
            hovertemplate="%{x|%d %b %Y}: %{y}/10 after<extra></extra>",
            **raw,
        )
    )
    if many:
        months, averages = _monthly(list(zip(dates, [s.pain_before for s in sessions], strict=True)))
        traces.append(
            _scatter(
                x=months,
                y=averages,
                name="Pain before, monthly average",
                mode="lines",
                line={"color": "#a8271f", "width": 3},
                hovertemplate="%{x|%b %Y}: %{y}/10 on average<extra></extra>",
            )
        )
    first = state.first_meaningful
    if first is not None and any(s.id == first.id for s in sessions):
        traces.append(_first_meaningful_marker(first))
    return figure


def _pain_axes(title: str, sessions: list, state: Progress) -> dict:
    """A pain chart's frame: the 0-10 axis over the sessions' time, the zone of a clinically meaningful
    improvement and the first visit's level; the caller adds the sessions' traces."""
    x_range = time_range(sessions)
    threshold = meaningful_threshold(state.baseline)
    figure = _figure(
        _layout(
            title,
            xaxis=_time_axis(sessions),
            yaxis={"title": {"text": "Pain (0-10)"}, "range": [-0.3, 10.3], "dtick": 2, "fixedrange": True},
            height=380,  # room for its longer legend
        )
    )
    if threshold >= 0:
        figure["data"].append(_meaningful_zone(x_range, threshold))
    figure["data"].append(_flat_line(x_range, state.baseline, f"First visit {state.baseline}/10", color="#5b6870"))
    return figure


def _meaningful_zone(x_range: tuple[str, str], threshold: float) -> dict:
    return _scatter(
        x=[x_range[0], x_range[1], x_range[1], x_range[0], x_range[0]],
        y=[-0.3, -0.3, threshold, threshold, -0.3],
        fill="toself",
        fillcolor="#e7f4ea",
        line={"width": 0},
        mode="lines",
        name=f"Meaningful improvement (≤ {threshold:g})",
        hoverinfo="skip",
    )


def _first_meaningful_marker(first: TreatmentSession) -> dict:
    return _scatter(
        x=[to_local(first.started_at).isoformat()],
        y=[first.pain_before],
        name="First meaningful improvement",
        mode="markers",
        marker={"symbol": "star", "size": 16, "color": "#1d6b35", "line": {"color": "#ffffff", "width": 1}},
        customdata=[[first.id]],
        hovertemplate="First meaningful improvement: %{y}/10<extra></extra>",
    )


@dataclass
class PainMonth:
    """A calendar month (clinic time) of sessions: how many, and the pain before and after them."""

    month: str  # YYYY-MM
    sessions: int
    before: float  # the month's average pain before, to one decimal
    after: float
    lowest_before: int
    highest_before: int


def pain_months(sessions: list) -> list[PainMonth]:
    """The sessions (oldest first: anything with `started_at`, `pain_before` and `pain_after`) month by month."""
    zone = clinic_zone()
    months: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for session in sessions:
        local = session.started_at.astimezone(zone)
        months.setdefault((local.year, local.month), []).append((session.pain_before, session.pain_after))
    return [
        PainMonth(
            f"{year}-{month:02d}",
            len(pains),
            round(sum(before for before, _ in pains) / len(pains), 1),
            round(sum(after for _, after in pains) / len(pains), 1),
            min(before for before, _ in pains),
            max(before for before, _ in pains),
        )
        for (year, month), pains in months.items()
    ]


def monthly_pain_figure(sessions: list, state: Progress) -> dict:
    """The pain trend of a long record (more than MANY_SESSIONS sessions) for a reader who cannot hover, such as
    a printed summary: each calendar month's average pain before and after, with the lowest to highest pain
    before of the month shaded, the first visit's level, the meaningful-improvement zone and the first session
    that reached it; every session would be hundreds of lines too dense to read on paper. Its title says so."""
    months = pain_months(sessions)
    x = [f"{month.month}-15" for month in months]
    figure = _pain_axes("Pain before and after sessions, average of each month", sessions, state)
    traces = figure["data"]
    traces.append(
        _scatter(
            x=x + x[::-1],
            y=[month.highest_before for month in months] + [month.lowest_before for month in months][::-1],
            fill="toself",
            fillcolor="rgba(168, 39, 31, 0.12)",
            line={"width": 0},
            mode="lines",
            name="Pain before, lowest to highest in the month",
            hoverinfo="skip",
        )
    )
    details = [[m.sessions, m.lowest_before, m.highest_before] for m in months]
    traces.append(
        _scatter(
            x=x,
            y=[month.before for month in months],
            name="Pain before, monthly average",
            mode=_mode(months),
            line={"color": "#a8271f", "width": 2},
            marker={"size": 6},
            customdata=details,
            hovertemplate="%{x|%b %Y}: %{y}/10 before on average over %{customdata[0]} sessions "
            "(%{customdata[1]} to %{customdata[2]})<extra></extra>",
        )
    )
    traces.append(
        _scatter(
            x=x,
            y=[month.after for month in months],
            name="Pain after, monthly average",
            mode=_mode(months),
            line={"color": "#2f6f73", "width": 2, "dash": "dot"},
            marker={"size": 6},
            customdata=details,
            hovertemplate="%{x|%b %Y}: %{y}/10 after on average over %{customdata[0]} sessions<extra></extra>",
        )
    )
    first = state.first_meaningful
    if first is not None and any(s.id == first.id for s in sessions):
        traces.append(_first_meaningful_marker(first))
    return _titled(figure)


def _muscle_pain_figure(
    sessions: list[TreatmentSession], dates: list[str], muscles: dict[str, str], counts: list[dict]
) -> dict:
    """`dates`: the sessions' (_dates); `muscles`: each treated point's muscle name (KnowledgeBase.muscle_name)."""
    top = [entry["name"] for entry in counts[:TOP_MUSCLES]]
    series: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for session, when in zip(sessions, dates, strict=True):
        by_muscle: dict[str, list[int]] = defaultdict(list)
        for point in session.points:
            by_muscle[muscles[point.trigger_point_id]].append(point.pain)
        for name, pains in by_muscle.items():
            if name in top:
                series[name].append((when, round(sum(pains) / len(pains), 1), session.id))
    many = len(sessions) > MANY_SESSIONS
    title = "Compression pain per muscle (most treated" + (", monthly average)" if many else ")")
    figure = _figure(
        _layout(
            title,
            xaxis=_time_axis(sessions),
            yaxis={"title": {"text": "Pain (0-10)"}, "range": [-0.3, 10.5], "dtick": 2, "fixedrange": True},
        )
    )
    traces = figure["data"]
    for name in top:
        points = series[name]
        if many:
            x, y = _monthly([(p[0], p[1]) for p in points])
            traces.append(
                _scatter(
                    x=x,
                    y=y,
                    name=name,
                    mode="lines",
                    hovertemplate=f"{name}, %{{x|%b %Y}}: %{{y}}/10 on average<extra></extra>",
                )
            )
        else:
            traces.append(
                _scatter(
                    x=[p[0] for p in points],
                    y=[p[1] for p in points],
                    name=name,
                    mode=_mode(points),
                    marker={"size": 8},
                    customdata=[[p[2]] for p in points],
                    hovertemplate=f"{name}, %{{x|%d %b %Y}}: %{{y}}/10<extra></extra>",
                )
            )
    traces.append(
        _flat_line(
            time_range(sessions), COMPRESSION_PAIN_TARGET, f"Target about {COMPRESSION_PAIN_TARGET}/10", color="#8a4b00"
        )
    )
    return figure


def _counts_figure(counts: list[dict]) -> dict:
    counts = counts[:MOST_TREATED]
    most = max((entry["points"] for entry in counts), default=0)
    return _figure(
        _layout(
            "Most treated muscles",
            # Whole points only: a step of one up to ten, Plotly's whole-number steps beyond.
            xaxis={
                "title": {"text": "Points treated"},
                "rangemode": "tozero",
                "tickformat": ",d",
                "fixedrange": True,
                **({"dtick": 1} if most <= 10 else {}),
            },
            yaxis={"automargin": True, "fixedrange": True},
            margin={"l": 16, "r": 16, "t": 16, "b": 40},
        ),
        [
            {
                "x": [entry["points"] for entry in counts][::-1],
                "y": [entry["name"] for entry in counts][::-1],
                "orientation": "h",
                "marker": {"color": "#2f6f73"},
                "hovertemplate": "%{y}: %{x} points<extra></extra>",
                "type": "bar",
            }
        ],
    )


def _pressure_figure(sessions: list[TreatmentSession], dates: list[str], muscles: dict[str, str]) -> dict:
    """`dates` and `muscles` as for _muscle_pain_figure."""
    inside, outside = ([], [], []), ([], [], [])
    for session, when in zip(sessions, dates, strict=True):
        for point in session.points:
            target = outside if pressure_outside_advice(point.pressure_seconds) else inside
            target[0].append(when)
            target[1].append(point.pressure_seconds)
            target[2].append([session.id, muscles[point.trigger_point_id]])
    top = max([ADVISED_PRESSURE[1] + 10, *inside[1], *outside[1]])
    figure = _figure(
        _layout(
            f"Pressure holds (usual {ADVISED_PRESSURE[0]}-{ADVISED_PRESSURE[1]} s shaded)",
            xaxis=_time_axis(sessions),
            # Zero a little above the axis, so it never sits on the date labels.
            yaxis={"title": {"text": "Seconds"}, "range": [-top * 0.04, top * 1.05], "fixedrange": True},
            # The usual range shaded across the whole width, under the markers.
            shapes=[
                {
                    "type": "rect",
                    "xref": "x domain",
                    "x0": 0,
                    "x1": 1,
                    "yref": "y",
                    "y0": ADVISED_PRESSURE[0],
                    "y1": ADVISED_PRESSURE[1],
                    "fillcolor": "#e3f0ef",
                    "line": {"width": 0},
                    "layer": "below",
                }
            ],
        )
    )
    for (x, y, data), name, marker in (
        (inside, "Within range", {"color": "#2f6f73", "size": 7}),
        (outside, "Outside range", {"color": "#a8271f", "size": 9, "symbol": "diamond"}),
    ):
        figure["data"].append(
            _scatter(
                x=x,
                y=y,
                customdata=data,
                name=name,
                mode="markers",
                marker=marker,
                hovertemplate="%{customdata[1]}, %{x|%d %b %Y}: %{y} s<extra></extra>",
            )
        )
    return figure
