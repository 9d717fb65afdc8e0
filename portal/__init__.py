"""SOFI portal: the application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import extensions as ext
from . import security

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py or test_config, then the environment."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _configure(app, test_config)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    return app


def _configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'portal.sqlite'}",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the login session
        WTF_I18N_ENABLED=False,  # WTForms' built-in French messages, see portal.forms
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        LOGIN_FAILURE_LIMIT="5 per 5 minutes",
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    # The environment wins over files, so that production never depends on instance/.
    for key in (
        "SECRET_KEY",
        "RATELIMIT_STORAGE_URI",
        "MAIL_BACKEND",
        "MAIL_SERVER",
        "MAIL_PORT",
        "MAIL_USERNAME",
        "MAIL_PASSWORD",
        "MAIL_SENDER",
        "SECURE_TRANSPORT",
    ):
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if os.environ.get("DATABASE_URL") and test_config is None:
        app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(os.environ["DATABASE_URL"])
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set: put it in instance/config.py or the environment "
            "(make run creates instance/config.py with a random key)."
        )


def _normalise_db_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the usual postgres:// forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _init_extensions(app: Flask) -> None:
    # Through the module: `portal.htmx` (the helpers) would shadow an imported `htmx` name.
    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager = ext.login_manager
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    ext.csrf.init_app(app)
    ext.htmx.init_app(app)
    ext.limiter.init_app(app)
    security.init_app(app)

    from . import journal, models  # noqa: F401  (tables on db.metadata; the journal listener)
    from .models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return ext.db.session.get(User, int(user_id))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL, foreign keys and a busy timeout on every SQLite connection."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    from .accounts import bp as accounts_bp
    from .auth import bp as auth_bp
    from .catalogue import bp as catalogue_bp
    from .dashboard import bp as dashboard_bp
    from .directory import bp as directory_bp
    from .establishments import bp as establishments_bp
    from .exports import bp as exports_bp
    from .history import bp as history_bp
    from .offer import bp as offer_bp
    from .registers import bp as registers_bp
    from .review import bp as review_bp
    from .search import bp as search_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(establishments_bp)
    app.register_blueprint(offer_bp)
    app.register_blueprint(registers_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(history_bp)

    from . import cli

    cli.register(app)


def _register_hooks(app: Flask) -> None:
    from . import errors, templating
    from . import htmx as htmx_helpers

    @app.before_request
    def _fresh_request_cache() -> None:
        # g belongs to the app context, which a test (or CLI) may keep across requests.
        g.pop("current_establishment", None)
        g.pop("_login_user", None)  # Flask-Login's cache of the user: read from this request

    errors.register(app)
    htmx_helpers.register(app)
    templating.register(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
