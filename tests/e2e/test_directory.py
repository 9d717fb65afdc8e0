from playwright.sync_api import expect

from .conftest import login


def test_add_a_site_and_a_contact_then_edit_a_row_inline(page, base, demo):
    login(page, base, "of.demo@example.org")
    page.get_by_role(
        "link", name="Gestion de vos sites, contacts, référents et portes ouvertes"
    ).click()
    expect(page.get_by_role("heading", name="Annuaire", exact=True)).to_be_visible()

    sites = page.locator("#sites")
    sites.get_by_role("link", name="Ajouter").click()
    form = page.locator("#sites-new-form")
    form.get_by_label("Nom du site").fill("Antenne de Rezé")
    form.get_by_label("Code postal").fill("44400")
    # The postcode offers its communes in the commune field's list.
    expect(form.locator("datalist option[value='Rezé']")).to_have_count(1)
    form.get_by_label("Commune").fill("reze")
    form.get_by_label("Téléphone").fill("0240000001")
    form.get_by_role("button", name="Enregistrer").click()
    row = sites.locator("tr", has_text="Antenne de Rezé")
    expect(row).to_contain_text("44400 Rezé")
    expect(row).to_contain_text("INSEE 44143")
    expect(row).to_contain_text("02 40 00 00 01")
    expect(page.locator("#toast")).to_have_text("Site ajouté")

    # A wrong commune is refused next to the field, and nothing is added.
    sites.get_by_role("link", name="Ajouter").click()
    form = page.locator("#sites-new-form")
    form.get_by_label("Nom du site").fill("Erreur")
    form.get_by_label("Code postal").fill("44400")
    form.get_by_label("Commune").fill("Angers")
    form.get_by_role("button", name="Enregistrer").click()
    expect(form.locator(".field__error")).to_contain_text("ne correspond pas au code postal 44400")
    form.get_by_role("link", name="Annuler").click()
    expect(page.locator("#sites-new-form")).to_have_count(0)
    expect(sites.locator("tr", has_text="Erreur")).to_have_count(0)

    contacts = page.locator("#contacts")
    contacts.get_by_role("link", name="Ajouter").click()
    form = page.locator("#contacts-new-form")
    form.get_by_role("textbox", name="Nom", exact=True).fill("Bernard")
    form.get_by_label("Prénom").fill("Lucie")
    form.get_by_label("E-mail").fill("lucie.bernard@example.org")
    form.get_by_label("Référent handicap").check()
    form.get_by_role("button", name="Enregistrer").click()
    contact_row = contacts.locator("tr", has_text="Lucie Bernard")
    expect(contact_row).to_contain_text("Référent handicap")

    # Click-to-edit: the row becomes its form, and saving swaps the row back.
    contact_row.get_by_role("link", name="Modifier").click()
    edit = contacts.locator("tr.edit-row")
    edit.get_by_label("Fonction").fill("Référente PMR")
    edit.get_by_role("button", name="Enregistrer").click()
    expect(contacts.locator("tr.edit-row")).to_have_count(0)
    expect(contacts.locator("tr", has_text="Lucie Bernard")).to_contain_text("Référente PMR")


def test_deleting_a_site_in_use_names_its_uses(page, base, demo):
    login(page, base, "of.demo@example.org")
    page.goto(f"{base}/annuaire/")
    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator("#sites tr", has_text="Principal")
    row.get_by_role("button", name="Supprimer").click()
    expect(page.get_by_test_id("sites-notice")).to_contain_text("Ce site ne peut pas être supprimé")
    expect(page.get_by_test_id("sites-notice")).to_contain_text("19482-89393-143842")
    expect(page.locator("#sites tr", has_text="Principal")).to_have_count(1)
