"""The knowledge base's shape: region ids (a contract, DESIGN section 5) and the validated records."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from clinic.precautions import PRECAUTION_IDS

REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "Head and neck": (
        "vertex",
        "forehead",
        "temple",
        "eye",
        "cheek",
        "jaw",
        "tmj",
        "ear",
        "teeth",
        "occiput",
        "back-of-neck",
        "side-of-neck",
        "throat",
    ),
    "Shoulder and arm": (
        "top-of-shoulder",
        "front-of-shoulder",
        "side-of-shoulder",
        "back-of-shoulder",
        "shoulder-blade",
        "between-shoulder-blades",
        "upper-arm-front",
        "upper-arm-back",
        "elbow-lateral",
        "elbow-medial",
        "elbow-back",
        "forearm-front",
        "forearm-back",
        "wrist-front",
        "wrist-back",
        "palm",
        "back-of-hand",
        "thumb",
        "fingers",
    ),
    "Trunk": (
        "chest",
        "upper-abdomen",
        "lower-abdomen",
        "mid-back",
        "low-back",
        "sacrum",
        "groin",
        "buttock",
        "hip-side",
    ),
    "Leg and foot": (
        "thigh-front",
        "thigh-inner",
        "thigh-outer",
        "thigh-back",
        "knee-front",
        "knee-inner",
        "knee-outer",
        "knee-back",
        "shin",
        "calf",
        "leg-outer",
        "ankle-front",
        "ankle-inner",
        "ankle-outer",
        "achilles",
        "top-of-foot",
        "sole",
        "heel",
        "toes",
    ),
}
REGION_IDS: tuple[str, ...] = tuple(region for group in REGION_GROUPS.values() for region in group)

MUSCLE_GROUPS: dict[str, str] = {
    "head-neck": "Head and neck",
    "shoulder-arm": "Shoulder and arm",
    "forearm-hand": "Forearm and hand",
    "trunk": "Trunk",
    "hip-thigh": "Hip and thigh",
    "leg-foot": "Leg and foot",
}

# The body figure's coordinate space (viewBox of clinic/static/svg/body-*.svg).
FIGURE_WIDTH = 240
FIGURE_HEIGHT = 520

_KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def _known_region(region: str) -> str:
    if region not in REGION_IDS:
        raise ValueError(f"unknown region id {region!r} (see knowledge/regions.yaml)")
    return region


def _no_duplicates(values: list) -> list:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(map(str, repeated))}")
    return values


def _known_precaution(precaution: str) -> str:
    if precaution not in PRECAUTION_IDS:
        raise ValueError(f"unknown precaution id {precaution!r} (see clinic/precautions.py)")
    return precaution


def _listed_self_care(value):
    """`self_care` is one text, or a list of notes each with its own `avoid_if`."""
    return [{"text": value}] if isinstance(value, str) else value


RegionId = Annotated[str, AfterValidator(_known_region)]
PrecautionId = Annotated[str, AfterValidator(_known_precaution)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=_KEBAB)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Record):
    id: RegionId
    name: Text
    views: Annotated[list[Literal["front", "back"]], Field(min_length=1), AfterValidator(_no_duplicates)]
    # Muscle slugs, the most frequent source of pain here first (checked against the muscles by the loader).
    common_sources: Annotated[list[Slug], AfterValidator(_no_duplicates)] = []
    # Signs that need a physician before any treatment, written as the sign ("calf swollen, warm and red").
    red_flags: list[Text] = []


class Position(_Record):
    view: Literal["front", "back"]
    x: Annotated[float, Field(ge=0, le=FIGURE_WIDTH, description="inside the figure's viewBox")]
    y: Annotated[float, Field(ge=0, le=FIGURE_HEIGHT, description="inside the figure's viewBox")]


class TriggerPoint(_Record):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+/[1-9][0-9]*$")]
    location: Text
    position: Position

    @property
    def number(self) -> int:
        return int(self.id.rsplit("/", 1)[1])


class Referral(_Record):
    primary: Annotated[list[RegionId], Field(min_length=1), AfterValidator(_no_duplicates)]
    secondary: Annotated[list[RegionId], AfterValidator(_no_duplicates)] = []

    @model_validator(mode="after")
    def _primary_and_secondary_differ(self) -> "Referral":
        both = sorted(set(self.primary) & set(self.secondary))
        if both:
            raise ValueError(f"regions both primary and secondary: {', '.join(both)}")
        return self


class Satellite(_Record):
    """A muscle in which this one's trigger points commonly induce satellite points (release the key first)."""

    slug: Slug
    source: Text


class Caution(_Record):
    """An endangerment site or a care point near this muscle's trigger points. `precautions`: the client
    precautions (DESIGN 6a) that make it matter more, so the session form can mark it for those clients."""

    text: Text
    precautions: Annotated[list[PrecautionId], AfterValidator(_no_duplicates)] = []


class SelfCare(_Record):
    text: Text
    avoid_if: Annotated[list[PrecautionId], AfterValidator(_no_duplicates)] = []


class Muscle(_Record):
    slug: Slug
    name: Text
    aliases: Annotated[list[Text], AfterValidator(_no_duplicates)] = []
    group: Literal["head-neck", "shoulder-arm", "forearm-hand", "trunk", "hip-thigh", "leg-foot"]
    trigger_points: Annotated[list[TriggerPoint], Field(min_length=1)]
    refers_to: Referral
    conditions: Annotated[list[Text], Field(min_length=1), AfterValidator(_no_duplicates)]
    self_care: Annotated[list[SelfCare], BeforeValidator(_listed_self_care), Field(min_length=1)]
    sources: Annotated[list[Text], AfterValidator(_no_duplicates)] = []  # required: see _has_sources
    satellites: list[Satellite] = []
    perpetuating_factors: Annotated[list[Text], AfterValidator(_no_duplicates)] = []
    also_consider: Annotated[list[Text], AfterValidator(_no_duplicates)] = []
    cautions: list[Caution] = []

    @model_validator(mode="after")
    def _trigger_point_ids_belong_to_muscle(self) -> "Muscle":
        for point in self.trigger_points:
            if not point.id.startswith(f"{self.slug}/"):
                raise ValueError(f"trigger point id {point.id!r} must start with '{self.slug}/'")
        ids = [point.id for point in self.trigger_points]
        _no_duplicates(ids)
        satellites = [satellite.slug for satellite in self.satellites]
        if self.slug in satellites:
            raise ValueError("a muscle cannot be its own satellite")
        _no_duplicates(satellites)
        return self

    @model_validator(mode="before")
    @classmethod
    def _has_sources(cls, data):
        if isinstance(data, dict) and not data.get("sources"):
            raise ValueError("no source: cite at least one book chapter, paper or public page under `sources`")
        return data

    @property
    def group_name(self) -> str:
        return MUSCLE_GROUPS[self.group]

    @property
    def self_care_text(self) -> str:
        return " ".join(note.text for note in self.self_care)

    def search_text(self, region_names: dict[str, str]) -> str:
        regions = self.refers_to.primary + self.refers_to.secondary
        words = [self.name, *self.aliases, *self.conditions, *regions, *(region_names[r] for r in regions)]
        return " | ".join(words).lower()
