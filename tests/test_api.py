"""The read-only JSON API of the published sessions and its OpenAPI description."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from .test_catalogue import NEXT_YEAR, publish


@pytest.fixture
def offers(app, make_establishment):
    establishment = make_establishment(name="Organisme API")
    return [
        publish(app, establishment, title="Cuisine collective", start=date(NEXT_YEAR, 3, 1)),
        publish(
            app,
            establishment,
            title="Cuisine gastronomique",
            commune="Angers",
            postcode="49000",
            start=date(NEXT_YEAR, 4, 1),
        ),
        publish(app, establishment, title="Maçonnerie", start=date(NEXT_YEAR, 5, 1)),
    ]


def test_list_returns_a_page_of_sessions_in_start_date_order(client, offers):
    response = client.get("/api/v1/sessions")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert (body["total"], body["total_exact"], body["page"], body["pages"]) == (3, True, 1, 1)
    titles = [item["intitule"] for item in body["resultats"]]
    assert titles == ["Cuisine collective", "Cuisine gastronomique", "Maçonnerie"]
    first = body["resultats"][0]
    session = offers[0]["session"]
    assert first["id"] == session.id and first["code_fas"] == session.fas_code
    assert first["date_debut"] == f"{NEXT_YEAR}-03-01"
    assert first["modalite_enseignement"] == {
        "code": "0",
        "libelle": "Formation entièrement présentielle",
    }
    assert first["detail"].endswith(f"/api/v1/sessions/{session.id}")
    assert "/catalogue/formations/" in first["url"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "cuisine"}, ["Cuisine collective", "Cuisine gastronomique"]),
        ({"q": "CUISINE gastro"}, ["Cuisine gastronomique"]),
        ({"departement": "49"}, ["Cuisine gastronomique"]),
        ({"commune": "nantes", "q": "cuisine"}, ["Cuisine collective"]),
        ({"du": f"{NEXT_YEAR}-03-15"}, ["Cuisine gastronomique", "Maçonnerie"]),
        ({"tri": "-debut", "q": "cuisine"}, ["Cuisine gastronomique", "Cuisine collective"]),
        ({"q": "plomberie"}, []),
    ],
)
def test_list_filters(client, offers, params, expected):
    body = client.get("/api/v1/sessions", query_string=params).json
    assert [item["intitule"] for item in body["resultats"]] == expected
    assert body["total"] == len(expected)


def test_list_pages_with_links(client, offers):
    first = client.get("/api/v1/sessions?taille=2").json
    assert first["pages"] == 2 and first["taille"] == 2 and len(first["resultats"]) == 2
    assert first["liens"]["precedent"] is None
    second = client.get(first["liens"]["suivant"]).json
    assert [item["intitule"] for item in second["resultats"]] == ["Maçonnerie"]
    assert second["liens"]["suivant"] is None and second["liens"]["precedent"]
    past = client.get("/api/v1/sessions?taille=2&page=3")
    assert past.status_code == 404
    assert past.json["erreur"]["message"].startswith("Page hors limites")


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        ({"du": "31/12/2026"}, "du", "n'est pas une date"),
        ({"page": "0"}, "page", "hors limites"),
        ({"page": "abc"}, "page", "n'est pas un nombre"),
        ({"taille": "101"}, "taille", "hors limites"),
        ({"niveau": "99"}, "niveau", "n'existe pas"),
        ({"departement": "00"}, "departement", "n'est pas un département"),
        ({"programme": "123456"}, "programme", "n'existe pas"),
        ({"ville": "Nantes"}, "ville", "Paramètre inconnu"),
        ({"tri": "titre"}, "tri", "valeur attendue"),
    ],
)
def test_list_errors_are_json_400_with_a_french_message(client, offers, params, parameter, message):
    response = client.get("/api/v1/sessions", query_string=params)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.json["erreur"]
    assert error["statut"] == 400 and error["parametre"] == parameter
    assert message in error["message"]


def test_detail_returns_the_published_session(client, offers):
    session = offers[0]["session"]
    response = client.get(f"/api/v1/sessions/{session.id}")
    assert response.status_code == 200
    body = response.json
    assert body["intitule"] == "Cuisine collective"
    assert body["organisme"]["nom"] == "Organisme API"
    assert body["lieu"]["commune"] == "Nantes"
    assert body["places"] == 12
    assert body["informations_collectives"][0]["heure"] == "09:30"
    assert body["contacts"]["pmr"]["nom"] == "Léa Martin"
    assert body["etat_recrutement"] == {"code": "1", "libelle": "ouvert"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions/999999",
        "/api/v1/sessions/99999999999999",
        "/api/v1/sessions/abc",
        "/api/v1/formations",
    ],
)
def test_unknown_resources_are_json_404(client, offers, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.json["erreur"]["statut"] == 404
    assert response.json["erreur"]["message"]


def test_the_api_root_lists_its_resources(client):
    body = client.get("/api/v1/").json
    assert body["sessions"].endswith("/api/v1/sessions")
    assert body["openapi"].endswith("/api/v1/openapi.json")


def test_the_api_needs_no_login_nor_cookies(app, offers):
    client = app.test_client(use_cookies=False)
    assert client.get("/api/v1/sessions").status_code == 200


def test_openapi_file_is_valid_json_describing_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.data)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["servers"][0]["url"] == "http://localhost/api/v1"
    routes = {
        re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.unknown", "api.index")
    }
    assert routes == set(spec["paths"])
    operation_ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(operation_ids) == len(set(operation_ids))
    # Every parameter the list accepts is described, and every $ref resolves.
    from portal.catalogue.query import PARAMETERS

    listed = {p["name"] for p in spec["paths"]["/sessions"]["get"]["parameters"]}
    assert listed == set(PARAMETERS)
    text = json.dumps(spec)
    for ref in re.findall(r'"\$ref": "#/components/schemas/(\w+)"', text):
        assert ref in spec["components"]["schemas"], ref
    for path in spec["paths"].values():
        for operation in path.values():
            assert "200" in operation["responses"]
