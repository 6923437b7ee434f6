"""Finding a trigger point by what a therapist types: "upper trap 2", "SCM", "ql 1", "gastroc".

A muscle's name and its aliases (knowledge YAML `aliases`) always outrank words that only occur in a point's
location text, and a typed number picks the point with that number. The session form's script ranks with the
same rules (clinic/static/js/session-form.js, `scorePoint`) from the index built here; the browser tests
check that both give the same order."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from clinic.kb.base import KnowledgeBase, MusclePoint

# Words that say "a point" rather than which one ("upper trap point 2", "tp 1").
FILLER = frozenset({"point", "points", "tp", "trigger", "no"})
# Tiers of evidence; each outranks the one below whatever the bonuses add.
WHOLE_NAME = 100  # the query is a name or alias exactly ("scm", "upper trapezius")
ONE_NAME = 60  # every word starts a word of one name or alias ("upper trap", "gastroc")
SEVERAL_NAMES = 40  # every word starts a word of the name or some alias
LOCATION = 10  # the words occur only in the location text
NUMBER_MATCH = 15
NUMBER_MISMATCH = -30


def words(text: str) -> list[str]:
    """Lower-case words of letters and digits (what the script's `words()` gives too)."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...]
    number: int | None

    @classmethod
    def parse(cls, text: str) -> "Query":
        tokens = words(text)
        numbers = [int(token) for token in tokens if token.isdigit()]
        kept = tuple(token for token in tokens if not token.isdigit() and token not in FILLER)
        return cls(kept, numbers[-1] if numbers else None)


def _word_quality(word: str, tokens: Iterable[str]) -> int:
    """2 for a whole word, 1 for the start of one, 0 for none."""
    best = 0
    for token in tokens:
        if token == word:
            return 2
        if token.startswith(word):
            best = 1
    return best


def score(names: list[list[str]], location: list[str], number: int, query: Query) -> float:
    """How well a point (its muscle's name and aliases as word lists, its location words, its number) answers
    the query; 0 for no match. Mirrored by `scorePoint` in session-form.js."""
    if not query.words:
        return 0
    best = 0.0
    for name in names:
        if list(query.words) == name:
            best = max(best, WHOLE_NAME)
            continue
        qualities = [_word_quality(word, name) for word in query.words]
        if all(qualities):
            coverage = len(query.words) / len(name)
            best = max(best, ONE_NAME + 5 * sum(qualities) / len(qualities) + 10 * coverage)
    if not best:
        every_name = [token for name in names for token in name]
        qualities = [_word_quality(word, every_name) for word in query.words]
        if all(qualities):
            best = SEVERAL_NAMES + 5 * sum(qualities) / len(qualities)
    if not best:
        qualities = [_word_quality(word, location) for word in query.words]
        if all(qualities):
            best = LOCATION + sum(qualities) / len(qualities)
    if not best:
        return 0
    if query.number is not None:
        best += NUMBER_MATCH if query.number == number else NUMBER_MISMATCH
    return max(best, 0.5)


def point_names(point: MusclePoint) -> list[list[str]]:
    return [words(point.muscle.name), *(words(alias) for alias in point.muscle.aliases)]


def search_points(kb: KnowledgeBase, text: str, limit: int = 8) -> list[tuple[MusclePoint, float]]:
    """The best matches, best first; ties keep the knowledge base's order (muscle by muscle, point by point)."""
    query = Query.parse(text)
    found = []
    for order, point in enumerate(kb.points()):
        value = score(point_names(point), words(point.location), point.number, query)
        if value > 0:
            found.append((-value, order, point))
    found.sort(key=lambda item: item[:2])
    return [(point, -negative) for negative, _, point in found[:limit]]


def search_index(kb: KnowledgeBase) -> dict[str, list[list[str]]]:
    """Each muscle's name and aliases as word lists, for the script (points carry their own location)."""
    names: dict[str, list[list[str]]] = {}
    for point in kb.points():
        names.setdefault(point.muscle.slug, point_names(point))
    return names
