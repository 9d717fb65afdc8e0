import pytest

from portal.auth.views import BAD_CREDENTIALS, TOO_MANY_ATTEMPTS, safe_next
from portal.scoping import SESSION_KEY

from .conftest import csrf_token_from


def test_login_page_is_french_and_has_a_csrf_field(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "Se connecter" in response.text
    assert 'lang="fr"' in response.text


def test_login_success_redirects_to_dashboard(client, auth, of_user):
    user, first, *_ = of_user
    response = auth.login(user)
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("case", ["wrong password", "unknown email"])
def test_wrong_password_and_unknown_email_give_the_same_answer(client, auth, of_user, case):
    user = of_user[0]
    if case == "wrong password":
        response = auth.login(user, "not-the-password")
    else:
        response = auth.login("nobody@example.org")
    assert response.status_code == 422
    assert BAD_CREDENTIALS in response.text
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_login_email_is_case_insensitive(client, auth, of_user):
    user = of_user[0]
    assert auth.login(user.email.upper()).status_code == 302


def test_inactive_account_cannot_log_in(app, auth, of_user):
    from portal.extensions import db

    user = of_user[0]
    user.active = False
    db.session.commit()
    response = auth.login(user)
    assert response.status_code == 422
    assert BAD_CREDENTIALS in response.text


def test_empty_form_shows_inline_french_errors(client):
    response = client.post("/connexion", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert "Saisissez votre adresse e-mail." in response.text
    assert "Saisissez votre mot de passe." in response.text


def test_repeated_failures_are_slowed_down_with_a_french_message(client, auth, of_user):
    user = of_user[0]
    for _ in range(5):
        assert auth.login(user, "bad").status_code == 422
    response = auth.login(user, "bad")
    assert response.status_code == 429
    assert TOO_MANY_ATTEMPTS in response.text
    # Even the right password is refused while the limit holds.
    assert auth.login(user).status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(client, auth, of_user):
    user = of_user[0]
    for _ in range(7):
        assert auth.login(user).status_code == 302
        auth.logout()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/sessions?filtre=actives", "/sessions?filtre=actives"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_safe_next_only_allows_local_paths(target, expected):
    assert safe_next(target) == expected


def test_login_follows_a_local_next_only(client, auth, of_user):
    user = of_user[0]
    response = auth.login(user, query_string={"next": "/actions"})
    assert response.location == "/actions"
    auth.logout()
    response = auth.login(user, query_string={"next": "https://evil.example/"})
    assert response.location == "/"


def test_login_renews_the_session(client, auth, of_user):
    user, first, second, _ = of_user
    with client.session_transaction() as sess:
        sess["planted"] = "value"
        sess[SESSION_KEY] = second.id
    auth.login(user)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get(SESSION_KEY) != second.id


def test_logout_clears_the_session_and_needs_post(client, auth, of_user):
    auth.login(of_user[0])
    assert client.get("/deconnexion").status_code == 405
    response = auth.logout()
    assert response.status_code == 302
    assert response.location == "/connexion"
    with client.session_transaction() as sess:
        assert dict(sess) == {}
    assert client.get("/").status_code == 302


def test_csrf_is_enforced_on_forms_and_accepted_from_the_htmx_header(make_app, of_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user, first, second, _ = of_user
    # Without a token the login form is refused.
    response = client.post("/connexion", data={"email": user.email, "password": "x"})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.text
    token = csrf_token_from(client.get("/connexion").text)
    from .factories import PASSWORD

    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    # htmx sends the token as a header, from <body hx-headers>.
    page = client.get("/").text
    header_token = csrf_token_from(page)
    assert f'"X-CSRFToken": "{header_token}"' in page
    response = client.post(
        "/etablissement/courant",
        data={"establishment_id": second.id},
        headers={"HX-Request": "true", "X-CSRFToken": header_token},
    )
    assert response.status_code == 204
    with client.session_transaction() as sess:
        assert sess[SESSION_KEY] == second.id
    response = client.post(
        "/etablissement/courant",
        data={"establishment_id": first.id},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    with client.session_transaction() as sess:
        assert sess[SESSION_KEY] == second.id
