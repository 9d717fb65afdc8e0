import pytest
from flask import g
from werkzeug.exceptions import NotFound

from portal.extensions import db
from portal.models import Session
from portal.scoping import SESSION_KEY, current_establishment, get_scoped_or_404, scoped


def _current(client):
    with client.session_transaction() as sess:
        return sess.get(SESSION_KEY)


def test_of_user_starts_on_the_first_attached_establishment(client, auth, of_user):
    user, first, second, _ = of_user
    auth.login(user)
    response = client.get("/")
    expected = min((first, second), key=lambda e: e.siret)
    assert expected.switcher_label in response.text
    assert _current(client) == expected.id


def test_switcher_lists_siret_sofi_number_name_and_commune(client, auth, of_user):
    user, first, second, other = of_user
    auth.login(user)
    page = client.get("/").text
    for establishment in (first, second):
        label = f"{establishment.siret} - {establishment.sofi_number} - {establishment.name} - "
        assert label + establishment.commune in page
    assert other.siret not in page


def test_switching_with_htmx_redirects_to_the_same_list_page(client, auth, of_user, hx):
    user, first, second, _ = of_user
    auth.login(user)
    response = client.post(
        "/etablissement/courant",
        data={"establishment_id": second.id, "next": "/sessions?filtre=actives"},
        headers=hx,
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/sessions?filtre=actives"
    assert _current(client) == second.id


def test_switching_without_javascript_redirects(client, auth, of_user):
    user, first, second, _ = of_user
    auth.login(user)
    response = auth.switch(second, follow_redirects=False)
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.parametrize("next_path", ["https://evil.example/", "/nowhere", "/etablissements"])
def test_switch_lands_on_dashboard_for_unsafe_or_unknown_next(client, auth, of_user, next_path):
    user, first, second, _ = of_user
    auth.login(user)
    response = client.post(
        "/etablissement/courant", data={"establishment_id": second.id, "next": next_path}
    )
    assert response.location == "/"


def test_of_user_cannot_switch_to_an_establishment_they_are_not_attached_to(client, auth, of_user):
    user, first, second, other = of_user
    auth.login(user)
    client.get("/")
    before = _current(client)
    response = auth.switch(other)
    assert response.status_code == 403
    assert _current(client) == before


@pytest.mark.parametrize("value", ["abc", "", "1.5"])
def test_switch_with_a_non_numeric_id_is_a_bad_request(client, auth, of_user, value):
    auth.login(of_user[0])
    response = client.post("/etablissement/courant", data={"establishment_id": value})
    assert response.status_code == 400


def test_carif_user_picks_any_establishment_by_search(client, auth, of_user, carif_user):
    user, first, second, other = of_user
    auth.login(carif_user)
    # No establishment yet: the dashboard is the back office's, across establishments.
    response = client.get("/")
    assert response.status_code == 302
    assert response.location == "/validation/"
    # A page that needs one sends the carif user to the picker.
    response = client.get("/annuaire/")
    assert response.location.startswith("/etablissements")
    results = client.get("/etablissements", query_string={"q": other.siret[:9]}).text
    assert other.switcher_label in results
    results = client.get("/etablissements", query_string={"q": "autre organ"}).text
    assert other.switcher_label in results
    assert first.switcher_label not in results
    assert auth.switch(other).status_code == 302
    assert other.switcher_label in client.get("/").text


def test_carif_search_fragment_for_htmx(client, auth, of_user, carif_user, hx):
    auth.login(carif_user)
    response = client.get("/etablissements", query_string={"q": "zzz"}, headers=hx)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Aucun établissement ne correspond" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_carif_switch_to_unknown_establishment_is_404(client, auth, carif_user):
    auth.login(carif_user)
    response = client.post("/etablissement/courant", data={"establishment_id": 999999})
    assert response.status_code == 404


def test_of_user_without_establishment_is_told_so(client, auth, make_user):
    user = make_user(establishments=[])
    auth.login(user)
    response = client.get("/", follow_redirects=True)
    assert "Aucun établissement rattaché" in response.text


def test_scoped_helpers_only_reach_the_current_establishment(
    app, client, auth, of_user, make_formation, make_action, make_session
):
    user, first, second, other = of_user
    mine = make_session(make_action(make_formation(first)))
    theirs = make_session(make_action(make_formation(other)))
    with app.test_request_context():
        from flask_login import login_user

        login_user(user)
        from flask import session

        session[SESSION_KEY] = first.id
        g.pop("current_establishment", None)
        assert current_establishment().id == first.id
        assert get_scoped_or_404(Session, mine.id).id == mine.id
        with pytest.raises(NotFound):
            get_scoped_or_404(Session, theirs.id)
        with pytest.raises(NotFound):
            get_scoped_or_404(Session, 10**9)
        ids = db.session.scalars(scoped(db.select(Session.id), Session)).all()
        assert ids == [mine.id]


def test_a_forged_session_value_falls_back_to_an_attached_establishment(client, auth, of_user):
    user, first, second, other = of_user
    auth.login(user)
    with client.session_transaction() as sess:
        sess[SESSION_KEY] = other.id
    page = client.get("/").text
    assert other.switcher_label not in page
    assert _current(client) in (first.id, second.id)
