"""The knowledge base content, the symptom checker's ranking, and the public knowledge pages."""

import pytest
from bs4 import BeautifulSoup

from clinic.kb import KnowledgeBase, knowledge_base
from clinic.kb.checker import UnknownRegionError, parse_regions, rank_candidates, search_muscles
from clinic.kb.schema import REGION_IDS, Muscle, Region
from tests.helpers import element, has_element, parse, text


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
            "sources": ["A test source."],
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
    page = parse(html)
    assert len(page.select(".body-figure")) == 2
    assert page.select('[data-tp="upper-trapezius/1"]')
    assert page.select('[data-region="temple"].is-primary') and page.select('[data-region="occiput"].is-secondary')
    assert "Self-care" in html and "does not diagnose" in html
    assert "<script>" not in html


def test_unknown_muscle_page_is_404(client):
    assert client.get("/knowledge/no-such-muscle").status_code == 404


def test_symptom_checker_page_works_without_javascript(client):
    html = text(client.get("/symptom-checker?region=heel&region=sole"))
    checked = {box["value"] for box in parse(html).select('input[type="checkbox"][checked]')}
    assert checked == {"heel", "sole"}
    assert has_element(html, 'a[href="/knowledge/soleus"]') or has_element(
        html, 'a[href="/knowledge/quadratus-plantae"]'
    )
    assert element(html, "script#checker-data")["type"] == "application/json"


def test_symptom_checker_page_rejects_unknown_region(client):
    response = client.get("/symptom-checker?regions=nowhere")
    assert response.status_code == 400 and "nowhere" in text(response)


def test_interactive_figure_regions_are_focusable_and_named(client):
    html = text(client.get("/symptom-checker"))
    figure = parse(html).select_one('[data-interactive="true"]')
    assert figure is not None
    temple = figure.select('[data-region="temple"]')
    assert temple and all(r.get("tabindex") == "0" and r.get("aria-label") == "Temple" for r in temple)


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


# --- second edition: evidence-ordered ranking (DESIGN 4a) ----------------------------------------------


def kb_with_sources(sources: dict[str, list[str]], *muscles: Muscle) -> KnowledgeBase:
    regions = {r: Region(id=r, name=r, views=["front"], common_sources=sources.get(r, [])) for r in REGION_IDS}
    return KnowledgeBase(regions=regions, muscles={m.slug: m for m in muscles})


LOW_BACK = {  # most frequent first, after the prevalence review of Monclús-Díez et al. 2025
    "low-back": ["quadratus-lumborum", "gluteus-medius", "iliocostalis"],
    "buttock": ["quadratus-lumborum", "gluteus-medius"],
}


def test_evidence_breaks_the_tie_that_names_used_to_break():
    kb = kb_with_sources(
        LOW_BACK,
        muscle("gluteus-medius", ["low-back"]),
        muscle("iliocostalis", ["low-back"]),
        muscle("quadratus-lumborum", ["low-back"]),
    )
    # alphabetically QL would come last; the evidence puts it first
    assert slugs(rank_candidates(kb, ["low-back"])) == ["quadratus-lumborum", "gluteus-medius", "iliocostalis"]


def test_a_muscle_left_out_of_common_sources_comes_after_every_listed_one():
    kb = kb_with_sources(LOW_BACK, muscle("aaa-unlisted", ["low-back"]), muscle("iliocostalis", ["low-back"]))
    ranked = rank_candidates(kb, ["low-back"])
    assert slugs(ranked) == ["iliocostalis", "aaa-unlisted"]
    assert [c.evidence for c in ranked] == [2, 3]


def test_evidence_never_outranks_a_primary_match_or_more_regions():
    kb = kb_with_sources(
        LOW_BACK,
        muscle("quadratus-lumborum", ["buttock"], ["low-back"]),  # first in both lists, but spillover in one
        muscle("gluteus-medius", ["low-back", "buttock"]),
        muscle("zz-unlisted", ["low-back"]),
    )
    ranked = rank_candidates(kb, ["low-back", "buttock"])
    assert slugs(ranked) == ["gluteus-medius", "quadratus-lumborum", "zz-unlisted"]
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 3


def test_higher_score_always_means_higher_place_with_evidence():
    kb = kb_with_sources(
        LOW_BACK,
        muscle("quadratus-lumborum", ["low-back", "buttock"]),
        muscle("gluteus-medius", ["low-back", "buttock"]),
        muscle("iliocostalis", ["low-back"], ["buttock"]),
    )
    ranked = rank_candidates(kb, ["low-back", "buttock"])
    assert slugs(ranked) == ["quadratus-lumborum", "gluteus-medius", "iliocostalis"]
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_readme_worked_example_on_the_shipped_base(app):
    """knowledge/README.md, "Ranking": low back and buttock."""
    ranked = rank_candidates(knowledge_base(), ["low-back", "buttock"])
    assert slugs(ranked)[:5] == [
        "gluteus-medius",
        "quadratus-lumborum",
        "iliocostalis",
        "longissimus-thoracis",
        "iliopsoas",
    ]
    assert [c.evidence for c in ranked[:4]] == [1, 1, 5, 9]


@pytest.mark.parametrize(
    ("region", "first"),
    [
        ("low-back", "quadratus-lumborum"),
        ("front-of-shoulder", "infraspinatus"),
        ("forearm-front", "pronator-teres"),
        ("shin", "tibialis-anterior"),
        ("ankle-inner", "abductor-hallucis"),
    ],
)
def test_shipped_regions_rank_their_most_frequent_source_first(app, region, first):
    assert rank_candidates(knowledge_base(), [region])[0].muscle.slug == first


def test_every_region_has_a_primary_referrer_and_common_sources(app):
    kb = knowledge_base()
    for region in kb.regions.values():
        assert any(kind == "primary" for _, kind in kb.referrers[region.id]), region.id
        assert region.common_sources and region.red_flags, region.id


def test_shipped_base_has_sources_and_enough_relations(app):
    kb = knowledge_base()
    assert len(kb.muscles) >= 100
    assert all(m.sources for m in kb.muscles.values())
    assert len(kb.relations()) >= 20
    assert ("quadratus-lumborum", "gluteus-minimus") in {(k.slug, s.slug) for k, s, _ in kb.relations()}


# --- second edition on the pages ---------------------------------------------------------------------


def test_muscle_page_says_which_to_release_first(client):
    soup = BeautifulSoup(text(client.get("/knowledge/upper-trapezius")), "html.parser")
    keys = soup.select_one("[data-keys]")
    assert [a["href"] for a in keys.select("a")] == ["/knowledge/lower-trapezius"]
    assert "release that muscle first" in keys.get_text(" ", strip=True)
    satellites = soup.select_one("[data-satellites]")
    assert "/knowledge/temporalis" in [a["href"] for a in satellites.select("a")]
    assert satellites.get_text(" ", strip=True).startswith("Often keeps")
    assert "release the upper trapezius first" in satellites.get_text(" ", strip=True)


def test_muscle_page_shows_cautions_factors_differentials_sources_and_unsuitable_self_care(client):
    soup = BeautifulSoup(text(client.get("/knowledge/gluteus-minimus")), "html.parser")
    assert any("posterior-approach hip replacement" in li.get_text() for li in soup.select("[data-cautions] li"))
    assert soup.select("[data-perpetuating] li") and soup.select("[data-also-consider] li")
    assert "chapter on the gluteus minimus" in soup.select_one("[data-sources]").get_text()
    notes = soup.select("[data-self-care]")
    assert len(notes) == 2
    assert notes[0].select_one(".not-for") is None
    assert notes[1].select_one(".not-for").get_text(strip=True) == "Not for: Hip replacement."


def test_a_muscle_without_relations_has_no_release_section(client):
    soup = BeautifulSoup(text(client.get("/knowledge/popliteus")), "html.parser")
    assert soup.select_one("[data-keys]") is None and soup.select_one("[data-satellites]") is None


def test_symptom_checker_page_shows_red_flags_for_the_public(client):
    soup = BeautifulSoup(text(client.get("/symptom-checker?region=calf")), "html.parser")
    box = soup.select_one("[data-red-flags]")
    assert not box.has_attr("hidden")
    assert box.select_one("h3").get_text(strip=True) == "See a physician first if any of these apply"
    items = box.select("[data-red-flag-list] li")
    assert items and all(li["data-flag-region"] == "calf" for li in items)
    assert any("swollen" in li.get_text() for li in items)


def test_symptom_checker_page_hides_red_flags_until_a_region_is_chosen(client):
    soup = BeautifulSoup(text(client.get("/symptom-checker")), "html.parser")
    box = soup.select_one("[data-red-flags]")
    assert box.has_attr("hidden") and not box.select("li")


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
