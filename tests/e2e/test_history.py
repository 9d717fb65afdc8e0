"""A change saved live in the browser reads back on the record's history page; forgotten
passwords are asked for from the login page."""

import re

from playwright.sync_api import Page, expect

from .conftest import login
from .test_offer_entry import create_public_formation, fill, fill_formation_and_action


def test_a_live_change_appears_in_the_action_history(page: Page, base, demo):
    login(page, base, "of.demo@example.org")
    create_public_formation(page, base)
    fill_formation_and_action(page)
    expect(page.get_by_role("heading", name=re.compile("Fiche Session"))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Action ")).click()
    fill(page, "Mon + formation", "Deux ateliers collectifs par semaine.")
    page.get_by_test_id("history-link").click()
    expect(
        page.get_by_role("heading", name=re.compile("Historique des modifications"))
    ).to_be_visible()
    newest = page.get_by_test_id("journal").locator("tbody tr").first
    expect(newest).to_contain_text("Mon + formation")
    expect(newest).to_contain_text("Un accompagnement individuel jusqu'à la création.")
    expect(newest).to_contain_text("Deux ateliers collectifs par semaine.")
    page.get_by_role("link", name="← Retour à la fiche").click()
    expect(page.get_by_label("Mon + formation")).to_have_value(
        "Deux ateliers collectifs par semaine."
    )


def test_forgotten_password_from_the_login_page(page: Page, base, demo):
    page.goto(f"{base}/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Email").fill("of.demo@example.org")
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page.get_by_role("status")).to_contain_text("Si un compte actif existe")
    expect(page.get_by_role("heading", name="Connexion au tableau de bord")).to_be_visible()
