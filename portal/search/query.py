"""What a list shows: its columns and sorts, the state read from the URL, and the SQL for it.

Every state of a list — search words, named filter, sort, page size, SIRET filter, position —
lives in the query string, so a list is bookmarkable and the back button restores it. Bad
values answer 400 (an unknown named filter 404), never a 500 or a silent default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import UnaryExpression
from werkzeug.exceptions import BadRequest, NotFound

from ..models import Establishment
from .filters import (
    ACTION_FILTERS,
    SESSION_FILTERS,
    NamedFilter,
    session_is_active,
    session_is_inactive,
)
from .models import ActionListing, SearchLabelWord, SearchWord, SessionListing
from .normalise import MAX_ID, QueryTooLong, Term, parse_query

PAGE_SIZES = (10, 25, 50, 100)
# A word found in at most this many rows is looked up first (through the label indexes), and
# the page is read among those rows; a more frequent word is checked row by row while the
# page is read in sort order, which finds a page after a few rows.
DRIVER_LIMIT = 2000
# Over every establishment, when two words (or a word and a filter) must both match, the less
# frequent word picks the rows up to this many.
WIDE_LIMIT = 50_000
SHORT_LIST = 64


@dataclass(frozen=True)
class Sort:
    """A sortable column: its URL slug, its French header, and its sort key."""

    slug: str
    label: str
    columns: tuple[Any, ...] = ()
    # A key computed at request time (Etat A/I depends on today): ordered, disjoint conditions.
    partitions: Callable[[date], tuple[ColumnElement[bool], ...]] | None = None
    carif_only: bool = False


@dataclass(frozen=True)
class ListingSpec:
    name: str
    endpoint: str
    noun: str
    model: type
    pk: Any
    sorts: dict[str, Sort]
    default_sort: str
    filters: dict[str, NamedFilter]
    label_columns: tuple[Any, ...]
    code_columns: tuple[Any, ...]

    def columns(self, with_siret: bool) -> list[Sort]:
        return [s for s in self.sorts.values() if with_siret or not s.carif_only]


S = SessionListing
A = ActionListing

SESSIONS = ListingSpec(
    name="sessions",
    endpoint="search.sessions",
    noun="Sessions",
    model=SessionListing,
    pk=S.session_id,
    sorts={
        s.slug: s
        for s in (
            Sort("siret", "SIRET", (S.siret,), carif_only=True),
            Sort("code", "Code FAS", (S.formation_id, S.action_id)),
            Sort("intitule", "Intitulé formation", (S.title_key,)),
            Sort("site", "Site dispensateur", (S.site_key,)),
            Sort("commune", "Commune lieu", (S.commune_key,)),
            Sort("debut", "Date début", (S.start_date,)),
            Sort("fin", "Date fin", (S.end_date,)),
            Sort("dispositif", "Code dispositif", (S.dispositif_code,)),
            Sort(
                "etat",
                "Etat A/I",
                partitions=lambda today: (session_is_active(today), session_is_inactive(today)),
            ),
        )
    },
    default_sort="-debut",
    filters=SESSION_FILTERS,
    label_columns=(S.title_label_id, S.complement_label_id, S.site_label_id, S.commune_label_id),
    code_columns=(S.formation_id, S.action_id, S.session_id),
)

ACTIONS = ListingSpec(
    name="actions",
    endpoint="search.actions",
    noun="Actions",
    model=ActionListing,
    pk=A.action_id,
    sorts={
        s.slug: s
        for s in (
            Sort("siret", "SIRET", (A.siret,), carif_only=True),
            Sort("code", "Action", (A.formation_id,)),
            Sort("libelle", "Libellé", (A.title_key,)),
            Sort("site", "Site dispensateur", (A.site_key,)),
            Sort("etat", "Etat", (A.status_rank,)),
            Sort("type", "Type", (A.has_programme,)),
        )
    },
    default_sort="-code",
    filters=ACTION_FILTERS,
    label_columns=(A.title_label_id, A.complement_label_id, A.site_label_id),
    code_columns=(A.formation_id, A.action_id),
)

_STATE_KEYS = ("q", "filtre", "tri", "taille", "siret")
_POSITION_KEYS = ("apres", "avant", "page")


@dataclass(frozen=True)
class ListState:
    """One state of a list, as read from (and written back to) the query string."""

    spec: ListingSpec = field(repr=False)
    q: str = ""
    filtre: str | None = None
    tri: str = ""
    taille: int = PAGE_SIZES[0]
    siret: str = ""
    apres: int | None = None
    avant: int | None = None
    last: bool = False
    terms: tuple[Term, ...] = ()

    @property
    def named(self) -> NamedFilter | None:
        return self.spec.filters[self.filtre] if self.filtre else None

    @property
    def sort(self) -> str:
        return self.tri or self.spec.default_sort

    @property
    def sort_slug(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def sort_link(self, slug: str) -> str:
        """The ``tri`` value of a column header: ascending first, then toggling."""
        if slug == self.sort_slug and not self.descending:
            return f"-{slug}"
        return slug

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments of this state with ``changes``; defaults are left out.

        Changing what is listed (words, filter, sort, size, SIRET) goes back to the first page;
        changing the position keeps the rest.
        """
        values: dict[str, Any] = {
            "q": self.q,
            "filtre": self.filtre,
            "tri": self.tri,
            "taille": self.taille,
            "siret": self.siret,
            "apres": self.apres,
            "avant": self.avant,
            "page": "derniere" if self.last else None,
        }
        if any(key in changes for key in (*_STATE_KEYS, *_POSITION_KEYS)):
            values.update(apres=None, avant=None, page=None)
        values.update(changes)
        if values["tri"] == self.spec.default_sort:
            values["tri"] = None
        if values["taille"] == PAGE_SIZES[0]:
            values["taille"] = None
        return {k: v for k, v in values.items() if v not in (None, "")}


def _int_arg(args: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = args.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} n'est pas un nombre") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} hors limites")
    return value


def parse_state(args: Mapping[str, str], spec: ListingSpec, *, carif: bool) -> ListState:
    """Read a list's state from request arguments; 400 for junk, 404 for an unknown filter."""
    taille = _int_arg(args, "taille", 1, 1000) or PAGE_SIZES[0]
    if taille not in PAGE_SIZES:
        raise BadRequest("taille")
    tri = (args.get("tri") or "").strip()
    if tri:
        slug = tri.removeprefix("-")
        if slug not in spec.sorts or (spec.sorts[slug].carif_only and not carif):
            raise BadRequest("tri")
    filtre = args.get("filtre") or None
    if filtre is not None and filtre not in spec.filters:
        raise NotFound()
    q = (args.get("q") or "").strip()
    try:
        terms = tuple(parse_query(q))
    except QueryTooLong:
        raise BadRequest("q") from None
    siret = "".join((args.get("siret") or "").split())
    if siret and (
        not carif or not (siret.isascii() and siret.isdigit()) or len(siret) not in (9, 14)
    ):
        raise BadRequest("siret")
    apres = _int_arg(args, "apres", 1, MAX_ID)
    avant = _int_arg(args, "avant", 1, MAX_ID)
    page = args.get("page") or None
    if page not in (None, "1", "derniere"):
        raise BadRequest("page")
    last = page == "derniere"
    if sum((apres is not None, avant is not None, last)) > 1:
        raise BadRequest("position")
    return ListState(spec, q, filtre, tri, taille, siret, apres, avant, last, terms)


@dataclass(frozen=True)
class Ordering:
    """The order of a list: disjoint partitions (or one), then columns ending with the id."""

    columns: tuple[Any, ...]
    descending: bool
    partitions: tuple[ColumnElement[bool], ...] | None = None


def ordering(state: ListState, today: date) -> Ordering:
    sort = state.spec.sorts[state.sort_slug]
    if sort.partitions is not None:
        return Ordering((state.spec.pk,), state.descending, sort.partitions(today))
    return Ordering((*sort.columns, state.spec.pk), state.descending)


def code_match(columns: tuple[Any, ...], numbers: tuple[int, ...]) -> ColumnElement[bool] | None:
    """Consecutive numbers of the code: 143842 is any of F, A, S; 19482-89393 is F-A or A-S."""
    spans = [
        and_(*(columns[start + i] == n for i, n in enumerate(numbers)))
        for start in range(len(columns) - len(numbers) + 1)
    ]
    return or_(*spans) if spans else None


class IdSet:
    """Ids gathered by the database in one row, and handed back as one bound parameter: a
    JSON array on SQLite (read with ``json_each``), an array on PostgreSQL. However many
    there are, no bound-parameter limit is reached and no Python loop touches them."""

    def __init__(self, db_session: OrmSession, ids: Select) -> None:
        self.dialect = db_session.get_bind().dialect.name
        rows = ids.subquery()
        column = rows.c[0]
        if self.dialect == "postgresql":
            gathered = func.array_agg(column)
        else:
            gathered = func.json_group_array(column)
        value, self.size = db_session.execute(
            select(gathered, func.count()).select_from(rows)
        ).one()
        if self.dialect == "postgresql":
            self.param = bindparam(None, value or [], type_=ARRAY(Integer))
        else:
            self.param = bindparam(None, value)

    def __bool__(self) -> bool:
        return self.size > 0

    def __len__(self) -> int:
        return self.size

    def contains(self, column, *, lookup: bool = False) -> ColumnElement[bool]:
        """``column IN (these ids)``.

        On PostgreSQL, a long list goes through ``IN (SELECT unnest(…))``, checked with a hash
        per row where a table scan is the plan (a frequent word); a short one, or one meant
        to be looked up (``lookup``: candidate ids by primary key), stays ``= ANY(…)``, which
        the planner turns into index lookups.
        """
        if self.dialect == "postgresql":
            if self.size > SHORT_LIST and not lookup:
                return column.in_(select(func.unnest(self.param)))
            return column == any_(self.param)
        values = func.json_each(self.param).table_valued("value")
        return column.in_(select(values.c.value))


def label_ids(db_session: OrmSession, term: Term) -> IdSet:
    """The labels (titles, sites, communes…) in which ``term`` appears, read once per search:
    the words containing it, then their labels (a label found through two of its words comes
    twice, which ``IN`` does not mind)."""
    words = SearchWord.__table__.c
    pairs = SearchLabelWord.__table__.c
    matching = select(words.id).where(words.word.like(term.like_pattern, escape="\\"))
    return IdSet(db_session, select(pairs.label_id).where(pairs.word_id.in_(matching)))


def term_condition(
    spec: ListingSpec, term: Term, labels: IdSet | None, *, indexed: bool
) -> ColumnElement[bool]:
    """Rows showing ``term``: in one of their labels, or as numbers of their code.

    ``indexed=True``: through the label ids, whose indexes gather the matching rows of a rare
    word; ``indexed=False``: ``search_text LIKE``, checked row by row while an index gives the
    order (a frequent word fills a page after a few rows). Both find the same rows.
    """
    conditions = []
    if indexed and labels:
        conditions = [labels.contains(c) for c in spec.label_columns]
    elif not indexed:
        conditions = [spec.model.search_text.like(term.like_pattern, escape="\\")]
    if term.numbers:
        codes = code_match(spec.code_columns, term.numbers)
        if codes is not None:
            conditions.append(codes)
    return or_(*conditions) if conditions else false()


@dataclass(frozen=True)
class Search:
    condition: ColumnElement[bool] | None
    # Rows matching the only word, over every establishment, when it was counted (at most
    # DRIVER_LIMIT + 1): the list's total when nothing else narrows it.
    single_count: int | None = None
    # A rare word picked the candidate rows: they, not an index of the table, lead the query.
    driven: bool = False


def _count_up_to(db_session: OrmSession, stmt: Select, limit: int) -> int:
    """Rows of ``stmt``, counted up to ``limit`` + 1 (a frequent word stops there)."""
    return db_session.scalar(select(func.count()).select_from(stmt.limit(limit + 1).subquery()))


def search(
    db_session: OrmSession,
    spec: ListingSpec,
    terms: tuple[Term, ...],
    *,
    everywhere: bool = False,
    filtered: bool = False,
) -> Search:
    """Every word must be found. The rarest word, if rare enough, picks the candidate rows.

    Over every establishment (``everywhere``), when two words — or a word and a named filter —
    must match together, a word found in up to WIDE_LIMIT rows still picks them: reading those
    is cheaper than walking the table in search of a rare combination.
    """
    if not terms:
        return Search(None)
    matched = []
    for term in terms:
        labels = label_ids(db_session, term)
        if not labels and not term.numbers:
            return Search(false(), 0)
        matched.append((term, labels))
    checks = [term_condition(spec, t, labels, indexed=False) for t, labels in matched]
    candidates = [
        select(spec.pk).where(term_condition(spec, term, labels, indexed=True))
        for term, labels in matched
    ]
    limit = DRIVER_LIMIT
    counts = [_count_up_to(db_session, c, limit) for c in candidates]
    if everywhere and (filtered or len(terms) > 1) and min(counts) > limit:
        # Fewest labels first: likely the fewest rows, and a cap for counting the others.
        limit = WIDE_LIMIT
        cap = limit
        for i in sorted(range(len(matched)), key=lambda i: len(matched[i][1] or ())):
            counts[i] = _count_up_to(db_session, candidates[i], cap)
            cap = min(cap, counts[i])
    fewest = min(range(len(counts)), key=counts.__getitem__)
    if counts[fewest] == 0:
        return Search(false(), 0)
    driven = counts[fewest] <= limit
    if driven:
        checks.insert(0, IdSet(db_session, candidates[fewest]).contains(spec.pk, lookup=True))
    return Search(and_(*checks), counts[0] if len(counts) == 1 else None, driven)


def siret_condition(db_session: OrmSession, spec: ListingSpec, siret: str) -> ColumnElement[bool]:
    """A 14-digit SIRET: that establishment; 9 digits (SIREN): every establishment of it."""
    ids = db_session.scalars(
        select(Establishment.id).where(Establishment.siret.startswith(siret, autoescape=True))
    ).all()
    column = spec.model.establishment_id
    if not ids:
        return false()
    return column == ids[0] if len(ids) == 1 else column.in_(ids)


def hide(condition: ColumnElement[bool], spec: ListingSpec, dialect: str) -> ColumnElement[bool]:
    """The same condition, its list columns out of the SQLite planner's sight (unary ``+``).

    Without statistics SQLite takes ``active = 1 AND end_date >= ?`` for a handful of rows and
    reads half the table through that index; hidden, the condition is checked row by row
    while the sort index (or the candidate ids) leads. PostgreSQL plans from statistics and
    gets the condition unchanged.
    """
    if dialect != "sqlite":
        return condition
    table = spec.model.__table__

    def plus(element):
        if isinstance(element, Column) and element.table is table:
            return UnaryExpression(element, operator=operators.custom_op("+"), type_=element.type)
        return None

    return visitors.replacement_traverse(condition, {}, plus)


@dataclass(frozen=True)
class Filtered:
    """The listed rows, written twice: ``seek`` lets the named filter's indexes gather them
    (few rows), ``walk`` checks it row by row along the sort index (many rows)."""

    seek: Select
    walk: Select
    known_total: int | None = None
    driven: bool = False
    dialect: str = "sqlite"
    spec: ListingSpec | None = None


def filtered(
    db_session: OrmSession, state: ListState, base: Select, today: date, *, scoped: bool
) -> Filtered:
    """``base`` (already scoped) narrowed by the SIRET filter, the named filter and the words,
    with the number of rows when the search already counted them."""
    dialect = db_session.get_bind().dialect.name
    stmt = base
    if state.siret:
        stmt = stmt.where(siret_condition(db_session, state.spec, state.siret))
    everywhere = not scoped and not state.siret
    found = search(
        db_session, state.spec, state.terms, everywhere=everywhere, filtered=bool(state.named)
    )
    if found.condition is not None:
        stmt = stmt.where(found.condition)
    seek = walk = stmt
    if state.named:
        condition = state.named.condition(today)
        seek = stmt.where(condition)
        walk = stmt.where(hide(condition, state.spec, dialect))
    narrowed = bool(scoped or state.siret or state.named)
    known = None if narrowed else found.single_count
    return Filtered(seek, walk, known, found.driven, dialect, state.spec)
