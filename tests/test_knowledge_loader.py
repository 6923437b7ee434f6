"""Validation of knowledge/: each kind of broken file is refused with its file, line, entry and reason."""

import os
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from clinic import create_app
from clinic.kb.loader import KnowledgeBaseError, load_knowledge_base
from clinic.kb.schema import REGION_IDS

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"

GOOD_MUSCLE = """\
muscles:
  - slug: upper-trapezius
    name: Upper trapezius
    group: head-neck
    trigger_points:
      - id: upper-trapezius/1
        location: Upper free border.
        position: {view: back, x: 150, y: 97}
    refers_to:
      primary: [side-of-neck, temple]
      secondary: [occiput]
    conditions: [tension headache]
    self_care: Stretch gently.
    sources: [Travell and Simons, chapter on the trapezius]
"""


def write_base(
    root: Path, muscles: str = GOOD_MUSCLE, regions: list[dict] | None = None, filename: str = "head-neck.yaml"
) -> Path:
    regions = regions if regions is not None else [{"id": r, "name": r.title(), "views": ["front"]} for r in REGION_IDS]
    (root / "muscles").mkdir(parents=True, exist_ok=True)
    (root / "regions.yaml").write_text(yaml.safe_dump({"regions": regions}, sort_keys=False))
    (root / "muscles" / filename).write_text(textwrap.dedent(muscles))
    return root


def problems_for(root: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    return [str(problem) for problem in caught.value.problems]


def test_a_valid_small_base_loads(tmp_path):
    kb = load_knowledge_base(write_base(tmp_path))
    assert list(kb.muscles) == ["upper-trapezius"]
    assert kb.point("upper-trapezius/1").muscle.slug == "upper-trapezius"
    assert [m.slug for m, kind in kb.referrers["temple"]] == ["upper-trapezius"]
    assert "only 1 muscles" in kb.completeness_problems()[0]


def test_unknown_region_is_named_with_file_and_line(tmp_path):
    root = write_base(tmp_path, GOOD_MUSCLE.replace("[occiput]", "[shoulder-top]"))
    [problem] = problems_for(root)
    assert problem.startswith(f"{root}/muscles/head-neck.yaml:11: upper-trapezius: ")
    assert "unknown region id 'shoulder-top'" in problem


def test_missing_field(tmp_path):
    root = write_base(tmp_path, GOOD_MUSCLE.replace("    self_care: Stretch gently.\n", ""))
    [problem] = problems_for(root)
    assert ":2: upper-trapezius: self_care: Field required" in problem


def test_position_outside_the_figure(tmp_path):
    root = write_base(tmp_path, GOOD_MUSCLE.replace("x: 150", "x: 900"))
    [problem] = problems_for(root)
    assert ":8: upper-trapezius: trigger_points.0.position.x:" in problem and "less than or equal to 240" in problem


def test_unknown_view(tmp_path):
    root = write_base(tmp_path, GOOD_MUSCLE.replace("view: back", "view: side"))
    assert "position.view" in problems_for(root)[0]


def test_duplicate_slug_across_files(tmp_path):
    root = write_base(tmp_path)
    (root / "muscles" / "trunk.yaml").write_text(GOOD_MUSCLE.replace("group: head-neck", "group: trunk"))
    problems = problems_for(root)
    assert any(
        "trunk.yaml:2: upper-trapezius: duplicate slug 'upper-trapezius' (first at head-neck.yaml:2)" in p
        for p in problems
    )
    assert any("duplicate trigger point id 'upper-trapezius/1'" in p for p in problems)


def test_duplicate_trigger_point_id(tmp_path):
    twice = GOOD_MUSCLE.replace(
        "    refers_to:",
        "      - id: upper-trapezius/1\n        location: Again.\n        position: {view: back, x: 150, y: 99}\n    refers_to:",
    )
    root = write_base(tmp_path, twice)
    assert any("listed more than once: upper-trapezius/1" in problem for problem in problems_for(root))


def test_trigger_point_id_must_belong_to_the_muscle(tmp_path):
    root = write_base(tmp_path, GOOD_MUSCLE.replace("id: upper-trapezius/1", "id: levator-scapulae/1"))
    assert "must start with 'upper-trapezius/'" in problems_for(root)[0]


def test_slug_must_be_kebab_case(tmp_path):
    root = write_base(
        tmp_path,
        GOOD_MUSCLE.replace("slug: upper-trapezius", "slug: Upper_Trapezius").replace(
            "upper-trapezius/1", "Upper_Trapezius/1"
        ),
    )
    assert any("slug" in problem and "pattern" in problem for problem in problems_for(root))


def test_region_in_both_primary_and_secondary(tmp_path):
    root = write_base(tmp_path, GOOD_MUSCLE.replace("[occiput]", "[temple]"))
    assert "both primary and secondary: temple" in problems_for(root)[0]


def test_group_must_match_the_file(tmp_path):
    root = write_base(tmp_path, filename="trunk.yaml")
    assert "group 'head-neck' belongs in head-neck.yaml" in problems_for(root)[0]


def test_unknown_field_is_refused(tmp_path):
    root = write_base(
        tmp_path, GOOD_MUSCLE.replace("    group: head-neck\n", "    group: head-neck\n    colour: red\n")
    )
    assert "colour: Extra inputs are not permitted" in problems_for(root)[0]


def test_broken_yaml_names_the_line(tmp_path):
    root = write_base(
        tmp_path, GOOD_MUSCLE.replace("primary: [side-of-neck, temple]", "primary: [side-of-neck, temple")
    )
    [problem] = problems_for(root)
    assert "head-neck.yaml:" in problem and "not valid YAML" in problem


def test_duplicate_key_in_an_entry(tmp_path):
    root = write_base(
        tmp_path, GOOD_MUSCLE.replace("    name: Upper trapezius\n", "    name: Upper trapezius\n    name: Trapezius\n")
    )
    assert "key 'name' appears twice" in problems_for(root)[0]


def test_regions_file_must_hold_every_region_once(tmp_path):
    regions = [{"id": r, "name": r, "views": ["front"]} for r in REGION_IDS[1:]]
    regions.append({"id": "temple", "name": "Temple again", "views": ["front"]})
    problems = problems_for(write_base(tmp_path, regions=regions))
    assert any("duplicate region id" in problem for problem in problems)


def test_missing_region_in_regions_file(tmp_path):
    regions = [{"id": r, "name": r, "views": ["front"]} for r in REGION_IDS[1:]]
    assert any(
        "missing region ids: vertex" in problem for problem in problems_for(write_base(tmp_path, regions=regions))
    )


def test_every_problem_is_reported_at_once(tmp_path):
    root = write_base(tmp_path, GOOD_MUSCLE.replace("x: 150", "x: 900").replace("[occiput]", "[nowhere]"))
    assert len(problems_for(root)) == 2


def test_broken_base_stops_the_app_from_starting(tmp_path):
    root = write_base(tmp_path, GOOD_MUSCLE.replace("[occiput]", "[nowhere]"))
    with pytest.raises(KnowledgeBaseError, match=r"head-neck.yaml:11: upper-trapezius: .*'nowhere'"):
        create_app("testing", {"KNOWLEDGE_DIR": str(root)})


def test_flask_kb_check_prints_the_problems_and_fails(tmp_path):
    import os
    import subprocess
    import sys

    root = write_base(tmp_path, GOOD_MUSCLE.replace("[occiput]", "[nowhere]"))
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app.py", "kb", "check"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "KNOWLEDGE_DIR": str(root)},
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        f"{root}/muscles/head-neck.yaml:11: upper-trapezius: refers_to.secondary.0: unknown region id 'nowhere'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_load_for_app_reuses_an_unchanged_base_and_reloads_a_changed_file(tmp_path):
    from clinic.kb import load_for_app

    root = shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")
    first = load_for_app(root)
    assert load_for_app(root) is first, "unchanged files: the base parsed before"
    assert first.muscles["upper-trapezius"].name == "Upper trapezius"

    changed = root / "muscles" / "head-neck.yaml"
    before = changed.stat().st_mtime_ns
    changed.write_text(changed.read_text().replace("name: Upper trapezius\n", "name: Upper trapezius (edited)\n", 1))
    os.utime(changed, ns=(before + 1_000_000_000, before + 1_000_000_000))  # a later mtime, whatever the clock
    second = load_for_app(root)
    assert second is not first and second.muscles["upper-trapezius"].name == "Upper trapezius (edited)"
    assert first.muscles["upper-trapezius"].name == "Upper trapezius", "the earlier base is not changed in place"
    assert load_for_app(root) is second
    assert load_for_app(KNOWLEDGE).muscles["upper-trapezius"].name == "Upper trapezius", "another directory"


# --- second edition fields (DESIGN 4a, 6a) -------------------------------------------------------------

SECOND_EDITION = GOOD_MUSCLE.replace(
    "    self_care: Stretch gently.\n",
    """\
    self_care:
      - text: Stretch gently.
      - text: Roll a ball firmly over it.
        avoid_if: [anticoagulants]
    satellites:
      - slug: upper-trapezius-two
        source: Travell and Simons, chapter on the trapezius
    perpetuating_factors: [forward head posture]
    also_consider: [cervical radiculopathy]
    cautions:
      - text: Keep off the hollow above the collarbone.
        precautions: [anticoagulants]
""",
)
SATELLITE = """\
  - slug: upper-trapezius-two
    name: Second muscle
    group: head-neck
    trigger_points:
      - id: upper-trapezius-two/1
        location: Elsewhere.
        position: {view: back, x: 160, y: 97}
    refers_to:
      primary: [temple]
    conditions: [tension headache]
    self_care: Rest.
    sources: [A public page]
"""


def line_of(path: Path, fragment: str) -> int:
    return next(n for n, row in enumerate(path.read_text().splitlines(), 1) if fragment in row)


def test_second_edition_fields_load(tmp_path):
    kb = load_knowledge_base(write_base(tmp_path, SECOND_EDITION + SATELLITE))
    trapezius = kb.muscles["upper-trapezius"]
    assert [note.avoid_if for note in trapezius.self_care] == [[], ["anticoagulants"]]
    assert [m.slug for m in kb.satellites_of(trapezius)] == ["upper-trapezius-two"]
    assert [m.slug for m in kb.keys["upper-trapezius-two"]] == ["upper-trapezius"]
    assert trapezius.cautions[0].precautions == ["anticoagulants"]


def test_a_muscle_without_sources_is_refused(tmp_path):
    root = write_base(
        tmp_path, GOOD_MUSCLE.replace("    sources: [Travell and Simons, chapter on the trapezius]\n", "")
    )
    [problem] = problems_for(root)
    assert problem.startswith(f"{root}/muscles/head-neck.yaml:2: upper-trapezius: no source")


def test_unknown_satellite_slug_is_named_with_its_line(tmp_path):
    root = write_base(tmp_path, SECOND_EDITION)  # the satellite muscle is missing
    path = root / "muscles" / "head-neck.yaml"
    [problem] = problems_for(root)
    assert problem == (
        f"{path}:{line_of(path, 'slug: upper-trapezius-two')}: upper-trapezius: "
        "satellites: unknown muscle slug 'upper-trapezius-two'"
    )


def test_a_muscle_cannot_be_its_own_satellite(tmp_path):
    root = write_base(tmp_path, SECOND_EDITION.replace("slug: upper-trapezius-two", "slug: upper-trapezius"))
    assert "a muscle cannot be its own satellite" in problems_for(root)[0]


@pytest.mark.parametrize("where", ["avoid_if: [anticoagulants]", "precautions: [anticoagulants]"])
def test_unknown_precaution_id_is_named_with_its_line(tmp_path, where):
    root = write_base(
        tmp_path, SECOND_EDITION.replace(where, where.replace("anticoagulants", "blood-thinners")) + SATELLITE
    )
    path = root / "muscles" / "head-neck.yaml"
    [problem] = problems_for(root)
    assert problem.startswith(f"{path}:{line_of(path, 'blood-thinners')}: upper-trapezius: ")
    assert "unknown precaution id 'blood-thinners'" in problem


def regions_with(region: str, **fields) -> list[dict]:
    regions = [{"id": r, "name": r.title(), "views": ["front"]} for r in REGION_IDS]
    next(r for r in regions if r["id"] == region).update(fields)
    return regions


def test_unknown_common_source_is_named_with_its_line(tmp_path):
    root = write_base(tmp_path, regions=regions_with("temple", common_sources=["upper-trapezius", "temporalis"]))
    path = root / "regions.yaml"
    [problem] = problems_for(root)
    assert (
        problem == f"{path}:{line_of(path, '- temporalis')}: temple: common_sources: unknown muscle slug 'temporalis'"
    )


def test_a_common_source_must_refer_to_its_region(tmp_path):
    root = write_base(tmp_path, regions=regions_with("heel", common_sources=["upper-trapezius"]))
    assert "common_sources: 'upper-trapezius' does not refer pain to 'heel'" in problems_for(root)[0]


def test_a_region_with_no_primary_referrer_is_reported_with_its_line(tmp_path):
    root = write_base(tmp_path)
    kb = load_knowledge_base(root)  # valid, so start-up goes on; `flask kb check` reports it
    path = root / "regions.yaml"
    problems = [str(problem) for problem in kb.coverage_problems]
    heel = f"{path}:{line_of(path, 'id: heel')}: heel: no muscle has this region in its primary (essential) zone"
    assert heel in problems
    assert not any(": temple: no muscle" in problem for problem in problems)  # temple is in the primary zone
    assert heel in kb.completeness_problems()
