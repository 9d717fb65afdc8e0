"""Formacode (Centre Inffo thesaurus) from its CSV export: ``;``-separated, no header, up to
15 fields per line, of which the portal keeps

    1 code (5 digits) · 3 libellé (2 DESCRIPTEUR when empty) · 4 type (DOM, PUB, OUT$MOD…)
    · 5 champ sémantique / hiérarchie ("110 MATHEMATIQUES")

The file does not say which edition it is: the user gives the version (V14). Codes of the
database that the file no longer lists are kept (offers and exports refer to them), and
reported as a warning.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from ..extensions import db
from ..models import Formacode
from ..validators import has_control
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

KIND = "formacode"
VERSION_RE = re.compile(r"V\d{1,3}")
MIN_FIELDS = 4
MAX_FIELDS = 15
MAX_LABEL = 250
MAX_TYPE = 20
MAX_FIELD = 250
FIELD_LABELS = {
    "label": "Libellé",
    "version": "Version",
    "field": "Champ sémantique",
    "descriptor_type": "Type",
}


def normalise_version(raw: str | None) -> str:
    """ "v14", " V14 " → "V14"; a French ValueError otherwise."""
    version = (raw or "").strip().upper()
    if not VERSION_RE.fullmatch(version):
        raise ValueError("Version attendue sous la forme V suivi du numéro, par exemple V14.")
    return version


def read_formacodes(
    source: Path | str | IO,
) -> tuple[list[tuple[int, dict[str, Any]]], list[Issue], list[Issue]]:
    """(line, values) of every valid line, the row-numbered errors and warnings."""
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[Issue] = []
    warnings: list[Issue] = []
    seen: dict[str, int] = {}
    for number, fields in csv_rows(read_text(source), delimiter=";"):
        if not any(fields):
            continue
        if len(fields) < MIN_FIELDS or len(fields) > MAX_FIELDS:
            errors.append(
                Issue(
                    f"{len(fields)} champ(s) : une ligne Formacode en a de {MIN_FIELDS} à "
                    f"{MAX_FIELDS} (code;DESCRIPTEUR;libellé;type;champ;…).",
                    row=number,
                )
            )
            continue
        code = fields[0]
        if not (is_digits(code) and len(code) == 5):
            errors.append(
                Issue(f"« {code} » n'est pas un Formacode (5 chiffres).", row=number, column="1")
            )
            continue
        if code in seen:
            errors.append(
                Issue(f"Formacode {code} en double (déjà ligne {seen[code]}).", row=number)
            )
            continue
        seen[code] = number
        label = fields[2] or fields[1]
        values = {
            "label": label,
            "descriptor_type": fields[3] or None,
            "field": (fields[4] if len(fields) > 4 else "") or None,
        }
        descriptor_type = values["descriptor_type"]
        if descriptor_type and len(descriptor_type) > MAX_TYPE:
            # A few descriptors list every "outil" sub-type (OUT$ADM$AIR$…): keep the whole
            # sub-types that fit the column.
            kept = _shorten_type(descriptor_type)
            warnings.append(
                Issue(
                    f"Type « {descriptor_type} » raccourci en « {kept} » ({MAX_TYPE} caractères "
                    "au plus).",
                    row=number,
                    column="4",
                )
            )
            values["descriptor_type"] = kept
        problems = [
            (column, f"{name} : {limit} caractères au plus.")
            for column, name, value, limit in (
                ("3", "libellé", label, MAX_LABEL),
                ("5", "champ", values["field"], MAX_FIELD),
            )
            if value and len(value) > limit
        ]
        if not label:
            problems.append(("3", "Le libellé est vide."))
        problems += [
            (column, f"Le champ {CONTROL_MESSAGE}")
            for column, value in (
                ("3", label),
                ("4", values["descriptor_type"]),
                ("5", values["field"]),
            )
            if has_control(value)
        ]
        for column, message in problems:
            errors.append(Issue(message, row=number, column=column))
        if not problems:
            rows.append((number, {"code": code, **values}))
    return rows, errors, warnings


def _shorten_type(value: str) -> str:
    kept = ""
    for part in value.split("$"):
        candidate = f"{kept}${part}" if kept else part
        if len(candidate) > MAX_TYPE:
            break
        kept = candidate
    return kept or value[:MAX_TYPE]


def plan_formacode(source: Path | str | IO, version: str) -> Plan:
    plan = Plan(KIND)
    try:
        plan.options = {"version": normalise_version(version)}
    except ValueError as error:
        plan.errors.append(Issue(str(error)))
        return plan
    try:
        rows, plan.errors, plan.warnings = read_formacodes(source)
    except ImportFileError as error:
        plan.errors.append(Issue(str(error)))
        return plan
    if not rows and not plan.errors:
        plan.errors.append(Issue("Le fichier ne contient aucun Formacode."))
        return plan
    existing = {f.code: f for f in db.session.scalars(select(Formacode))}
    creates, updates = [], []
    for number, values in rows:
        values["version"] = plan.options["version"]
        record = existing.pop(values["code"], None)
        if record is None:
            creates.append(values)
            plan.changes.append(
                Change("create", "formacode", values["code"], values["label"], number)
            )
            continue
        diff = {k: v for k, v in values.items() if k != "code" and getattr(record, k) != v}
        action = "update" if diff else "unchanged"
        if diff:
            updates.append((record, diff))
        plan.changes.append(
            Change(
                action,
                "formacode",
                values["code"],
                values["label"],
                number,
                fields=[
                    FieldChange(FIELD_LABELS[k], getattr(record, k), v) for k, v in diff.items()
                ],
            )
        )
    if existing:
        plan.warnings.append(
            Issue(
                f"{len(existing)} Formacode(s) de la base absent(s) du fichier : conservés "
                "(les offres peuvent y faire référence)."
            )
        )
    plan.payload = {"creates": creates, "updates": updates}
    return plan


def apply_formacode(plan: Plan) -> None:
    db.session.add_all(Formacode(**values) for values in plan.payload["creates"])
    for record, diff in plan.payload["updates"]:
        for name, value in diff.items():
            setattr(record, name, value)
    db.session.flush()
