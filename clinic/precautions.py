"""Structured client precautions (DESIGN 6a, a contract): fixed ids with their labels.

The knowledge base names them in `cautions[].precautions` and `self_care[].avoid_if`, the client form offers
them as check boxes, and the session form marks each caution or self-care note that meets one of the client's."""

PRECAUTIONS: dict[str, str] = {
    "pregnancy": "Pregnancy",
    "anticoagulants": "Takes anticoagulants (blood thinners)",
    "hip-replacement": "Hip replacement",
    "knee-replacement": "Knee replacement",
    "recent-surgery": "Recent surgery",
    "clot-history": "History of blood clots (DVT)",
    "osteoporosis": "Osteoporosis",
    "cancer-treatment": "Cancer treatment",
    "neuropathy": "Neuropathy (reduced sensation)",
    "skin-condition": "Skin condition",
    "hypertension": "High blood pressure",
}
PRECAUTION_IDS: tuple[str, ...] = tuple(PRECAUTIONS)


def known(ids) -> list[str]:
    """These ids in the list's order, leaving out any unknown one (a stored value read back)."""
    chosen = set(ids or ())
    return [precaution for precaution in PRECAUTION_IDS if precaution in chosen]


def labels(ids) -> list[str]:
    return [PRECAUTIONS[precaution] for precaution in known(ids)]
