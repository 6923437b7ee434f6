"""Template filters and globals."""

from datetime import date, datetime

import orjson
from flask import Flask
from markupsafe import Markup, escape

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


def field_markup(f, class_: str = "", **attributes) -> Markup:
    """One place for form markup: the label, the input (with `attributes`), help and error together, the error
    and help tied to the input (aria-describedby, aria-invalid). `field` in _macros.html. Written here rather
    than as a Jinja macro: a macro call cost ~0.1 ms a field, most of a field's time on pages of many fields."""
    attrs = {}
    described_by = []
    if f.description:
        described_by.append(f"{f.id}-help")
    if f.errors:
        described_by.append(f"{f.id}-error")
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    attrs.update(attributes)
    parts = [f'<div class="field {escape(class_)}{" has-error" if f.errors else ""}">']
    if f.type == "BooleanField":
        parts.append(f'\n      <label class="check">{f(**attrs)} {escape(f.label.text)}</label>')
    else:
        required = '<span class="required" aria-hidden="true"> *</span>' if f.flags.required else ""
        parts.append(f"\n      {f.label(class_='label')}{required}\n      {f(**attrs)}")
    if f.description:
        parts.append(f'\n    <p class="help" id="{escape(f.id)}-help">{escape(f.description)}</p>')
    if f.errors:
        parts.append(f'\n    <p class="error" id="{escape(f.id)}-error">{Markup(" ").join(f.errors)}</p>')
    parts.append("\n  </div>")
    return Markup("".join(parts))


def scale_markup(f) -> Markup:
    """Tap a number of the pain scale as well as typing it: shown by the page's script, which fills `f`'s input.
    `scale` in _macros.html; in Python for the same reason as `field_markup` (one per pain field and point row)."""
    low, high = rules.PAIN_RANGE
    steps = "".join(
        f'<button type="button" class="scale-step" tabindex="-1" data-scale-value="{n}" '
        f'aria-pressed="{"true" if f.data == n else "false"}">{n}</button>'
        for n in range(low, high + 1)
    )
    return Markup(
        f'\n  <div class="scale" role="group" aria-label="Tap a number from {low} to {high}" '
        f'data-scale-for="{escape(f.id)}" hidden>{steps}</div>'
    )


# What htmlsafe_json_dumps (Jinja's tojson) escapes, so the JSON can never end its <script> block or an attribute.
# Replaced one character at a time: str.translate slows to ~75 ns a character once the text holds one non-ASCII
# character (a muscle's "≤", a client's "é"), ~1 ms for a client page's figures.
_HTML_UNSAFE = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"))


def json_block(value) -> Markup:
    """`value` as JSON for a <script type="application/json"> block: what `tojson` gives (keys sorted, the same
    characters escaped), written by orjson (compact, UTF-8): the client page's figures carry thousands of values."""
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    for character, escaped in _HTML_UNSAFE:
        text = text.replace(character, escaped)
    return Markup(text)


def init_templating(app: Flask) -> None:
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_local_date, "date_only")
    app.add_template_filter(format_local_time, "time")
    app.add_template_filter(json_block, "json_block")
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
    app.add_template_global(field_markup, "field_markup")
    app.add_template_global(scale_markup, "scale_markup")

    @app.context_processor
    def knowledge_base_context():
        return {"kb": app.extensions["knowledge_base"]}
