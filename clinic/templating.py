"""Template filters and globals."""

from datetime import date, datetime

from flask import Flask

from clinic import rules
from clinic.clock import clinic_today, to_local
from clinic.forms import error_links
from clinic.kb import sides
from clinic.kb.figure import focus_viewbox, render_base, render_figure, render_reused
from clinic.precautions import labels as precaution_labels
from clinic.safety import cautions_for, self_care_for


def format_date(value: date | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def format_local_date(value: datetime | None) -> str:
    """A stored moment as the calendar date in the clinic."""
    return format_date(to_local(value).date()) if value else ""


def format_datetime(value: datetime | None) -> str:
    """In the clinic's time zone (config CLINIC_TIMEZONE); stored values are UTC."""
    if value is None:
        return ""
    return to_local(value).strftime("%-d %b %Y, %H:%M")


def format_local_time(value: datetime | None) -> str:
    """A stored moment as the clinic's wall-clock time, HH:MM."""
    return to_local(value).strftime("%H:%M") if value else ""


def age_on(born: date, today: date | None = None) -> int:
    today = today or clinic_today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def init_templating(app: Flask) -> None:
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_local_date, "date_only")
    app.add_template_filter(format_local_time, "time")
    app.add_template_global(age_on, "age_on")
    app.add_template_global(render_figure, "figure")
    app.add_template_global(focus_viewbox, "focus_viewbox")
    app.add_template_global(render_base, "figure_base")
    app.add_template_global(render_reused, "figure_reused")
    app.add_template_global(rules, "rules")
    app.add_template_global(precaution_labels, "precaution_labels")
    app.add_template_global(cautions_for, "safety_cautions")
    app.add_template_global(self_care_for, "safety_self_care")
    app.add_template_global(sides.label, "region_label")
    app.add_template_global(error_links, "error_links")

    @app.context_processor
    def knowledge_base_context():
        return {"kb": app.extensions["knowledge_base"]}
