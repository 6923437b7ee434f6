"""Safety on the session form, computed once here for the server-rendered page and its script's data: the
cautions of each muscle that meet a client's precautions (DESIGN 6a), self-care that does not suit them, the red
flags of the regions marked, and the order to release key and satellite muscles in (DESIGN 4a)."""

from dataclasses import dataclass, field
from typing import Any

from clinic.kb.base import KnowledgeBase
from clinic.kb.checker import red_flags
from clinic.kb.schema import Muscle
from clinic.precautions import PRECAUTIONS, known


@dataclass(frozen=True)
class MarkedCaution:
    text: str
    met: list[str]  # labels of the client's precautions this caution meets (empty: a general caution)


@dataclass(frozen=True)
class MarkedSelfCare:
    text: str
    unsuitable: list[str]  # labels of the client's precautions in its avoid_if


def cautions_for(muscle: Muscle, precautions: list[str] | None) -> list[MarkedCaution]:
    """The muscle's cautions, those meeting the client's precautions first."""
    chosen = set(known(precautions))
    marked = [
        MarkedCaution(caution.text, [PRECAUTIONS[p] for p in caution.precautions if p in chosen])
        for caution in muscle.cautions
    ]
    return sorted(marked, key=lambda caution: not caution.met)


def self_care_for(muscle: Muscle, precautions: list[str] | None) -> list[MarkedSelfCare]:
    chosen = set(known(precautions))
    return [
        MarkedSelfCare(note.text, [PRECAUTIONS[p] for p in note.avoid_if if p in chosen]) for note in muscle.self_care
    ]


@dataclass
class ReleaseStep:
    muscle: Muscle
    on_form: bool
    keeps_active: list[Muscle] = field(default_factory=list)  # satellites of this muscle among the steps
    released_after: list[Muscle] = field(default_factory=list)  # its key muscles among the steps


def release_order(kb: KnowledgeBase, slugs: list[str]) -> list[ReleaseStep]:
    """The muscles on the form that take part in a key -> satellite relation, with the key muscles of those
    satellites added (suggested, though not on the form), keys listed before their satellites.

    Keys of keys are followed too (lower trapezius keeps upper trapezius active, which keeps temporalis active).
    Muscles with no relation among them are left out: there is no order to suggest for them."""
    on_form = list(dict.fromkeys(slug for slug in slugs if slug in kb.muscles))
    involved = list(on_form)
    queue = list(on_form)
    while queue:  # climb to every key above the muscles on the form
        for key in kb.keys[queue.pop(0)]:
            if key.slug not in involved:
                involved.append(key.slug)
                queue.append(key.slug)
    chosen = set(involved)
    satellites = {slug: [s for s in kb.satellites_of(kb.muscles[slug]) if s.slug in chosen] for slug in involved}
    keys = {slug: [k for k in kb.keys[slug] if k.slug in chosen] for slug in involved}
    related = [slug for slug in involved if satellites[slug] or keys[slug]]
    # Kahn's topological sort, stable in the order above (the form's order, then suggested keys).
    waiting = {slug: len(keys[slug]) for slug in related}
    ordered: list[str] = []
    while waiting:
        ready = next((slug for slug in related if waiting.get(slug) == 0), None)
        if ready is None:  # a cycle in the data: list the rest as they come
            ordered += [slug for slug in related if slug in waiting]
            break
        ordered.append(ready)
        del waiting[ready]
        for satellite in satellites[ready]:
            if satellite.slug in waiting:
                waiting[satellite.slug] -= 1
    return [ReleaseStep(kb.muscles[slug], slug in on_form, satellites[slug], keys[slug]) for slug in ordered]


def session_safety(kb: KnowledgeBase, point_ids: list[str], regions: list[str]) -> dict[str, Any]:
    """What the session form shows besides each point: the red flags of the marked regions and the release order."""
    muscles = [kb.muscle_of(point_id).slug for point_id in point_ids if kb.muscle_of(point_id)]
    return {
        "red_flags": red_flags(kb, [region for region in regions if region in kb.regions]),
        "release_order": release_order(kb, muscles),
    }


def script_safety(kb: KnowledgeBase, precautions: list[str] | None) -> dict[str, Any]:
    """The same facts for the session form's script, so rows it adds show them before anything is saved."""
    return {
        "cautions": {
            slug: [{"text": c.text, "met": c.met} for c in cautions_for(muscle, precautions)]
            for slug, muscle in kb.muscles.items()
            if muscle.cautions
        },
        "unsuitableSelfCare": _unsuitable_self_care(kb, precautions),
        "keys": {slug: [k.slug for k in ks] for slug, ks in kb.keys.items() if ks},
        "redFlags": {region.id: list(region.red_flags) for region in kb.regions.values() if region.red_flags},
        "precautions": [PRECAUTIONS[p] for p in known(precautions)],
    }


def _unsuitable_self_care(kb: KnowledgeBase, precautions: list[str] | None) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for slug, muscle in kb.muscles.items():
        notes = [
            {"text": n.text, "unsuitable": n.unsuitable} for n in self_care_for(muscle, precautions) if n.unsuitable
        ]
        if notes:
            found[slug] = notes
    return found
