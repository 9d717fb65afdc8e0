"""The filters of a catalogue, read from a query string (or any mapping) and turned into SQL.

The public catalogue's search and the PDF catalogue take the same parameters, so that the
"PDF" link of a search is ``url_for("exports.catalogue_pdf", **request.args)``:

=============  =====================================================  ==========================
parameter      meaning                                                 example
=============  =====================================================  ==========================
programme      programme id                                            ``8``
lot            lot id                                                  ``31``
departement    department code of the session's place                  ``44``, ``2A``, ``974``
commune        commune of the session's place (case-insensitive)       ``Nantes``
du, au         sessions starting on or after / on or before            ``2024-02-01``, 01/02/2024
q              keywords, all required, accent-insensitive; FAS codes   ``comptabilité nantes``
modalite       teaching mode (LHEO dict-modalites-enseignement)        ``0``, ``1``, ``2``
niveau         exit level (LHEO dict-niveaux)                          ``14``
public         public visé (Formacode)                                 ``15041``
formacode      one of the certification's Formacodes                   ``32663``
terminees      ``1``: also list the sessions that have ended           ``1``
=============  =====================================================  ==========================

Other parameters (page, tri, taille…) are ignored; a malformed value raises ``FilterError``
with a French message (views answer 400). A keyword matches anywhere in the published search
text (``published_sessions.search_text``), codes match the records' own numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, or_

from .. import codes
from ..models import PublishedSession
from ..search.normalise import MAX_ID, QueryTooLong, parse_query

PS = PublishedSession
DEPARTMENT = re.compile(r"(?:0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-8]|98[6-8])\Z")
MAX_COMMUNE_LENGTH = 60


class FilterError(ValueError):
    """A filter value that cannot be used; ``message`` is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CatalogueFilters:
    programme_id: int | None = None
    lot_id: int | None = None
    department: str | None = None
    commune: str | None = None
    start_from: date | None = None
    start_to: date | None = None
    q: str | None = None
    teaching_mode: int | None = None
    exit_level: str | None = None
    public_target: str | None = None
    formacode: str | None = None
    include_ended: bool = False

    def to_args(self) -> dict[str, str]:
        """The query-string form: only the filters that are set, in a stable order."""
        values = {
            "programme": self.programme_id,
            "lot": self.lot_id,
            "departement": self.department,
            "commune": self.commune,
            "du": self.start_from.isoformat() if self.start_from else None,
            "au": self.start_to.isoformat() if self.start_to else None,
            "q": self.q,
            "modalite": self.teaching_mode,
            "niveau": self.exit_level,
            "public": self.public_target,
            "formacode": self.formacode,
            "terminees": "1" if self.include_ended else None,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    @property
    def is_empty(self) -> bool:
        return self == CatalogueFilters()


def _first(args: Mapping[str, Any], name: str) -> Any:
    value = args.get(name)
    if isinstance(value, str):
        value = value.strip()
    return None if value in (None, "") else value


def _id(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise FilterError(f"{what} invalide : un identifiant numérique est attendu.")
    if not 1 <= number <= MAX_ID:
        raise FilterError(f"{what} invalide : identifiant hors limites.")
    return number


def _date(value: Any, what: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise FilterError(f"{what} invalide : saisissez une date au format JJ/MM/AAAA.")


def _code(value: Any, table: codes.CodeTable, what: str) -> str | None:
    if value is None:
        return None
    if str(value) not in table:
        raise FilterError(f"{what} invalide : cette valeur n'existe pas.")
    return str(value)


def _flag(value: Any) -> bool:
    if value in (None, False, "0", "false"):
        return False
    if value in (True, "1", "on", "true"):
        return True
    raise FilterError("Sessions terminées invalide : valeur attendue 1 ou 0.")


def parse_filters(args: Mapping[str, Any]) -> CatalogueFilters:
    """Read the filters from a query string (strings) or a dict of typed values."""
    department = _first(args, "departement")
    if department is not None:
        department = str(department).upper()
        if not DEPARTMENT.match(department):
            raise FilterError("Département invalide : indiquez un code comme 44, 2A ou 974.")
    commune = _first(args, "commune")
    if commune is not None:
        commune = " ".join(str(commune).split())
        if len(commune) > MAX_COMMUNE_LENGTH:
            raise FilterError("Commune invalide : 60 caractères au maximum.")
    q = _first(args, "q")
    if q is not None:
        q = str(q)
        try:
            if not parse_query(q):
                q = None
        except QueryTooLong:
            raise FilterError(
                "Recherche trop longue : 200 caractères et 10 mots au maximum."
            ) from None
    formacode = _first(args, "formacode")
    if formacode is not None:
        formacode = str(formacode)
        if not (len(formacode) == 5 and formacode.isascii() and formacode.isdigit()):
            raise FilterError("Formacode invalide : un code à 5 chiffres est attendu.")
    mode = _code(_first(args, "modalite"), codes.TEACHING_MODES, "Modalité d'enseignement")
    filters = CatalogueFilters(
        programme_id=_id(_first(args, "programme"), "Programme"),
        lot_id=_id(_first(args, "lot"), "Lot"),
        department=department,
        commune=commune,
        start_from=_date(_first(args, "du"), "Date de début"),
        start_to=_date(_first(args, "au"), "Date de fin"),
        q=q,
        teaching_mode=int(mode) if mode is not None else None,
        exit_level=_code(_first(args, "niveau"), codes.LEVELS, "Niveau de sortie"),
        public_target=_code(_first(args, "public"), codes.PUBLIC_TARGETS, "Public visé"),
        formacode=formacode,
        include_ended=_flag(_first(args, "terminees")),
    )
    if filters.start_from and filters.start_to and filters.start_to < filters.start_from:
        raise FilterError("Période invalide : la date « au » précède la date « du ».")
    return filters


def conditions(filters: CatalogueFilters, today: date) -> list[ColumnElement[bool]]:
    """The WHERE clauses on published_sessions: the filters, and sessions not yet ended."""
    where: list[ColumnElement[bool]] = [PS.active.is_(True)]
    if not filters.include_ended:
        where.append(or_(PS.end_date.is_(None), PS.end_date >= today))
    if filters.programme_id is not None:
        where.append(PS.programme_id == filters.programme_id)
    if filters.lot_id is not None:
        where.append(PS.lot_id == filters.lot_id)
    if filters.department is not None:
        where.append(PS.department == filters.department)
    if filters.commune is not None:
        where.append(func.lower(PS.commune) == filters.commune.lower())
    if filters.start_from is not None:
        where.append(PS.start_date >= filters.start_from)
    if filters.start_to is not None:
        where.append(PS.start_date <= filters.start_to)
    if filters.teaching_mode is not None:
        where.append(PS.teaching_mode == filters.teaching_mode)
    if filters.exit_level is not None:
        where.append(PS.exit_level == filters.exit_level)
    # JSON lists of digit codes: a quoted code in their text is portable (SQLite, PostgreSQL).
    if filters.public_target is not None:
        where.append(cast(PS.public_targets, Text).like(f'%"{filters.public_target}"%'))
    if filters.formacode is not None:
        where.append(cast(PS.formacodes, Text).like(f'%"{filters.formacode}"%'))
    for term in parse_query(filters.q) if filters.q else []:
        match = PS.search_text.like(term.like_pattern, escape="\\")
        if term.numbers:
            columns = (PS.formation_id, PS.action_id, PS.session_id)
            if len(term.numbers) == 1:
                n = term.numbers[0]
                match = or_(match, *(c == n for c in columns))
            else:
                match = or_(
                    match, and_(*(c == n for c, n in zip(columns, term.numbers, strict=False)))
                )
        where.append(match)
    return where
