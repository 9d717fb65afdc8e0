"""HTTP security headers and cookie flags (Flask-Talisman).

The policy allows no inline script at all: htmx is configured by its ``<meta name="htmx-config">``
tag and every behaviour lives in static files. The only inline code a page may carry is the
``<style>`` element Trix (the rich-text editor) inserts at run time; it reads the per-request
nonce from ``<meta name="csp-nonce">`` (templates/base.html).

``SECURE_TRANSPORT`` says the portal is served over HTTPS (production, behind a TLS-terminating
proxy): cookies are marked Secure, plain-HTTP requests are redirected and HSTS is sent. It is on
unless the app runs in debug or test mode; local plain-HTTP serving (``make run``, the load
test) turns it off with ``SECURE_TRANSPORT=0``.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HSTS_MAX_AGE = 365 * 24 * 3600
PERMISSIONS_POLICY = {
    "camera": "()",
    "microphone": "()",
    "geolocation": "()",
    "payment": "()",
    "usb": "()",
}


def secure_transport(app: Flask) -> bool:
    value = app.config.get("SECURE_TRANSPORT")
    if value is None:
        return not (app.debug or app.testing)
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off", ""}
    return bool(value)


def init_app(app: Flask) -> None:
    https = secure_transport(app)
    app.config["SECURE_TRANSPORT"] = https
    app.config["SESSION_COOKIE_SECURE"] = https
    app.config["REMEMBER_COOKIE_SECURE"] = https
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    # One Talisman per app: it keeps its options on the instance, and tests build several apps.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=https,
        strict_transport_security=https,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        strict_transport_security_include_subdomains=True,
        session_cookie_secure=https,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["style-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS_POLICY,
        x_content_type_options=True,
        # The X-XSS-Protection auditor is gone from browsers and could only do harm.
        x_xss_protection=False,
    )
