"""The knowledge base run backwards: from where it hurts to the muscles that refer there; and the muscle search."""

from dataclasses import dataclass

from clinic.kb.base import KnowledgeBase
from clinic.kb.schema import MUSCLE_GROUPS, Muscle


class UnknownRegionError(ValueError):
    def __init__(self, regions: list[str]) -> None:
        self.regions = regions
        super().__init__(f"unknown region id(s): {', '.join(regions)}")


@dataclass(frozen=True)
class Candidate:
    muscle: Muscle
    score: float
    primary: list[str]  # chosen regions in the muscle's primary (essential) zone
    secondary: list[str]  # chosen regions in its spillover zone


def parse_regions(text: str | None, kb: KnowledgeBase) -> list[str]:
    """Comma-separated region ids, de-duplicated in order. Raises UnknownRegionError naming the bad ones."""
    regions = list(dict.fromkeys(part.strip() for part in (text or "").split(",") if part.strip()))
    unknown = [region for region in regions if region not in kb.regions]
    if unknown:
        raise UnknownRegionError(unknown)
    return regions


def rank_candidates(kb: KnowledgeBase, regions: list[str]) -> list[Candidate]:
    """Muscles that refer pain to the chosen regions, best first.

    A muscle matching more of the chosen regions ranks above one matching fewer; with as many
    matches, more primary (essential-zone) matches rank higher; ties go alphabetically by name.
    The score says the same in one number: matches + primary matches / (chosen regions + 1).
    """
    matches: dict[str, tuple[Muscle, list[str], list[str]]] = {}
    for region in regions:
        for muscle, kind in kb.referrers[region]:
            entry = matches.setdefault(muscle.slug, (muscle, [], []))
            (entry[1] if kind == "primary" else entry[2]).append(region)
    candidates = [
        Candidate(
            muscle, round(len(primary) + len(secondary) + len(primary) / (len(regions) + 1), 4), primary, secondary
        )
        for muscle, primary, secondary in matches.values()
    ]
    candidates.sort(key=lambda c: (-c.score, c.muscle.name.lower(), c.muscle.slug))
    return candidates


def search_muscles(kb: KnowledgeBase, text: str = "") -> dict[str, list[Muscle]]:
    """Muscles grouped by body area, filtered by name, alias, condition or referral region."""
    words = text.lower().split()
    grouped: dict[str, list[Muscle]] = {name: [] for name in MUSCLE_GROUPS.values()}
    for muscle in kb.muscles.values():
        haystack = muscle.search_text(kb.region_names)
        if all(word in haystack for word in words):
            grouped[muscle.group_name].append(muscle)
    return {group: muscles for group, muscles in grouped.items() if muscles}
