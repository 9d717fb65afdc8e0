import pytest
from flask import abort


def test_unknown_url_gives_a_french_404_page(client):
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert 'lang="fr"' in response.text


@pytest.fixture
def failing_app(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    @app.route("/conflict")
    def conflict():
        abort(409)

    return app


def test_server_error_gives_a_french_500_page_without_trace_and_is_logged(failing_app, caplog):
    client = failing_app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Erreur du serveur" in response.text
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert any("secret internal detail" in (r.exc_text or "") for r in caplog.records)


def test_htmx_errors_get_a_fragment_not_a_page(failing_app):
    client = failing_app.test_client()
    response = client.get("/conflict", headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "<html" not in response.text
    assert 'role="alert"' in response.text
