"""The Certif Info register in its JSON tree form (level → type → code): read, plan, apply.

The register is a full snapshot: codes it lists are created or updated, codes of the database
it no longer lists are archived. A code that a succession file replaced stays archived even if
the register still lists it (the succession is the later, more precise information).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from ..extensions import db
from ..models import Certification
from ..validators import has_control
from .common import (
    CONTROL_MESSAGE,
    Change,
    FieldChange,
    ImportFileError,
    Issue,
    Plan,
    is_digits,
    read_text,
    reserve_ids,
)

KIND = "certifinfo"

# Old French levels of the register's tree → LHEO dict-niveaux codes (2019 framework).
OLD_LEVEL_TO_LHEO = {
    "niveau1": "17",  # I (bac + 5 et plus) → niveau 7
    "niveau2": "16",  # II (bac + 3/4) → niveau 6
    "niveau3": "15",  # III (bac + 2) → niveau 5
    "niveau4": "14",  # IV (bac) → niveau 4
    "niveau5": "13",  # V (CAP, BEP) → niveau 3
    "niveau6": "11",  # VI → niveau 1
    "niveau7": "12",  # V bis → niveau 2
    "niveau9": "1",  # sans niveau spécifique
}
_TRAILING_CODE = re.compile(r"\s*\((\d+)\)\s*$")
MAX_CODE = 10  # Certification.code, LHEO code-CERTIFINFO
MAX_TITLE = 500
MAX_TYPE_LABEL = 250
FIELD_LABELS = {
    "title": "Intitulé",
    "type_code": "Type",
    "type_label": "Libellé du type",
    "exit_level": "Niveau de sortie",
    "archived": "Archivé",
}


@dataclass(frozen=True)
class RegisterEntry:
    code: str
    title: str
    type_code: str | None
    type_label: str | None
    exit_level: str | None


def load_tree(source: Path | str | IO) -> dict[str, Any]:
    """Parse the register's JSON; a French ImportFileError when it is not the expected tree."""
    try:
        tree = json.loads(read_text(source))
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"Le fichier n'est pas un JSON valide (ligne {error.lineno}, colonne {error.colno})."
        ) from None
    except RecursionError:  # [[[[…]]]] nested deeper than the parser's stack
        raise ImportFileError(
            "Le fichier n'est pas un JSON valide : il est imbriqué trop profondément."
        ) from None
    if not isinstance(tree, dict):
        raise ImportFileError(
            "Le fichier JSON doit être un objet {code: {parent, text}} (arbre Certif Info)."
        )
    return tree


def parse_tree(tree: dict[str, Any]) -> tuple[list[RegisterEntry], list[Issue]]:
    """The register's codes with their type and exit level resolved, and the invalid ones."""
    entries: list[RegisterEntry] = []
    errors: list[Issue] = []
    for key, node in tree.items():
        if not is_digits(key):
            continue  # niveauN and typeNNN nodes of the tree
        where = f"Code {key}"
        if len(key) > MAX_CODE:
            errors.append(Issue(f"{where} : un code Certif Info a {MAX_CODE} chiffres au plus."))
            continue
        if not isinstance(node, dict) or not isinstance(node.get("text"), str):
            errors.append(Issue(f"{where} : l'entrée n'a pas d'intitulé (champ « text »)."))
            continue
        title = _TRAILING_CODE.sub("", node["text"]).strip()
        if has_control(title):
            errors.append(Issue(f"{where} : l'intitulé {CONTROL_MESSAGE}"))
            continue
        if not title:
            errors.append(Issue(f"{where} : l'intitulé est vide."))
            continue
        if len(title) > MAX_TITLE:
            errors.append(Issue(f"{where} : l'intitulé dépasse {MAX_TITLE} caractères."))
            continue
        type_key = node.get("parent")
        type_node = tree.get(type_key) if isinstance(type_key, str) else None
        if not isinstance(type_node, dict):
            type_node = {}
        type_label = type_node.get("text") if isinstance(type_node.get("text"), str) else None
        if has_control(type_label) or has_control(type_key):
            errors.append(Issue(f"{where} : le type {CONTROL_MESSAGE}"))
            continue
        entries.append(
            RegisterEntry(
                code=key,
                title=title,
                type_code=type_key if type_node and len(type_key) <= MAX_CODE else None,
                type_label=type_label[:MAX_TYPE_LABEL] if type_label else None,
                exit_level=OLD_LEVEL_TO_LHEO.get(str(type_node.get("parent", ""))),
            )
        )
    return entries, errors


def read_register(source: Path | str | IO) -> Iterator[RegisterEntry]:
    """Yield one entry per valid Certif Info code, with its type and exit level resolved."""
    entries, _ = parse_tree(load_tree(source))
    yield from entries


def plan_register(source: Path | str | IO) -> Plan:
    """Compare the register with the database: codes to create, update, archive."""
    plan = Plan(KIND)
    try:
        tree = load_tree(source)
    except ImportFileError as error:
        plan.errors.append(Issue(str(error)))
        return plan
    entries, plan.errors = parse_tree(tree)
    if not entries and not plan.errors:
        plan.errors.append(Issue("Le fichier ne contient aucun code Certif Info."))
    if not entries:
        return plan

    # Plain rows, not records: a re-run over 12,000 unchanged codes loads no ORM object.
    columns = (
        Certification.id,
        Certification.code,
        Certification.title,
        Certification.type_code,
        Certification.type_label,
        Certification.exit_level,
        Certification.archived,
        Certification.replaced_by_code,
    )
    existing = {row.code: row for row in db.session.execute(select(*columns))}
    creates: list[RegisterEntry] = []
    updates: dict[int, dict[str, Any]] = {}
    listed = set()
    for entry in entries:
        listed.add(entry.code)
        row = existing.get(entry.code)
        if row is None:
            creates.append(entry)
            plan.changes.append(Change("create", "certification", entry.code, entry.title))
            continue
        values: dict[str, Any] = {"title": entry.title}
        # The snapshot knows no more than the type and level: it never erases richer data.
        for name in ("type_code", "type_label", "exit_level"):
            if getattr(entry, name) is not None:
                values[name] = getattr(entry, name)
        if row.archived and not row.replaced_by_code:
            values["archived"] = False
        diff = {k: v for k, v in values.items() if getattr(row, k) != v}
        if diff:
            updates[row.id] = diff
            plan.changes.append(
                Change(
                    "update",
                    "certification",
                    entry.code,
                    entry.title,
                    fields=[_field(k, getattr(row, k), v) for k, v in diff.items()],
                )
            )
        else:
            plan.changes.append(Change("unchanged", "certification", entry.code, entry.title))
    archives = []
    for code, row in existing.items():
        if code not in listed and not row.archived:
            archives.append(row.id)
            plan.changes.append(
                Change(
                    "archive",
                    "certification",
                    code,
                    row.title,
                    fields=[_field("archived", False, True)],
                )
            )
    plan.payload = {"creates": creates, "updates": updates, "archives": archives}
    return plan


def apply_register(plan: Plan) -> None:
    """Write the plan in the current transaction (the caller commits or rolls back)."""
    payload = plan.payload
    ids = iter(reserve_ids(Certification, len(payload["creates"])))
    db.session.add_all(
        Certification(
            id=next(ids),
            code=e.code,
            title=e.title,
            type_code=e.type_code,
            type_label=e.type_label,
            exit_level=e.exit_level,
        )
        for e in payload["creates"]
    )
    # Changed records go through the ORM so that flush listeners (list rows) see the change.
    changed_ids = list(payload["updates"]) + list(payload["archives"])
    for record in load_by_ids(Certification, changed_ids):
        for name, value in payload["updates"].get(record.id, {"archived": True}).items():
            setattr(record, name, value)
    db.session.flush()


def load_by_ids(model: type, ids: list[int], chunk: int = 500) -> list:
    """Records by primary key, a few hundred per query (SQLite limits bound parameters)."""
    records = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        records.extend(db.session.scalars(select(model).where(model.id.in_(part))))
    return records


def _field(name: str, before: Any, after: Any) -> FieldChange:
    return FieldChange(FIELD_LABELS.get(name, name), _show(before), _show(after))


def _show(value: Any) -> str | None:
    if isinstance(value, bool):
        return "oui" if value else "non"
    return None if value is None else str(value)
