import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Contact, OpenDay, Site

from .factories import siret_with_prefix
from .urls import expand, method_of, url_map_app

TOMORROW = date.today() + timedelta(days=1)


@pytest.fixture
def logged(client, auth, of_user):
    user, first, second, other = of_user
    auth.login(user)
    auth.switch(first)
    return first, other


def errors(html: str) -> list[str]:
    return re.findall(r'class="field__error"[^>]*>([^<]+)<', html)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def site_data(prefix="site-new", **kw):
    data = {
        "name": "Antenne de Rezé",
        "address_line1": "1 rue de la Paix",
        "postcode": "44400",
        "commune": "reze",
        "phone": "02 40 20 40 20",
        "email": "reze@example.org",
        "accessibility_note": "Rampe d'accès",
    }
    return {f"{prefix}-{k}": v for k, v in (data | kw).items()}


# Sites ---------------------------------------------------------------------------------------


def test_annuaire_page_lists_only_the_current_establishment(
    client, logged, make_site, make_contact
):
    first, other = logged
    make_site(first, name="Site à moi")
    make_site(other, name="Site des autres")
    make_contact(first, last_name="Dupont")
    make_contact(other, last_name="Durand")
    html = client.get("/annuaire/").text
    assert "Site à moi" in html and "Dupont" in html
    assert "Site des autres" not in html and "Durand" not in html
    for title in ("Établissement", "Sites", "Contacts et référents", "Portes ouvertes"):
        assert title in html


def test_create_site_with_htmx_returns_the_section_and_normalises_fields(client, logged, hx):
    first, _ = logged
    response = client.post("/annuaire/sites", data=site_data(), headers=hx)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#sites"
    assert "saved" in response.headers["HX-Trigger"]
    site = db.session.scalars(select(Site)).one()
    assert (site.establishment_id, site.commune, site.insee_code) == (first.id, "Rezé", "44143")
    assert site.phone == "+33240204020"
    assert "02 40 20 40 20" in response.text
    assert f'id="site-{site.id}"' in response.text


def test_insee_code_is_derived_from_the_commune_and_a_stale_one_replaced(client, logged, hx):
    response = client.post("/annuaire/sites", data=site_data(insee_code="44109"), headers=hx)
    assert response.status_code == 200
    assert db.session.scalars(select(Site)).one().insee_code == "44143"


def test_create_site_without_javascript_redirects_to_the_section(client, logged):
    response = client.post("/annuaire/sites", data=site_data())
    assert response.status_code == 302
    assert response.location.endswith("/annuaire/#sites")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Ce champ est obligatoire."),
        ("postcode", "4440", "Le code postal doit comporter 5 chiffres."),
        ("postcode", "99999", "Code postal inconnu : 99999."),
        ("commune", "Angers", "ne correspond pas au code postal 44400"),
        ("phone", "12 34", "Numéro de téléphone invalide"),
        ("email", "pas-un-mail", "Adresse e-mail invalide"),
        ("address_line1", "x" * 51, "50 caractères maximum."),
    ],
)
def test_create_site_bad_input_is_422_inline_and_stores_nothing(
    client, logged, hx, field, value, message
):
    response = client.post("/annuaire/sites", data=site_data(**{field: value}), headers=hx)
    assert response.status_code == 422
    assert any(message in e for e in errors(response.text)), errors(response.text)
    assert f'id="site-new-{field}-error"' in response.text
    assert count(Site) == 0


def test_click_to_edit_then_save_a_site_row(client, logged, make_site, hx):
    first, _ = logged
    site = make_site(
        first, name="Principal", postcode="44000", commune="Nantes", phone="+33240204020"
    )
    form = client.get(f"/annuaire/sites/{site.id}/modifier", headers=hx)
    assert form.status_code == 200
    assert form.text.lstrip().startswith("{# Returned") is False
    assert f'<tr id="site-{site.id}" class="edit-row">' in form.text
    assert 'value="Principal"' in form.text
    assert 'value="02 40 20 40 20"' in form.text  # stored in E.164, shown the French way
    data = site_data(prefix=f"site-{site.id}", name="Siège", version=site.version)
    response = client.post(f"/annuaire/sites/{site.id}", data=data, headers=hx)
    assert response.status_code == 200
    assert f'<tr id="site-{site.id}">' in response.text
    assert "Siège" in response.text
    assert db.session.get(Site, site.id).name == "Siège"
    cancel = client.get(f"/annuaire/sites/{site.id}", headers=hx)
    assert f'<tr id="site-{site.id}">' in cancel.text


def test_edit_without_javascript_is_a_full_page(client, logged, make_site):
    first, _ = logged
    site = make_site(first)
    page = client.get(f"/annuaire/sites/{site.id}/modifier")
    assert "<html" in page.text and "Retour à l" in page.text
    assert client.get(f"/annuaire/sites/{site.id}").status_code == 302


def test_update_site_bad_input_keeps_the_stored_values(client, logged, make_site, hx):
    first, _ = logged
    site = make_site(first, name="Principal")
    data = site_data(prefix=f"site-{site.id}", name="", version=site.version)
    response = client.post(f"/annuaire/sites/{site.id}", data=data, headers=hx)
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in errors(response.text)
    db.session.expire_all()
    assert db.session.get(Site, site.id).name == "Principal"


def test_stale_site_write_is_refused_with_the_current_values(client, logged, make_site, hx):
    first, _ = logged
    site = make_site(first, name="Principal")
    old_version = site.version
    site.name = "Renommé dans un autre onglet"
    db.session.commit()
    data = site_data(prefix=f"site-{site.id}", name="Mon changement", version=old_version)
    response = client.post(f"/annuaire/sites/{site.id}", data=data, headers=hx)
    assert response.status_code == 409
    assert "modifiée entre-temps" in response.text
    assert 'value="Renommé dans un autre onglet"' in response.text
    db.session.expire_all()
    assert db.session.get(Site, site.id).name == "Renommé dans un autre onglet"


def test_site_in_use_cannot_be_deleted_and_the_answer_names_its_uses(
    client, logged, make_site, make_formation, make_action, make_session, hx
):
    first, _ = logged
    site = make_site(first)
    action = make_action(make_formation(first), site_id=site.id)
    session = make_session(action, site_id=site.id)
    response = client.post(f"/annuaire/sites/{site.id}/supprimer", headers=hx)
    assert response.status_code == 409
    assert "Ce site ne peut pas être supprimé" in response.text
    assert f"l&#39;action {action.formation_id}-{action.id}" in response.text
    assert f"la session {session.fas_code}" in response.text
    assert "Vous pouvez le désactiver." in response.text
    assert db.session.get(Site, site.id) is not None


def test_unused_site_is_deleted(client, logged, make_site, hx):
    first, _ = logged
    site = make_site(first)
    response = client.post(f"/annuaire/sites/{site.id}/supprimer", headers=hx)
    assert response.status_code == 200
    assert "saved" in response.headers["HX-Trigger"]
    assert count(Site) == 0


def test_deactivate_and_reactivate_a_site(client, logged, make_site, hx):
    first, _ = logged
    site = make_site(first)
    response = client.post(f"/annuaire/sites/{site.id}/desactiver", headers=hx)
    assert (
        response.status_code == 200 and "Inactif" in response.text and "Réactiver" in response.text
    )
    assert db.session.get(Site, site.id).active is False
    client.post(f"/annuaire/sites/{site.id}/activer", headers=hx)
    db.session.expire_all()
    assert db.session.get(Site, site.id).active is True


def test_postcode_offers_its_communes(client, logged, hx):
    response = client.get(
        "/annuaire/communes",
        query_string={"champ": "site-new-postcode", "site-new-postcode": "44800", "liste": "l1"},
        headers=hx,
    )
    assert '<datalist id="l1">' in response.text
    assert 'value="Saint-Herblain"' in response.text
    empty = client.get("/annuaire/communes", query_string={"champ": "p", "p": "abc"}, headers=hx)
    assert "<option" not in empty.text


# Contacts ------------------------------------------------------------------------------------


def contact_data(prefix="contact-new", **kw):
    data = {
        "civility": "Mme",
        "last_name": "Martin",
        "first_name": "Léa",
        "function": "Référente handicap",
        "email": "lea.martin@example.org",
        "phone": "0240204020",
        "mobile": "06 12 34 56 78",
        "roles": ["3", "1"],
    }
    return {f"{prefix}-{k}": v for k, v in (data | kw).items()}


def test_create_contact_with_roles(client, logged, hx):
    first, _ = logged
    response = client.post("/annuaire/contacts", data=contact_data(), headers=hx)
    assert response.status_code == 200
    contact = db.session.scalars(select(Contact)).one()
    assert contact.roles == ["1", "3"]
    assert contact.mobile == "+33612345678"
    assert "Référent handicap" in response.text and "06 12 34 56 78" in response.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("last_name", "", "Ce champ est obligatoire."),
        ("email", "lea@", "Adresse e-mail invalide"),
        ("mobile", "0000", "Numéro de téléphone invalide"),
        ("roles", ["99"], "n'est pas un choix valide"),
        ("civility", "Dr", "n'est pas un choix valide"),
    ],
)
def test_create_contact_bad_input(client, logged, hx, field, value, message):
    response = client.post("/annuaire/contacts", data=contact_data(**{field: value}), headers=hx)
    assert response.status_code == 422
    assert any(message.lower() in e.lower().replace("&#39;", "'") for e in errors(response.text)), (
        errors(response.text)
    )
    assert count(Contact) == 0


def test_contact_named_as_referent_cannot_be_deleted(
    client, logged, make_contact, make_formation, make_action, make_session, hx
):
    first, _ = logged
    contact = make_contact(first)
    session = make_session(make_action(make_formation(first)), referent_pmr_id=contact.id)
    response = client.post(f"/annuaire/contacts/{contact.id}/supprimer", headers=hx)
    assert response.status_code == 409
    assert f"la session {session.fas_code}" in response.text
    unused = make_contact(first, last_name="Libre")
    assert client.post(f"/annuaire/contacts/{unused.id}/supprimer", headers=hx).status_code == 200
    assert count(Contact) == 1


# Portes ouvertes -----------------------------------------------------------------------------


def open_day_data(site, prefix="open_day-new", **kw):
    data = {
        "site_id": site.id,
        "day": TOMORROW.isoformat(),
        "start_time": "09:30",
        "end_time": "12:00",
        "description": "Visite des ateliers",
        "registration_url": "https://example.org/inscription",
    }
    return {f"{prefix}-{k}": v for k, v in (data | kw).items()}


def test_create_open_day_and_past_ones_are_listed_apart(client, logged, make_site, hx):
    first, _ = logged
    site = make_site(first)
    response = client.post("/annuaire/portes-ouvertes", data=open_day_data(site), headers=hx)
    assert response.status_code == 200
    db.session.add(
        OpenDay(
            establishment_id=first.id,
            site_id=site.id,
            day=date.today() - timedelta(days=3),
            start_time=time(9),
            end_time=time(11),
            description="Ancienne",
        )
    )
    db.session.commit()
    html = client.get("/annuaire/").text
    upcoming = html.split('data-testid="open-days-upcoming"')[1].split("</table>")[0]
    past = html.split('data-testid="open-days-past"')[1].split("</table>")[0]
    assert "Visite des ateliers" in upcoming and "Ancienne" not in upcoming
    assert "Ancienne" in past


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("day", (date.today() - timedelta(days=1)).isoformat(), "ne peut pas être passée"),
        ("day", "2026-02-30", "pas une date valide"),
        ("end_time", "09:00", "L'heure de fin doit être après l'heure de début."),
        ("start_time", "25:00", "pas un horaire valide"),
        ("registration_url", "javascript:alert(1)", "Adresse web invalide"),
        ("site_id", "999999", "n'est pas un choix valide"),
    ],
)
def test_create_open_day_bad_input(client, logged, make_site, hx, field, value, message):
    first, _ = logged
    site = make_site(first)
    response = client.post(
        "/annuaire/portes-ouvertes", data=open_day_data(site, **{field: value}), headers=hx
    )
    assert response.status_code == 422
    found = [e.replace("&#39;", "'") for e in errors(response.text)]
    assert any(message.lower() in e.lower() for e in found), found
    assert count(OpenDay) == 0


def test_open_day_needs_a_site_of_the_current_establishment(client, logged, make_site, hx):
    first, other = logged
    theirs = make_site(other)
    response = client.post("/annuaire/portes-ouvertes", data=open_day_data(theirs), headers=hx)
    assert response.status_code == 422
    assert count(OpenDay) == 0


# The establishment record --------------------------------------------------------------------


def test_of_user_reads_but_cannot_edit_the_establishment(client, logged, hx):
    first, _ = logged
    html = client.get("/annuaire/").text
    assert first.siret in html and "Ces informations sont tenues par le Carif-Oref" in html
    assert client.get("/annuaire/etablissement/modifier", headers=hx).status_code == 403
    response = client.post("/annuaire/etablissement", data={"establishment-name": "Pirate"})
    assert response.status_code == 403
    db.session.expire_all()
    assert first.name != "Pirate"


def establishment_data(est, **kw):
    data = {
        "name": est.name,
        "siret": est.siret,
        "nda": "52440000044",
        "postcode": "44000",
        "commune": "Nantes",
        "version": est.version,
    }
    return {f"establishment-{k}": v for k, v in (data | kw).items()}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siret", "123", "Le SIRET doit comporter 14 chiffres."),
        ("siret", "13000511900033", "la clé de contrôle ne correspond pas"),
        ("siret", "13000511900032", "Le SIRET doit commencer par le SIREN"),
        ("nda", "123", "Le NDA comporte exactement 11 caractères."),
        ("name", "", "Ce champ est obligatoire."),
    ],
)
def test_carif_edits_the_establishment_with_checked_siret(
    client, auth, of_user, carif_user, hx, field, value, message
):
    user, first, second, other = of_user
    auth.login(carif_user)
    auth.switch(first)
    response = client.post(
        "/annuaire/etablissement", data=establishment_data(first, **{field: value}), headers=hx
    )
    assert response.status_code == 422
    found = [e.replace("&#39;", "'") for e in errors(response.text)]
    assert any(message in e for e in found), found


def test_carif_saves_the_establishment_and_siret_stays_unique(
    client, auth, of_user, carif_user, hx, make_establishment
):
    user, first, second, other = of_user
    auth.login(carif_user)
    auth.switch(first)
    assert client.get("/annuaire/etablissement/modifier", headers=hx).status_code == 200
    response = client.post(
        "/annuaire/etablissement", data=establishment_data(first, name="Nouveau nom"), headers=hx
    )
    assert response.status_code == 200, errors(response.text)
    db.session.expire_all()
    assert first.name == "Nouveau nom" and first.organisation.nda == "52440000044"
    sibling = make_establishment(
        organisation=first.organisation, siret=siret_with_prefix(first.siret[:9] + "0099")
    )
    db.session.refresh(first)
    taken = client.post(
        "/annuaire/etablissement", data=establishment_data(first, siret=sibling.siret), headers=hx
    )
    assert taken.status_code == 422
    assert "Ce SIRET est déjà celui d&#39;un autre établissement." in taken.text


# Scoping -------------------------------------------------------------------------------------


def _directory_id_routes():
    app = url_map_app()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("directory.") and "record_id" in rule.arguments:
            for path, values in expand(rule):
                yield pytest.param(rule, values, id=f"{method_of(rule)} {path}")


@pytest.mark.parametrize(("rule", "values"), list(_directory_id_routes()))
def test_another_establishments_record_answers_404(
    client, logged, make_site, make_contact, rule, values, hx
):
    first, other = logged
    site = make_site(other)
    records = {
        "sites": site,
        "contacts": make_contact(other),
        "portes-ouvertes": _open_day(other, site),
    }
    record = records[values["slug"]]
    _, path = rule.build(values | {"record_id": record.id}, append_unknown=False)
    response = client.open(path, method=method_of(rule), headers=hx)
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(type(record), record.id) is not None


def _open_day(est, site):
    day = OpenDay(
        establishment_id=est.id,
        site_id=site.id,
        day=TOMORROW,
        start_time=time(9),
        end_time=time(10),
    )
    db.session.add(day)
    db.session.commit()
    return day
