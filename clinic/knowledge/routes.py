"""Public pages: the muscle list, a muscle's page and the symptom checker. No client data here."""

from flask import abort, render_template, request, url_for

from clinic.kb import knowledge_base
from clinic.kb.cards import muscle_cards
from clinic.kb.checker import UnknownRegionError, parse_regions, rank_candidates, red_flags, search_muscles
from clinic.kb.schema import REGION_GROUPS
from clinic.knowledge import bp


@bp.route("/knowledge/")
def index():
    text = request.args.get("q", "").strip()
    kb = knowledge_base()
    return render_template(
        "knowledge/index.html",
        groups=search_muscles(kb, text),
        q=text,
        total=len(kb.muscles),
        region_names=kb.region_names,
    )


@bp.route("/knowledge/<slug>")
def muscle(slug: str):
    kb = knowledge_base()
    found = kb.muscles.get(slug)
    if found is None:
        abort(404)
    return render_template(
        "knowledge/muscle.html",
        muscle=found,
        region_names=kb.region_names,
        satellites=kb.satellites_of(found),
        keys=kb.keys[found.slug],
    )


@bp.route("/symptom-checker")
def symptom_checker():
    kb = knowledge_base()
    # A plain form sends one `region` per ticked box; links and the script send `regions=a,b`.
    raw = ",".join(request.args.getlist("region") + request.args.getlist("regions"))
    try:
        regions = parse_regions(raw, kb)
    except UnknownRegionError as error:
        abort(400, description=str(error))
    return render_template(
        "knowledge/symptom_checker.html",
        regions=regions,
        candidates=rank_candidates(kb, regions),
        red_flags=red_flags(kb, regions),
        region_groups=REGION_GROUPS,
        region_names=kb.region_names,
        page_data={
            "muscles": muscle_cards(kb),
            "regionNames": kb.region_names,
            "api": url_for("api.symptom_checker"),
        },
    )
