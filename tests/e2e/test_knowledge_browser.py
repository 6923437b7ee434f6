"""The public knowledge pages in a real browser: the symptom checker reacts to clicks without a reload,
a muscle page prints on one page."""

import re

import pytest
from playwright.sync_api import expect

from clinic.kb import knowledge_base
from tests.e2e.conftest import TABLET, pdf_pages, result_file, screenshot

pytestmark = pytest.mark.e2e


def test_clicking_the_figure_ranks_muscles_without_a_reload(page, live_server):
    page.goto(f"{live_server}/symptom-checker")
    page.evaluate("window.notReloaded = true")
    assert page.locator(".candidate").count() == 0

    page.locator('svg[data-interactive][data-view="back"] .region[data-region="heel"] path').first.click()
    page.locator(".candidate-name", has_text="Soleus").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert page.locator('input[name="region"][value="heel"]').is_checked()
    assert "regions=heel" in page.url
    names = page.locator(".candidate-name").all_inner_texts()
    assert "Soleus" in names and "Quadratus plantae" in names

    # A second region, chosen with the keyboard, re-ranks the list.
    calf = page.locator('svg[data-interactive][data-view="back"] .region[data-region="calf"]')
    calf.focus()
    page.keyboard.press("Enter")
    assert calf.get_attribute("aria-pressed") == "true"
    # The list re-ranks once the API answers: a muscle referring to both heel and calf comes first.
    expect(page.locator(".candidate-name").first).to_have_text(re.compile("^(Soleus|Gastrocnemius)$"))
    screenshot(page, "symptom-checker")

    # Clicking again deselects.
    page.locator('svg[data-interactive][data-view="back"] .region[data-region="heel"] path').first.click()
    page.locator('svg[data-interactive][data-view="back"] .region[data-region="calf"] path').first.click()
    page.locator("[data-empty]").wait_for(state="visible")
    assert page.locator(".candidate").count() == 0
    assert page.console_errors == [], page.console_errors


def test_checker_works_as_a_plain_form_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/symptom-checker")
    page.get_by_role("checkbox", name="Heel").check()
    page.get_by_role("button", name="Show muscles").click()
    assert "region=heel" in page.url
    assert page.locator(".candidate-name", has_text="Soleus").is_visible()
    context.close()


def test_muscle_page_looks_right_and_prints_on_one_page(page, live_server):
    page.goto(f"{live_server}/knowledge/infraspinatus")
    assert page.locator(".tp-dot").count() >= 2
    assert page.locator("svg .region.is-primary").count() >= 1
    screenshot(page, "muscle-infraspinatus")
    page.set_viewport_size(TABLET)
    screenshot(page, "muscle-infraspinatus-tablet")
    page.emulate_media(media="print")
    for paper in ("Letter", "A4"):
        pdf = page.pdf(format=paper, print_background=True)
        result_file(f"muscle-infraspinatus-{paper}.pdf").write_bytes(pdf)
        assert pdf_pages(pdf) == 1, paper
    assert page.console_errors == [], page.console_errors


def test_knowledge_list_and_search(page, live_server):
    page.goto(f"{live_server}/knowledge/")
    screenshot(page, "knowledge-list")
    page.get_by_label("Search muscles").fill("plantar heel pain")
    page.get_by_label("Search muscles").press("Enter")
    names = page.locator(".muscle-name").all_inner_texts()
    assert "Quadratus plantae" in names and "Upper trapezius" not in names


def test_the_longest_second_edition_pages_still_print_on_one_page(page, live_server, live_app):
    """Satellites, cautions, factors, differentials and sources make these the longest muscle pages."""
    page.emulate_media(media="print")
    with live_app.app_context():
        muscles = knowledge_base().muscles.values()
        longest = sorted(muscles, key=lambda muscle: len(muscle.model_dump_json()), reverse=True)[:6]
    for slug in [muscle.slug for muscle in longest]:
        page.goto(f"{live_server}/knowledge/{slug}")
        for paper in ("Letter", "A4"):
            assert pdf_pages(page.pdf(format=paper, print_background=True)) == 1, (slug, paper)
