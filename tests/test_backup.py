"""`flask backup` and `flask restore` (SQLite's online backup API), and their refusals.

Each test works on its own SQLite database file (a copy of one migrated at the start of the
module), so that a restore never touches the suite's database; the tests run the same way when
the suite runs on PostgreSQL.
"""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import func, select

from portal import ROOT, create_app
from portal import backup as backup_module
from portal.extensions import db
from portal.models import Site, User

from . import factories

OLDER_REVISION = "6e82cf1bf0e6"  # the second migration: list rows, before password tokens
HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()


@contextmanager
def loggers_kept():
    """Alembic's env.py runs logging.config.fileConfig, which disables every logger that exists
    (the app's among them): later tests reading the app's log would see nothing."""
    loggers = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    disabled = [logger.disabled for logger in loggers]
    try:
        yield
    finally:
        for logger, was in zip(loggers, disabled, strict=True):
            logger.disabled = was


def migrate(app, revision: str = "head") -> None:
    with app.app_context(), loggers_kept():
        upgrade(revision=revision)
        db.engine.dispose()  # closing the last connection checkpoints the WAL into the file


@pytest.fixture(scope="module")
def migrated(tmp_path_factory, base_config, _app) -> Path:
    """One SQLite file migrated to the head, copied by each test."""
    path = tmp_path_factory.mktemp("backup-template") / "portal.sqlite"
    migrate(create_app(base_config | {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}))
    return path


@pytest.fixture
def live(tmp_path, migrated, make_app):
    """An app on its own SQLite file, with an establishment, a site and an account."""
    folder = tmp_path / "live"
    folder.mkdir()
    path = folder / "portal.sqlite"
    shutil.copyfile(migrated, path)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        establishment = factories.make_establishment(name="Organisme sauvegardé")
        factories.make_site(establishment, name="Site d'origine")
        factories.make_user(email="avant@example.org", establishments=[establishment])
        db.session.remove()
    app.live_path = path
    return app


def invoke(app, *args, **kw):
    """Run a command as `flask --app wsgi` does: inside the app's context."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args), **kw)
        db.session.remove()
    return result


def count_shown(output: str, table: str) -> int:
    """The row count the command printed for ``table``."""
    match = re.search(rf"^  {table} +(\d+) rows$", output, re.MULTILINE)
    assert match, output
    return int(match.group(1))


def dump(path: Path) -> list[str]:
    """The whole content of a SQLite file as SQL statements: equal dumps, equal databases."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def pragma(path: Path, name: str):
    connection = sqlite3.connect(path)
    try:
        return connection.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        connection.close()


def rows(path: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


# Backup ---------------------------------------------------------------------------------------


class Writer(threading.Thread):
    """Another connection that keeps committing two Formacodes per transaction."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.commits = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            while not self.stop.is_set():
                n = self.commits
                with connection:  # one transaction: both rows or neither
                    connection.executemany(
                        "INSERT INTO formacodes (code, label, version) VALUES (?, ?, 'V14')",
                        [(f"{2 * n:05d}", "pair"), (f"{2 * n + 1:05d}", "pair")],
                    )
                self.commits += 1
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connection.close()

    def wait_for(self, commits: int) -> None:
        deadline = time.monotonic() + 10
        while self.commits < commits and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.commits >= commits, self.error


def test_backup_is_a_checked_consistent_snapshot_taken_while_another_connection_writes(
    live, tmp_path
):
    writer = Writer(live.live_path)
    writer.start()
    try:
        writer.wait_for(20)
        result = invoke(live, "backup", str(tmp_path / "backup.sqlite"))
        at_backup = writer.commits
        writer.wait_for(at_backup + 20)  # still writing after the backup: it blocked nobody
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None
    assert result.exit_code == 0, result.output
    backup = tmp_path / "backup.sqlite"
    assert f"Backup written to {backup} (integrity check: ok)." in result.output
    assert f"schema revision: {HEAD}" in result.output
    (copied,) = rows(backup, "SELECT count(*) FROM formacodes")[0]
    assert count_shown(result.output, "formacodes") == copied
    assert count_shown(result.output, "users") == 1
    # Whole transactions only (pairs), taken in the middle of the writes.
    assert copied % 2 == 0
    assert 40 <= copied < 2 * writer.commits
    assert pragma(backup, "integrity_check") == "ok"
    # One self-contained file, in rollback-journal mode: nothing to forget beside it.
    assert pragma(backup, "journal_mode") == "delete"
    assert not Path(f"{backup}-wal").exists()
    assert rows(backup, "SELECT name FROM sites") == [("Site d'origine",)]
    assert pragma(live.live_path, "journal_mode") == "wal"  # the live database is untouched


def test_backup_into_a_directory_names_the_file_and_never_overwrites(live, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    first = invoke(live, "backup", str(folder))
    assert first.exit_code == 0, first.output
    (made,) = folder.iterdir()
    assert made.name.startswith("portal-") and made.suffix == ".sqlite"
    assert dump(made) == dump(live.live_path)
    again = invoke(live, "backup", str(made))
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert list(folder.iterdir()) == [made]  # no partial file left behind
    missing = invoke(live, "backup", str(tmp_path / "nowhere" / "b.sqlite"))
    assert missing.exit_code == 1 and "No directory" in missing.output


# Restore --------------------------------------------------------------------------------------


def _change_everything(app) -> None:
    """After the backup: a new account, a renamed site and a deleted one."""
    with app.app_context():
        establishment = db.session.scalars(select(User)).one().establishments[0]
        factories.make_user(email="apres@example.org", establishments=[establishment])
        site = db.session.scalars(select(Site)).one()
        site.name = "Site renommé"
        factories.make_site(establishment, name="Site ajouté")
        db.session.commit()
        db.session.remove()


def test_restore_round_trip_keeps_the_replaced_database_and_needs_confirmation(live, tmp_path):
    backup = tmp_path / "backup.sqlite"
    assert invoke(live, "backup", str(backup)).exit_code == 0
    before = dump(live.live_path)
    _change_everything(live)
    changed = dump(live.live_path)
    assert changed != before
    # A reader of another process, open across the restore: it must see the new content.
    other = sqlite3.connect(live.live_path)

    refused = invoke(live, "restore", str(backup), input="n\n")
    assert refused.exit_code == 1
    assert "Replace the database" in refused.output and "Aborted" in refused.output
    assert dump(live.live_path) == changed
    assert [p.name for p in live.live_path.parent.glob("*before-restore*")] == []

    result = invoke(live, "restore", str(backup), input="y\n")
    assert result.exit_code == 0, result.output
    assert f"Backup {backup} (integrity check: ok):" in result.output
    assert count_shown(result.output, "users") == 1
    assert f"Database {live.live_path} restored from {backup}" in result.output
    assert "db upgrade" not in result.output  # same schema revision
    assert dump(live.live_path) == before == dump(backup)
    # Restored through the backup API: still one WAL database, seen whole by other connections.
    assert pragma(live.live_path, "journal_mode") == "wal"
    assert other.execute("SELECT name FROM sites").fetchall() == [("Site d'origine",)]
    other.close()
    (previous,) = live.live_path.parent.glob("portal-before-restore-*.sqlite")
    assert f"Previous database kept as {previous}." in result.output
    assert dump(previous) == changed
    with live.app_context():  # the app's own engine reads the restored database
        assert db.session.scalars(select(User.email)).all() == ["avant@example.org"]
        db.session.remove()


def test_restore_with_yes_does_not_ask(live, tmp_path):
    backup = tmp_path / "backup.sqlite"
    assert invoke(live, "backup", str(backup)).exit_code == 0
    _change_everything(live)
    result = invoke(live, "restore", "--yes", str(backup))
    assert result.exit_code == 0, result.output
    assert "Replace the database" not in result.output
    assert dump(live.live_path) == dump(backup)


def _text(path: Path) -> Path:
    path.write_text("pas une base de données", encoding="utf-8")
    return path


def _foreign_sqlite(path: Path) -> Path:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    connection.commit()
    connection.close()
    return path


def _unknown_revision(path: Path, source: Path) -> Path:
    shutil.copyfile(source, path)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    connection.commit()
    connection.close()
    return path


def _truncated(path: Path, source: Path) -> Path:
    path.write_bytes(source.read_bytes()[: 40 * 4096])
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d, b: _text(d / "notes.txt"), "not a SQLite"),
        (lambda d, b: _foreign_sqlite(d / "other.sqlite"), "no alembic_version"),
        (lambda d, b: _unknown_revision(d / "newer.sqlite", b), "unknown to this version"),
        (lambda d, b: _truncated(d / "cut.sqlite", b), "damaged"),
        (lambda d, b: d.parent / "live" / "portal.sqlite", "is the live database itself"),
    ],
    ids=["text", "other-app", "unknown-revision", "truncated", "live-file"],
)
def test_restore_refuses_what_is_not_a_backup_of_this_application(live, tmp_path, make, message):
    good = tmp_path / "good.sqlite"
    assert invoke(live, "backup", str(good)).exit_code == 0
    folder = tmp_path / "bad"
    folder.mkdir()
    bad = make(folder, good)
    assert bad.exists()
    before = dump(live.live_path)
    result = invoke(live, "restore", "--yes", str(bad))
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert dump(live.live_path) == before
    assert list(live.live_path.parent.glob("*before-restore*")) == []


def test_restore_of_an_older_schema_tells_to_upgrade(live, tmp_path, make_app):
    old_path = tmp_path / "old.sqlite"
    migrate(make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{old_path}"), OLDER_REVISION)
    result = invoke(live, "restore", "--yes", str(old_path))
    assert result.exit_code == 0, result.output
    assert "Its schema is older" in result.output
    assert "run `flask --app wsgi db upgrade` before starting it" in result.output
    assert rows(live.live_path, "SELECT version_num FROM alembic_version") == [(OLDER_REVISION,)]
    with loggers_kept():
        upgraded = invoke(live, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    with live.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.session.remove()
    assert rows(live.live_path, "SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_restore_gives_up_while_a_write_holds_the_database(live, tmp_path, monkeypatch):
    monkeypatch.setattr(backup_module, "LOCK_TIMEOUT", 0.5)
    backup = tmp_path / "backup.sqlite"
    assert invoke(live, "backup", str(backup)).exit_code == 0
    _change_everything(live)
    changed = dump(live.live_path)
    writer = sqlite3.connect(live.live_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a write transaction in progress
    try:
        started = time.monotonic()
        result = invoke(live, "restore", "--yes", str(backup))
        waited = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 1, result.output
    assert "stayed locked by a write" in result.output and "Stop the application" in result.output
    assert waited < 5
    assert dump(live.live_path) == changed
    assert list(live.live_path.parent.glob("*before-restore*")) == []


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_is_pointed_to_pg_dump(make_app, tmp_path, command):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://sofi@localhost/sofi")
    existing = tmp_path / "sofi.dump"
    existing.write_bytes(b"PGDMP")
    result = invoke(app, command, str(existing if command == "restore" else tmp_path / "b"))
    assert result.exit_code == 1
    assert f"{command} works on SQLite only" in result.output
    assert "docs/operations.md" in result.output
    assert 'pg_dump --format=custom --file sofi.dump "$DATABASE_URL"' in result.output
    assert "pg_restore --clean --if-exists --no-owner --dbname" in result.output
    assert existing.read_bytes() == b"PGDMP"
    assert not (tmp_path / "b").exists()
