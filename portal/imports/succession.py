"""Certif Info code successions ("chaînage"): old code → new code, in the national CSV format

    cer3_code;cer3_libelle;cer3_etat;cer3_codenew;cer3_libelle;cer3_etat

Rows whose new code is in state 2 (erroné) are ignored, as the Réseau's own tools do. Chains
(A → B, B → C) resolve to their last code. Applying a file:

- archives every known old code and records its successor (``replaced_by_code``) when there
  is exactly one; with several successors (1 → N) the code is archived without one;
- creates the successor codes the database does not know yet, with the file's title (a later
  register import completes them);
- moves every formation of an old code with a single successor to that code (counted on the
  dashboard, notice on the fiche Formation); formations of a 1 → N code are listed as warnings,
  to be replaced one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Certification, Formation
from ..models._base import utcnow
from ..validators import has_control
from .certifinfo import MAX_CODE, MAX_TITLE
from .common import (
    CONTROL_MESSAGE,
    Change,
    FieldChange,
    ImportFileError,
    Issue,
    Plan,
    csv_rows,
    is_digits,
    read_text,
)
from .replacement import replace_certification

KIND = "succession"
STATE_ERRONEOUS = "2"


@dataclass(frozen=True)
class Succession:
    row: int
    old_code: str
    old_title: str
    new_code: str
    new_title: str
    new_state: str


def read_successions(source: Path | str | IO) -> tuple[list[Succession], list[Issue], list[Issue]]:
    """The file's valid rows, its errors and its warnings (ignored rows)."""
    rows: list[Succession] = []
    errors: list[Issue] = []
    warnings: list[Issue] = []
    for number, fields in csv_rows(read_text(source), delimiter=";"):
        if not any(fields):
            continue
        if number == 1 and fields[0].lower() == "cer3_code":
            continue
        if len(fields) < 4:
            errors.append(
                Issue(
                    f"{len(fields)} champ(s) au lieu de 6 (cer3_code;cer3_libelle;cer3_etat;"
                    "cer3_codenew;cer3_libelle;cer3_etat).",
                    row=number,
                )
            )
            continue
        fields += [""] * (6 - len(fields))
        old_code, old_title, _, new_code, new_title, new_state = fields[:6]
        bad = [
            (column, value)
            for column, value in (("cer3_code", old_code), ("cer3_codenew", new_code))
            if not is_digits(value, MAX_CODE)
        ]
        for column, value in bad:
            errors.append(
                Issue(
                    f"« {value} » n'est pas un code Certif Info (chiffres, {MAX_CODE} au plus).",
                    row=number,
                    column=column,
                )
            )
        if bad:
            continue
        if old_code == new_code:
            errors.append(Issue(f"Le code {old_code} se remplace lui-même.", row=number))
            continue
        if has_control(new_title):
            errors.append(Issue(f"L'intitulé {CONTROL_MESSAGE}", row=number, column="cer3_libelle"))
            continue
        if new_state == STATE_ERRONEOUS:
            warnings.append(
                Issue(f"Succession {old_code} → {new_code} ignorée : état « erroné ».", row=number)
            )
            continue
        rows.append(
            Succession(number, old_code, old_title, new_code, new_title[:MAX_TITLE], new_state)
        )
    return rows, errors, warnings


def resolve_chains(successions: Iterable[Succession]) -> tuple[dict[str, list[str]], list[Issue]]:
    """Each old code → its final codes (following chains), and an error per cycle."""
    direct: dict[str, list[str]] = {}
    first_row: dict[str, int] = {}
    for s in successions:
        targets = direct.setdefault(s.old_code, [])
        if s.new_code not in targets:
            targets.append(s.new_code)
        first_row.setdefault(s.old_code, s.row)
    resolved: dict[str, list[str]] = {}
    errors: list[Issue] = []
    in_cycle: set[str] = set()

    def finals(start: str) -> list[str]:
        """The final codes of ``start``, depth first without recursion (a file may chain
        thousands of codes); _Cycle when a chain comes back to a code on its own path."""
        path, on_path = [start], {start}
        frames = [(iter(direct[start]), [])]  # (targets left, finals so far) per code of path
        while True:
            targets, result = frames[-1]
            for target in targets:
                if target in resolved or target not in direct:
                    _merge(result, resolved.get(target, [target]))
                    continue
                if target in on_path:
                    cycle = (*path[path.index(target) :], target)
                    in_cycle.update(cycle)
                    raise _Cycle(" → ".join(cycle))
                path.append(target)
                on_path.add(target)
                frames.append((iter(direct[target]), []))
                break
            else:
                code = path.pop()
                on_path.discard(code)
                frames.pop()
                resolved[code] = result
                if not frames:
                    return result
                _merge(frames[-1][1], result)

    for code in direct:
        if code in in_cycle or code in resolved:
            continue
        try:
            finals(code)
        except _Cycle as cycle:
            errors.append(Issue(f"Chaînage circulaire : {cycle}.", row=first_row[code]))
    return {c: r for c, r in resolved.items() if c not in in_cycle}, errors


def _merge(into: list[str], codes: list[str]) -> None:
    for code in codes:
        if code not in into:
            into.append(code)


class _Cycle(Exception):
    pass


def plan_succession(source: Path | str | IO) -> Plan:
    plan = Plan(KIND)
    try:
        successions, plan.errors, plan.warnings = read_successions(source)
    except ImportFileError as error:
        plan.errors.append(Issue(str(error)))
        return plan
    if not successions and not plan.errors:
        plan.errors.append(Issue("Le fichier ne contient aucune succession de codes."))
    mapping, cycle_errors = resolve_chains(successions)
    plan.errors += cycle_errors
    if not mapping:
        return plan

    row_of = {}
    title_of = {}
    for s in successions:
        row_of.setdefault(s.old_code, s.row)
        if s.new_title:
            title_of[s.new_code] = s.new_title
    finals = {code for targets in mapping.values() for code in targets}
    known = _by_code(set(mapping) | finals)
    olds = {code: known[code] for code in mapping if code in known}
    unknown_olds = len(mapping) - len(olds)
    if unknown_olds:
        plan.warnings.append(
            Issue(f"{unknown_olds} ancien(s) code(s) absent(s) de la base : rien à remplacer.")
        )

    # Successors to create: only those a known old code leads to.
    creates: dict[str, str] = {}
    for old_code in olds:
        for code in mapping[old_code]:
            if code in known or code in creates:
                continue
            title = title_of.get(code)
            if not title:
                plan.errors.append(
                    Issue(
                        f"Le nouveau code {code} est inconnu de la base et le fichier ne donne "
                        "pas son intitulé.",
                        row=row_of[old_code],
                        column="cer3_libelle",
                    )
                )
                continue
            creates[code] = title
            plan.changes.append(
                Change("create", "certification", code, title, row=row_of[old_code])
            )

    archives: dict[str, str | None] = {}
    for old_code, cert in olds.items():
        targets = mapping[old_code]
        successor = targets[0] if len(targets) == 1 else cert.replaced_by_code
        if cert.archived and cert.replaced_by_code == successor:
            plan.changes.append(
                Change("unchanged", "certification", old_code, cert.title, row=row_of[old_code])
            )
            continue
        archives[old_code] = successor
        fields = [FieldChange("Archivé", "oui" if cert.archived else "non", "oui")]
        fields.append(
            FieldChange("Remplacé par", cert.replaced_by_code, successor or ", ".join(targets))
        )
        plan.changes.append(
            Change(
                "archive",
                "certification",
                old_code,
                cert.title,
                row=row_of[old_code],
                fields=fields,
            )
        )

    replacements: list[tuple[int, str]] = []
    old_ids = {cert.id: code for code, cert in olds.items()}
    formations = list(
        db.session.scalars(
            select(Formation)
            .where(Formation.certification_id.in_(old_ids))
            .options(selectinload(Formation.blocs), selectinload(Formation.certification))
            .order_by(Formation.id)
        )
    )
    for formation in formations:
        old_code = old_ids[formation.certification_id]
        targets = mapping[old_code]
        if len(targets) > 1:
            plan.warnings.append(
                Issue(
                    f"Formation {formation.id} : le code {old_code} est remplacé par plusieurs "
                    f"codes ({', '.join(targets)}) ; remplacez-le formation par formation.",
                    row=row_of[old_code],
                )
            )
            continue
        replacements.append((formation.id, targets[0]))
        plan.changes.append(
            Change(
                "replace",
                "formation",
                str(formation.id),
                formation.title,
                row=row_of[old_code],
                fields=[FieldChange("Code Certif Info", old_code, targets[0])],
            )
        )
    plan.payload = {
        "creates": creates,
        "archives": archives,
        "replacements": replacements,
        "olds": olds,
        "formations": {f.id: f for f in formations},
    }
    return plan


def apply_succession(plan: Plan) -> None:
    payload = plan.payload
    created = {
        code: Certification(code=code, title=title) for code, title in payload["creates"].items()
    }
    db.session.add_all(created.values())
    db.session.flush()
    for code, successor in payload["archives"].items():
        cert = payload["olds"][code]
        cert.archived = True
        cert.replaced_by_code = successor
    targets = {c: created.get(c) for _, c in payload["replacements"]}
    missing = [c for c, cert in targets.items() if cert is None]
    targets.update(_by_code(set(missing)))
    at = utcnow()
    for formation_id, code in payload["replacements"]:
        replace_certification(payload["formations"][formation_id], targets[code], at=at)
    db.session.flush()


def _by_code(codes: set[str], chunk: int = 500) -> dict[str, Certification]:
    found: dict[str, Certification] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), chunk):
        part = ordered[start : start + chunk]
        for cert in db.session.scalars(select(Certification).where(Certification.code.in_(part))):
            found[cert.code] = cert
    return found
