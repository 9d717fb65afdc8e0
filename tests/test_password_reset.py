""" "Mot de passe oublié": same answer for every address, a working single-use link, limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.passwords import verify_password
from portal.auth.reset import SENT
from portal.extensions import db
from portal.models import PasswordToken, User

from .factories import PASSWORD

NEW = "Un-nouveau-mot-2026"


def outbox(app) -> list:
    return app.extensions.get("outbox", [])


def ask(client, email: str):
    return client.post("/mot-de-passe-oublie", data={"email": email}, follow_redirects=True)


def test_the_login_page_offers_it(client):
    assert 'href="/mot-de-passe-oublie"' in client.get("/connexion").text


def test_an_active_account_receives_a_two_hour_single_use_link(app, client, auth, of_user):
    user = of_user[0]
    response = ask(client, user.email.upper())
    assert response.status_code == 200
    assert SENT in response.text.replace("&#39;", "'")
    [mail] = outbox(app)
    assert list(mail.to) == [user.email]
    link = re.search(r"http://localhost(/mot-de-passe/\S+)", mail.body).group(1)
    token = db.session.scalar(select(PasswordToken).where(PasswordToken.user_id == user.id))
    assert token.expires_at - token.created_at == timedelta(hours=2)
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id).password_hash, NEW)
    assert auth.login(user, PASSWORD).status_code == 422  # the old password is gone
    auth.logout()
    assert client.get(link).status_code == 404  # single use


@pytest.mark.parametrize("case", ["unknown", "inactive"])
def test_unknown_and_inactive_addresses_get_the_same_answer_and_no_mail(app, client, of_user, case):
    user = of_user[0]
    if case == "inactive":
        user.active = False
        db.session.commit()
        email = user.email
    else:
        email = "personne@example.org"
    known = of_user[1]  # unused: the fixture builds the world
    response = client.post("/mot-de-passe-oublie", data={"email": email})
    assert response.status_code == 302 and response.location == "/connexion"
    assert SENT in client.get("/connexion").text.replace("&#39;", "'")
    assert outbox(app) == []
    assert db.session.scalar(select(PasswordToken)) is None
    assert known is not None


def test_an_empty_address_is_422_with_a_french_message(client):
    response = client.post("/mot-de-passe-oublie", data={"email": ""})
    assert response.status_code == 422
    assert "Saisissez votre adresse e-mail." in response.text


def test_requests_are_limited_per_email_and_per_address(app, client, of_user):
    user = of_user[0]
    for _ in range(3):
        assert client.post("/mot-de-passe-oublie", data={"email": user.email}).status_code == 302
    refused = client.post("/mot-de-passe-oublie", data={"email": user.email})
    assert refused.status_code == 429
    assert "Patientez" in refused.text
    assert len(outbox(app)) == 3
    # Other addresses from the same machine: 10 requests an hour in all.
    statuses = [
        client.post("/mot-de-passe-oublie", data={"email": f"x{n}@example.org"}).status_code
        for n in range(10)
    ]
    assert statuses == [302] * 7 + [429] * 3  # 3 + 7 = 10 links asked from this address


def test_a_wrong_current_password_is_limited_too(client, auth, of_user):
    auth.login(of_user[0])
    data = {"current": "pas-le-bon", "password": NEW, "confirm": NEW}
    statuses = [client.post("/mon-compte/mot-de-passe", data=data).status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
