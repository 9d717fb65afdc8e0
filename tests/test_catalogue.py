"""The public catalogue through HTTP: search, filters, detail pages, open data, and that only
what the Carif-Oref validated is ever shown."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date, timedelta

import pytest

from portal.extensions import db
from portal.models import ActionStatus, PublishedSession
from portal.review import decisions

from . import factories
from .offer_builders import complete_offer

TODAY = date.today()
NEXT_YEAR = TODAY.year + 1


def publish(
    app,
    establishment,
    *,
    title="Électricité du bâtiment",
    commune="Nantes",
    postcode="44000",
    start=None,
    end=None,
    accessibility=None,
    **changes,
):
    """A complete offer of ``establishment``, validated by the Carif-Oref, hence published.

    ``changes`` go to the session (``session__teaching_mode``), the action (``action__…``),
    the certification (``certification__…``) or the funding (``funding__…``).
    """
    built = complete_offer(establishment, year=NEXT_YEAR)
    built["certification"].title = title
    site = built["site"]
    site.commune, site.postcode, site.accessibility_note = commune, postcode, accessibility
    session = built["session"]
    if start:
        session.start_date = start
        session.end_date = end or start + timedelta(days=60)
    for key, value in changes.items():
        record, attribute = key.split("__")
        setattr(built[record], attribute, value)
    built["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    with app.test_request_context():
        decisions.validate(built["action"])
        db.session.commit()
    return built


def detail_path(built) -> str:
    return f"/catalogue/formations/{built['formation'].id}-{built['action'].id}"


@pytest.fixture
def establishment(make_establishment):
    return make_establishment(name="Centre de formation Atlantique")


@pytest.fixture
def offer(app, establishment):
    return publish(
        app,
        establishment,
        accessibility="Rampe d'accès et ascenseur ; arrêt de tram à 100 m.",
        action__objectives="<p>Réaliser des <strong>installations électriques</strong>.</p>",
    )


def result_titles(html: str) -> list[str]:
    return re.findall(r'class="result-card__title"><a href="[^"]*">([^<]*)</a>', html)


def test_catalogue_needs_no_login_and_shows_no_back_office_navigation(client, offer):
    response = client.get("/catalogue/")
    assert response.status_code == 200
    assert "Catalogue des formations" in response.text
    assert "Électricité du bâtiment" in response.text
    assert "Tableau de bord" not in response.text and "Déconnexion" not in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_search_form_is_a_bookmarkable_get_form_with_labels(client, offer):
    html = client.get("/catalogue/").text
    form = html.split('id="catalogue-search"')[1].split("</form>")[0]
    assert 'method="get"' in form and 'hx-push-url="true"' in form
    for name in (
        "q",
        "programme",
        "departement",
        "commune",
        "du",
        "au",
        "modalite",
        "niveau",
        "public",
        "terminees",
        "tri",
    ):
        field_id = f"f-{name}"
        assert f'id="{field_id}"' in form and f'for="{field_id}"' in form, name
    assert '<a class="skip-link" href="#main">' in html


def test_htmx_search_returns_the_results_fragment_with_the_status_out_of_band(client, hx, offer):
    response = client.get("/catalogue/", query_string={"q": "electricite"}, headers=hx)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith("{#") is False
    assert 'id="catalogue-results"' in response.text
    assert 'id="catalogue-status"' in response.text and 'hx-swap-oob="true"' in response.text
    assert "1 session" in response.text
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    "words",
    ["électricité", "ELECTRICITE", "electricite batiment", "électri", "installations", "nantes"],
)
def test_keywords_are_accent_insensitive_prefixes_over_title_objectives_and_commune(
    client, offer, words
):
    html = client.get("/catalogue/", query_string={"q": words}).text
    assert result_titles(html) == ["Électricité du bâtiment"], words


def test_every_word_is_required(client, offer):
    html = client.get("/catalogue/", query_string={"q": "électricité plomberie"}).text
    assert result_titles(html) == []
    assert "Aucune session ne correspond à la recherche" in html


def test_formacode_labels_are_searchable(app, client, establishment):
    from portal.models import Formacode

    db.session.add(Formacode(code="24054", label="Électrotechnique"))
    db.session.commit()
    publish(app, establishment, title="Monteur", certification__formacodes=["24054"])
    assert result_titles(client.get("/catalogue/?q=electrotechnique").text) == ["Monteur"]


def test_filters_narrow_the_results(app, client, establishment, make_programme):
    nantes = publish(app, establishment, title="Soudure Nantes")
    publish(
        app,
        establishment,
        title="Comptabilité Angers",
        commune="Angers",
        postcode="49000",
        session__teaching_mode=2,
        action__public_targets=["80006"],
        certification__exit_level="14",
        start=date(NEXT_YEAR, 9, 1),
    )
    cases = {
        (("departement", "49"),): ["Comptabilité Angers"],
        (("departement", "44"),): ["Soudure Nantes"],
        (("commune", "angers"),): ["Comptabilité Angers"],
        (("modalite", "2"),): ["Comptabilité Angers"],
        (("modalite", "0"),): ["Soudure Nantes"],
        (("niveau", "14"),): ["Comptabilité Angers"],
        (("public", "80006"),): ["Comptabilité Angers"],
        (("programme", str(nantes["programme"].id)),): ["Soudure Nantes"],
        (("du", f"{NEXT_YEAR}-08-01"),): ["Comptabilité Angers"],
        (("au", f"{NEXT_YEAR}-03-01"),): ["Soudure Nantes"],
        (("q", "comptabilite"), ("departement", "44")): [],
        (): ["Soudure Nantes", "Comptabilité Angers"],
        (("tri", "-debut"),): ["Comptabilité Angers", "Soudure Nantes"],
    }
    for params, expected in cases.items():
        html = client.get("/catalogue/", query_string=dict(params)).text
        assert result_titles(html) == expected, params
    # The filters offer the values published sessions have.
    page = client.get("/catalogue/").text
    assert '<option value="49">49 - Maine-et-Loire</option>' in page
    assert "Niveau 4 (Bac)" in page and "Demandeur d’emploi" in page


def test_ended_sessions_are_hidden_unless_asked_for(app, client, establishment):
    publish(
        app,
        establishment,
        title="Session passée",
        start=TODAY - timedelta(days=100),
        end=TODAY - timedelta(days=2),
    )
    publish(app, establishment, title="En cours", start=TODAY - timedelta(days=300), end=TODAY)
    assert result_titles(client.get("/catalogue/").text) == ["En cours"]
    html = client.get("/catalogue/?terminees=1").text
    assert result_titles(html) == ["En cours", "Session passée"]


def test_result_count_and_pages_work_without_javascript(app, client, establishment):
    for n in range(12):
        publish(app, establishment, title=f"Cuisine {n:02d}", start=date(NEXT_YEAR, 3, 1 + n))
    first = client.get("/catalogue/?q=cuisine&taille=10").text
    assert "12 sessions" in first and "Résultats 1 à 10" in first and "Page 1 sur 2" in first
    match = re.search(r'<a href="([^"]+)"[^>]*rel="next"', first)
    assert match
    second = client.get(match.group(1).replace("&amp;", "&")).text
    assert result_titles(second) == ["Cuisine 10", "Cuisine 11"]
    assert 'rel="prev"' in second and 'rel="next"' not in second


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"du": "2025-13-45"}, "n'est pas une date"),
        ({"du": "hier"}, "n'est pas une date"),
        ({"du": f"{NEXT_YEAR}-05-01", "au": f"{NEXT_YEAR}-01-01"}, "doit précéder"),
        ({"niveau": "99"}, "n'existe pas"),
        ({"modalite": "7"}, "n'existe pas"),
        ({"public": "abc"}, "n'existe pas"),
        ({"departement": "100"}, "n'est pas un département"),
        ({"programme": "x"}, "n'est pas un nombre"),
        ({"programme": "999999"}, "n'existe pas"),
        ({"page": "0"}, "hors limites"),
        ({"page": "deux"}, "n'est pas un nombre"),
        ({"page": "26"}, "premiers résultats"),
        ({"taille": "7"}, "valeur attendue"),
        ({"tri": "titre"}, "valeur attendue"),
        ({"terminees": "peut-être"}, "valeur attendue"),
        ({"q": "x" * 201}, "trop longue"),
        ({"q": "alpha beta gamma delta epsilon zeta eta theta iota"}, "trop de mots"),
        ({"formacode": "12"}, "5 chiffres"),
    ],
)
def test_bad_input_answers_400_with_a_french_message(client, offer, params, message):
    response = client.get("/catalogue/", query_string=params)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert 'role="alert"' in response.text


def test_bad_input_in_an_htmx_search_answers_400_with_the_message_for_the_toast(client, hx):
    response = client.get("/catalogue/?du=junk", headers=hx)
    assert response.status_code == 400
    assert "<html" not in response.text and 'role="alert"' in response.text


def test_a_page_past_the_last_is_404(client, offer):
    response = client.get("/catalogue/?page=2")
    assert response.status_code == 404
    assert "la recherche compte 1 page(s)" in response.text


def test_detail_page_has_sessions_places_meetings_contacts_and_access(client, offer):
    path = detail_path(offer)
    response = client.get(path)
    assert response.status_code == 301
    assert response.location.endswith(f"{path}/electricite-du-batiment")
    page = client.get(response.location)
    html = page.text
    assert page.status_code == 200
    assert "<h1" in html and "Électricité du bâtiment" in html
    assert "Centre de formation Atlantique" in html
    assert "<strong>installations électriques</strong>" in html  # the safe HTML subset
    session = offer["session"]
    assert f'id="session-{session.id}"' in html
    assert f"Session du 10/02/{NEXT_YEAR} au 28/06/{NEXT_YEAR}" in html
    assert "12" in html.split('data-testid="places"')[1][:20]
    assert f"25/01/{NEXT_YEAR} à 09 h 30" in html  # information collective
    assert "Référent handicap :" in html and "Léa Martin" in html
    assert "Rampe d&#39;accès et ascenseur" in html
    assert "44000 Nantes" in html


def test_detail_url_slug_is_optional_and_corrected(client, offer):
    path = detail_path(offer)
    wrong = client.get(f"{path}/ancien-titre")
    assert wrong.status_code == 301 and wrong.location.endswith("/electricite-du-batiment")
    assert client.get(f"{path}/electricite-du-batiment").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/catalogue/formations/1-999999",
        "/catalogue/formations/1-99999999999999",
        "/catalogue/formations/999999-{action}",
    ],
)
def test_unknown_or_mismatched_action_is_404(client, offer, path):
    response = client.get(path.format(action=offer["action"].id))
    assert response.status_code == 404
    assert "Formation introuvable" in response.text


def _search_everywhere(client, built, word: str) -> list[str]:
    """Where ``word`` shows publicly: search, detail page, API list and detail, open data."""
    places = []
    for query in ({"q": word}, {}):
        titles = result_titles(client.get("/catalogue/", query_string=query).text)
        if any(word in title for title in titles):
            places.append("search")
    detail = client.get(detail_path(built), follow_redirects=True)
    if detail.status_code == 200 and word in detail.text:
        places.append("detail")
    for query in ({"q": word}, {}):
        found = client.get("/api/v1/sessions", query_string=query).json["resultats"]
        if any(word in item["intitule"] for item in found):
            places.append("api")
    if word in client.get(f"/api/v1/sessions/{built['session'].id}").text:
        places.append("api detail")
    if word in client.get("/catalogue/donnees-ouvertes/sessions.json").text:
        places.append("json")
    if word in client.get("/catalogue/donnees-ouvertes/sessions.csv").text:
        places.append("csv")
    return places


@pytest.mark.parametrize("status", [ActionStatus.DRAFT, ActionStatus.SUBMITTED, "rejected"])
def test_unvalidated_offers_never_show(client, establishment, status):
    built = complete_offer(establishment, year=NEXT_YEAR)
    built["certification"].title = "Confidentielle"
    built["action"].status = ActionStatus.REJECTED if status == "rejected" else status
    db.session.commit()
    assert _search_everywhere(client, built, "Confidentielle") == []


def test_changes_by_the_of_stay_private_until_validated_again(
    app, client, auth, establishment, make_user, carif_user
):
    built = publish(app, establishment, title="Plomberie")
    user = make_user(establishments=[establishment])
    auth.login(user)
    auth.switch(establishment)
    action, session = built["action"], built["session"]
    db.session.refresh(action)
    response = client.post(
        f"/actions/{action.id}/champ",
        data={
            "champ": "title_complement",
            "title_complement": "Brouillon secret",
            "version": action.version,
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    db.session.refresh(session)
    client.post(
        f"/sessions/{session.id}/champ",
        data={"champ": "hours_centre", "hours_centre": "999", "version": session.version},
        headers={"HX-Request": "true"},
    )
    db.session.expire_all()
    assert db.session.get(type(action), action.id).status == ActionStatus.DRAFT
    auth.logout()
    assert _search_everywhere(client, built, "Brouillon secret") == []
    detail = client.get(detail_path(built), follow_redirects=True).text
    assert "200 h en centre" in detail and "999" not in detail
    assert client.get(f"/api/v1/sessions/{session.id}").json["duree_centre_heures"] == 200
    assert result_titles(client.get("/catalogue/?q=plomberie").text) == ["Plomberie"]


def test_a_draft_title_never_appears_next_to_published_offers(client, app, establishment, offer):
    formation = factories.make_formation(establishment, title="Titre en cours de saisie")
    action = factories.make_action(formation)
    factories.make_session(action)
    for path in (
        "/catalogue/",
        "/catalogue/?q=saisie",
        "/api/v1/sessions",
        "/catalogue/donnees-ouvertes/sessions.csv",
    ):
        assert "Titre en cours de saisie" not in client.get(path).text, path


def test_open_data_csv_is_excel_friendly_and_formula_safe(app, client, establishment):
    publish(app, establishment, title='=HYPERLINK("http://x")')
    publish(
        app,
        establishment,
        title="Terminée depuis longtemps",
        start=TODAY - timedelta(days=200),
        end=TODAY - timedelta(days=31),
    )
    publish(
        app,
        establishment,
        title="Terminée récemment",
        start=TODAY - timedelta(days=90),
        end=TODAY - timedelta(days=29),
    )
    response = client.get("/catalogue/donnees-ouvertes/sessions.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0][:5] == ["code_fas", "session_id", "action_id", "formation_id", "intitule"]
    titles = {row[4] for row in rows[1:]}
    assert titles == {'\'=HYPERLINK("http://x")', "Terminée récemment"}
    first = rows[1]
    assert first[12] == f"10/02/{NEXT_YEAR}"  # date_debut, French
    assert first[-1].startswith("http://localhost/catalogue/formations/")


def test_open_data_json_is_an_array_of_the_api_details(client, offer):
    response = client.get("/catalogue/donnees-ouvertes/sessions.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    items = json.loads(response.data)
    assert len(items) == 1
    item = items[0]
    assert item["id"] == offer["session"].id
    assert item["code_fas"] == offer["session"].fas_code
    assert item["intitule"] == "Électricité du bâtiment"
    assert item["places"] == 12
    assert item["informations_collectives"][0]["date"] == f"{NEXT_YEAR}-01-25"
    assert item["lieu"]["accessibilite"].startswith("Rampe d'accès")
    assert item["contacts"]["pmr"]["nom"] == "Léa Martin"


def test_open_data_page_links_the_files_and_the_api(client):
    html = client.get("/catalogue/donnees-ouvertes").text
    for href in (
        "/catalogue/donnees-ouvertes/sessions.csv",
        "/catalogue/donnees-ouvertes/sessions.json",
        "/api/v1/openapi.json",
    ):
        assert f'href="{href}"' in html


def test_unpublishing_removes_the_word_index_rows(app, establishment, offer):
    from portal.catalogue.models import PublishedTerm
    from portal.publication import unpublish

    assert db.session.query(PublishedTerm).count() > 0
    unpublish(offer["action"])
    db.session.commit()
    assert db.session.query(PublishedSession).count() == 0
    assert db.session.query(PublishedTerm).count() == 0
