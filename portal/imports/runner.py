"""The import kinds and the one way to run them: plan, or plan and apply all-or-nothing.

Views and CLI commands go through ``plan_import`` (preview) and ``commit_import``; every commit
attempt is kept as an ImportRun with its report, committed or failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import BUSY, database_fault, fault_reason
from ..extensions import db
from ..models import ImportRun
from ..models._base import utcnow
from . import certifinfo, formacode, region, succession
from .common import Issue, Plan

log = logging.getLogger(__name__)

CONFLICT_MESSAGE = (
    "Import annulé : les mêmes données ont été modifiées en même temps (autre import ou "
    "saisie). Rien n'a été enregistré ; recommencez."
)
UNEXPECTED_MESSAGE = "Import annulé à la suite d'une erreur inattendue. Rien n'a été enregistré."


@dataclass(frozen=True)
class ImportKind:
    slug: str
    title: str
    description: str
    extensions: tuple[str, ...]
    plan: Callable[[list[Path], dict[str, Any]], Plan]
    apply: Callable[[Plan], None]
    multiple: bool = False  # several files at once (the Region's CSVs)


def _single(paths: list[Path]) -> Path:
    if len(paths) != 1:
        raise ValueError("exactly one file expected")
    return paths[0]


KINDS = {
    k.slug: k
    for k in (
        ImportKind(
            "region",
            "Fichier d'extraction de la Région",
            "Programmes, lots, organismes mandataires et formateurs : un classeur XLSX à quatre "
            "feuilles, ou les quatre fichiers CSV correspondants.",
            region.EXTENSIONS,
            lambda paths, options: region.plan_region(paths),
            region.apply_region,
            multiple=True,
        ),
        ImportKind(
            "certifinfo",
            "Registre Certif Info",
            "Le registre complet au format JSON (arbre niveau → type → code) : codes créés, mis "
            "à jour, et archivés s'ils n'y figurent plus.",
            (".json",),
            lambda paths, options: certifinfo.plan_register(_single(paths)),
            certifinfo.apply_register,
        ),
        ImportKind(
            "succession",
            "Successions de codes Certif Info",
            "Fichier CSV de chaînage (cer3_code;cer3_libelle;cer3_etat;cer3_codenew;…) : les "
            "anciens codes sont archivés et les formations qui les utilisent passent au "
            "nouveau code.",
            (".csv", ".txt"),
            lambda paths, options: succession.plan_succession(_single(paths)),
            succession.apply_succession,
        ),
        ImportKind(
            "formacode",
            "Formacode",
            "Export CSV du thésaurus Formacode (Centre Inffo) : « ; » comme séparateur, sans "
            "ligne d'en-tête ; la version (V14…) est à préciser.",
            (".csv", ".txt"),
            lambda paths, options: formacode.plan_formacode(
                _single(paths), options.get("version", "")
            ),
            formacode.apply_formacode,
        ),
    )
}


def plan_import(kind: ImportKind, paths: list[Path], options: dict[str, Any] | None = None) -> Plan:
    """The preview: what the files would change, and their errors. Writes nothing."""
    return kind.plan(paths, options or {})


@dataclass
class CommitResult:
    # committed; invalid (errors in the file); changed (not the previewed plan); conflict (a
    # concurrent write got in the way); unavailable (the database refused to write: read-only,
    # disk full, gone); failed (unexpected error). Only "committed" wrote.
    status: str
    plan: Plan
    run: ImportRun | None = None
    message: str | None = None


def commit_import(
    kind: ImportKind,
    paths: list[Path],
    options: dict[str, Any] | None = None,
    *,
    filename: str | None = None,
    user_id: int | None = None,
    expected_digest: str | None = None,
) -> CommitResult:
    """Plan again and apply in one transaction: everything is written, or nothing.

    With ``expected_digest`` (the previewed plan's), a plan that no longer matches it — the
    database changed since the preview — is not applied.
    """
    started = utcnow()
    name = (filename or ", ".join(p.name for p in paths))[:255]
    try:
        plan = plan_import(kind, paths, options)
        if not plan.ok:
            db.session.rollback()
            run = _record(kind, name, user_id, started, "failed", plan.report(), plan.summary())
            return CommitResult("invalid", plan, run, "Le fichier comporte des erreurs.")
        if expected_digest is not None and plan.digest() != expected_digest:
            db.session.rollback()
            return CommitResult("changed", plan)
        kind.apply(plan)
        run = ImportRun(
            kind=kind.slug,
            filename=name,
            started_at=started,
            finished_at=utcnow(),
            user_id=user_id,
            status="committed",
            report=plan.report(),
            message=plan.summary(),
        )
        db.session.add(run)
        db.session.commit()
        return CommitResult("committed", plan, run)
    except (IntegrityError, StaleDataError, DBAPIError) as error:
        log.exception("Import %s of %s rolled back", kind.slug, name)
        status, message = _failure(error)
    except Exception:
        log.exception("Import %s of %s failed", kind.slug, name)
        status = "failed"
        message = UNEXPECTED_MESSAGE
    db.session.rollback()
    failed = Plan(kind.slug, errors=[Issue(message)])
    run = _record(kind, name, user_id, started, "failed", failed.report(), message)
    return CommitResult(status, failed, run, message)


def _failure(error: Exception) -> tuple[str, str]:
    """The status and French message of a commit the database rolled back."""
    fault = database_fault(error)
    if isinstance(error, IntegrityError | StaleDataError) or fault == BUSY:
        return "conflict", CONFLICT_MESSAGE
    if fault is None:
        return "failed", UNEXPECTED_MESSAGE
    return "unavailable", (
        f"Import annulé : {fault_reason(fault)}. Rien n'a été enregistré ; les données déjà en "
        "place sont conservées. Recommencez l'import quand la base sera de nouveau disponible."
    )


def _record(kind, name, user_id, started, status, report, message) -> ImportRun | None:
    """Keep a failed attempt (in its own transaction: the import's was rolled back).

    Best effort: a database that refused the import (read-only, full) may refuse this too; the
    attempt is then only in the log, and the caller still gets the reason.
    """
    run = ImportRun(
        kind=kind.slug,
        filename=name,
        started_at=started,
        finished_at=utcnow(),
        user_id=user_id,
        status=status,
        report=report,
        message=message,
    )
    db.session.add(run)
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("Failed import %s of %s could not be recorded", kind.slug, name)
        return None
    return run
