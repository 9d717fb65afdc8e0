"""The public catalogue in a browser: active search, filters, detail page, and the automated
accessibility check (axe-core, vendored under static/vendor/) on the pages a visitor sees."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from ..test_catalogue import NEXT_YEAR, publish

BLOCKING = ("serious", "critical")


def accessibility_problems(page) -> list[str]:
    """Serious and critical axe-core violations of the page, one line each."""
    # From the app's own static files, so that the Content-Security-Policy allows it.
    page.add_script_tag(url="/static/vendor/axe-core-4.14.1/axe.min.js")
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                            "best-practice"]},
            resultTypes: ["violations"],
        })"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.fixture
def offers(app, make_establishment):
    nantes = make_establishment(name="Institut des métiers", commune="Nantes")
    angers = make_establishment(name="Atelier angevin", commune="Angers")
    return [
        publish(
            app,
            nantes,
            title="Cuisine collective",
            start=date(NEXT_YEAR, 3, 2),
            accessibility="Locaux de plain-pied, place de stationnement réservée.",
        ),
        publish(
            app,
            angers,
            title="Cuisine gastronomique",
            commune="Angers",
            postcode="49000",
            start=date(NEXT_YEAR, 4, 6),
            session__teaching_mode=1,
        ),
        publish(app, nantes, title="Maçonnerie", start=date(NEXT_YEAR, 5, 4)),
    ]


def test_active_search_filters_detail_and_accessibility(page, base, offers):
    page.goto(f"{base}/catalogue/")
    expect(page.get_by_role("heading", name="Catalogue des formations", level=1)).to_be_visible()
    count = page.get_by_test_id("result-count")
    expect(count).to_have_text("3 sessions")

    page.get_by_label("Mots-clés").fill("cuisine")
    expect(count).to_have_text("2 sessions")
    expect(page).to_have_url(re.compile(r"\?q=cuisine$"))

    page.get_by_label("Département").select_option("49")
    expect(count).to_have_text("1 session")
    expect(page).to_have_url(re.compile(r"q=cuisine&departement=49|departement=49&.*q=cuisine"))
    expect(page.get_by_test_id("result")).to_have_count(1)
    expect(page.locator("#catalogue-status")).to_have_text("1 session")

    # The search page, with results and filters set, passes the automated check.
    assert accessibility_problems(page) == []

    page.get_by_role("link", name="Cuisine gastronomique").click()
    expect(page.get_by_role("heading", name="Cuisine gastronomique", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/catalogue/formations/\d+-\d+/cuisine-gastronomique"))
    session = page.get_by_test_id("session")
    expect(session).to_contain_text("Référent handicap")
    expect(session).to_contain_text("Formation mixte")
    expect(session.get_by_test_id("places")).to_contain_text("12")
    assert accessibility_problems(page) == []

    # Back to the same search.
    page.get_by_role("link", name="Retour au catalogue").click()
    expect(page.get_by_label("Mots-clés")).to_have_value("cuisine")
    expect(page.get_by_label("Département")).to_have_value("49")
    expect(count).to_have_text("1 session")


def test_search_and_paging_work_without_javascript(browser, base, offers):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/catalogue/?taille=10")
    page.get_by_label("Mots-clés").fill("maconnerie")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"q=maconnerie"))
    expect(page.get_by_test_id("result-count")).to_have_text("1 session")
    expect(page.get_by_role("link", name="Maçonnerie")).to_be_visible()
    context.close()


def test_keyboard_reaches_the_skip_link_first_and_small_screens_do_not_scroll_sideways(
    page, base, offers
):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{base}/catalogue/?q=cuisine")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert accessibility_problems(page) == []
    page.goto(f"{base}/catalogue/?q=cuisine&departement=44")
    page.get_by_role("link", name="Cuisine collective").click()
    expect(page.get_by_text("Locaux de plain-pied")).to_be_visible()
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
