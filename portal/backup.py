"""Online backup and restore of the SQLite database, through SQLite's backup API.

``flask --app wsgi backup PATH`` copies the live database into a new file while the portal keeps
serving: one backup step reads a consistent snapshot (WAL readers do not block writers, and the
WAL's committed pages are part of the snapshot), the copy is checked with ``PRAGMA
integrity_check`` and only then moved to PATH.

``flask --app wsgi restore PATH`` checks the backup (SQLite, intact, a schema revision of this
application), keeps a copy of the database it replaces beside it, then copies the backup into the
live file through the same API: other connections see either the old or the new database, never
a mix, and the live file keeps its WAL mode.

PostgreSQL has its own tools (pg_dump, pg_restore): see docs/operations.md.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

SQLITE_HEADER = b"SQLite format 3\x00"
# How long a copy waits for a lock (a write in progress) before giving up, in seconds.
LOCK_TIMEOUT = 10.0

POSTGRESQL_ADVICE = (
    "{command} works on SQLite only. For PostgreSQL use pg_dump and pg_restore "
    "(see docs/operations.md):\n"
    '  pg_dump --format=custom --file sofi.dump "$DATABASE_URL"\n'
    '  pg_restore --clean --if-exists --no-owner --dbname "$DATABASE_URL" sofi.dump'
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (for the operator)."""


class DatabaseBusy(BackupError):
    """The database stayed locked by a write for LOCK_TIMEOUT seconds."""


@dataclass
class DatabaseInfo:
    """What a SQLite file holds: its size, schema revision and rows per table."""

    path: Path
    size: int
    revision: str | None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class RestoreResult:
    backup: DatabaseInfo
    restored: DatabaseInfo
    previous_copy: Path | None
    needs_upgrade: bool


def live_path(engine: Engine, command: str = "This command") -> Path:
    """The file of the app's SQLite database; BackupError on PostgreSQL or in-memory SQLite."""
    if engine.dialect.name != "sqlite":
        raise BackupError(POSTGRESQL_ADVICE.format(command=command))
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{command} needs a SQLite database file, not {database or 'memory'}.")
    return Path(database).resolve()


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    else:
        connection = sqlite3.connect(path)
    connection.execute("PRAGMA busy_timeout=1000")
    return connection


def _backup(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """Copy ``source`` into ``target`` in one step: one read transaction, a consistent snapshot.

    (In steps, every write by another connection would restart the copy.) Python retries a
    locked copy forever; the progress callback gives up after LOCK_TIMEOUT seconds.
    """
    deadline = time.monotonic() + LOCK_TIMEOUT

    def give_up_when_locked(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise DatabaseBusy(f"The database stayed locked for {LOCK_TIMEOUT:g} s.")

    source.backup(target, progress=give_up_when_locked)


def _integrity(connection: sqlite3.Connection) -> list[str]:
    """The problems ``PRAGMA integrity_check`` finds; empty when the file is sound."""
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows


def _describe(connection: sqlite3.Connection, path: Path) -> DatabaseInfo:
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    counts = {
        name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables
    }
    revision = None
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    counts.pop("alembic_version", None)
    return DatabaseInfo(path, path.stat().st_size, revision, counts)


def backup(engine: Engine, destination: Path) -> DatabaseInfo:
    """Copy the live database to ``destination`` (a new file, or a directory to put one in)."""
    source_path = live_path(engine, "backup")
    if not source_path.exists():
        raise BackupError(f"No database at {source_path}: nothing to back up.")
    destination = Path(destination)
    if destination.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        destination = destination / f"{source_path.stem}-{stamp}.sqlite"
    if destination.exists():
        raise BackupError(f"{destination} already exists: choose a new file name.")
    if not destination.parent.is_dir():
        raise BackupError(f"No directory {destination.parent}.")
    return _copy(source_path, destination.resolve())


def _copy(source_path: Path, destination: Path) -> DatabaseInfo:
    """Back up ``source_path`` into a temporary file, check it, then move it to ``destination``."""
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        source = _connect(source_path, read_only=True)
        target = sqlite3.connect(partial)
        try:
            _backup(source, target)
            # A self-contained file: no -wal beside it to forget when the backup is copied away.
            target.execute("PRAGMA journal_mode=DELETE")
            problems = _integrity(target)
            if problems:
                raise BackupError(f"The backup failed its integrity check: {problems[:5]}")
        finally:
            target.close()
            source.close()
        _fsync(partial)
        os.replace(partial, destination)
    except sqlite3.Error as error:
        raise BackupError(f"Backup of {source_path} failed: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
    check = _connect(destination, read_only=True)
    try:
        return _describe(check, destination)
    finally:
        check.close()


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def inspect_backup(path: Path, migrations: str) -> tuple[DatabaseInfo, bool]:
    """Check that ``path`` is a sound backup of this application's database.

    Returns its description and whether its schema is older than the application's (then
    ``flask db upgrade`` must follow the restore). BackupError when it is not a backup to
    restore: not SQLite, damaged, without a schema revision, or of an unknown revision.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No file {path}.")
    with open(path, "rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite database.")
    try:
        connection = _connect(path.resolve(), read_only=True)
        try:
            problems = _integrity(connection)
            if problems:
                raise BackupError(f"{path} is damaged (integrity check: {problems[:5]}).")
            info = _describe(connection, path.resolve())
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} is damaged: {error}.") from error
    if info.revision is None:
        raise BackupError(f"{path} has no alembic_version: not a database of this application.")
    script = ScriptDirectory(migrations)
    known = {revision.revision for revision in script.walk_revisions()}
    if info.revision not in known:
        raise BackupError(
            f"{path} is at schema revision {info.revision}, unknown to this version of the "
            "application (a newer version, or another application): not restored."
        )
    return info, info.revision not in script.get_heads()


def restore(engine: Engine, source: Path, migrations: str) -> RestoreResult:
    """Replace the live database with the backup at ``source``, keeping a copy of it."""
    target_path = live_path(engine, "restore")
    info, needs_upgrade = inspect_backup(source, migrations)
    if target_path.exists() and target_path.samefile(source):
        raise BackupError(f"{source} is the live database itself.")
    engine.dispose()  # this process's pooled connections would keep reading the old pages
    previous = None
    if target_path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        previous = target_path.with_name(f"{target_path.stem}-before-restore-{stamp}.sqlite")
        _copy(target_path, previous)
    try:
        backup_file = _connect(Path(source).resolve(), read_only=True)
        live = _connect(target_path)
        try:
            # Into the live file, not a file copy: one write transaction that other connections
            # see whole, through the WAL, and the file stays in WAL mode.
            _backup(backup_file, live)
            problems = _integrity(live)
            restored = _describe(live, target_path)
        finally:
            live.close()
            backup_file.close()
    except (sqlite3.Error, DatabaseBusy) as error:
        if previous:
            previous.unlink()  # the live database is unchanged: no copy to keep
        if isinstance(error, DatabaseBusy):
            raise BackupError(
                f"The database stayed locked by a write for {LOCK_TIMEOUT:g} s: nothing was "
                "restored. Stop the application, then run the restore again."
            ) from error
        raise BackupError(f"Restore failed, the database is unchanged: {error}") from error
    if problems:
        raise BackupError(
            f"The restored database failed its integrity check: {problems[:5]}. The previous "
            f"database is kept as {previous}."
        )
    return RestoreResult(info, restored, previous, needs_upgrade)


def size_label(size: int) -> str:
    """1536 → "1.5 KB"."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"
