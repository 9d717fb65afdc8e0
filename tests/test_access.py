"""Every protected URL sends an anonymous visitor to the login page; carif-only URLs refuse
OF users with 403."""

import pytest

from .urls import expand, method_of, url_map_app

# What anyone may see without an account: the public catalogue, its open data and API, the
# published offer's exports, and the pages that lead to an account.
PUBLIC_BLUEPRINTS = {"catalogue", "api"}
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "auth.set_password",
    "exports.catalogue_pdf",
    "exports.pdf_job",
    "exports.pdf_download",
    "exports.lheo_export",
    "exports.lheo_page",
}
CARIF_ONLY_ENDPOINTS = {"establishments.picker", "exports.pdf_catalogues"}


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint.split(".")[0] in PUBLIC_BLUEPRINTS


def _rules():
    app = url_map_app()
    for rule in app.url_map.iter_rules():
        if is_public(rule.endpoint):
            continue
        method = method_of(rule)
        with app.test_request_context():
            for path, _ in expand(rule):
                yield pytest.param(method, path, id=f"{method} {path}")


@pytest.mark.parametrize(("method", "path"), list(_rules()))
def test_protected_url_redirects_anonymous_visitor_to_login(client, method, path):
    with client.open(path, method=method) as response:
        assert response.status_code == 302, path
        assert response.location.startswith("/connexion?next=")


@pytest.mark.parametrize("endpoint", sorted(CARIF_ONLY_ENDPOINTS))
def test_carif_only_url_answers_403_to_an_of_user(app, client, auth, of_user, endpoint):
    from flask import url_for

    auth.login(of_user[0])
    with app.test_request_context():
        path = url_for(endpoint)
    response = client.get(path)
    assert response.status_code == 403
    assert "Accès refusé" in response.text
