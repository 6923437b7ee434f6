"""The client's charts as Plotly figures (JSON-ready dicts), built on the server so page scripts only draw
them. The client page shows all four; the physician summary the pain trend alone."""

from collections import defaultdict

import plotly.graph_objects as go

from clinic.clock import to_local
from clinic.kb import KnowledgeBase
from clinic.models import TreatmentSession
from clinic.outcomes import Progress, muscle_counts, progress
from clinic.rules import ADVISED_PRESSURE, COMPRESSION_PAIN_TARGET, meaningful_threshold

TOP_MUSCLES = 5  # lines in the compression-pain chart
MOST_TREATED = 10  # bars in the most-treated chart


def figures(
    sessions: list[TreatmentSession], kb: KnowledgeBase, first_visit: TreatmentSession | None = None
) -> dict[str, dict]:
    """Plotly figures as JSON-ready dicts, built here so the page script only draws them."""
    if not sessions:
        return {}
    counts = muscle_counts(sessions, kb)
    return {
        "pain": pain_figure(sessions, first_visit),
        "muscles": _muscle_pain_figure(sessions, kb, counts).to_plotly_json(),
        "counts": _counts_figure(counts).to_plotly_json(),
        "pressure": _pressure_figure(sessions, kb).to_plotly_json(),
    }


def pain_figure(sessions: list[TreatmentSession], first_visit: TreatmentSession | None = None) -> dict:
    """The pain trend alone (the physician summary's one chart)."""
    return _pain_figure(sessions, progress(sessions, first_visit)).to_plotly_json()


def _layout(title: str, **extra) -> dict:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "margin": {"l": 48, "r": 16, "t": 44, "b": 56},
        "height": 320,
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "closest",
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, sans-serif"},
        **extra,
    }


def _dates(sessions: list[TreatmentSession]) -> list[str]:
    return [to_local(s.started_at).isoformat() for s in sessions]


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


def _pain_figure(sessions: list[TreatmentSession], state: Progress) -> go.Figure:
    """Pain before and after each session against the baseline, with the level that counts as a clinically
    meaningful improvement and a marker at the first session that reached it."""
    dates = _dates(sessions)
    threshold = meaningful_threshold(state.baseline)
    figure = go.Figure(
        layout=_layout(
            "Pain before and after each session",
            yaxis={"title": {"text": "Pain (0-10)"}, "range": [-0.3, 10.3], "dtick": 2},
        )
    )
    figure.add_hline(
        y=state.baseline,
        line={"color": "#5b6870", "dash": "dot", "width": 1},
        annotation_text=f"First visit {state.baseline}/10",
        annotation_position="top left",
    )
    if threshold >= 0:
        figure.add_hrect(
            y0=-0.3,
            y1=threshold,
            fillcolor="#e7f4ea",
            line_width=0,
            layer="below",
            annotation_text="Meaningful improvement",
            annotation_position="top right",
        )
    many = len(sessions) > MANY_SESSIONS
    raw = {"opacity": 0.3, "line_width": 1} if many else {}
    figure.add_trace(
        go.Scatter(
            x=dates,
            y=[s.pain_before for s in sessions],
            name="Pain before",
            mode=_mode(sessions),
            line={"color": "#a8271f", "width": 2},
            customdata=[s.pain_before - state.baseline for s in sessions],
            hovertemplate="%{x|%d %b %Y}: %{y}/10 before (%{customdata:+d} from first visit)<extra></extra>",
            **raw,
        )
    )
    figure.add_trace(
        go.Scatter(
            x=dates,
            y=[s.pain_after for s in sessions],
            name="Pain after",
            mode=_mode(sessions),
            line={"color": "#2f6f73", "width": 2, "dash": "dot"},
            hovertemplate="%{x|%d %b %Y}: %{y}/10 after<extra></extra>",
            **raw,
        )
    )
    if many:
        months, averages = _monthly(list(zip(dates, [s.pain_before for s in sessions], strict=True)))
        figure.add_trace(
            go.Scatter(
                x=months,
                y=averages,
                name="Pain before, monthly average",
                mode="lines",
                line={"color": "#a8271f", "width": 3},
                hovertemplate="%{x|%b %Y}: %{y}/10 on average<extra></extra>",
            )
        )
    if state.first_meaningful is not None:
        figure.add_trace(
            go.Scatter(
                x=[to_local(state.first_meaningful.started_at).isoformat()],
                y=[state.first_meaningful.pain_before],
                name="First meaningful improvement",
                mode="markers",
                marker={"symbol": "star", "size": 16, "color": "#1d6b35", "line": {"color": "#ffffff", "width": 1}},
                hovertemplate="First meaningful improvement: %{y}/10<extra></extra>",
            )
        )
    return figure


def _muscle_pain_figure(sessions: list[TreatmentSession], kb: KnowledgeBase, counts: list[dict]) -> go.Figure:
    top = [entry["name"] for entry in counts[:TOP_MUSCLES]]
    series: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for session, when in zip(sessions, _dates(sessions), strict=True):
        by_muscle: dict[str, list[int]] = defaultdict(list)
        for point in session.points:
            by_muscle[kb.muscle_name(point.trigger_point_id)].append(point.pain)
        for name, pains in by_muscle.items():
            if name in top:
                series[name].append((when, sum(pains) / len(pains)))
    title = "Compression pain per muscle (most treated" + (
        ", monthly average)" if len(sessions) > MANY_SESSIONS else ")"
    )
    figure = go.Figure(layout=_layout(title, yaxis={"title": {"text": "Pain (0-10)"}, "range": [0, 10.5], "dtick": 2}))
    for name in top:
        points = series[name]
        if len(sessions) > MANY_SESSIONS:
            x, y = _monthly(points)
            figure.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    name=name,
                    mode="lines",
                    hovertemplate=f"{name}, %{{x|%b %Y}}: %{{y}}/10 on average<extra></extra>",
                )
            )
        else:
            figure.add_trace(
                go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], name=name, mode=_mode(points))
            )
    figure.add_hline(y=COMPRESSION_PAIN_TARGET, line={"color": "#8a4b00", "dash": "dot", "width": 1})
    return figure


def _counts_figure(counts: list[dict]) -> go.Figure:
    counts = counts[:MOST_TREATED]
    return go.Figure(
        go.Bar(
            x=[entry["points"] for entry in counts][::-1],
            y=[entry["name"] for entry in counts][::-1],
            orientation="h",
            marker={"color": "#2f6f73"},
            hovertemplate="%{x} points<extra></extra>",
        ),
        layout=_layout(
            "Most treated muscles",
            xaxis={"title": {"text": "Points treated"}},
            margin={"l": 150, "r": 16, "t": 44, "b": 40},
        ),
    )


def _pressure_figure(sessions: list[TreatmentSession], kb: KnowledgeBase) -> go.Figure:
    inside, outside = ([], [], []), ([], [], [])
    for session, when in zip(sessions, _dates(sessions), strict=True):
        for point in session.points:
            target = outside if point.pressure_warning else inside
            target[0].append(when)
            target[1].append(point.pressure_seconds)
            target[2].append(kb.muscle_name(point.trigger_point_id))
    figure = go.Figure(
        layout=_layout(
            f"Pressure holds (usual {ADVISED_PRESSURE[0]}-{ADVISED_PRESSURE[1]} s shaded)",
            yaxis={"title": {"text": "Seconds"}, "rangemode": "tozero"},
        )
    )
    figure.add_hrect(y0=ADVISED_PRESSURE[0], y1=ADVISED_PRESSURE[1], fillcolor="#e3f0ef", line_width=0, layer="below")
    figure.add_trace(
        go.Scatter(
            x=inside[0],
            y=inside[1],
            text=inside[2],
            name="Within range",
            mode="markers",
            marker={"color": "#2f6f73", "size": 6},
            hovertemplate="%{text}: %{y} s<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=outside[0],
            y=outside[1],
            text=outside[2],
            name="Outside range",
            mode="markers",
            marker={"color": "#a8271f", "size": 8, "symbol": "diamond"},
            hovertemplate="%{text}: %{y} s<extra></extra>",
        )
    )
    return figure
