"""What the intake form's page shows around the form's fields: the list of body regions to tick. A new form's
list (none ticked) is the same for every link and most of the page: rendered once and kept with the knowledge
base."""

from flask import get_template_attribute
from markupsafe import Markup

from clinic.intake.forms import IntakeForm
from clinic.kb import KnowledgeBase
from clinic.kb.schema import REGION_GROUPS


def region_list(kb: KnowledgeBase, form: IntakeForm) -> Markup:
    """The regions by body area with their side and intensity; as sent, with any errors, on a form shown again."""
    render = get_template_attribute("intake/_region_list.html", "region_list")
    if form.region_values or form.region_errors:
        return render(region_groups(kb), form.region_values, form.region_errors)
    return kb.built_once("intake_region_list", lambda: render(region_groups(kb), {}, {}))


def region_groups(kb: KnowledgeBase) -> list[tuple[str, list]]:
    """The regions by body area, as the list beside the figure shows them."""
    return [
        (group, [kb.regions[region] for region in regions if region in kb.regions])
        for group, regions in REGION_GROUPS.items()
    ]
