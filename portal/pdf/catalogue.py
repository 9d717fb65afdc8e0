"""A catalogue of the published offer: published_sessions rows → entries → PDF.

Reads only the published copy (DESIGN §3), so drafts and edits not yet validated never
appear. Needs an app context (database); the layout itself is ``portal.pdf.builder``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from sqlalchemy import func, select

from .. import codes
from ..extensions import db
from ..models import Lot, Programme, PublishedSession
from ..richtext import visible_text
from ..search.normalise import sort_key
from .builder import ActionEntry, CatalogueMeta, FormationEntry, SessionEntry, render_catalogue
from .filters import CatalogueFilters, FilterError, conditions, parse_filters

PS = PublishedSession
TITLE = "Catalogue de l'offre de formation"
NOTICE = (
    "Ce catalogue présente les sessions validées et publiées par le Carif-Oref à la date "
    "d'édition. Renseignez-vous auprès de l'organisme avant toute inscription."
)
NBSP = "\u00a0"


@dataclass(frozen=True)
class Fingerprint:
    """Changes whenever a matching published row is added, removed or published again."""

    count: int
    token: str


@dataclass(frozen=True)
class CatalogueResult:
    pages: int
    formations: int
    sessions: int


def fingerprint(filters: CatalogueFilters, today: date) -> Fingerprint:
    """Count, latest publication time and id checksum of the rows the catalogue would list."""
    row = db.session.execute(
        select(
            func.count(),
            func.max(PS.published_at),
            func.sum(PS.session_id),
            func.max(PS.session_id),
        ).where(*conditions(filters, today))
    ).one()
    count, latest, id_sum, id_max = row
    token = hashlib.sha256(f"{count}|{latest}|{id_sum}|{id_max}".encode()).hexdigest()[:20]
    return Fingerprint(int(count or 0), token)


def describe(filters: CatalogueFilters) -> tuple[tuple[str, str], ...]:
    """The criteria as the cover shows them; unknown programme or lot → FilterError."""
    criteria: list[tuple[str, str]] = []
    programme = lot = None
    if filters.programme_id is not None:
        programme = db.session.get(Programme, filters.programme_id)
        if programme is None:
            raise FilterError("Programme inconnu.")
        criteria.append(("Programme", programme.name))
    if filters.lot_id is not None:
        lot = db.session.get(Lot, filters.lot_id)
        if lot is None:
            raise FilterError("Lot inconnu.")
        if programme is not None and lot.programme_id != programme.id:
            raise FilterError("Ce lot n'appartient pas au programme choisi.")
        criteria.append(("Lot", lot.label))
    if filters.department:
        criteria.append(("Département", filters.department))
    if filters.commune:
        criteria.append(("Commune", filters.commune))
    if filters.start_from and filters.start_to:
        criteria.append(
            (
                "Sessions débutant",
                f"du {_fr_date(filters.start_from)} au {_fr_date(filters.start_to)}",
            )
        )
    elif filters.start_from:
        criteria.append(("Sessions débutant", f"à partir du {_fr_date(filters.start_from)}"))
    elif filters.start_to:
        criteria.append(("Sessions débutant", f"jusqu'au {_fr_date(filters.start_to)}"))
    if filters.q:
        criteria.append(("Mots-clés", filters.q))
    if filters.teaching_mode is not None:
        criteria.append(("Modalité", codes.TEACHING_MODES.label(filters.teaching_mode)))
    if filters.exit_level:
        criteria.append(("Niveau de sortie", _level(filters.exit_level)))
    if filters.public_target:
        criteria.append(("Public visé", codes.PUBLIC_TARGETS.label(filters.public_target)))
    if filters.formacode:
        criteria.append(("Formacode", filters.formacode))
    if filters.include_ended:
        criteria.append(("Sessions terminées", "incluses"))
    return tuple(criteria)


def _fr_date(value: str | date | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def _money(value: str | None) -> str:
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return ""
    text = f"{amount:,.2f}".replace(",", NBSP).replace(".", ",")
    return f"{text}{NBSP}€"


def _hours(value: Any) -> str:
    if value in (None, ""):
        return ""
    number = Decimal(str(value)).normalize()
    return f"{number:f}".replace(".", ",") + " h"


def _level(code: str | None) -> str:
    label = codes.LEVELS.label(code)
    # The 2019 framework labels are long sentences: "Niveau 4. Capacité à…" → "Niveau 4".
    return label.split(".")[0] if label.startswith("Niveau ") else label


def _address_line(address: Mapping[str, Any] | None) -> str:
    if not address:
        return ""
    place = " ".join(p for p in (address.get("postcode"), address.get("commune")) if p)
    return ", ".join(p for p in (address.get("name"), address.get("line1"), place) if p)


def _person(contact: Mapping[str, Any] | None) -> list[str]:
    if not contact:
        return []
    name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
    return [
        p for p in (name, contact.get("phone") or contact.get("mobile"), contact.get("email")) if p
    ]


def _contact(data: Mapping[str, Any]) -> str:
    referents = data.get("referents") or {}
    for role in ("liaison", "prf", "pmr", "mobility"):
        lines = _person(referents.get(role))
        if lines:
            return "\n".join(lines)
    for place in (data.get("session_site"), (data.get("organisation") or {}).get("address")):
        lines = [p for p in ((place or {}).get("phone"), (place or {}).get("email")) if p]
        if lines:
            return "\n".join(lines)
    return ""


def _session_entry(data: Mapping[str, Any]) -> SessionEntry:
    session = data.get("session") or {}
    start, end = session.get("start_date"), session.get("end_date")
    if start and end:
        dates = f"du {_fr_date(start)}\nau {_fr_date(end)}"
    elif start:
        dates = f"à partir du {_fr_date(start)}"
    else:
        dates = ""
    if session.get("entry_exit_mode") == "1":
        dates += "\nentrées/sorties permanentes"
    meetings = data.get("info_meetings") or []
    if meetings:
        dates += f"\ninfo. collective\nle {_fr_date(meetings[0].get('day'))}"
    site = data.get("session_site") or {}
    place = "\n".join(
        p
        for p in (
            site.get("name"),
            " ".join(p for p in (site.get("postcode"), site.get("commune")) if p),
        )
        if p
    )
    teaching = codes.TEACHING_MODES.label(session.get("teaching_mode"))
    if session.get("teaching_mode") in (1, 2):
        place = f"{place}\n{teaching}" if place else teaching
    durations = []
    if session.get("hours_centre") is not None:
        durations.append(f"centre : {_hours(session['hours_centre'])}")
    if session.get("hours_company"):
        durations.append(f"entreprise : {_hours(session['hours_company'])}")
    if session.get("hours_weekly"):
        durations.append(f"{_hours(session['hours_weekly'])} par semaine")
    places, fees = [], []
    for funding in data.get("fundings") or []:
        if funding.get("places") is not None:
            places.append(str(funding["places"]))
        fee = _money(funding.get("fee_ttc"))
        if fee:
            fees.append(fee)
            if funding.get("teaching_fees_covered"):
                fees.append("pris en charge")
    return SessionEntry(
        fas_code=data.get("fas_code") or "",
        dates=dates,
        place=place,
        durations="\n".join(durations),
        places="\n".join(places),
        fees="\n".join(fees),
        contact=_contact(data),
    )


def _formation_details(formation: Mapping[str, Any]) -> tuple[str, ...]:
    details = []
    certification = formation.get("certification")
    if certification:
        parts = [f"Certif Info {certification.get('code')}"]
        if certification.get("type_label"):
            parts.append(certification["type_label"])
        if certification.get("exit_level"):
            parts.append(f"niveau de sortie : {_level(certification['exit_level'])}")
        if certification.get("rncp_code"):
            parts.append(f"RNCP {certification['rncp_code']}")
        details.append(" · ".join(parts))
    programme, lot = formation.get("programme"), formation.get("lot")
    if programme or lot:
        parts = []
        if programme:
            parts.append(f"Programme : {programme.get('name')}")
        if lot:
            parts.append(f"Lot : {lot.get('code')} - {lot.get('title')}")
        details.append(" · ".join(parts))
    return tuple(details)


def _action_lines(data: Mapping[str, Any]) -> tuple[str, ...]:
    action = data.get("action") or {}
    lines = []
    site = _address_line(data.get("action_site"))
    if site:
        lines.append(f"Lieu de formation : {site}")
    if action.get("entry_level"):
        lines.append(f"Niveau d'entrée : {_level(action['entry_level'])}")
    plus = visible_text(action.get("plus_formation"))
    if plus:
        lines.append(f"Le plus de la formation : {plus}")
    if action.get("action_url"):
        lines.append(f"En savoir plus : {action['action_url']}")
    return tuple(lines)


def group_entries(rows: Iterable[tuple[int, int, dict]]) -> list[FormationEntry]:
    """Group (formation id, action id, data) rows into formations with actions and sessions.

    Formations are sorted by title then organisation; sessions by start date.
    """
    formations: dict[int, dict[int, list[dict]]] = {}
    for formation_id, action_id, data in rows:
        formations.setdefault(formation_id, {}).setdefault(action_id, []).append(data)
    entries = []
    for formation_id, actions in formations.items():
        action_entries = []
        organisations: list[str] = []
        first = next(iter(actions.values()))[0]
        formation = first.get("formation") or {}
        for action_id, sessions in sorted(actions.items()):
            sessions.sort(
                key=lambda d: (
                    (d.get("session") or {}).get("start_date") or "",
                    (d.get("session") or {}).get("id") or 0,
                )
            )
            head = sessions[0]
            organisation = (head.get("organisation") or {}).get("name") or ""
            if organisation not in organisations:
                organisations.append(organisation)
            action_entries.append(
                ActionEntry(
                    code=f"{formation_id}-{action_id}",
                    organisation=organisation,
                    title_complement=(head.get("action") or {}).get("title_complement") or "",
                    lines=_action_lines(head),
                    sessions=tuple(_session_entry(d) for d in sessions),
                )
            )
        if len(organisations) > 2:
            owner = f"{organisations[0]} et {len(organisations) - 1} autres organismes"
        else:
            owner = " / ".join(organisations)
        objective = visible_text(formation.get("objective"))
        entries.append(
            FormationEntry(
                key=f"F{formation_id}",
                title=formation.get("title") or "",
                organisation=owner,
                details=_formation_details(formation),
                objective=objective,
                actions=tuple(action_entries),
            )
        )
    entries.sort(key=lambda e: (sort_key(e.title, 200), sort_key(e.organisation, 100), e.key))
    return entries


def load_entries(filters: CatalogueFilters, today: date) -> tuple[list[FormationEntry], int]:
    """The formations of the catalogue and its number of sessions."""
    stmt = (
        select(PS.formation_id, PS.action_id, PS.data)
        .where(*conditions(filters, today))
        .order_by(PS.formation_id, PS.action_id, PS.start_date, PS.session_id)
    )
    rows = db.session.execute(stmt).all()
    return group_entries(rows), len(rows)


def write_catalogue(
    filters: CatalogueFilters | Mapping[str, Any],
    out: BinaryIO,
    *,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> CatalogueResult:
    """Build the catalogue of the published sessions matching ``filters`` into ``out``.

    ``filters`` is a ``CatalogueFilters`` or the query-string mapping ``parse_filters`` reads
    (FilterError for a bad value or an unknown programme or lot). ``progress(percent)`` is
    called as the work advances (0 → 100).
    """
    if not isinstance(filters, CatalogueFilters):
        filters = parse_filters(filters)
    today = today or date.today()
    criteria = describe(filters)
    if progress:
        progress(0)
    entries, sessions = load_entries(filters, today)
    if progress:
        progress(5)

    def layout_progress(done: int, total: int) -> None:
        if progress and total:
            progress(5 + (94 * done) // total)

    meta = CatalogueMeta(
        title=TITLE,
        criteria=criteria,
        generated_on=today,
        notice=NOTICE,
        formations=len(entries),
        sessions=sessions,
    )
    pages = render_catalogue(meta, entries, out, progress=layout_progress)
    if progress:
        progress(100)
    return CatalogueResult(pages=pages, formations=len(entries), sessions=sessions)
