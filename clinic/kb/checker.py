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
    evidence: int = 0  # sum of its places in the matched regions' common_sources (0 = first everywhere)


def parse_regions(text: str | None, kb: KnowledgeBase) -> list[str]:
    """Comma-separated region ids, de-duplicated in order. Raises UnknownRegionError naming the bad ones."""
    regions = list(dict.fromkeys(part.strip() for part in (text or "").split(",") if part.strip()))
    unknown = [region for region in regions if region not in kb.regions]
    if unknown:
        raise UnknownRegionError(unknown)
    return regions


def evidence_place(kb: KnowledgeBase, region: str, slug: str) -> int:
    """The muscle's place in the region's `common_sources` (0 = most frequent); unlisted ones come after all listed."""
    sources = kb.regions[region].common_sources
    return sources.index(slug) if slug in sources else len(sources)


def rank_candidates(kb: KnowledgeBase, regions: list[str]) -> list[Candidate]:
    """Muscles that refer pain to the chosen regions, best first (DESIGN 4a; worked example in knowledge/README.md).

    1. more matched regions first; 2. with as many, more primary (essential-zone) matches first;
    3. then the evidence: the sum of the muscle's places in each matched region's `common_sources`
       (most frequent source = 0, a muscle the list leaves out counts as coming after every listed one), lower first;
    4. only then the name, so that the order is stable.
    The score says 1-3 in one number: matches + primary / (n + 1) + a bonus below 1 / (n + 1) that shrinks
    as the evidence sum grows (n = number of chosen regions), so a higher score always means a higher place.
    """
    matches: dict[str, tuple[Muscle, list[str], list[str]]] = {}
    for region in regions:
        for muscle, kind in kb.referrers[region]:
            entry = matches.setdefault(muscle.slug, (muscle, [], []))
            (entry[1] if kind == "primary" else entry[2]).append(region)
    step = 1 / (len(regions) + 1)
    candidates = []
    for muscle, primary, secondary in matches.values():
        evidence = sum(evidence_place(kb, region, muscle.slug) for region in primary + secondary)
        score = len(primary) + len(secondary) + len(primary) * step + step * 0.9 / (1 + evidence)
        candidates.append(Candidate(muscle, round(score, 6), primary, secondary, evidence))
    candidates.sort(
        key=lambda c: (-(len(c.primary) + len(c.secondary)), -len(c.primary), c.evidence, c.muscle.name.lower())
    )
    return candidates


def red_flags(kb: KnowledgeBase, regions: list[str]) -> list[dict[str, str]]:
    """The chosen regions' red flags, region by region, each sign once (the first region that lists it)."""
    seen: set[str] = set()
    flags = []
    for region in regions:
        for text in kb.regions[region].red_flags:
            if text not in seen:
                seen.add(text)
                flags.append({"region": region, "text": text})
    return flags


def search_muscles(kb: KnowledgeBase, text: str = "") -> dict[str, list[Muscle]]:
    """Muscles grouped by body area, filtered by name, alias, condition or referral region."""
    words = text.lower().split()
    grouped: dict[str, list[Muscle]] = {name: [] for name in MUSCLE_GROUPS.values()}
    for muscle in kb.muscles.values():
        haystack = muscle.search_text(kb.region_names)
        if all(word in haystack for word in words):
            grouped[muscle.group_name].append(muscle)
    return {group: muscles for group, muscles in grouped.items() if muscles}
