"""Fixtures: one migrated database per run (SQLite file, or TEST_DATABASE_URL), emptied after
each test; app, client, auth and factory fixtures."""

from __future__ import annotations

import os
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app
from portal.extensions import db, limiter

from . import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _test_config(tmp_path_factory) -> dict:
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        "MAIL_BACKEND": "memory",
        "PDF_CACHE_DIR": str(tmp_path_factory.mktemp("pdf-cache")),
    }


@pytest.fixture(scope="session")
def base_config(tmp_path_factory) -> dict:
    return _test_config(tmp_path_factory)


@pytest.fixture(scope="session")
def _app(base_config):
    """The app, its database created the way production creates it: `flask db upgrade`."""
    app = create_app(base_config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:  # a throwaway database, but reruns must start clean
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    yield app
    _dispose(app)


def _dispose(app) -> None:
    """Close pooled connections: PostgreSQL ones left to the garbage collector warn."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def make_app(base_config, _app):
    """Build another app on the test database with some settings changed."""
    apps = []

    def factory(**overrides):
        app = create_app(base_config | overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        _dispose(app)


@pytest.fixture
def app(_app):
    """The session app with an empty database and fresh rate limits after each test."""
    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        limiter.reset()
        _app.extensions.pop("outbox", None)


@pytest.fixture
def client(app):
    return app.test_client()


HX = {"HX-Request": "true"}


@pytest.fixture
def hx():
    """Headers of an htmx request that swaps a fragment."""
    return dict(HX)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = factories.PASSWORD, **kw):
        email = getattr(user_or_email, "email", user_or_email)
        return self._client.post("/connexion", data={"email": email, "password": password}, **kw)

    def logout(self):
        return self._client.post("/deconnexion")

    def switch(self, establishment, **kw):
        return self._client.post(
            "/etablissement/courant", data={"establishment_id": establishment.id}, **kw
        )


@pytest.fixture
def auth(client):
    return AuthActions(client)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


# Factory fixtures return the builders so tests read like the domain.
@pytest.fixture
def make_establishment(app):
    return factories.make_establishment


@pytest.fixture
def make_user(app):
    return factories.make_user


@pytest.fixture
def make_site(app):
    return factories.make_site


@pytest.fixture
def make_contact(app):
    return factories.make_contact


@pytest.fixture
def make_programme(app):
    return factories.make_programme


@pytest.fixture
def make_lot(app):
    return factories.make_lot


@pytest.fixture
def make_certification(app):
    return factories.make_certification


@pytest.fixture
def make_formation(app):
    return factories.make_formation


@pytest.fixture
def make_action(app):
    return factories.make_action


@pytest.fixture
def make_session(app):
    return factories.make_session


@pytest.fixture
def of_user(make_establishment, make_user):
    """An OF user attached to two establishments, plus a third establishment they do not own."""
    first = make_establishment(name="Premier", commune="Nantes")
    second = make_establishment(name="Second", commune="Angers")
    other = make_establishment(name="Autre organisme", commune="Le Mans")
    user = make_user(establishments=[first, second])
    return user, first, second, other


@pytest.fixture
def carif_user(make_user):
    return make_user(role="carif")
