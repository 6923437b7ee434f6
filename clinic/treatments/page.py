"""What the session form's page shows around the form: muscle suggestions, the time quick choices, the script's
data (as a JSON block: no inline script), and the address of the form's kit: what the page's script needs from the
knowledge base alone (the point picker's figures, the rows it copies, every muscle and point), fetched once and
kept by the browser. The parts that do not change from one request to the next are rendered once and kept with the
knowledge base."""

import hashlib
from dataclasses import dataclass
from typing import Any

from flask import get_template_attribute, url_for
from markupsafe import Markup

from clinic.clock import local_now
from clinic.kb import KnowledgeBase, sides
from clinic.kb.cards import muscle_cards
from clinic.kb.checker import rank_candidates
from clinic.kb.search import search_index
from clinic.models import Client, User
from clinic.precautions import known
from clinic.rules import ADVISED_PRESSURE, QUICK_HOURS, SUGGESTIONS, for_pages
from clinic.safety import script_safety, session_safety
from clinic.templating import json_block
from clinic.treatments.forms import PointForm, SessionForm, form_choices, point_options
from clinic.treatments.queries import end_of, therapists_last_today


def form_page(form: SessionForm, kb: KnowledgeBase, client: Client, user: User, scope: str) -> dict[str, Any]:
    regions = [region for region in sides.region_ids(form.pain_regions.data or []) if region in kb.regions]
    region_sides = dict(sides.split(value) for value in form.pain_regions.data or [])
    return {
        "kb": kb,
        "suggestions": rank_candidates(kb, regions)[:SUGGESTIONS],
        "kit_url": url_for("treatments.form_kit", version=form_kit(kb).version),
        "region_checks": region_checks(kb, region_sides),
        "blank_row": lambda row: blank_row(kb, row),
        "safety": session_safety(
            kb, [entry.form.trigger_point.data for entry in form.points if entry.form.trigger_point.data], regions
        ),
        "time_choices": time_choices(user),
        "page_data": script_json(kb, client, scope),
    }


KIT_VERSION_LENGTH = 20  # hex digits of the kit's digest


@dataclass(frozen=True)
class FormKit:
    body: str
    version: str  # a digest of the body: its URL changes whenever the body does


def form_kit(kb: KnowledgeBase) -> FormKit:
    """The session form's parts that depend on the knowledge base alone, as one HTML document for the page's script
    (treatments/_form_parts.html): the point picker's figures, what the script copies (an empty row, the whole point
    list, the small pictures) and the script's knowledge data. They were two thirds of the form's bytes; served
    apart under a versioned URL, the browser keeps them and each form sends the rest. Built once per base."""
    return kb.built_once("session_form_kit", lambda: _build_kit(kb))


def _build_kit(kb: KnowledgeBase) -> FormKit:
    point_choices = form_choices(kb)[1]
    blank_row = PointForm(prefix="points-__index__-")
    blank_row.trigger_point.choices = point_choices
    blank_row.trigger_point.compact = True  # the script fills it from the kit's one list
    point_names = {point.id: point.name for point in kb.points()}
    body = str(_part("form_kit")(kb, point_names, blank_row, point_options(point_choices), kit_data(kb)))
    return FormKit(body, hashlib.sha256(body.encode()).hexdigest()[:KIT_VERSION_LENGTH])


def region_checks(kb: KnowledgeBase, region_sides: dict[str, str]) -> Markup:
    """The list of areas to tick, with those ticked (and their sides): rendered once per choice of areas and kept
    with the base (the last PARTS_KEPT choices; a new form has none ticked)."""
    return _kept(
        kb,
        "session_form_region_checks",
        tuple(sorted(region_sides.items())),
        lambda: _part("region_checks")(kb, region_sides),
    )


def blank_row(kb: KnowledgeBase, row: PointForm) -> Markup:
    """An untouched point row (`PointForm.is_untouched`): its markup depends on its place (the field names) alone,
    so it is rendered once per place and kept with the base."""
    return _kept(
        kb,
        "session_form_blank_rows",
        row._prefix,
        lambda: get_template_attribute("treatments/_point_row.html", "point_row")(row, kb),
    )


PARTS_KEPT = 64


def _kept(kb: KnowledgeBase, kind: str, key, build):
    """`build()`'s result for this key, made once and kept with the base (the last PARTS_KEPT keys of a kind)."""
    kept = kb.built_once(kind, dict)
    value = kept.get(key)  # read once: another thread may clear the dict in between
    if value is None:
        value = build()
        if len(kept) >= PARTS_KEPT:  # a sent form may name its rows with any numbers
            kept.clear()
        kept[key] = value
    return value


def _part(name: str):
    return get_template_attribute("treatments/_form_parts.html", name)


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


def kit_data(kb: KnowledgeBase) -> dict[str, Any]:
    """The kit's part of the form's script data: every muscle (as the symptom checker shows it, with its points and
    the names the search knows), every point's number and place, the regions' names and the rules."""
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
        "regionNames": kb.region_names,
        "rules": {**for_pages(), "timerCues": list(ADVISED_PRESSURE)},
    }


def script_data(kb: KnowledgeBase, client: Client, scope: str) -> dict[str, Any]:
    """The page's own part of the form's script data (the script adds the kit's): where drafts go and the muscle
    search's address, and the safety facts of the client's precautions."""
    return {**_request_data(client, scope), "safety": script_safety(kb, client.precautions)}


def script_json(kb: KnowledgeBase, client: Client, scope: str) -> Markup:
    """`script_data` as the page's JSON block holds it, the same text as `|json_block` (keys sorted, HTML-safe): the
    safety facts are serialized once per set of precautions (kept with the base, the last PARTS_KEPT sets)."""
    parts = {key: json_block(value) for key, value in _request_data(client, scope).items()}
    precautions = tuple(known(client.precautions))
    parts["safety"] = _kept(
        kb, "session_form_safety_json", precautions, lambda: json_block(script_safety(kb, list(precautions)))
    )
    return Markup("{" + ",".join(f"{json_block(key)}:{parts[key]}" for key in sorted(parts)) + "}")


def _request_data(client: Client, scope: str) -> dict[str, Any]:
    return {
        "api": url_for("api.symptom_checker"),
        "draft": {
            "save": url_for("treatments.draft_save", client_id=client.id),
            "discard": url_for("treatments.draft_discard", client_id=client.id),
            "scope": scope,
        },
    }
