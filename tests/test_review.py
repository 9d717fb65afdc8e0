"""The Carif-Oref back office: queue, review page with the diff, decisions and their effects."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ActionEvent, ActionStatus, PublishedSession
from portal.models._base import utcnow

from .offer_builders import complete_offer


def reload(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


@pytest.fixture
def submitted(client, auth, of_user):
    """A complete action sent for validation by its OF user (who is then logged out)."""
    user, first, second, other = of_user
    built = complete_offer(first)
    auth.login(user)
    auth.switch(first)
    assert client.post(f"/actions/{built['action'].id}/envoyer").status_code == 302
    auth.logout()
    return built


def outbox(app):
    return app.extensions.get("outbox", [])


def test_the_back_office_is_for_the_carif_role_only(client, auth, of_user):
    auth.login(of_user[0])
    for path in ("/validation/", "/validation/file", "/validation/actions/1"):
        assert client.get(path).status_code == 403


def test_carif_dashboard_counts_every_establishment(client, auth, carif_user, submitted):
    auth.login(carif_user)
    response = client.get("/", follow_redirects=True)
    assert "Tableau de bord – service Offre" in response.text
    assert re.search(r'data-counter="carif-submitted">.*?counter-value">1<', response.text, re.S)


def test_queue_lists_submitted_actions_with_filters_and_waiting_time(
    client, auth, carif_user, submitted, of_user, make_programme
):
    action = submitted["action"]
    action.submitted_at = utcnow() - timedelta(days=3)
    db.session.commit()
    auth.login(carif_user)
    html = client.get("/validation/file").text
    assert f"{action.formation_id}-<b>{action.id}</b>" in html
    assert "(3 j)" in html
    other_programme = make_programme()
    filtered = client.get("/validation/file", query_string={"programme": other_programme.id})
    assert f"<b>{action.id}</b>" not in filtered.text
    by_siret = client.get("/validation/file", query_string={"etablissement": of_user[1].siret})
    assert f"<b>{action.id}</b>" in by_siret.text
    fragment = client.get("/validation/file", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    for bad in ({"tri": "x"}, {"taille": "7"}, {"programme": "abc"}):
        assert client.get("/validation/file", query_string=bad).status_code == 400


def test_validation_publishes_the_sessions_and_notifies(
    app, client, auth, carif_user, submitted, of_user
):
    action = submitted["action"]
    auth.login(carif_user)
    page = client.get(f"/validation/actions/{action.id}").text
    assert "Valider et publier" in page and submitted["formation"].title in page
    response = client.post(f"/validation/actions/{action.id}/valider")
    assert response.status_code == 302
    action = reload(action)
    assert action.status == ActionStatus.VALIDATED and action.validated_at
    row = db.session.scalars(select(PublishedSession)).one()
    assert row.session_id == submitted["session"].id
    assert row.fas_code == submitted["session"].fas_code
    assert row.data["fundings"][0]["fee_ttc"] == "3000.00"
    assert row.data["info_meetings"][0]["day"] == "2024-01-25"
    assert row.department == "44"
    mail = outbox(app)[-1]
    assert of_user[0].email in mail.to and "validée" in mail.subject
    # Deciding twice is refused: the action is no longer waiting.
    again = client.post(f"/validation/actions/{action.id}/valider")
    assert again.status_code == 409


def test_reject_needs_a_reason(client, auth, carif_user, submitted):
    action = submitted["action"]
    auth.login(carif_user)
    response = client.post(f"/validation/actions/{action.id}/refuser", data={"motif": " "})
    assert response.status_code == 422
    assert "Indiquez le motif du refus." in response.text
    assert reload(action).status == ActionStatus.SUBMITTED
    client.post(f"/validation/actions/{action.id}/refuser", data={"motif": "Dates erronées"})
    action = reload(action)
    assert (action.status, action.rejection_reason) == (ActionStatus.REJECTED, "Dates erronées")


def test_question_and_answer_loop(app, client, auth, carif_user, submitted, of_user):
    action = submitted["action"]
    auth.login(carif_user)
    response = client.post(
        f"/validation/actions/{action.id}/question", data={"question": "Quel est le lieu exact ?"}
    )
    assert response.status_code == 302
    assert reload(action).status == ActionStatus.QUESTIONED
    assert "Quel est le lieu exact ?" in outbox(app)[-1].body
    auth.logout()
    auth.login(of_user[0])
    auth.switch(of_user[1])
    dashboard = client.get("/").text
    assert re.search(r'actions-en-attente-reponses">.*?counter-value">1<', dashboard, re.S)
    fiche = client.get(f"/actions/{action.id}").text
    assert "Quel est le lieu exact ?" in fiche
    empty = client.post(f"/actions/{action.id}/repondre", data={"reponse": ""})
    assert empty.status_code == 422 and "Saisissez votre réponse." in empty.text
    response = client.post(f"/actions/{action.id}/repondre", data={"reponse": "Salle 2"})
    assert response.status_code == 302
    assert reload(action).status == ActionStatus.SUBMITTED
    assert carif_user.email in outbox(app)[-1].to
    kinds = db.session.scalars(
        select(ActionEvent.kind).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)
    ).all()
    assert kinds == ["submit", "question", "answer"]
    history = client.get(f"/actions/{action.id}").text
    assert "Question du Carif-Oref" in history and "Salle 2" in history


def test_an_of_user_cannot_decide_and_a_carif_user_cannot_answer(
    client, auth, carif_user, submitted, of_user
):
    action = submitted["action"]
    auth.login(of_user[0])
    assert client.post(f"/validation/actions/{action.id}/valider").status_code == 403
    auth.logout()
    auth.login(carif_user)
    auth.switch(of_user[1])
    client.post(f"/validation/actions/{action.id}/question", data={"question": "?"})
    assert client.post(f"/actions/{action.id}/repondre", data={"reponse": "x"}).status_code == 403
    assert reload(action).status == ActionStatus.QUESTIONED


def test_resubmitted_action_shows_the_differences_from_the_validated_version(
    client, auth, carif_user, submitted, of_user
):
    action = submitted["action"]
    auth.login(carif_user)
    client.post(f"/validation/actions/{action.id}/valider")
    auth.logout()
    auth.login(of_user[0])
    auth.switch(of_user[1])
    session = submitted["session"]
    # The OF changes a validated Region action: it reopens, and needs the Region's agreement.
    client.post(
        f"/sessions/{session.id}/champ",
        data={"champ": "hours_centre", "hours_centre": "210", "version": reload(session).version},
        headers={"HX-Request": "true"},
    )
    assert reload(action).status == ActionStatus.DRAFT
    refused = client.post(f"/actions/{action.id}/envoyer")
    assert refused.status_code == 422 and "accord préalable de la Région" in refused.text
    action = reload(action)
    for champ, value in (
        ("region_agreement_date", "2024-03-01"),
        ("region_agreement_ref", "CR-2024-118"),
    ):
        client.post(
            f"/actions/{action.id}/champ",
            data={"champ": champ, champ: value, "version": reload(action).version},
            headers={"HX-Request": "true"},
        )
    assert client.post(f"/actions/{action.id}/envoyer").status_code == 302
    # The public still sees the validated version until the next validation.
    assert db.session.scalars(select(PublishedSession)).one().data["session"]["hours_centre"] == 200
    auth.logout()
    auth.login(carif_user)
    page = client.get(f"/validation/actions/{action.id}").text
    diff = page.split('data-testid="diff"')[1].split("</table>")[0]
    assert "Durée en centre (en h)" in diff and ">200<" in diff and ">210<" in diff
    assert "CR-2024-118" in diff


def test_forfait_recrutement_locks_a_validated_sessions_start_date(
    client, auth, carif_user, submitted, of_user
):
    submitted["lot"].fixed_recruitment_fee = True
    db.session.commit()
    action, session = submitted["action"], submitted["session"]
    auth.login(carif_user)
    client.post(f"/validation/actions/{action.id}/valider")
    auth.logout()
    auth.login(of_user[0])
    auth.switch(of_user[1])
    response = client.post(
        f"/sessions/{session.id}/champ",
        data={
            "champ": "start_date",
            "start_date": "2024-03-01",
            "version": reload(session).version,
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "forfait recrutement" in response.text
    assert reload(session).start_date.isoformat() == "2024-02-10"


def test_unknown_action_is_404_for_the_carif_user(client, auth, carif_user):
    auth.login(carif_user)
    assert client.get("/validation/actions/999999").status_code == 404


def test_published_copy_is_not_touched_by_drafts(client, auth, carif_user, submitted, of_user):
    action = submitted["action"]
    auth.login(carif_user)
    client.post(f"/validation/actions/{action.id}/valider")
    before = db.session.scalar(select(func.count()).select_from(PublishedSession))
    auth.logout()
    auth.login(of_user[0])
    auth.switch(of_user[1])
    client.post(f"/actions/{action.id}/sessions")
    assert db.session.scalar(select(func.count()).select_from(PublishedSession)) == before
