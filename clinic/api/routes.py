"""Public JSON API over the knowledge base (DESIGN section 4: these shapes are a contract)."""

from flask import jsonify, request

from clinic.api import bp
from clinic.kb import knowledge_base
from clinic.kb.checker import UnknownRegionError, parse_regions, rank_candidates, red_flags


@bp.route("/regions")
def regions():
    return jsonify(
        [
            {"id": region.id, "name": region.name, "views": list(region.views)}
            for region in knowledge_base().regions.values()
        ]
    )


@bp.route("/muscles")
def muscles():
    return jsonify(
        [
            {"slug": muscle.slug, "name": muscle.name, "group": muscle.group}
            for muscle in knowledge_base().muscles.values()
        ]
    )


@bp.route("/muscles/<slug>")
def muscle(slug: str):
    kb = knowledge_base()
    found = kb.muscles.get(slug)
    if found is None:
        return jsonify(error="Not Found", message=f"no muscle with slug {slug!r}"), 404
    return jsonify(
        {
            "slug": found.slug,
            "name": found.name,
            "group": found.group,
            "trigger_points": [{"id": point.id, "location": point.location} for point in found.trigger_points],
            "refers_to": {"primary": list(found.refers_to.primary), "secondary": list(found.refers_to.secondary)},
            "conditions": list(found.conditions),
            "satellites": [satellite.slug for satellite in found.satellites],
            "keys": [key.slug for key in kb.keys[found.slug]],
            "cautions": [caution.text for caution in found.cautions],
        }
    )


@bp.route("/symptom-checker")
def symptom_checker():
    kb = knowledge_base()
    try:
        chosen = parse_regions(request.args.get("regions"), kb)
    except UnknownRegionError as error:
        return jsonify(error="Bad Request", message=str(error), unknown_regions=error.regions), 400
    return jsonify(
        {
            "regions": chosen,
            "candidates": [
                {
                    "slug": c.muscle.slug,
                    "name": c.muscle.name,
                    "score": c.score,
                    "primary": c.primary,
                    "secondary": c.secondary,
                }
                for c in rank_candidates(kb, chosen)
            ],
            "red_flags": red_flags(kb, chosen),
        }
    )
