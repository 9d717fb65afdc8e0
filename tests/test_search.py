import pytest

from portal.models import ActionStatus


@pytest.fixture
def logged_in(client, auth, of_user, make_programme, make_formation, make_action, make_session):
    user, first, second, other = of_user
    programme = make_programme(dispositif_code=8)
    formation = make_formation(first, programme_id=programme.id, title="Assistant RH")
    action = make_action(formation, status=ActionStatus.DRAFT)
    sessions = [make_session(action) for _ in range(12)]
    theirs = make_session(make_action(make_formation(other, title="Formation d'ailleurs")))
    auth.login(user)
    auth.switch(first)
    return action, sessions, theirs


def test_session_list_shows_fas_code_with_the_session_number_in_bold(client, logged_in):
    action, sessions, theirs = logged_in
    html = client.get("/sessions", query_string={"taille": 25}).text
    for s in sessions:
        assert f"{action.formation_id}-{action.id}-<b>{s.id}</b>" in html
    assert "Formation d&#39;ailleurs" not in html
    assert f"<b>{theirs.id}</b>" not in html
    for column in (
        "Code FAS",
        "Intitulé formation",
        "Site dispensateur",
        "Commune lieu",
        "Date début",
        "Date fin",
        "Code dispositif",
        "Etat A/I",
    ):
        assert column in html


def test_session_list_pages_by_the_chosen_size(client, logged_in):
    html = client.get("/sessions").text
    assert "Voir 1 à 10 sur 12 résultats" in html
    assert 'rel="next"' in html
    html = client.get("/sessions", query_string={"page": 2}).text
    assert "Voir 11 à 12 sur 12 résultats" in html
    assert 'rel="prev"' in html and 'rel="next"' not in html


def test_list_fragment_for_htmx_and_page_otherwise(client, logged_in, hx):
    page = client.get("/sessions")
    fragment = client.get("/sessions", headers=hx)
    assert "<html" in page.text and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="sessions-list"')
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize("query", [{"page": "x"}, {"page": 0}, {"taille": 7}, {"taille": "all"}])
def test_bad_paging_arguments_are_a_bad_request(client, logged_in, query):
    assert client.get("/sessions", query_string=query).status_code == 400
    assert client.get("/actions", query_string=query).status_code == 400


@pytest.mark.parametrize("path", ["/sessions?filtre=nope", "/actions?filtre=nope"])
def test_unknown_named_filter_is_404(client, logged_in, path):
    assert client.get(path).status_code == 404


def test_action_list_shows_status_and_type(client, logged_in):
    action, *_ = logged_in
    html = client.get("/actions").text
    assert f"{action.formation_id}-<b>{action.id}</b>" in html
    assert "En cours de saisie" in html
    assert "Publique" in html


def test_public_formations_list_only_has_programme_formations(
    client, logged_in, of_user, make_formation
):
    make_formation(of_user[1], title="Offre privée")
    html = client.get("/formations/publiques").text
    assert "Assistant RH" in html
    assert "Offre privée" not in html
