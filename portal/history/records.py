"""The journal read back as a record's history: which lines belong to a record, and how a
reader sees them (the fiche's French labels, code labels, names instead of ids, dates).

The journal stores raw values (portal/journal.py); everything here is presentation and
scoping, so that a line written years ago still reads with today's labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import and_, or_, select

from ..accounts.forms import AccountForm
from ..directory.forms import ContactForm, EstablishmentForm, OpenDayForm, SiteForm
from ..extensions import db
from ..models import (
    Action,
    ActionStatus,
    Certification,
    CertificationBloc,
    Contact,
    EnrolmentPeriod,
    Establishment,
    Formation,
    InfoMeeting,
    JournalEntry,
    Lot,
    OpenDay,
    Programme,
    Session,
    SessionFunding,
    Site,
    User,
)
from ..offer.forms import (
    ActionForm,
    CertifInfoForm,
    CreateFormationForm,
    FormationForm,
    FundingForm,
    SessionForm,
)
from ..offer.subrows import EnrolmentPeriodForm, InfoMeetingForm
from ..richtext import visible_text
from ..scoping import get_scoped_or_404, require_establishment, sees_every_establishment

PAGE_SIZE = 50

OPERATIONS = {"create": "Création", "update": "Modification", "delete": "Suppression"}

# Fields no form shows: the workflow's and the accounts' own columns.
EXTRA_LABELS = {
    "status": "État",
    "active": "Actif",
    "last_login_at": "Dernière connexion",
    "password_hash": "Mot de passe",
    "submitted_at": "Envoyée en validation le",
    "validated_at": "Validée le",
    "rejection_reason": "Motif de refus",
    "has_certif_info": "Référence Certifinfo",
    "certification_id": "Certification (Certif Info)",
    "free_title": "Intitulé",
    "free_objective": "Objectif",
    "mandataire_id": "Mandataire",
    "responsible_id": "Organisme responsable",
    "action_id": "Action",
    "session_id": "Session",
    "formation_id": "Formation",
    "establishment_id": "Établissement",
    "sofi_number": "Numéro SOFI",
    "organisation_id": "Organisme",
    "establishments": "Établissements rattachés",
    "blocs": "Blocs de compétences",
    "formateurs": "Établissements formateurs",
}
STATUS_LABELS = ActionStatus.LABELS


def _name_of(model: type, label: Callable[[Any], str]) -> Callable[[set[int]], dict[int, str]]:
    def load(ids: set[int]) -> dict[int, str]:
        rows = db.session.scalars(select(model).where(model.id.in_(ids)))
        return {row.id: label(row) for row in rows}

    return load


# Foreign keys shown by name: field → loader of {id: label}.
REFERENCES: dict[str, Callable[[set[int]], dict[int, str]]] = {
    **dict.fromkeys(
        ("site_id", "realisation_site_id"),
        _name_of(Site, lambda s: f"{s.name} ({s.commune or '—'})"),
    ),
    **dict.fromkeys(
        ("referent_pmr_id", "referent_prf_id", "liaison_contact_id", "referent_mobility_id"),
        _name_of(Contact, lambda c: c.full_name),
    ),
    **dict.fromkeys(
        ("mandataire_id", "responsible_id", "establishment_id"),
        _name_of(Establishment, lambda e: f"{e.name} (SIRET {e.siret})"),
    ),
    "programme_id": _name_of(Programme, lambda p: p.name),
    "lot_id": _name_of(Lot, lambda lot: f"{lot.code} – {lot.title}"),
    "certification_id": _name_of(Certification, lambda c: f"{c.code} – {c.title}"),
    # Many-to-many links, journaled as JSON lists of ids.
    "establishments": _name_of(Establishment, lambda e: f"{e.name} (SIRET {e.siret})"),
    "formateurs": _name_of(Establishment, lambda e: f"{e.name} (SIRET {e.siret})"),
    "blocs": _name_of(CertificationBloc, lambda b: f"{b.code} – {b.title}"),
}


@dataclass(frozen=True)
class Kind:
    """A kind of record with a history page: its URL slug, model and the forms that label
    its fields. ``children`` are the sub-records shown in the same history."""

    slug: str
    model: type
    title: str
    forms: tuple[type, ...]
    carif_only: bool = False
    children: tuple[tuple[type, str], ...] = ()  # (model, foreign key to this record)


KINDS = {
    kind.slug: kind
    for kind in (
        Kind("formation", Formation, "Fiche Formation", (FormationForm, CertifInfoForm,
             CreateFormationForm)),
        Kind("action", Action, "Fiche Action", (ActionForm,)),
        Kind(
            "session",
            Session,
            "Fiche Session",
            (SessionForm,),
            children=((InfoMeeting, "session_id"), (EnrolmentPeriod, "session_id")),
        ),
        Kind("dispositif", SessionFunding, "Fiche Dispositif", (FundingForm,)),
        Kind("site", Site, "Site", (SiteForm,)),
        Kind("contact", Contact, "Contact", (ContactForm,)),
        Kind("porte-ouverte", OpenDay, "Porte ouverte", (OpenDayForm,)),
        Kind("etablissement", Establishment, "Établissement", (EstablishmentForm,)),
        Kind("compte", User, "Compte", (AccountForm,), carif_only=True),
    )
}  # fmt: skip
CHILD_TITLES = {
    InfoMeeting: ("Information collective", (InfoMeetingForm,)),
    EnrolmentPeriod: ("Période d'inscription", (EnrolmentPeriodForm,)),
}
SLUGS = "any(" + ", ".join(f'"{slug}"' for slug in KINDS) + ")"
KIND_OF_MODEL = {kind.model: kind for kind in KINDS.values()}


def slug_for(record: Any) -> str:
    return KIND_OF_MODEL[type(record)].slug


def load_record(kind: Kind, record_id: int) -> Any:
    """The record, if the user may read its history: 404 for another establishment's record,
    as everywhere else; 403 for an OF user on a carif-only kind."""
    if kind.carif_only and not current_user.is_carif:
        abort(403)
    if sees_every_establishment():
        record = db.session.get(kind.model, record_id)
        if record is None:
            abort(404)
        return record
    if kind.model is Establishment:
        if record_id != require_establishment().id:
            abort(404)
        return require_establishment()
    return get_scoped_or_404(kind.model, record_id)


@dataclass
class Line:
    """One journal line as shown: the change of one field (or a creation / deletion)."""

    id: int
    at: datetime
    who: str
    operation: str
    subject: str | None  # a sub-record's name, e.g. "Information collective 12"
    field: str | None
    before: str
    after: str


@dataclass
class Page:
    lines: list[Line]
    older: int | None  # the ``avant`` cursor of the next (older) page, None on the last page


def history(kind: Kind, record: Any, *, before_id: int | None = None) -> Page:
    """The record's journal lines, newest first, PAGE_SIZE at a time."""
    targets = [and_(JournalEntry.record_type == kind.model.__name__,
                    JournalEntry.record_id == record.id)]  # fmt: skip
    for model, foreign_key in kind.children:
        child_ids = select(model.id).where(getattr(model, foreign_key) == record.id)
        targets.append(
            and_(JournalEntry.record_type == model.__name__, JournalEntry.record_id.in_(child_ids))
        )
    stmt = select(JournalEntry).where(or_(*targets))
    if before_id is not None:
        stmt = stmt.where(JournalEntry.id < before_id)
    entries = list(db.session.scalars(stmt.order_by(JournalEntry.id.desc()).limit(PAGE_SIZE + 1)))
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    return Page(_present(kind, entries[:PAGE_SIZE]), older)


def _present(kind: Kind, entries: list[JournalEntry]) -> list[Line]:
    names = _user_names({e.user_id for e in entries if e.user_id})
    references = _references(entries)
    lines = []
    for entry in entries:
        child = next((c for c in CHILD_TITLES if c.__name__ == entry.record_type), None)
        forms = CHILD_TITLES[child][1] if child else kind.forms
        subject = f"{CHILD_TITLES[child][0]} {entry.record_id}" if child else None
        lines.append(
            Line(
                id=entry.id,
                at=entry.at,
                who=names.get(entry.user_id, "Système (import ou tâche)"),
                operation=OPERATIONS.get(entry.operation, entry.operation),
                subject=subject,
                field=field_label(forms, entry.field) if entry.field else None,
                before=display(forms, entry.field, entry.before, references),
                after=display(forms, entry.field, entry.after, references),
            )
        )
    return lines


def _user_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)))
    return {u.id: f"{u.display_name}{' (Carif-Oref)' if u.is_carif else ''}" for u in users}


def _references(entries: Iterable[JournalEntry]) -> dict[str, dict[int, str]]:
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.field in REFERENCES:
            for value in (entry.before, entry.after):
                for item in _ids(value):
                    wanted.setdefault(entry.field, set()).add(item)
    return {field: REFERENCES[field](ids) for field, ids in wanted.items()}


def _ids(value: str | None) -> list[int]:
    """The ids a journal value names: one id, or a JSON list of them."""
    if not value:
        return []
    if value.isascii() and value.isdigit():
        return [int(value)]
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return []
        if isinstance(items, list) and all(isinstance(i, int) for i in items):
            return items
    return []


def _unbound(forms: tuple[type, ...], name: str) -> Any:
    for form in forms:
        unbound = getattr(form, name, None)
        if unbound is not None and hasattr(unbound, "field_class"):
            return unbound
    return None


def field_label(forms: tuple[type, ...], name: str) -> str:
    unbound = _unbound(forms, name)
    if unbound is not None:
        label = unbound.args[0] if unbound.args else unbound.kwargs.get("label")
        if label:
            return str(label)
    return EXTRA_LABELS.get(name, name)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def display(
    forms: tuple[type, ...],
    name: str | None,
    value: str | None,
    references: dict[str, dict[int, str]],
) -> str:
    """A stored journal value as the reader knows it."""
    if value is None or value == "":
        return "—"
    if name is None:
        return value
    if name == "status":
        return STATUS_LABELS.get(value, value)
    if name in references:
        names = references[name]
        ids = _ids(value)
        if ids or value == "[]":
            return ", ".join(names.get(i, f"n° {i} (supprimé)") for i in ids) or "—"
    choices = _choices(forms, name)
    if value.startswith("[") and value.endswith("]"):
        try:
            items = json.loads(value)
        except ValueError:
            items = None
        if isinstance(items, list):
            return ", ".join(choices.get(str(item), str(item)) for item in items) or "—"
    if value in choices:
        return choices[value]
    if value in ("oui", "non"):  # booleans, as the journal writes them
        return value.capitalize()
    if _ISO_DATE.match(value):
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    if _ISO_DATETIME.match(value):
        try:
            return datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return value
    if "<" in value:
        return visible_text(value)
    return value


def _choices(forms: tuple[type, ...], name: str) -> dict[str, str]:
    unbound = _unbound(forms, name)
    choices = unbound.kwargs.get("choices") if unbound is not None else None
    if not choices or callable(choices):
        return {}
    result = {}
    for choice in choices:
        value, label = (choice.value, choice.label) if hasattr(choice, "label") else choice[:2]
        if value not in ("", None):
            result[str(value)] = str(label)
    return result
