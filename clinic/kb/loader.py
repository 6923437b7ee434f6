"""Load the YAML knowledge base, validate it, and say exactly where a problem is: file, line, entry, reason."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import ValidationError

from clinic.kb.base import KnowledgeBase
from clinic.kb.schema import MUSCLE_GROUPS, REGION_IDS, Muscle, Region

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    entry: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.entry}: {self.reason}"


class KnowledgeBaseError(click.ClickException):
    """A click exception so that any `flask` command (`flask kb check`, `flask run`) stops with the list
    of problems and exit code 1 instead of a traceback; elsewhere it is an ordinary exception."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listing = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"the knowledge base has {len(problems)} problem(s):\n{listing}")


def load_knowledge_base(directory: Path) -> KnowledgeBase:
    """Read regions.yaml and muscles/*.yaml; raise KnowledgeBaseError listing every problem found."""
    problems: list[Problem] = []
    region_entries: list[tuple[Region, yaml.Node, Any]] = []
    muscle_entries: list[tuple[Muscle, yaml.Node, Any, Path]] = []
    regions = _load_regions(directory, problems, region_entries)
    muscles = _load_muscles(directory, problems, muscle_entries)
    if not problems:
        _check_references(directory, region_entries, muscle_entries, problems)
    if problems:
        raise KnowledgeBaseError(problems)
    ordered = sorted(muscles, key=lambda m: (list(MUSCLE_GROUPS).index(m.group), m.name.lower()))
    kb = KnowledgeBase(
        regions={region.id: region for region in regions}, muscles={muscle.slug: muscle for muscle in ordered}
    )
    kb.coverage_problems = _coverage_problems(directory, kb, region_entries)
    return kb


def _check_references(
    directory: Path,
    region_entries: list[tuple[Region, yaml.Node, Any]],
    muscle_entries: list[tuple[Muscle, yaml.Node, Any, Path]],
    problems: list[Problem],
) -> None:
    """Slugs named in `satellites` and in a region's `common_sources` must be muscles of the base."""
    by_slug = {muscle.slug: muscle for muscle, *_ in muscle_entries}
    slugs = set(by_slug)
    for muscle, node, data, path in muscle_entries:
        for index, satellite in enumerate(muscle.satellites):
            if satellite.slug not in slugs:
                problems.append(
                    _problem(
                        path, node, data, f"satellites: unknown muscle slug {satellite.slug!r}", ("satellites", index)
                    )
                )
    path = directory / "regions.yaml"
    for region, node, data in region_entries:
        for index, slug in enumerate(region.common_sources):
            where = ("common_sources", index)
            if slug not in slugs:
                problems.append(_problem(path, node, data, f"common_sources: unknown muscle slug {slug!r}", where))
            elif region.id not in by_slug[slug].refers_to.primary + by_slug[slug].refers_to.secondary:
                reason = f"common_sources: {slug!r} does not refer pain to {region.id!r} (its refers_to)"
                problems.append(_problem(path, node, data, reason, where))


def _coverage_problems(directory: Path, kb: KnowledgeBase, region_entries) -> list[Problem]:
    """What a valid base still lacks to ship (reported by `flask kb check`, not fatal at start-up)."""
    path = directory / "regions.yaml"
    problems = []
    for region, node, data in region_entries:
        if not any(kind == "primary" for _, kind in kb.referrers[region.id]):
            problems.append(_problem(path, node, data, "no muscle has this region in its primary (essential) zone"))
        elif not region.common_sources:
            problems.append(
                _problem(path, node, data, "no common_sources: list the usual muscles, most frequent first")
            )
    return problems


def _load_regions(directory: Path, problems: list[Problem], found: list) -> list[Region]:
    path = directory / "regions.yaml"
    entries = _read_entries(path, "regions", problems)
    regions = []
    for node, data in entries:
        region = _validate(Region, node, data, path, problems)
        if region:
            regions.append(region)
            found.append((region, node, data))
    counts = Counter(region.id for region in regions)
    for node, data in entries:
        if counts.get(data.get("id") if isinstance(data, dict) else None, 0) > 1:
            problems.append(_problem(path, node, data, "duplicate region id"))
    if entries and not any(p.file == str(path) for p in problems):
        missing = [region for region in REGION_IDS if region not in counts]
        if missing:
            problems.append(Problem(str(path), 1, "regions", f"missing region ids: {', '.join(missing)}"))
    return regions


def _load_muscles(directory: Path, problems: list[Problem], found: list) -> list[Muscle]:
    files = sorted((directory / "muscles").glob("*.yaml"))
    if not files:
        problems.append(Problem(str(directory / "muscles"), 0, "muscles", "no muscle files (*.yaml) found"))
    muscles: list[Muscle] = []
    first_seen: dict[str, str] = {}
    for path in files:
        for node, data in _read_entries(path, "muscles", problems):
            muscle = _validate(Muscle, node, data, path, problems)
            if muscle is None:
                continue
            if muscle.group != path.stem:
                problems.append(
                    _problem(path, node, data, f"group {muscle.group!r} belongs in {muscle.group}.yaml", ("group",))
                )
            for key in [muscle.slug] + [point.id for point in muscle.trigger_points]:
                here = f"{path.name}:{node.start_mark.line + 1}"
                if key in first_seen:
                    what = "slug" if key == muscle.slug else "trigger point id"
                    problems.append(
                        _problem(path, node, data, f"duplicate {what} {key!r} (first at {first_seen[key]})")
                    )
                else:
                    first_seen[key] = here
            muscles.append(muscle)
            found.append((muscle, node, data, path))
    return muscles


def _read_entries(path: Path, key: str, problems: list[Problem]) -> list[tuple[yaml.Node, Any]]:
    """The items of the top-level list `key`, each with its YAML node (for line numbers)."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=_Loader)
    except OSError as error:
        problems.append(Problem(str(path), 0, key, f"cannot read: {error.strerror}"))
        return []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problems.append(Problem(str(path), line, key, f"not valid YAML: {getattr(error, 'problem', error)}"))
        return []
    duplicate = _first_duplicate_key(root)
    if duplicate is not None:
        problems.append(Problem(str(path), duplicate[1], key, f"key {duplicate[0]!r} appears twice in one entry"))
        return []
    data = yaml.load(text, Loader=_Loader)
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict) or not isinstance(data.get(key), list):
        problems.append(Problem(str(path), 1, key, f"expected a top-level '{key}:' list"))
        return []
    items_node = next(value for name, value in root.value if name.value == key)
    return list(zip(items_node.value, data[key], strict=True))


def _validate(model, node: yaml.Node, data: Any, path: Path, problems: list[Problem]):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            where = ".".join(str(part) for part in detail["loc"])
            reason = detail["msg"].removeprefix("Value error, ")
            problems.append(_problem(path, node, data, f"{where}: {reason}" if where else reason, detail["loc"]))
        return None


def _problem(path: Path, node: yaml.Node, data: Any, reason: str, loc: tuple = ()) -> Problem:
    return Problem(str(path), _line_of(node, loc), _entry_name(data, node), reason)


def _entry_name(data: Any, node: yaml.Node) -> str:
    if isinstance(data, dict):
        for key in ("slug", "id"):
            if isinstance(data.get(key), str):
                return data[key]
    return f"entry at line {node.start_mark.line + 1}"


def _line_of(node: yaml.Node, loc: tuple) -> int:
    """The line of the deepest node along `loc` (a pydantic error location) that exists."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _first_duplicate_key(node: yaml.Node) -> tuple[str, int] | None:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            if key.value in seen:
                return key.value, key.start_mark.line + 1
            seen.add(key.value)
            found = _first_duplicate_key(value)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = _first_duplicate_key(item)
            if found:
                return found
    return None
