import re

from playwright.sync_api import expect

from .conftest import login


def counter(page, name: str):
    return page.locator(f'tr[data-counter="{name}"] .counter-value')


def test_login_shows_the_dashboard_and_logout_returns_to_login(page, base, demo):
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/connexion\?next="))
    login(page, base, "of.demo@example.org")
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    expect(page.get_by_text("Auto Saisie")).to_be_visible()
    page.get_by_role("button", name="Déconnexion").click()
    expect(page.get_by_role("heading", name="Connexion au tableau de bord")).to_be_visible()
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/connexion"))


def test_wrong_password_shows_the_french_message(page, base, demo):
    login(page, base, "of.demo@example.org", "mauvais")
    expect(page.get_by_test_id("login-error")).to_have_text(
        "Adresse e-mail ou mot de passe incorrect."
    )


def test_switching_siret_changes_the_dashboard_counters(page, base, demo):
    login(page, base, "of.demo@example.org")
    switcher = page.get_by_test_id("establishment-switcher")
    expect(switcher.locator("option")).to_have_count(2)
    expect(page.get_by_test_id("dashboard-establishment")).to_contain_text("13000511900032")
    nantes_active = counter(page, "sessions-actives").inner_text()
    nantes_drafts = counter(page, "actions-en-saisie").inner_text()

    angers = switcher.locator("option", has_text="13000511900040").get_attribute("value")
    switcher.select_option(angers)
    expect(page.get_by_test_id("dashboard-establishment")).to_contain_text("13000511900040")
    expect(counter(page, "sessions-actives")).not_to_have_text(nantes_active)
    expect(counter(page, "actions-en-saisie")).not_to_have_text(nantes_drafts)
    # The choice holds for the whole login session.
    page.goto(f"{base}/sessions")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("establishment-switcher")).to_have_value(angers)


def test_lens_link_opens_the_filtered_session_list_with_bold_session_number(page, base, demo):
    login(page, base, "of.demo@example.org")
    page.get_by_label("Voir la liste : Sessions de formation actives").click()
    title = re.compile("Sessions - Sessions de formation actives")
    heading = page.get_by_role("heading", name=title)
    expect(heading).to_be_visible()
    fas = page.locator("td.fas", has_text="19482-89393-143842")
    expect(fas.locator("b")).to_have_text("143842")


def test_carif_user_finds_and_picks_an_establishment(page, base, demo):
    login(page, base, "offre@example.org")
    expect(page.get_by_role("heading", name="Tableau de bord – service Offre")).to_be_visible()
    page.get_by_role("link", name="Choisir un établissement").click()
    expect(page.get_by_role("heading", name="Choisir un établissement")).to_be_visible()
    page.get_by_label("Rechercher un établissement").fill("8881234")
    result = page.locator(".result-list__item", has_text="ENTREPRENDRE EN LOIRE")
    expect(result).to_be_visible()
    result.get_by_role("button", name="Choisir").click()
    expect(page.get_by_test_id("dashboard-establishment")).to_contain_text("88812345200011")
