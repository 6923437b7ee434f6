"""A muscle as page scripts need it (name, link, referral zones, the view box that frames them): built here
once for the symptom checker and the session form."""

from typing import Any

from flask import url_for

from clinic.kb.base import KnowledgeBase
from clinic.kb.figure import focus_viewbox
from clinic.kb.schema import Muscle


def muscle_card(muscle: Muscle) -> dict[str, Any]:
    primary, secondary = list(muscle.refers_to.primary), list(muscle.refers_to.secondary)
    return {
        "name": muscle.name,
        "url": url_for("knowledge.muscle", slug=muscle.slug),
        "primary": primary,
        "secondary": secondary,
        "viewBox": focus_viewbox(primary + secondary),
    }


def muscle_cards(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    """Every muscle's card, built once per base (the pages that use them share it: do not change it)."""
    return kb.built_once("muscle_cards", lambda: {slug: muscle_card(muscle) for slug, muscle in kb.muscles.items()})
