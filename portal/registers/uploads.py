"""Uploaded import files, kept on the server between the preview and the commit.

Each upload is a directory ``<IMPORT_UPLOAD_DIR>/<token>/`` holding the file(s) under
canonical names and ``meta.json`` (kind, owner, original names, options, previewed digest).
The browser only ever sends the token back: the plan is always recomputed from the stored
file, never taken from the client. A commit claims the directory by renaming it, so a double
submit cannot apply the same upload twice.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from flask import current_app
from werkzeug.datastructures import FileStorage

from ..imports.region import sheet_for_name
from ..imports.runner import ImportKind

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")
BUSY_SUFFIX = ".busy"
MAX_AGE_SECONDS = 24 * 3600
XLSX_MAGIC = b"PK\x03\x04"


class UploadRefused(ValueError):
    """A French message for the upload form (answered with 422)."""


def upload_root() -> Path:
    configured = current_app.config.get("IMPORT_UPLOAD_DIR")
    root = Path(configured) if configured else Path(current_app.instance_path) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return root


def valid_token(token: str | None) -> bool:
    return bool(token) and TOKEN_RE.fullmatch(token) is not None


@dataclass
class Upload:
    token: str
    directory: Path
    meta: dict[str, Any]

    @property
    def paths(self) -> list[Path]:
        return [self.directory / name for name in self.meta["stored"]]

    @property
    def filename(self) -> str:
        return ", ".join(self.meta["filenames"])

    def save_meta(self) -> None:
        (self.directory / "meta.json").write_text(json.dumps(self.meta), encoding="utf-8")


def _stored_names(kind: ImportKind, files: list[FileStorage]) -> list[tuple[FileStorage, str]]:
    """Check names, count and extensions; return each file with the name it is stored under."""
    files = [f for f in files if f and f.filename]
    allowed = ", ".join(kind.extensions)
    if not files:
        raise UploadRefused("Choisissez un fichier à importer.")
    if len(files) > 1 and not kind.multiple:
        raise UploadRefused("Un seul fichier à la fois.")
    named = []
    for storage in files:
        suffix = Path(storage.filename).suffix.lower()
        if suffix not in kind.extensions:
            raise UploadRefused(
                f"Format non accepté : {storage.filename}. Formats acceptés : {allowed}."
            )
        named.append((storage, suffix))
    if kind.slug != "region":
        return [(named[0][0], f"source{named[0][1]}")]
    suffixes = {suffix for _, suffix in named}
    if ".xlsx" in suffixes:
        if len(named) > 1:
            raise UploadRefused("Déposez un seul classeur XLSX, ou les fichiers CSV, pas les deux.")
        return [(named[0][0], "region.xlsx")]
    result, seen = [], set()
    for storage, suffix in named:
        spec = sheet_for_name(Path(storage.filename).stem)
        if spec is None:
            raise UploadRefused(
                f"Fichier {storage.filename} non reconnu : nommez les fichiers CSV "
                "programmes.csv, lots.csv, mandataires.csv et formateurs.csv."
            )
        if spec.key in seen:
            raise UploadRefused(f"Deux fichiers pour la feuille {spec.title}.")
        seen.add(spec.key)
        result.append((storage, f"{spec.key}{suffix}"))
    return result


def save_upload(
    kind: ImportKind, files: list[FileStorage], options: dict[str, Any], user_id: int
) -> Upload:
    """Store the files under a new random token; UploadRefused when they cannot be imported."""
    named = _stored_names(kind, files)
    purge_stale()
    token = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]
    directory = upload_root() / token
    directory.mkdir()
    try:
        for storage, name in named:
            target = directory / name
            storage.save(target)
            _check_content(target, storage.filename)
    except UploadRefused:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    upload = Upload(
        token,
        directory,
        {
            "kind": kind.slug,
            "user_id": user_id,
            "stored": [name for _, name in named],
            "filenames": [display_name(s.filename) for s, _ in named],
            "options": options,
            "uploaded_at": time.time(),
            "digest": None,
        },
    )
    upload.save_meta()
    return upload


def display_name(filename: str) -> str:
    """The name the user gave the file, for the report: no directory, no control character.
    (It is never used as a path: files are stored under canonical names.)"""
    name = PurePosixPath(filename.replace("\\", "/")).name
    return "".join(c for c in name if c.isprintable())[:120] or "fichier"


def _check_content(path: Path, original: str) -> None:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        raise UploadRefused(f"Le fichier {original} est vide.")
    if path.suffix == ".xlsx":
        if not head.startswith(XLSX_MAGIC):
            raise UploadRefused(f"{original} n'est pas un classeur Excel (XLSX).")
    elif b"\x00" in head:
        raise UploadRefused(f"{original} n'est pas un fichier texte ({path.suffix[1:].upper()}).")


def load_upload(token: str, kind: ImportKind, user_id: int) -> Upload | None:
    """The upload if it exists, is of this kind and belongs to this user; else None."""
    if not valid_token(token):
        return None
    directory = upload_root() / token
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("kind") != kind.slug or meta.get("user_id") != user_id:
        return None
    return Upload(token, directory, meta)


def claim(upload: Upload) -> Upload:
    """Take the upload for a commit (atomic rename); FileNotFoundError if another took it."""
    busy = upload.directory.with_name(upload.token + BUSY_SUFFIX)
    upload.directory.rename(busy)
    return Upload(upload.token, busy, upload.meta)


def release(upload: Upload) -> Upload:
    """Give a claimed upload back (the commit did not happen)."""
    free = upload.directory.with_name(upload.token)
    upload.directory.rename(free)
    return Upload(upload.token, free, upload.meta)


def discard(upload: Upload) -> None:
    shutil.rmtree(upload.directory, ignore_errors=True)


def purge_stale(max_age: float = MAX_AGE_SECONDS) -> None:
    """Remove uploads older than a day (previews never confirmed)."""
    limit = time.time() - max_age
    for entry in upload_root().iterdir():
        try:
            if entry.is_dir() and entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue
