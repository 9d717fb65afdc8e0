"""Every protected URL sends an anonymous visitor to the login page, whatever the ids in it
(an unknown record is not told apart from a known one); carif-only pages refuse OF users with
the French 403 page. Which routes are protected or carif-only is read from the authorization
matrix (tests/test_authz_matrix.py), which checks every route with real records.
"""

import pytest
from flask import url_for

from .test_authz_matrix import CARIF_ONLY, LOGIN, MatrixError, expectation
from .urls import any_combinations, expand, method_of, methods_of, url_map_app


def _public(rule) -> bool:
    """Whether a visitor may use some method of ``rule``; a route missing from the matrix
    (reported by the matrix test) counts as protected."""
    try:
        return any(
            expectation(rule, method, chosen).anon != LOGIN
            for method in methods_of(rule)
            for chosen in any_combinations(rule)
        )
    except MatrixError:
        return False


def _protected():
    app = url_map_app()
    for rule in app.url_map.iter_rules():
        if _public(rule):
            continue
        method = method_of(rule)
        with app.test_request_context():
            for path, _ in expand(rule):
                yield pytest.param(method, path, id=f"{method} {path}")


def _page_expectation(rule):
    try:
        return expectation(rule, "GET", {})
    except MatrixError:
        return None


def _carif_only_pages():
    app = url_map_app()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and _page_expectation(rule) == CARIF_ONLY:
            yield rule.endpoint


PROTECTED = list(_protected())
CARIF_ONLY_PAGES = sorted(set(_carif_only_pages()))


def test_the_lists_are_not_empty():
    assert len(PROTECTED) > 100
    assert {"accounts.index", "establishments.picker", "exports.pdf_catalogues"} <= set(
        CARIF_ONLY_PAGES
    )


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_url_redirects_anonymous_visitor_to_login(client, method, path):
    with client.open(path, method=method) as response:
        assert response.status_code == 302, path
        assert response.location.startswith("/connexion?next=")


@pytest.mark.parametrize("endpoint", CARIF_ONLY_PAGES)
def test_carif_only_url_answers_403_to_an_of_user(app, client, auth, of_user, endpoint):
    auth.login(of_user[0])
    with app.test_request_context():
        path = url_for(endpoint)
    response = client.get(path)
    assert response.status_code == 403
    assert "Accès refusé" in response.text
