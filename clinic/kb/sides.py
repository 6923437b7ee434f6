"""Pain regions with a side: a session stores "temple:left", "low-back" (no side given) and the like (DESIGN 10,
`pain_regions`). Everything that reads them goes through here, so older sessions (plain ids) still read."""

from collections.abc import Iterable

SIDES = ("left", "right", "both")
SIDE_WORDS = {"left": "left", "right": "right", "both": "both sides"}


def split(value: str) -> tuple[str, str | None]:
    """("temple", "left") for "temple:left"; ("temple", None) for a plain id."""
    region, _, side = value.partition(":")
    return region, side or None


def is_valid(value: str, known_regions: Iterable[str]) -> bool:
    region, side = split(value)
    return region in set(known_regions) and (side is None or side in SIDES) and value.count(":") <= 1


def region_ids(values: Iterable[str]) -> list[str]:
    """The region ids alone, each once, in order (for figures, suggestions and counts)."""
    return list(dict.fromkeys(split(value)[0] for value in values))


def label(value: str, names: dict[str, str]) -> str:
    """How a person reads it: "Temple (left)", "Low back"."""
    region, side = split(value)
    name = names.get(region, region)
    return f"{name} ({SIDE_WORDS[side]})" if side in SIDE_WORDS else name


def labels(values: Iterable[str], names: dict[str, str]) -> list[str]:
    return [label(value, names) for value in values]


def merged(values: Iterable[str]) -> list[str]:
    """One value per region: a region given twice (left and right) becomes "both"; order kept."""
    sides: dict[str, str | None] = {}
    for value in values:
        region, side = split(value)
        if region in sides and sides[region] != side:
            sides[region] = "both" if side and sides[region] else (side or sides[region])
        else:
            sides[region] = side
    return [f"{region}:{side}" if side else region for region, side in sides.items()]
