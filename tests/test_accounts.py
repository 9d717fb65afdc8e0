"""Accounts managed by the Carif-Oref, set-password links and password changes."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.passwords import verify_password
from portal.extensions import db
from portal.models import PasswordToken, User

STRONG = "Un-mot-de-passe-2026"


def last_link(app) -> str:
    body = app.extensions["outbox"][-1].body
    return re.search(r"http://localhost(/mot-de-passe/\S+)", body).group(1)


def test_accounts_are_for_the_carif_role_only(client, auth, of_user):
    auth.login(of_user[0])
    assert client.get("/comptes/").status_code == 403
    assert client.post("/comptes/nouveau", data={"email": "x@example.org"}).status_code == 403


def test_carif_creates_an_of_account_and_the_link_sets_its_password(
    app, client, auth, carif_user, of_user
):
    auth.login(carif_user)
    establishment = of_user[1]
    response = client.post(
        "/comptes/nouveau",
        data={
            "email": "Nouvelle.Personne@Example.org",
            "first_name": "Nina",
            "last_name": "Roux",
            "role": "of",
            "sirets": f"{establishment.siret}\n",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nouvelle.personne@example.org"))
    assert user.password_hash is None and [e.id for e in user.establishments] == [establishment.id]
    link = last_link(app)
    auth.logout()
    assert client.get(link).status_code == 200
    weak = client.post(link, data={"password": "court", "confirm": "court"})
    assert weak.status_code == 422 and "au moins 12 caractères" in weak.text
    different = client.post(link, data={"password": STRONG, "confirm": STRONG + "x"})
    assert "ne sont pas identiques" in different.text
    assert client.post(link, data={"password": STRONG, "confirm": STRONG}).status_code == 302
    assert verify_password(db.session.get(User, user.id).password_hash, STRONG)
    # Single use.
    reused = client.get(link)
    assert reused.status_code == 404 and "déjà été utilisé" in reused.text
    assert auth.login(user.email, STRONG).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "pas-un-mail", "role": "carif"}, "Adresse e-mail invalide"),
        ({"email": "a@example.org", "role": "of", "sirets": ""}, "au moins un SIRET"),
        ({"email": "a@example.org", "role": "of", "sirets": "123"}, "ligne 1 : Le SIRET doit"),
        (
            {"email": "a@example.org", "role": "of", "sirets": "13000511900032"},
            "ligne 1 : SIRET 13000511900032 inconnu.",
        ),
        ({"email": "a@example.org", "role": "admin"}, "pas un choix valide"),
    ],
)
def test_account_form_bad_input_is_422(client, auth, carif_user, data, message):
    auth.login(carif_user)
    response = client.post("/comptes/nouveau", data=data)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    assert db.session.scalar(select(User).where(User.email == "a@example.org")) is None


def test_duplicate_email_is_refused(client, auth, carif_user, of_user):
    auth.login(carif_user)
    response = client.post(
        "/comptes/nouveau", data={"email": of_user[0].email.upper(), "role": "carif"}
    )
    assert response.status_code == 422 and "existe déjà" in response.text


def test_expired_and_replaced_links_are_refused(app, client, auth, carif_user, of_user):
    auth.login(carif_user)
    user = of_user[0]
    client.post(f"/comptes/{user.id}/lien")
    first = last_link(app)
    client.post(f"/comptes/{user.id}/lien")
    second = last_link(app)
    auth.logout()
    assert "remplacé" in client.get(first).text
    token = db.session.scalars(select(PasswordToken).where(PasswordToken.used_at.is_(None))).one()
    token.expires_at = token.expires_at - timedelta(days=3)
    db.session.commit()
    assert "expiré" in client.get(second).text
    assert client.get("/mot-de-passe/nimportequoi").status_code == 404


def test_deactivated_account_cannot_log_in(client, auth, carif_user, of_user):
    auth.login(carif_user)
    user = of_user[0]
    assert client.post(f"/comptes/{user.id}/desactiver").status_code == 302
    assert client.post(f"/comptes/{carif_user.id}/desactiver").status_code == 409
    auth.logout()
    assert auth.login(user).status_code == 422


def test_every_user_changes_their_own_password(client, auth, of_user):
    from .factories import PASSWORD

    user = of_user[0]
    auth.login(user)
    wrong = client.post(
        "/mon-compte/mot-de-passe", data={"current": "faux", "password": STRONG, "confirm": STRONG}
    )
    assert wrong.status_code == 422 and "Mot de passe actuel incorrect." in wrong.text
    ok = client.post(
        "/mon-compte/mot-de-passe",
        data={"current": PASSWORD, "password": STRONG, "confirm": STRONG},
    )
    assert ok.status_code == 302
    assert verify_password(db.session.get(User, user.id).password_hash, STRONG)


def test_two_validators_editing_one_account_the_second_gets_409_with_current_values(
    client, auth, carif_user, of_user
):
    user, first, second, _ = of_user
    auth.login(carif_user)
    page = client.get(f"/comptes/{user.id}")
    version = re.search(r'name="version"[^>]*value="(\d+)"', page.text).group(1)
    base = {"email": user.email, "role": "of", "sirets": first.siret, "version": version}
    first_save = client.post(f"/comptes/{user.id}", data=base | {"last_name": "Martin"})
    assert first_save.status_code == 302
    # A colleague's form, filled from the same version, would overwrite "Martin".
    second_save = client.post(f"/comptes/{user.id}", data=base | {"last_name": "Bernard"})
    assert second_save.status_code == 409
    assert "modifiée entre-temps" in second_save.text
    assert 'value="Martin"' in second_save.text  # the current values, to check and save again
    db.session.expire_all()
    assert db.session.get(User, user.id).last_name == "Martin"
    fresh = re.search(r'name="version"[^>]*value="(\d+)"', second_save.text).group(1)
    retry = client.post(
        f"/comptes/{user.id}", data=base | {"last_name": "Bernard", "version": fresh}
    )
    assert retry.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).last_name == "Bernard"
