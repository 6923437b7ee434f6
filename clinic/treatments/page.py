"""What the session form's page shows around the form: muscle suggestions, the point picker's names, an empty
row for the script to copy, and the script's data (as a JSON block: no inline script)."""

from typing import Any

from flask import url_for

from clinic.kb import KnowledgeBase
from clinic.kb.cards import muscle_card
from clinic.kb.checker import rank_candidates
from clinic.models import Client
from clinic.rules import SUGGESTIONS, for_pages
from clinic.safety import script_safety, session_safety
from clinic.treatments.forms import PointForm, SessionForm


def form_page(form: SessionForm, kb: KnowledgeBase, client: Client) -> dict[str, Any]:
    blank_row = PointForm(prefix="points-__index__-")
    blank_row.trigger_point.choices = form.point_choices
    regions = [region for region in form.pain_regions.data or [] if region in kb.regions]
    return {
        "kb": kb,
        "suggestions": rank_candidates(kb, regions)[:SUGGESTIONS],
        "blank_row": blank_row,
        "point_names": {point.id: point.name for point in kb.points()},
        "safety": session_safety(
            kb, [entry.form.trigger_point.data for entry in form.points if entry.form.trigger_point.data], regions
        ),
        "page_data": {**script_data(kb), "safety": script_safety(kb, client.precautions)},
    }


def script_data(kb: KnowledgeBase) -> dict[str, Any]:
    """Every muscle (as the symptom checker shows it, with its points) and every point's number and place."""
    return {
        "muscles": {
            slug: {**muscle_card(muscle), "points": [point.id for point in muscle.trigger_points]}
            for slug, muscle in kb.muscles.items()
        },
        "points": {
            point.id: {"muscle": point.muscle.slug, "number": point.number, "location": point.location}
            for point in kb.points()
        },
        "regionNames": kb.region_names,
        "api": url_for("api.symptom_checker"),
        "rules": for_pages(),
    }
