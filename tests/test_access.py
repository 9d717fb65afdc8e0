"""Every protected URL sends an anonymous visitor to the login page; carif-only URLs refuse
OF users with 403."""

import pytest

from .urls import expand, method_of, url_map_app

PUBLIC_ENDPOINTS = {"static", "auth.login"}
CARIF_ONLY_ENDPOINTS = {"establishments.picker"}


def _rules():
    app = url_map_app()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        method = method_of(rule)
        with app.test_request_context():
            for path, _ in expand(rule):
                yield pytest.param(method, path, id=f"{method} {path}")


@pytest.mark.parametrize(("method", "path"), list(_rules()))
def test_protected_url_redirects_anonymous_visitor_to_login(client, method, path):
    response = client.open(path, method=method)
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
