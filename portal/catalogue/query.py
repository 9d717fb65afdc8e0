"""The public search: what the query string asks for, and the SQL that answers it.

``parse(args)`` reads a search from a query string (the catalogue page and the API share the
parameters) and raises ``BadQuery`` with a French message for anything it cannot honour.
``search(db_session, query, today)`` returns one page of published sessions in start-date
order with the number of results, counted up to ``COUNT_LIMIT``.

How a search runs over a million published sessions (see ``terms`` for the word index): every
word typed and every filter is a *condition* on ``published_terms``. The most selective one
*drives*: its rows are read in index order — span class, then start date — for each span
class, and the classes are merged by the database into start-date order, so the first page is
read, not sorted. The other conditions are checked for each candidate through the
``(session_id, term)`` index; "not ended" is checked in the driving row itself. A typed word
matches the words that start with it ("compta" finds "comptabilité"), so a word drives through
the few indexed words it stands for, or is only checked when it stands for many.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, select, text, union, union_all
from sqlalchemy.orm import Session as OrmSession

from .. import codes
from ..models import Programme, PublishedSession
from ..search.normalise import MAX_QUERY_LENGTH
from . import terms as T
from .models import PublishedTerm

PAGE_SIZES = (10, 20, 50)
DEFAULT_PAGE_SIZE = 20
API_MAX_PAGE_SIZE = 100
# Results are counted up to here ("plus de 500 sessions") and paged within it: a count or a
# page further on would read rows nobody looks at. The open-data files hold everything.
COUNT_LIMIT = 500
MAX_WORDS = 8
# A typed word that stands for more indexed words than this is checked, never driven by.
MAX_DRIVER_TERMS = 8
# Counting a term's rows stops here: enough to choose the smallest condition.
ESTIMATE_LIMIT = 5000
ESTIMATE_LIMIT_HIGH = 50000
SORTS = {"debut": False, "-debut": True}  # tri → descending
# Filters whose value every index row carries (see models.PublishedTerm).
IN_ROW_FILTERS = {
    "programme": "programme_id",
    "departement": "department",
    "modalite": "teaching_mode",
    "niveau": "exit_level",
}
PARAMETERS = (
    "q",
    "programme",
    "departement",
    "commune",
    "du",
    "au",
    "modalite",
    "niveau",
    "public",
    "formacode",
    "terminees",
    "tri",
    "page",
    "taille",
)
MAX_DATE = date(2100, 12, 31)
MIN_DATE = date(1990, 1, 1)


class BadQuery(ValueError):
    """A search the catalogue cannot run; ``message`` is shown to the visitor (French)."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter


@dataclass(frozen=True)
class CatalogueQuery:
    """One search of the catalogue, as read from (and written back to) a query string."""

    q: str = ""
    words: tuple[str, ...] = ()
    programme: int | None = None
    departement: str | None = None
    commune: str = ""
    du: date | None = None
    au: date | None = None
    modalite: int | None = None
    niveau: str | None = None
    public: str | None = None
    formacode: str | None = None
    terminees: bool = False
    tri: str = "debut"
    page: int = 1
    taille: int = DEFAULT_PAGE_SIZE

    @property
    def descending(self) -> bool:
        return SORTS[self.tri]

    @property
    def has_filters(self) -> bool:
        return any(
            (
                self.programme,
                self.departement,
                self.commune,
                self.du,
                self.au,
                self.modalite is not None,
                self.niveau,
                self.public,
                self.formacode,
                self.terminees,
            )
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments of this search with ``changes``; defaults are left out.

        Changing anything but the page goes back to the first page.
        """
        values: dict[str, Any] = {
            "q": self.q,
            "programme": self.programme,
            "departement": self.departement,
            "commune": self.commune,
            "du": self.du.isoformat() if self.du else None,
            "au": self.au.isoformat() if self.au else None,
            "modalite": self.modalite,
            "niveau": self.niveau,
            "public": self.public,
            "formacode": self.formacode,
            "terminees": "1" if self.terminees else None,
            "tri": None if self.tri == "debut" else self.tri,
            "page": self.page,
            "taille": self.taille,
        }
        if changes and "page" not in changes:
            values["page"] = None
        values.update(changes)
        if values["page"] == 1:
            values["page"] = None
        if values["taille"] == DEFAULT_PAGE_SIZE:
            values["taille"] = None
        return {k: v for k, v in values.items() if v is not None and v != ""}


def _one(args: Mapping[str, str], name: str) -> str:
    getlist = getattr(args, "getlist", None)
    values = getlist(name) if getlist else [args[name]] if name in args else []
    if len(values) > 1:
        raise BadQuery(f"Le paramètre « {name} » est donné plusieurs fois.", name)
    return values[0].strip() if values else ""


def _int(raw: str, name: str, label: str, low: int = 0, high: int = 2**31 - 1) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{label} : « {raw[:40]} » n'est pas un nombre.", name) from None
    if not low <= value <= high:
        raise BadQuery(f"{label} : {value} est hors limites.", name)
    return value


def _date(raw: str, name: str, label: str) -> date | None:
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise BadQuery(
            f"{label} : « {raw[:40]} » n'est pas une date (format attendu : AAAA-MM-JJ).", name
        ) from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise BadQuery(f"{label} : la date doit être comprise entre 1990 et 2100.", name)
    return value


def _code(raw: str, name: str, table: codes.CodeTable, label: str) -> str | None:
    if not raw:
        return None
    if raw not in table:
        raise BadQuery(f"{label} : la valeur « {raw[:40]} » n'existe pas.", name)
    return raw


def parse(
    args: Mapping[str, str],
    *,
    programmes: Sequence[int] | None = None,
    departments: Mapping[str, str] | None = None,
    api: bool = False,
) -> CatalogueQuery:
    """Read a search from the query string; ``BadQuery`` (French) for anything wrong.

    ``programmes`` and ``departments`` are the values that exist; an unknown one is refused
    rather than silently giving no result. The API also refuses parameters it does not know.
    """
    if api:
        unknown = sorted(set(args) - set(PARAMETERS))
        if unknown:
            raise BadQuery(f"Paramètre inconnu : « {unknown[0][:40]} ».", unknown[0])
    q = _one(args, "q")
    if len(q) > MAX_QUERY_LENGTH:
        raise BadQuery(
            f"La recherche est trop longue ({MAX_QUERY_LENGTH} caractères au maximum).", "q"
        )
    words = tuple(dict.fromkeys(T.words(q)))
    if len(words) > MAX_WORDS:
        raise BadQuery(f"La recherche compte trop de mots ({MAX_WORDS} au maximum).", "q")

    raw = _one(args, "programme")
    programme = _int(raw, "programme", "Programme", 1) if raw else None
    if programme is not None and programmes is not None and programme not in programmes:
        raise BadQuery(f"Programme : le programme n° {programme} n'existe pas.", "programme")

    departement = _one(args, "departement").upper() or None
    if departement is not None and departments is not None and departement not in departments:
        raise BadQuery(
            f"Département : « {departement[:40]} » n'est pas un département.", "departement"
        )

    commune = _one(args, "commune")
    if len(commune) > 60:
        raise BadQuery("Commune : 60 caractères au maximum.", "commune")
    if commune and not T.commune_key(commune):
        raise BadQuery("Commune : saisissez le nom d'une commune.", "commune")

    du = _date(_one(args, "du"), "du", "Début à partir du")
    au = _date(_one(args, "au"), "au", "Début jusqu'au")
    if du and au and du > au:
        raise BadQuery("Dates : la première date doit précéder la seconde.", "au")

    raw = _one(args, "modalite")
    modalite = None
    if raw:
        _code(raw, "modalite", codes.TEACHING_MODES, "Modalité d'enseignement")
        modalite = int(raw)
    niveau = _code(_one(args, "niveau"), "niveau", codes.LEVELS, "Niveau de sortie")
    public = _code(_one(args, "public"), "public", codes.PUBLIC_TARGETS, "Public visé")
    formacode = _one(args, "formacode") or None
    if formacode is not None and not (len(formacode) == 5 and formacode.isdigit()):
        raise BadQuery("Formacode : un code à 5 chiffres est attendu.", "formacode")

    raw = _one(args, "terminees")
    if raw not in ("", "0", "1", "on", "true", "false"):
        raise BadQuery("Sessions terminées : valeur attendue 1 ou 0.", "terminees")
    terminees = raw in ("1", "on", "true")

    tri = _one(args, "tri") or "debut"
    if tri not in SORTS:
        raise BadQuery("Tri : valeur attendue « debut » ou « -debut ».", "tri")

    raw = _one(args, "taille")
    if api:
        taille = _int(raw, "taille", "Taille de page", 1, API_MAX_PAGE_SIZE) if raw else 20
    else:
        taille = _int(raw, "taille", "Taille de page") if raw else DEFAULT_PAGE_SIZE
        if taille not in PAGE_SIZES:
            raise BadQuery("Taille de page : valeur attendue 10, 20 ou 50.", "taille")
    raw = _one(args, "page")
    page = _int(raw, "page", "Page", 1) if raw else 1
    if (page - 1) * taille >= COUNT_LIMIT:
        raise BadQuery(
            f"Page : seuls les {COUNT_LIMIT} premiers résultats sont consultables ; "
            "précisez la recherche ou utilisez les données ouvertes.",
            "page",
        )
    return CatalogueQuery(
        q=q,
        words=words,
        programme=programme,
        departement=departement,
        commune=commune,
        du=du,
        au=au,
        modalite=modalite,
        niveau=niveau,
        public=public,
        formacode=formacode,
        terminees=terminees,
        tri=tri,
        page=page,
        taille=taille,
    )


@dataclass(frozen=True)
class Condition:
    """One thing every result must have: a filter value (exact) or a typed word (prefix).

    A single-valued filter also names its copy in every index row (``column``), where it is
    checked when another condition drives.
    """

    term: str
    prefix: bool = False
    column: str | None = None
    value: Any = None


@dataclass
class Results:
    """One page of a search."""

    query: CatalogueQuery
    items: list[Any] = field(default_factory=list)
    total: int = 0  # capped at COUNT_LIMIT + 1

    @property
    def total_exact(self) -> bool:
        return self.total <= COUNT_LIMIT

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, COUNT_LIMIT) / self.query.taille))

    @property
    def first(self) -> int:
        return (self.query.page - 1) * self.query.taille + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def has_prev(self) -> bool:
        return self.query.page > 1

    @property
    def has_next(self) -> bool:
        return self.query.page < self.pages


def conditions(query: CatalogueQuery) -> list[Condition]:
    found = [Condition(word, prefix=True) for word in query.words]
    filters = [
        ("programme", query.programme),
        ("departement", query.departement),
        ("commune", query.commune or None),
        ("modalite", query.modalite),
        ("niveau", query.niveau),
        ("public", query.public),
        ("formacode", query.formacode),
    ]
    for name, value in filters:
        if value is not None:
            column = IN_ROW_FILTERS.get(name)
            found.append(Condition(T.filter_term(name, value), column=column, value=value))
    return found


def _prefix_end(word: str) -> str:
    # Terms are ASCII letters and digits, all below DEL.
    return word + "\x7f"


# A "loose index scan": one index seek per distinct term in [lower, upper), not a scan of their
# rows. Written once for both databases (PostgreSQL has no skip scan either).
_DISTINCT_TERMS = text(
    """
    WITH RECURSIVE found(term) AS (
        SELECT min(term) FROM published_terms WHERE term >= :lower AND term < :upper
        UNION ALL
        SELECT (SELECT min(t.term) FROM published_terms t WHERE t.term > found.term
                AND t.term < :upper)
        FROM found WHERE found.term IS NOT NULL
    )
    SELECT term FROM found WHERE term IS NOT NULL LIMIT :limit
    """
)


def _distinct_terms(db_session: OrmSession, prefix: str, limit: int) -> list[str]:
    params = {"lower": prefix, "upper": _prefix_end(prefix), "limit": limit}
    return list(db_session.scalars(_DISTINCT_TERMS, params))


def expand(db_session: OrmSession, word: str, limit: int = MAX_DRIVER_TERMS) -> list[str] | None:
    """The indexed words that start with ``word``, or None when there are more than ``limit``."""
    found = _distinct_terms(db_session, word, limit + 1)
    return None if len(found) > limit else found


def distinct_values(db_session: OrmSession, prefix: str, limit: int = 500) -> list[str]:
    """The filter values present in the index for ``prefix`` (e.g. every ``~dep:`` code)."""
    return [v[len(prefix) :] for v in _distinct_terms(db_session, prefix, limit)]


# Row counts of terms, kept a few minutes per process: they only choose which condition
# drives (never what is found), and the common words are what most visitors type.
ESTIMATE_CACHE_SECONDS = 300
_estimates: dict[tuple[str, str, int], tuple[float, int]] = {}


def _term_rows(db_session: OrmSession, term: str, limit: int) -> int:
    key = (str(db_session.get_bind().url), term, limit)
    now = time.monotonic()
    cached = _estimates.get(key)
    if cached and now - cached[0] < ESTIMATE_CACHE_SECONDS:
        return cached[1]
    t = PublishedTerm.__table__
    rows = select(literal(1)).where(t.c.term == term).limit(limit).subquery()
    found = db_session.scalar(select(func.count()).select_from(rows)) or 0
    if len(_estimates) > 10000:
        _estimates.clear()
    _estimates[key] = (now, found)
    return found


def estimate(db_session: OrmSession, terms: Sequence[str], limit: int = ESTIMATE_LIMIT) -> int:
    """How many rows the terms have together, counted up to ``limit``."""
    total = 0
    for term in terms:
        if total >= limit:
            break
        total += _term_rows(db_session, term, limit - total)
    return total


def _check(condition: Condition, driving: Any) -> Any:
    if condition.column:
        return driving.c[condition.column] == condition.value
    x = PublishedTerm.__table__.alias("x")
    if condition.prefix:
        matches = and_(x.c.term >= condition.term, x.c.term < _prefix_end(condition.term))
    else:
        matches = x.c.term == condition.term
    return exists(select(literal(1)).where(x.c.session_id == driving.c.session_id, matches))


def _arms(
    driver_terms: Sequence[str], checks: Sequence[Condition], query: CatalogueQuery, today: date
) -> list[Select]:
    t = PublishedTerm.__table__
    today_day = today.toordinal()
    upper = query.au.toordinal() if query.au else None
    arms = []
    for term in driver_terms:
        for span in range(T.UNBOUNDED_SPAN + 1):
            lower = query.du.toordinal() if query.du else None
            if not query.terminees and span < T.UNBOUNDED_SPAN:
                # A session of this class that ends today or later started after this day.
                lower = max(lower or 0, today_day - T.SPANS[span])
            if lower is not None and upper is not None and lower > upper:
                continue
            where = [t.c.term == term, t.c.span == span]
            if lower is not None:
                where.append(t.c.start_day >= lower)
            if upper is not None:
                where.append(t.c.start_day <= upper)
            if not query.terminees:
                where.append(t.c.end_day >= today_day)
            # In-row checks first: they are cheap and spare the lookups of the others.
            where += [_check(c, t) for c in sorted(checks, key=lambda c: c.column is None)]
            arms.append(select(t.c.start_day, t.c.session_id).where(*where))
    return arms


def plan(db_session: OrmSession, query: CatalogueQuery) -> tuple[list[str], list[Condition]] | None:
    """Choose the driving terms and the checks; None when a word matches nothing at all.

    The condition with the fewest rows drives. Each is counted up to ESTIMATE_LIMIT rows; when
    all reach it (common words and filters), they are counted further, up to the smallest count
    found so far (at most ESTIMATE_LIMIT_HIGH), to tell them apart.
    """
    every = conditions(query)
    candidates: list[tuple[list[str], Condition]] = []
    for condition in every:
        if condition.prefix:
            expansion = expand(db_session, condition.term)
            if expansion == []:
                return None
            if expansion is not None:
                candidates.append((expansion, condition))
        else:
            candidates.append(([condition.term], condition))
    if not candidates:
        return [T.ALL], every
    if len(candidates) > 1:
        counted = [(estimate(db_session, terms_), terms_, c) for terms_, c in candidates]
        if min(n for n, _, _ in counted) >= ESTIMATE_LIMIT:
            counted = []
            budget = ESTIMATE_LIMIT_HIGH
            # Single words and filters first: cheaper to count, and they set the budget.
            for terms_, condition in sorted(candidates, key=lambda c: len(c[0])):
                found = estimate(db_session, terms_, budget)
                counted.append((found, terms_, condition))
                budget = min(budget, found)
        found, driver, chosen = min(counted, key=lambda c: c[0])
        if found == 0:
            return None
    else:
        driver, chosen = candidates[0]
    return driver, [c for c in every if c != chosen]


def _ordered(
    query: CatalogueQuery, today: date, planned: tuple[list[str], list[Condition]]
) -> Select | None:
    driver_terms, checks = planned
    arms = _arms(driver_terms, checks, query, today)
    if not arms:
        return None
    # Several driving words may share a session: UNION keeps it once (still merged in order).
    compound = union_all(*arms) if len(driver_terms) == 1 else union(*arms)
    columns = compound.selected_columns
    if query.descending:
        return compound.order_by(columns.start_day.desc(), columns.session_id.desc())
    return compound.order_by(columns.start_day, columns.session_id)


def ordered_ids(
    db_session: OrmSession,
    query: CatalogueQuery,
    today: date,
    *,
    limit: int | None,
    offset: int = 0,
    planned: tuple[list[str], list[Condition]] | None = None,
) -> list[int]:
    """The session ids of the search in start-date order (``limit`` None: all of them)."""
    planned = planned or plan(db_session, query)
    stmt = _ordered(query, today, planned) if planned else None
    if stmt is None:
        return []
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [row.session_id for row in db_session.execute(stmt)]


def count(
    db_session: OrmSession,
    query: CatalogueQuery,
    today: date,
    planned: tuple[list[str], list[Condition]] | None,
) -> int:
    """The number of results, up to COUNT_LIMIT + 1 ("more than COUNT_LIMIT")."""
    stmt = _ordered(query, today, planned) if planned else None
    if stmt is None:
        return 0
    found = stmt.limit(COUNT_LIMIT + 1).subquery()
    return db_session.scalar(select(func.count()).select_from(found)) or 0


LIST_COLUMNS = (
    PublishedSession.session_id,
    PublishedSession.action_id,
    PublishedSession.formation_id,
    PublishedSession.fas_code,
    PublishedSession.programme_id,
    PublishedSession.title,
    PublishedSession.establishment_name,
    PublishedSession.site_name,
    PublishedSession.commune,
    PublishedSession.postcode,
    PublishedSession.department,
    PublishedSession.start_date,
    PublishedSession.end_date,
    PublishedSession.teaching_mode,
    PublishedSession.exit_level,
    PublishedSession.public_targets,
    PublishedSession.formacodes,
)


def rows(db_session: OrmSession, ids: Sequence[int], columns: Sequence[Any] = LIST_COLUMNS):
    """The published rows of ``ids``, in that order."""
    if not ids:
        return []
    found = {
        row.session_id: row
        for row in db_session.execute(
            select(*columns).where(PublishedSession.session_id.in_(list(ids)))
        )
    }
    return [found[i] for i in ids if i in found]


def search(db_session: OrmSession, query: CatalogueQuery, today: date) -> Results:
    """One page of results and their number (capped); an empty page past the last one."""
    planned = plan(db_session, query)
    total = count(db_session, query, today, planned)
    offset = (query.page - 1) * query.taille
    ids = (
        ordered_ids(db_session, query, today, limit=query.taille, offset=offset, planned=planned)
        if offset < total
        else []
    )
    return Results(query=query, items=rows(db_session, ids), total=total)


def programme_choices(db_session: OrmSession) -> list[tuple[int, str]]:
    """The programmes that have published sessions, by name."""
    ids = [int(v) for v in distinct_values(db_session, T.FILTER_PREFIXES["programme"])]
    if not ids:
        return []
    stmt = select(Programme.id, Programme.name).where(Programme.id.in_(ids))
    return sorted(((row.id, row.name) for row in db_session.execute(stmt)), key=lambda p: p[1])


def programme_ids(db_session: OrmSession) -> list[int]:
    return list(db_session.scalars(select(Programme.id)))
