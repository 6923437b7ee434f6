"""The loaded knowledge base and its named look-ups: regions, muscles, and trigger points with their muscle."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from clinic.kb.schema import MUSCLE_GROUPS, Muscle, Position, Region, TriggerPoint

MINIMUM_MUSCLES = 100  # the second edition's floor (issue 12); `flask kb check` fails below it


@dataclass(frozen=True)
class MusclePoint:
    """A trigger point together with the muscle it lies in."""

    muscle: Muscle
    point: TriggerPoint

    @property
    def id(self) -> str:
        return self.point.id

    @property
    def number(self) -> int:
        return self.point.number

    @property
    def location(self) -> str:
        return self.point.location

    @property
    def position(self) -> Position:
        return self.point.position

    @property
    def name(self) -> str:
        """How people name it: "Upper trapezius, point 1"."""
        return f"{self.muscle.name}, point {self.number}"

    @property
    def description(self) -> str:
        """The name with where to find it, for pick lists."""
        return f"{self.muscle.name} {self.number}: {self.location}"


@dataclass
class KnowledgeBase:
    regions: dict[str, Region]
    muscles: dict[str, Muscle]  # by slug, ordered by group then name
    # region id -> [(muscle, "primary" | "secondary")]: the referral map run backwards.
    referrers: dict[str, list[tuple[Muscle, str]]] = field(init=False)
    # slug -> the muscles that list it as a satellite (its key muscles, released first).
    keys: dict[str, list[Muscle]] = field(init=False)
    # Problems a valid base may have while it is being written (set by the loader; `flask kb check` reports them).
    coverage_problems: list = field(default_factory=list)
    _points: dict[str, MusclePoint] = field(init=False, repr=False)
    # Page data built from the base once per process and kept with it (see `built_once`): a reload is a new base.
    _built: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    def built_once(self, key: str, build):
        """`build()`'s result, made on first use and kept for this base's lifetime (the base never changes)."""
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    def __post_init__(self) -> None:
        self._points = {
            point.id: MusclePoint(muscle, point) for muscle in self.muscles.values() for point in muscle.trigger_points
        }
        self.referrers = {region: [] for region in self.regions}
        for muscle in self.muscles.values():
            for kind in ("primary", "secondary"):
                for region in getattr(muscle.refers_to, kind):
                    self.referrers[region].append((muscle, kind))
        self.keys = {slug: [] for slug in self.muscles}
        for muscle in self.muscles.values():
            for satellite in muscle.satellites:
                if satellite.slug in self.keys:
                    self.keys[satellite.slug].append(muscle)

    def satellites_of(self, muscle: Muscle) -> list[Muscle]:
        return [self.muscles[s.slug] for s in muscle.satellites if s.slug in self.muscles]

    def relations(self) -> list[tuple[Muscle, Muscle, str]]:
        """Every key -> satellite relation with its source."""
        return [
            (muscle, self.muscles[s.slug], s.source)
            for muscle in self.muscles.values()
            for s in muscle.satellites
            if s.slug in self.muscles
        ]

    def point(self, point_id: str) -> MusclePoint | None:
        """The trigger point with this id, or None when the base no longer has it (old records keep their ids)."""
        return self._points.get(point_id)

    def points(self) -> Iterator[MusclePoint]:
        """Every trigger point, muscle by muscle in the base's order."""
        return iter(self._points.values())

    def known_points(self, point_ids: Iterable[str]) -> list[MusclePoint]:
        """These points, leaving out any the base no longer has."""
        return [self._points[point_id] for point_id in point_ids if point_id in self._points]

    def muscle_of(self, point_id: str) -> Muscle | None:
        found = self._points.get(point_id)
        return found.muscle if found else None

    def muscle_name(self, point_id: str) -> str:
        """The muscle's name, or the bare id of a point the base no longer has."""
        found = self._points.get(point_id)
        return found.muscle.name if found else point_id

    def muscle_names(self, point_ids: Iterable[str]) -> list[str]:
        """Names of the muscles these points lie in, each once, in order."""
        return list(dict.fromkeys(self.muscle_name(point_id) for point_id in point_ids))

    @cached_property
    def region_names(self) -> dict[str, str]:
        return {region.id: region.name for region in self.regions.values()}

    def completeness_problems(self, minimum_muscles: int = MINIMUM_MUSCLES) -> list[str]:
        """What keeps a valid base from being complete enough to ship (checked by `flask kb check`)."""
        return self.general_problems(minimum_muscles) + [str(problem) for problem in self.coverage_problems]

    def general_problems(self, minimum_muscles: int = MINIMUM_MUSCLES) -> list[str]:
        """The completeness problems that belong to no one file."""
        problems = []
        if len(self.muscles) < minimum_muscles:
            problems.append(f"only {len(self.muscles)} muscles; at least {minimum_muscles} are needed")
        for group, name in MUSCLE_GROUPS.items():
            if not any(muscle.group == group for muscle in self.muscles.values()):
                problems.append(f"no muscle in group {group} ({name})")
        uncovered = [region for region, muscles in self.referrers.items() if not muscles]
        if uncovered:
            problems.append(f"regions no muscle refers to: {', '.join(uncovered)}")
        return problems
