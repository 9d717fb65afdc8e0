"""Security headers, cookie flags and the no-inline-code rule of the templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.security import secure_transport

from .factories import PASSWORD

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _csp(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in header.split(";"))
        if part
    }


@pytest.mark.parametrize("path", ["/connexion", "/catalogue/", "/api/v1/sessions"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_the_style_nonce_is_in_the_page_for_the_editor_and_changes_every_request(client):
    nonces = []
    for _ in range(2):
        response = client.get("/connexion")
        style_src = _csp(response)["style-src"]
        nonce = re.search(r"'nonce-([^']+)'", style_src).group(1)
        assert f'<meta name="csp-nonce" content="{nonce}">' in response.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_htmx_is_configured_without_eval(client):
    page = client.get("/connexion").text
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page).group(1)
    assert '"allowEval": false' in config


def test_no_template_carries_inline_script_style_or_event_handler():
    """The policy forbids them; a template that used one would break in the browser."""
    offenders = []
    inline = [
        (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
        (re.compile(r"<style\b", re.I), "<style> element"),
        (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
        (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
        (re.compile(r"\shx-on[:-]", re.I), "hx-on attribute (needs eval)"),
        (re.compile(r"javascript:", re.I), "javascript: URL"),
        (re.compile(r"""hx-vals=['"]\s*(js|javascript):""", re.I), "hx-vals with js:"),
    ]
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern, what in inline:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{template.relative_to(TEMPLATES)}:{line}: {what}")
    assert not offenders, "\n".join(offenders)


def test_plain_http_serving_has_no_hsts_and_no_secure_cookie(client, auth, of_user):
    response = auth.login(of_user[0])
    assert "Strict-Transport-Security" not in response.headers
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


@pytest.fixture
def https_app(make_app):
    return make_app(SECURE_TRANSPORT=True)


def test_production_redirects_plain_http_to_https(https_app):
    response = https_app.test_client().get("/catalogue/")
    assert response.status_code in (301, 302)
    assert response.location.startswith("https://")


def test_production_sends_hsts_and_secure_http_only_same_site_cookies(https_app, of_user):
    client = https_app.test_client()
    page = client.get("/connexion", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains")
    response = client.post(
        "/connexion",
        data={"email": of_user[0].email, "password": PASSWORD},
        base_url="https://localhost",
    )
    assert response.status_code == 302, response.text
    cookie = response.headers["Set-Cookie"]
    assert "; Secure" in cookie
    assert "; HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("setting", "debug", "testing", "expected"),
    [
        (None, False, False, True),  # production by default
        (None, True, False, False),
        (None, False, True, False),
        ("0", False, False, False),  # SECURE_TRANSPORT=0 from the environment (make run)
        ("1", False, True, True),
        (False, False, False, False),
    ],
)
def test_secure_transport_is_the_default_outside_debug_and_tests(setting, debug, testing, expected):
    class FakeApp:
        config = {"SECURE_TRANSPORT": setting}

    FakeApp.debug = debug
    FakeApp.testing = testing
    assert secure_transport(FakeApp) is expected
