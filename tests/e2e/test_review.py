"""The whole validation loop in a browser: send, question, answer, validate, published."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Establishment, PublishedSession

from ..offer_builders import complete_offer
from .conftest import login


def logout(page):
    page.get_by_role("button", name="Déconnexion").click()


def test_send_question_answer_validate_publish(page, base, demo):
    nantes = db.session.scalar(select(Establishment).where(Establishment.siret == "13000511900032"))
    offer = complete_offer(nantes)
    action = offer["action"]

    login(page, base, "of.demo@example.org")
    page.goto(f"{base}/actions/{action.id}/etat")
    expect(page.get_by_test_id("recap-summary")).to_contain_text("La saisie est complète")
    page.get_by_role("button", name="Envoyer en validation").click()
    expect(page.get_by_text("L'action est envoyée en validation")).to_be_visible()
    logout(page)

    login(page, base, "offre@example.org")
    expect(page.get_by_role("heading", name="Tableau de bord – service Offre")).to_be_visible()
    page.get_by_role(
        "link", name=re.compile("Actions de formation en attente de validation")
    ).click()
    page.get_by_role("link", name=f"{action.formation_id}-{action.id}").click()
    page.get_by_label("Poser une question").fill(
        "Pouvez-vous préciser le lieu de l'information collective ?"
    )
    page.get_by_role("button", name="Envoyer la question").click()
    expect(page.get_by_text("Question envoyée à l'organisme.")).to_be_visible()
    logout(page)

    login(page, base, "of.demo@example.org")
    expect(
        page.locator('tr[data-counter="actions-en-attente-reponses"] .counter-value')
    ).not_to_have_text("0")
    page.goto(f"{base}/actions/{action.id}")
    expect(page.get_by_test_id("carif-question")).to_contain_text("préciser le lieu")
    page.get_by_label("Votre réponse").fill("Salle 2, 12 rue du Président Édouard Herriot.")
    page.get_by_role("button", name="Répondre").click()
    expect(page.get_by_text("Votre réponse est envoyée")).to_be_visible()
    logout(page)

    login(page, base, "offre@example.org")
    page.goto(f"{base}/validation/actions/{action.id}")
    history = page.locator("#historique")
    expect(history).to_contain_text("Réponse de l'organisme")
    expect(history).to_contain_text("Salle 2")
    page.get_by_role("button", name="Valider et publier").click()
    expect(page.get_by_text("Action validée et publiée.")).to_be_visible()

    db.session.expire_all()
    published = db.session.scalars(
        select(PublishedSession).where(PublishedSession.action_id == action.id)
    ).all()
    assert [p.fas_code for p in published] == [offer["session"].fas_code]
    page.goto(f"{base}/validation/")
    expect(page.locator('tr[data-counter="carif-published"] .counter-value')).not_to_have_text("0")
