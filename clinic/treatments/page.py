"""What the session form's page shows around the form: muscle suggestions, the point picker's names, the time
quick choices, an empty row for the script to copy, and the script's data (as a JSON block: no inline script)."""

from typing import Any

from flask import get_template_attribute, url_for
from markupsafe import Markup

from clinic.clock import local_now
from clinic.kb import KnowledgeBase, sides
from clinic.kb.cards import muscle_cards
from clinic.kb.checker import rank_candidates
from clinic.kb.search import search_index
from clinic.models import Client, User
from clinic.rules import ADVISED_PRESSURE, QUICK_HOURS, SUGGESTIONS, for_pages
from clinic.safety import script_safety, session_safety
from clinic.treatments.forms import PointForm, SessionForm, point_options
from clinic.treatments.queries import end_of, therapists_last_today


def form_page(form: SessionForm, kb: KnowledgeBase, client: Client, user: User, scope: str) -> dict[str, Any]:
    regions = [region for region in sides.region_ids(form.pain_regions.data or []) if region in kb.regions]
    return {
        "kb": kb,
        "suggestions": rank_candidates(kb, regions)[:SUGGESTIONS],
        "constant_parts": kb.built_once("session_form_parts", lambda: constant_parts(kb, form.point_choices)),
        "safety": session_safety(
            kb, [entry.form.trigger_point.data for entry in form.points if entry.form.trigger_point.data], regions
        ),
        "region_sides": dict(sides.split(value) for value in form.pain_regions.data or []),
        "time_choices": time_choices(user),
        "page_data": {**script_data(kb, client, scope), "safety": script_safety(kb, client.precautions)},
    }


def constant_parts(kb: KnowledgeBase, point_choices) -> dict[str, Markup]:
    """The page's parts that depend on the knowledge base alone (treatments/_form_parts.html): the point picker's
    figures and what the script copies (an empty row, the whole point list, the small pictures). Rendered once per
    base: they are most of the page's bytes and would otherwise cost most of its time on every request."""
    blank_row = PointForm(prefix="points-__index__-")
    blank_row.trigger_point.choices = point_choices
    blank_row.trigger_point.compact = True  # the script fills it from the page's one list
    template = "treatments/_form_parts.html"
    return {
        "picker_figures": get_template_attribute(template, "picker_figures")(
            kb, {point.id: point.name for point in kb.points()}
        ),
        "script_templates": get_template_attribute(template, "script_templates")(
            kb, blank_row, point_options(point_choices)
        ),
    }


def time_choices(user: User) -> list[tuple[str, str]]:
    """One-tap start times ("HH:MM") for logging at the end of the day: now, right after the therapist's last
    session today, and the clinic's hours."""
    now = local_now()
    choices = [(f"Now ({now:%H:%M})", f"{now:%H:%M}")]
    last = therapists_last_today(user)
    if last is not None:
        after = end_of(last)
        if after.date() == now.date():
            choices.append((f"After the last session ({after:%H:%M})", f"{after:%H:%M}"))
    choices += [(f"{hour:02d}:00", f"{hour:02d}:00") for hour in QUICK_HOURS]
    return choices


def _knowledge_data(kb: KnowledgeBase) -> dict[str, Any]:
    """The part of the form's script data that is the knowledge base's alone: built once per base."""
    names = search_index(kb)
    cards = muscle_cards(kb)
    return {
        "muscles": {
            slug: {**cards[slug], "points": [point.id for point in muscle.trigger_points], "names": names[slug]}
            for slug, muscle in kb.muscles.items()
        },
        "points": {
            point.id: {"muscle": point.muscle.slug, "number": point.number, "location": point.location}
            for point in kb.points()
        },
        "pointOrder": [point.id for point in kb.points()],  # the base's order (JSON objects come sorted)
    }


def script_data(kb: KnowledgeBase, client: Client, scope: str) -> dict[str, Any]:
    """Every muscle (as the symptom checker shows it, with its points and the names the search knows), every
    point's number and place, and where drafts go."""
    return {
        **kb.built_once("session_form_data", lambda: _knowledge_data(kb)),
        "regionNames": kb.region_names,
        "api": url_for("api.symptom_checker"),
        "draft": {
            "save": url_for("treatments.draft_save", client_id=client.id),
            "discard": url_for("treatments.draft_discard", client_id=client.id),
            "scope": scope,
        },
        "rules": {**for_pages(), "timerCues": list(ADVISED_PRESSURE)},
    }
