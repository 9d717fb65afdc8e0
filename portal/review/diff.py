"""Field-by-field differences between two snapshots of an action (offer.snapshot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from wtforms.fields.core import UnboundField

from .. import codes
from ..offer.forms import ActionForm, FormationForm, FundingForm, SessionForm

IGNORED = {
    "id",
    "status",
    "status_changed_at",
    "submitted_at",
    "validated_at",
    "rejection_reason",
    "establishment_id",
    "formation_id",
    "action_id",
    "session_id",
    "certif_replaced_at",
}
CODE_TABLES = {
    "entry_level": codes.LEVELS,
    "equipment_type": codes.EQUIPMENT_TYPES,
    "entry_exit_mode": codes.ENTRY_EXIT_MODES,
    "rhythm": codes.RHYTHMS,
    "path_type": codes.PATH_TYPES,
    "teaching_mode": codes.TEACHING_MODES,
    "company_unit": codes.RHYTHM_UNITS,
    "recruitment_state": codes.RECRUITMENT_STATES,
    "recruitment_modes": codes.RECRUITMENT_MODES,
    "training_periods": codes.TRAINING_PERIODS,
    "pedagogical_modes": codes.PEDAGOGICAL_MODES,
    "prerequisites": codes.PREREQUISITES,
    "public_targets": codes.PUBLIC_TARGETS,
    "bloc_validation": codes.BLOC_VALIDATION_TYPES,
}
EXTRA_LABELS = {
    "certification_id": "Certification (Certif Info)",
    "free_title": "Intitulé libre",
    "free_objective": "Objectif libre",
    "programme_id": "Programme",
    "lot_id": "Lot",
    "mandataire_id": "Mandataire",
    "realisation_site_id": "Site de réalisation",
    "has_certif_info": "Référence Certifinfo",
    "responsible_id": "Organisme responsable",
    "active": "Etat A/I",
    "day": "Date",
    "start_time": "Heure",
    "comment": "Précisions",
    "kind": "Type",
    "site_id": "Site",
    "region_lot_number": "Numéro lot CR",
    "region_action_id": "ID Action CR",
    "region_mandataire_id": "OF Mandataire CR",
    "region_agreement_date": "Accord de la Région (date)",
    "region_agreement_ref": "Accord de la Région (référence)",
    "blocs": "Blocs de compétences",
}


def _labels(*form_classes) -> dict[str, str]:
    labels = {}
    for cls in form_classes:
        for name in dir(cls):
            attr = getattr(cls, name, None)
            if isinstance(attr, UnboundField) and attr.args:
                labels.setdefault(name, attr.args[0])
    return labels


LABELS = _labels(FormationForm, ActionForm, SessionForm, FundingForm) | EXTRA_LABELS


def display(field: str, value: Any) -> str:
    if value in (None, "", []):
        return "—"
    table = CODE_TABLES.get(field)
    if isinstance(value, list):
        return ", ".join(table.label(v, str(v)) if table else str(v) for v in value)
    if table:
        return table.label(value, str(value))
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return str(value)


@dataclass(frozen=True)
class Change:
    scope: str
    field: str
    before: str
    after: str


def _record_changes(scope: str, old: dict | None, new: dict | None) -> list[Change]:
    old, new = old or {}, new or {}
    changes = []
    for key in sorted(
        set(old) | set(new), key=lambda k: list(LABELS).index(k) if k in LABELS else 999
    ):
        if key in IGNORED or old.get(key) == new.get(key):
            continue
        changes.append(
            Change(
                scope, LABELS.get(key, key), display(key, old.get(key)), display(key, new.get(key))
            )
        )
    return changes


def _rows(scope: str, old_rows: list[dict], new_rows: list[dict]) -> list[Change]:
    old_by_id = {r["id"]: r for r in old_rows}
    new_by_id = {r["id"]: r for r in new_rows}
    changes = []
    for row_id in sorted(set(old_by_id) | set(new_by_id)):
        if row_id not in old_by_id:
            changes.append(Change(scope, "Ligne ajoutée", "—", _summary(new_by_id[row_id])))
        elif row_id not in new_by_id:
            changes.append(Change(scope, "Ligne supprimée", _summary(old_by_id[row_id]), "—"))
        else:
            changes.extend(_record_changes(scope, old_by_id[row_id], new_by_id[row_id]))
    return changes


def _summary(row: dict) -> str:
    parts = [
        display(k, row.get(k))
        for k in ("day", "start_date", "end_date", "kind")
        if row.get(k) is not None
    ]
    return " ".join(parts) or "—"


def diff_snapshots(old: dict, new: dict) -> list[Change]:
    """What changed between the validated version ``old`` and the submitted ``new``."""
    changes = _record_changes("Formation", old.get("formation"), new.get("formation"))
    if old.get("blocs") != new.get("blocs"):
        changes.append(
            Change(
                "Formation",
                LABELS["blocs"],
                ", ".join(old.get("blocs", [])) or "—",
                ", ".join(new.get("blocs", [])) or "—",
            )
        )
    changes += _record_changes("Action", old.get("action"), new.get("action"))
    old_sessions = {s["session"]["id"]: s for s in old.get("sessions", [])}
    new_sessions = {s["session"]["id"]: s for s in new.get("sessions", [])}
    for session_id in sorted(set(old_sessions) | set(new_sessions)):
        scope = f"Session {session_id}"
        before, after = old_sessions.get(session_id), new_sessions.get(session_id)
        if before is None:
            changes.append(Change(scope, "Session ajoutée", "—", "nouvelle session"))
            continue
        if after is None:
            changes.append(Change(scope, "Session supprimée", "session", "—"))
            continue
        changes += _record_changes(scope, before["session"], after["session"])
        changes += _rows(
            f"{scope} · informations collectives", before["info_meetings"], after["info_meetings"]
        )
        changes += _rows(
            f"{scope} · périodes d'inscription",
            before["enrolment_periods"],
            after["enrolment_periods"],
        )
        changes += _rows(f"{scope} · dispositif", before["fundings"], after["fundings"])
    return changes
