"""The knowledge base content, the symptom checker's ranking, and the public knowledge pages."""

import pytest

from clinic.kb import KnowledgeBase, knowledge_base
from clinic.kb.checker import UnknownRegionError, parse_regions, rank_candidates, search_muscles
from clinic.kb.schema import REGION_IDS, Muscle, Region
from tests.helpers import text


def muscle(slug: str, primary: list[str], secondary: list[str] = (), name: str | None = None) -> Muscle:
    return Muscle.model_validate(
        {
            "slug": slug,
            "name": name or slug.replace("-", " ").title(),
            "group": "trunk",
            "trigger_points": [
                {"id": f"{slug}/1", "location": "Somewhere.", "position": {"view": "front", "x": 1, "y": 1}}
            ],
            "refers_to": {"primary": primary, "secondary": list(secondary)},
            "conditions": ["test"],
            "self_care": "Rest.",
        }
    )


def small_kb(*muscles: Muscle) -> KnowledgeBase:
    regions = {r: Region(id=r, name=r, views=["front"]) for r in REGION_IDS}
    return KnowledgeBase(regions=regions, muscles={m.slug: m for m in muscles})


def slugs(candidates) -> list[str]:
    return [c.muscle.slug for c in candidates]


# --- ranking rules ---------------------------------------------------------------------------------


def test_primary_beats_secondary():
    kb = small_kb(muscle("spill", ["chest"], ["heel"]), muscle("main", ["heel"]))
    ranked = rank_candidates(kb, ["heel"])
    assert slugs(ranked) == ["main", "spill"]
    assert ranked[0].primary == ["heel"] and ranked[1].secondary == ["heel"]


def test_more_matched_regions_beats_fewer_even_if_only_spillover():
    kb = small_kb(muscle("one-primary", ["heel"]), muscle("two-secondary", ["chest"], ["heel", "sole"]))
    assert slugs(rank_candidates(kb, ["heel", "sole"])) == ["two-secondary", "one-primary"]


def test_with_equal_matches_more_primary_wins():
    kb = small_kb(muscle("mixed", ["heel"], ["sole"]), muscle("both-primary", ["heel", "sole"]))
    assert slugs(rank_candidates(kb, ["heel", "sole"])) == ["both-primary", "mixed"]


def test_ties_are_alphabetical_and_stable():
    kb = small_kb(muscle("zeta", ["heel"]), muscle("alpha", ["heel"]), muscle("mid", ["heel"]))
    first = rank_candidates(kb, ["heel"])
    assert slugs(first) == ["alpha", "mid", "zeta"]
    assert len({c.score for c in first}) == 1
    assert slugs(rank_candidates(kb, ["heel"])) == slugs(first)


def test_muscles_not_referring_there_are_left_out():
    kb = small_kb(muscle("elsewhere", ["chest"]))
    assert rank_candidates(kb, ["heel"]) == []


def test_parse_regions_names_unknown_ids():
    kb = small_kb()
    with pytest.raises(UnknownRegionError) as caught:
        parse_regions("heel,foot,sole,toe", kb)
    assert caught.value.regions == ["foot", "toe"]


# --- the real knowledge base -----------------------------------------------------------------------


def test_real_base_is_complete(app):
    kb = knowledge_base()
    assert kb.completeness_problems() == []
    assert len(kb.muscles) >= 40


def test_figure_draws_exactly_the_views_regions_yaml_names(app):
    from clinic.kb.figure import figure_regions

    kb = knowledge_base()
    for view in ("front", "back"):
        drawn = figure_regions(view)
        assert len(drawn) == len(set(drawn)), f"a region drawn twice in the {view} view"
        assert set(drawn) == {region.id for region in kb.regions.values() if view in region.views}, view


def test_every_region_is_a_referral_target(app):
    kb = knowledge_base()
    for region in REGION_IDS:
        assert kb.referrers[region], f"no muscle refers to {region}"


@pytest.mark.parametrize(
    "slug",
    [
        "upper-trapezius",
        "levator-scapulae",
        "sternocleidomastoid",
        "scalenes",
        "suboccipitals",
        "splenius-capitis",
        "temporalis",
        "masseter",
        "lateral-pterygoid",
        "infraspinatus",
        "supraspinatus",
        "subscapularis",
        "teres-minor",
        "deltoid",
        "rhomboids",
        "pectoralis-major",
        "pectoralis-minor",
        "biceps-brachii",
        "brachialis",
        "triceps-brachii",
        "supinator",
        "quadratus-lumborum",
        "iliopsoas",
        "multifidus",
        "gluteus-maximus",
        "gluteus-medius",
        "gluteus-minimus",
        "piriformis",
        "rectus-femoris",
        "vastus-medialis",
        "vastus-lateralis",
        "tensor-fasciae-latae",
        "gastrocnemius",
        "soleus",
        "tibialis-anterior",
        "quadratus-plantae",
        "abductor-hallucis",
    ],
)
def test_daily_muscles_are_present(app, slug):
    assert slug in knowledge_base().muscles


@pytest.mark.parametrize(
    "regions, expected_in_top",
    [
        (["temple"], "upper-trapezius"),
        (["heel"], "soleus"),
        (["front-of-shoulder"], "infraspinatus"),
        (["low-back", "buttock"], "quadratus-lumborum"),
        (["elbow-lateral"], "supinator"),
        (["teeth"], "masseter"),
    ],
)
def test_classic_patterns_surface_first(app, regions, expected_in_top):
    ranked = rank_candidates(knowledge_base(), regions)
    assert expected_in_top in slugs(ranked)[:5], slugs(ranked)[:5]


def test_search_by_name_condition_and_region(app):
    kb = knowledge_base()

    def found(query):
        return {m.slug for muscles in search_muscles(kb, query).values() for m in muscles}

    assert "masseter" in found("masset")
    assert "upper-trapezius" in found("tension headache")
    assert "soleus" in found("heel")
    assert found("no such thing at all") == set()


# --- pages -----------------------------------------------------------------------------------------


def test_knowledge_list_is_public_and_grouped(client):
    html = text(client.get("/knowledge/"))
    for group in ["Head and neck", "Shoulder and arm", "Forearm and hand", "Trunk", "Hip and thigh", "Leg and foot"]:
        assert group in html
    assert 'href="/knowledge/upper-trapezius"' in html
    assert "does not diagnose" in html


def test_knowledge_search_empty_state(client):
    html = text(client.get("/knowledge/?q=zzzz"))
    assert "No muscle matches" in html


def test_muscle_page_shows_figure_points_zones_and_disclaimer(client):
    response = client.get("/knowledge/upper-trapezius")
    html = text(response)
    assert response.status_code == 200
    assert html.count('class="body-figure') == 2
    assert 'data-tp="upper-trapezius/1"' in html
    assert 'data-region="temple"' in html and "is-primary" in html and "is-secondary" in html
    assert "Self-care" in html and "does not diagnose" in html
    assert "<script>" not in html


def test_unknown_muscle_page_is_404(client):
    assert client.get("/knowledge/no-such-muscle").status_code == 404


def test_symptom_checker_page_works_without_javascript(client):
    html = text(client.get("/symptom-checker?region=heel&region=sole"))
    assert 'value="heel" checked' in html and 'value="sole" checked' in html
    assert 'href="/knowledge/soleus"' in html or 'href="/knowledge/quadratus-plantae"' in html
    assert 'type="application/json" id="checker-data"' in html


def test_symptom_checker_page_rejects_unknown_region(client):
    response = client.get("/symptom-checker?regions=nowhere")
    assert response.status_code == 400 and "nowhere" in text(response)


def test_interactive_figure_regions_are_focusable_and_named(client):
    html = text(client.get("/symptom-checker"))
    assert 'data-interactive="true"' in html
    assert 'tabindex="0"' in html and 'aria-label="Temple"' in html


def test_kb_check_command(runner):
    result = runner.invoke(args=["kb", "check"])
    assert result.exit_code == 0, result.output
    assert "Knowledge base OK" in result.output


def test_kb_check_fails_on_an_incomplete_base(runner, app, tmp_path):
    from clinic.kb import load_for_app
    from tests.test_knowledge_loader import write_base

    app.extensions["knowledge_base"] = load_for_app(write_base(tmp_path))
    app.config["KNOWLEDGE_DIR"] = str(tmp_path)
    result = runner.invoke(args=["kb", "check"])
    assert result.exit_code == 1 and "only 1 muscles" in result.output


# --- the session form's point search (clinic/kb/search.py) ---------------------------------------------

from clinic.kb import sides  # noqa: E402
from clinic.kb.search import Query, score, search_points, words  # noqa: E402

# What therapists type, and the point Enter must take (the failures first).
TOP_RESULT = [
    ("upper trapezius", "upper-trapezius/1"),
    ("gastroc", "gastrocnemius/1"),
    ("trap 1", "upper-trapezius/1"),
    ("SCM", "sternocleidomastoid/1"),
    ("scm 2", "sternocleidomastoid/2"),
    ("QL", "quadratus-lumborum/1"),
    ("ql 1", "quadratus-lumborum/1"),
    ("TFL", "tensor-fasciae-latae/1"),
    ("traps", "upper-trapezius/1"),
    ("lats", "latissimus-dorsi/1"),
    ("upper trap 2", "upper-trapezius/2"),
    ("Upper Trap point 2", "upper-trapezius/2"),
    ("infraspinatus 2", "infraspinatus/2"),
    ("glute med 2", "gluteus-medius/2"),
    ("levator", "levator-scapulae/1"),
    ("lower traps", "lower-trapezius/1"),
]


@pytest.mark.parametrize(("query", "expected"), TOP_RESULT)
def test_search_takes_the_muscle_named_not_a_location_that_mentions_it(app, query, expected):
    found = search_points(knowledge_base(), query)
    assert found, query
    assert found[0][0].id == expected


def test_a_name_outranks_every_location_match(app):
    found = search_points(knowledge_base(), "upper trapezius", limit=20)
    ids = [point.id for point, _ in found]
    assert ids[:2] == ["upper-trapezius/1", "upper-trapezius/2"]
    # Levator scapulae's location mentions the upper trapezius: it may follow, never lead.
    assert "levator-scapulae/1" in ids[2:]


def test_abbreviations_come_from_the_knowledge_base_aliases(app):
    kb = knowledge_base()
    for alias, slug in (("scm", "sternocleidomastoid"), ("ql", "quadratus-lumborum"), ("tfl", "tensor-fasciae-latae")):
        assert alias.upper() in [a.upper() for a in kb.muscles[slug].aliases]
        assert search_points(kb, alias)[0][0].muscle.slug == slug


def test_nothing_matches_gives_nothing(app):
    assert search_points(knowledge_base(), "zzzz") == []
    assert search_points(knowledge_base(), "2") == []  # a number alone names no muscle


def test_score_tiers_and_numbers():
    names = [["upper", "trapezius"], ["traps"]]
    location = words("Middle of the upper free border")
    assert score(names, location, 1, Query.parse("upper trapezius")) == 100
    prefix = score(names, location, 1, Query.parse("upper trap"))
    assert 60 < prefix < 100
    assert score(names, location, 1, Query.parse("free border")) < 20  # location words only
    assert (
        score(names, location, 1, Query.parse("upper trap 1"))
        > prefix
        > score(names, location, 2, Query.parse("upper trap 1"))
    )
    assert score(names, location, 1, Query.parse("deltoid")) == 0
    assert Query.parse("UT point 2") == Query(("ut",), 2)


def test_region_sides_read_back():
    names = {"temple": "Temple", "low-back": "Low back"}
    assert sides.split("temple:left") == ("temple", "left") and sides.split("low-back") == ("low-back", None)
    assert sides.labels(["temple:both", "low-back"], names) == ["Temple (both sides)", "Low back"]
    assert sides.region_ids(["temple:left", "temple:right", "low-back"]) == ["temple", "low-back"]
    assert sides.merged(["temple:left", "temple:right", "jaw"]) == ["temple:both", "jaw"]
    assert sides.is_valid("temple:right", names) and not sides.is_valid("temple:up", names)
    assert not sides.is_valid("elbow-front", names) and not sides.is_valid("temple:left:right", names)
