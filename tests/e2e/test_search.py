import re
from datetime import date, timedelta

from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Action

from .. import factories
from .conftest import login


def _more_sessions(count: int) -> None:
    """The demo's Nantes establishment has 9 sessions: give it more than one page."""
    action = db.session.get(Action, 89393)
    for i in range(count):
        factories.make_session(
            action, site_id=db.session.get(Action, 89393).site_id,
            start_date=date.today() - timedelta(days=400 + i),
        )  # fmt: skip


def test_active_search_paging_and_the_back_button(page, base, demo):
    _more_sessions(12)
    login(page, base, "of.demo@example.org")
    page.get_by_role("link", name="Sessions", exact=True).click()
    status = page.get_by_test_id("pager-status")
    count = page.get_by_test_id("result-count")
    rows = page.locator("#sessions-results tbody tr")
    expect(status).to_have_text("Voir 1 à 10 sur 21 résultats")
    page.evaluate("window.notReloaded = true")

    # Active search: typed without accents or capitals, results swap in, the URL follows.
    page.get_by_label("Rechercher").press_sequentially("SECRETAIRE", delay=20)
    expect(count).to_have_text("2 résultats")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Titre professionnel secrétaire assistant")
    expect(page).to_have_url(re.compile(r"/sessions\?q=SECRETAIRE$"))
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_label("Rechercher")).to_be_focused()

    # The back button restores the list before the search, words included.
    page.go_back()
    expect(page).to_have_url(f"{base}/sessions")
    expect(count).to_have_text("21 résultats")
    expect(page.get_by_label("Rechercher")).to_have_value("")

    # Paging with Suivante / Précédente, each page in the history.
    page.get_by_role("link", name="Suivante").click()
    expect(status).to_have_text("Voir 11 à 20 sur 21 résultats")
    expect(page).to_have_url(re.compile(r"/sessions\?apres=\d+$"))
    page.get_by_role("link", name="Suivante").click()
    expect(status).to_have_text("Voir 21 à 21 sur 21 résultats")
    expect(rows).to_have_count(1)
    page.go_back()
    expect(status).to_have_text("Voir 11 à 20 sur 21 résultats")
    page.get_by_role("link", name="Précédente").click()
    expect(status).to_have_text("Voir 1 à 10 sur 21 résultats")
    page.get_by_role("link", name="Dernière").click()
    expect(status).to_have_text("Voir 21 à 21 sur 21 résultats")
    assert page.evaluate("window.notReloaded") is True

    # A bookmarked state opens as it was left.
    page.goto(f"{base}/sessions?q=secretaire&tri=-intitule")
    expect(count).to_have_text("2 résultats")
    expect(page.locator('th[data-sort="intitule"]')).to_have_attribute("aria-sort", "descending")


def test_sorting_and_page_size_change_in_place(page, base, demo):
    _more_sessions(12)
    login(page, base, "of.demo@example.org")
    page.goto(f"{base}/sessions")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("link", name="Intitulé formation").click()
    expect(page.locator('th[data-sort="intitule"]')).to_have_attribute("aria-sort", "ascending")
    first_title = page.locator("#sessions-results tbody tr").first.locator("td").nth(2)
    expect(first_title).to_have_text(re.compile("^Actions de formation dispensées"))
    expect(page).to_have_url(re.compile(r"tri=intitule"))
    page.get_by_label("Voir").select_option("25")
    expect(page.get_by_test_id("pager-status")).to_have_text("Voir 1 à 21 sur 21 résultats")
    expect(page).to_have_url(re.compile(r"tri=intitule&taille=25|taille=25&tri=intitule"))
    assert page.evaluate("window.notReloaded") is True


def test_bulk_deactivation_of_ticked_sessions(page, base, demo):
    login(page, base, "of.demo@example.org")
    # The validated "assistant ressources humaines" action: editable (a change reopens it),
    # unlike the demo's secrétaire action waiting for validation.
    page.goto(f"{base}/sessions?filtre=actives&q=ressources")
    expect(page.get_by_test_id("result-count")).to_have_text("3 résultats")
    page.get_by_label("Cocher toutes les sessions de la page").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Désactiver").click()
    expect(page.locator("#toast")).to_have_text("3 sessions désactivées.")
    expect(page.get_by_test_id("result-count")).to_have_text("0 résultats")
    page.get_by_role("button", name="Appliquer").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Sélectionnez au moins une session dans la liste."
    )
