"""The procedure's path, with the values of its screenshots, in a real browser."""

import re
from functools import partial

from playwright.sync_api import Page, expect

from .conftest import login


def live(page: Page, change) -> None:
    """Make a change and wait for its live save to answer 200."""
    # After a navigation, htmx binds the fields on load: a change before that saves nothing.
    page.wait_for_load_state("load")
    with page.expect_response(lambda r: "/champ" in r.url) as response:
        change()
    assert response.value.status == 200, response.value.text()


def fill(page: Page, label: str, value: str) -> None:
    field = page.get_by_label(label)
    field.fill(value)
    live(page, field.blur)


def create_public_formation(page: Page, base: str) -> None:
    page.get_by_role("link", name="Créer", exact=True).click()
    expect(page.get_by_role("heading", name="Formations publiques – Créer")).to_be_visible()
    page.get_by_label("Programme").select_option(
        label="PROGRAMME REGION - Formations Parcours entrepreneur"
    )
    lot = "PE2024_8 - Lot 8 - Formations à la création-reprise d'entreprise en Maine-et-Loire"
    expect(
        page.get_by_label("Intitulé du lot").locator("option", has_text="PE2024_8")
    ).to_have_count(1)
    page.get_by_label("Intitulé du lot").select_option(label=lot)
    expect(page.get_by_test_id("mandataire")).to_contain_text("CARIFOREF DES PAYS DE LA LOIRE")
    page.get_by_label("Site de réalisation").select_option(
        label="36364 - CARIFOREF DES PAYS DE LA LOIRE - Principal"
    )
    page.get_by_role("button", name="Suivant").click()

    page.get_by_label("Oui").check()
    page.get_by_role("textbox", name="Code Certifinfo").fill("93561")
    page.get_by_role("button", name="Rechercher le code Certifinfo").click()
    expect(page.get_by_test_id("certif-lookup")).to_contain_text(
        "Actions de formation dispensées aux créateurs et repreneurs d'entreprise"
    )
    page.get_by_role("button", name="Suivant").click()


def fill_formation_and_action(page: Page) -> None:
    expect(page.get_by_test_id("formation-title")).to_have_text(
        "Actions de formation dispensées aux créateurs et repreneurs d'entreprise"
    )
    expect(page.get_by_text("Autre certification sans niveau spécifique")).to_be_visible()
    live(page, page.locator("#field-individualised_by_blocs").get_by_label("Non").check)
    live(page, page.locator("#field-bloc_validation").get_by_label("Totale").check)
    page.get_by_role("button", name="+ Ajouter une action").click()

    expect(page.get_by_role("heading", name=re.compile("Fiche Action"))).to_be_visible()
    level = page.get_by_label("Niveau d'entrée")
    live(page, partial(level.select_option, label="sans niveau spécifique"))
    fill(page, "Mon + formation", "Un accompagnement individuel jusqu'à la création.")
    prerequisites = page.locator("#field-prerequisites")
    live(page, prerequisites.get_by_label("Maîtriser les compétences générales").check)
    page.get_by_role("button", name="+ Ajouter une session").click()


def fill_session(page: Page, start: str, end: str) -> None:
    expect(page.get_by_role("heading", name=re.compile("Fiche Session"))).to_be_visible()
    expect(page.get_by_test_id("lot-year-reminder")).to_contain_text("débuter en 2024")
    site = page.get_by_label("Site lieu")
    live(
        page,
        partial(site.select_option, label="36364 - CARIFOREF DES PAYS DE LA LOIRE - Principal"),
    )
    live(page, partial(page.get_by_label("Date début").fill, start))
    live(page, partial(page.get_by_label("Date fin").fill, end))
    choices = {
        "entry_exit_mode": "entrées/sorties à dates fixes",
        "rhythm": "temps plein",
        "path_type": "en groupe (non personnalisable)",
        "teaching_mode": "formation entièrement présentielle",
        "company_unit": "Heure",
        "recruitment_state": "ouvert",
    }
    for field_id, label in choices.items():
        select = page.locator(f"#field-{field_id} select")
        live(page, partial(select.select_option, label=label))
    live(page, page.locator("#field-training_periods").get_by_label("en journée").check)
    live(page, page.locator("#field-pedagogical_modes").get_by_label("En alternance").check)
    fill(page, "Durée en centre (en h)", "200")
    fill(page, "Durée en entreprise (en h)", "0")
    modes = page.locator("#field-recruitment_modes")
    live(page, modes.get_by_label("information collective").check)
    referent = re.compile("1902, auto saisie - 36364, CARIFOREF DES PAYS DE LA LOIRE")
    for field_id in ("referent_pmr_id", "referent_mobility_id"):
        select = page.locator(f"#field-{field_id} select")
        value = select.locator("option", has_text=referent).get_attribute("value")
        live(page, partial(select.select_option, value))
    expect(page.get_by_test_id("responsible")).to_contain_text(
        "36364 - CARIFOREF DES PAYS DE LA LOIRE"
    )

    infos = page.locator("#informations-collectives")
    infos.get_by_role("link", name="Ajouter").click()
    form = page.locator("#informations-collectives-new-form")
    form.get_by_label("Date").fill("2024-01-25")
    form.get_by_label("Heure").fill("09:30")
    form.get_by_label("Lieu").select_option(
        label="36364 - CARIFOREF DES PAYS DE LA LOIRE - Principal"
    )
    form.get_by_role("button", name="Enregistrer").click()
    expect(infos.locator("tbody tr")).to_contain_text("25/01/2024")

    page.get_by_role("link", name="PROGRAMME REGION - Formations Parcours entrepreneur").click()
    expect(page.get_by_role("heading", name="Fiche Dispositif")).to_be_visible()
    expect(page.get_by_test_id("external-codes")).to_contain_text("PE2024_8")
    fill(page, "Nb places dispositif", "12")
    fill(page, "Frais HT (€)", "2500")
    fill(page, "Taux TVA (%)", "20")
    expect(page.get_by_test_id("fee-ttc")).to_have_text("3\u202f000,00")


def test_the_procedure_from_creation_to_envoyer_en_validation(page, base, demo):
    login(page, base, "of.demo@example.org")
    waiting = page.locator('tr[data-counter="actions-en-attente-validation"] .counter-value')
    before = int(waiting.inner_text())
    create_public_formation(page, base)
    fill_formation_and_action(page)
    fill_session(page, "2024-02-10", "2024-06-28")
    page.get_by_role("link", name="État de la saisie").click()
    expect(page.get_by_test_id("recap-summary")).to_contain_text("La saisie est complète")
    page.get_by_role("button", name="Envoyer en validation").click()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    expect(waiting).to_have_text(str(before + 1))


def test_a_2022_session_in_a_pe2024_lot_is_refused_with_the_year_message(page, base, demo):
    login(page, base, "of.demo@example.org")
    create_public_formation(page, base)
    fill_formation_and_action(page)
    fill_session(page, "2022-02-10", "2022-02-10")
    page.get_by_role("link", name="État de la saisie").click()
    expect(page.locator('[data-rule="session_lot_year"]')).to_contain_text(
        "La session doit obligatoirement débuter en 2024"
    )
    expect(page.get_by_role("button", name="Envoyer en validation")).to_be_visible()
    page.get_by_role("button", name="Envoyer en validation").click()
    expect(page.get_by_test_id("send-refused")).to_contain_text(
        "La session doit obligatoirement débuter en 2024"
    )
    expect(page.get_by_test_id("action-status")).to_have_text("En cours de saisie")


def test_rich_fields_are_edited_with_a_toolbar_and_saved_safely(page, base, demo):
    from portal.extensions import db
    from portal.models import Action

    login(page, base, "of.demo@example.org")
    page.goto(f"{base}/actions/89393")
    editor = page.locator("#field-objectives trix-editor")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Savoir ")
    page.locator("#field-objectives").get_by_role("button", name="Gras").click()
    page.keyboard.type("créer")
    expect(page.locator("#field-objectives .field__counter")).to_contain_text("12 / 3000")
    live(page, lambda: page.get_by_label("Mon + formation").click())
    db.session.expire_all()
    stored = db.session.get(Action, 89393).objectives
    assert "<strong>créer</strong>" in stored and "Savoir" in stored
