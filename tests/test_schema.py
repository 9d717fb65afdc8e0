"""The migrations are the schema: they must match the models exactly."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_migrated_database_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_no_partial_extends_a_layout():
    partials = list(TEMPLATES.glob("**/partials/*.html"))
    assert partials
    for path in partials:
        assert "{% extends" not in path.read_text(encoding="utf-8"), path


def test_every_page_template_extends_base():
    for path in TEMPLATES.glob("**/*.html"):
        if "partials" in path.parts or path.name == "base.html":
            continue
        assert '{% extends "base.html" %}' in path.read_text(encoding="utf-8"), path
