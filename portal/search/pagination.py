"""Keyset pagination: a page is read from where the previous one ended, never by OFFSET.

The position in the URL is a row id (``apres=<id>``: the rows after it, ``avant=<id>``: the
rows before it, ``page=derniere``: the last rows); its sort values are read back from the row,
and the page is the next rows in index order. The first, a middle and the last page cost the
same. "Voir X à Y sur Z" counts the rows before the page (exactly for one establishment; up to
``COUNT_LIMIT`` over every establishment, where counting a million rows on each keystroke would
cost more than the page itself).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, tuple_
from sqlalchemy.orm import Session as OrmSession

from .query import Filtered, ListState, Ordering, filtered, hide, ordering

COUNT_LIMIT = 1000


@dataclass(frozen=True)
class Cursor:
    """The sort values of the row a page starts after (or ends before)."""

    partition: int
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Count:
    value: int
    # True when there are more than ``value`` (= COUNT_LIMIT) rows: counting stopped there.
    more: bool = False


@dataclass
class Page:
    items: list
    size: int
    total: Count
    first: int | None  # position of items[0], from 1; None when beyond COUNT_LIMIT
    has_prev: bool
    has_next: bool

    @property
    def last(self) -> int | None:
        return None if self.first is None else self.first + len(self.items) - 1

    @property
    def first_id(self) -> int:
        return self.items[0].id

    @property
    def last_id(self) -> int:
        return self.items[-1].id


def _partition_case(order: Ordering) -> ColumnElement[int]:
    assert order.partitions is not None
    return case(*[(p, i) for i, p in enumerate(order.partitions)], else_=len(order.partitions))


def read_cursor(db_session: OrmSession, base: Select, order: Ordering, pk, id_: int):
    """The cursor of row ``id_`` within ``base`` (the scoped rows); None if it is not there."""
    partition = _partition_case(order) if order.partitions else None
    columns = [partition] if partition is not None else []
    stmt = base.with_only_columns(*columns, *order.columns).where(pk == id_)
    row = db_session.execute(stmt).first()
    if row is None:
        return None
    if partition is None:
        return Cursor(0, tuple(row))
    return Cursor(row[0], tuple(row[1:]))


def _partitions_in_order(order: Ordering, forward: bool) -> list[int]:
    count = len(order.partitions) if order.partitions else 1
    indexes = list(range(count))
    if order.descending:
        indexes.reverse()
    if not forward:
        indexes.reverse()
    return indexes


def _ascending(order: Ordering, forward: bool) -> bool:
    return order.descending != forward


def _beyond(order: Ordering, cursor: Cursor, forward: bool) -> ColumnElement[bool]:
    """Rows after the cursor within its partition (before it when going backward)."""
    keys = tuple_(*order.columns)
    values = tuple_(*cursor.values)
    return keys > values if _ascending(order, forward) else keys < values


def fetch(
    db_session: OrmSession,
    stmt: Select,
    order: Ordering,
    limit: int,
    cursor: Cursor | None = None,
    forward: bool = True,
    probe: tuple[Select, tuple[ColumnElement[bool], ...]] | None = None,
) -> list:
    """Up to ``limit`` rows after ``cursor`` (or from the start), in order; backward: the rows
    before it, nearest first. One indexed range scan per partition.

    ``probe``: a statement and partitions its indexes can answer, asked first whether a
    partition has any row at all — walking an empty one would read the whole sort index.
    """
    rows: list = []
    ascending = _ascending(order, forward)
    sort = [c.asc() if ascending else c.desc() for c in order.columns]
    indexes = _partitions_in_order(order, forward)
    if cursor is not None:
        indexes = indexes[indexes.index(cursor.partition) :]
    for index in indexes:
        conditions = []
        if order.partitions:
            conditions.append(order.partitions[index])
        if cursor is not None and index == cursor.partition:
            conditions.append(_beyond(order, cursor, forward))
        elif probe is not None:
            probe_stmt, probe_partitions = probe
            if not db_session.scalar(select(probe_stmt.where(probe_partitions[index]).exists())):
                continue
        query = stmt.where(*conditions).order_by(*sort).limit(limit - len(rows))
        rows.extend(db_session.scalars(query))
        if len(rows) >= limit:
            break
    return rows


def _before(order: Ordering, cursor: Cursor) -> ColumnElement[bool]:
    """Rows strictly before the cursor in the list's order."""
    indexes = _partitions_in_order(order, forward=True)
    earlier = indexes[: indexes.index(cursor.partition)]
    within = _beyond(order, cursor, forward=False)
    if not order.partitions:
        return within
    return or_(
        *(order.partitions[i] for i in earlier), and_(order.partitions[cursor.partition], within)
    )


def count(db_session: OrmSession, stmt: Select, pk, exact: bool) -> Count:
    """The number of rows of ``stmt``; beyond COUNT_LIMIT unless ``exact``."""
    if exact:
        return Count(db_session.scalar(stmt.with_only_columns(func.count(pk)).order_by(None)))
    limited = stmt.with_only_columns(pk).order_by(None).limit(COUNT_LIMIT + 1).subquery()
    return _known(db_session.scalar(select(func.count()).select_from(limited)))


def _known(value: int) -> Count:
    """A number of rows as the lists show it: up to COUNT_LIMIT, then "more than"."""
    return Count(COUNT_LIMIT, True) if value > COUNT_LIMIT else Count(value)


# Up to this many rows, a page is read by gathering them all through the filter's indexes and
# sorting; beyond, by walking the sort index and checking each row (a page needs few rows).
FEW_ROWS = COUNT_LIMIT


@dataclass
class _Query:
    db_session: OrmSession
    base: Select  # the scoped rows: where cursors are read
    rows: Filtered  # the listed rows
    order: Ordering
    pk: Any
    size: int
    exact: bool
    _total: Count | None = None

    @property
    def counted(self) -> Select:
        # Candidate ids lead a driven search; otherwise the filter's indexes serve counting.
        return self.rows.walk if self.rows.driven else self.rows.seek

    def total(self) -> Count:
        if self._total is None:
            if self.rows.known_total is not None:
                self._total = _known(self.rows.known_total)
            else:
                self._total = count(self.db_session, self.counted, self.pk, self.exact)
        return self._total

    def cursor(self, id_: int) -> Cursor | None:
        return read_cursor(self.db_session, self.base, self.order, self.pk, id_)

    def fetch(self, limit: int, cursor: Cursor | None = None, forward: bool = True) -> list:
        total = self.total()
        few = not total.more and total.value <= FEW_ROWS
        if few and not self.rows.driven:
            return fetch(self.db_session, self.rows.seek, self.order, limit, cursor, forward)
        order, probe = self.order, None
        if order.partitions:
            hidden = tuple(hide_from(p, self.rows) for p in order.partitions)
            order = replace(order, partitions=hidden)
            probe = (self.counted, self.order.partitions)
        return fetch(self.db_session, self.rows.walk, order, limit, cursor, forward, probe)

    def before(self, cursor: Cursor) -> Count:
        return count(
            self.db_session, self.counted.where(_before(self.order, cursor)), self.pk, self.exact
        )


def hide_from(condition: ColumnElement[bool], rows: Filtered) -> ColumnElement[bool]:
    return hide(condition, rows.spec, rows.dialect) if rows.spec else condition


def paginate(
    db_session: OrmSession,
    base: Select,
    rows: Filtered | Select,
    order: Ordering,
    pk,
    size: int,
    *,
    after: int | None = None,
    before: int | None = None,
    last: bool = False,
    exact: bool = True,
) -> Page:
    """Read one page of ``rows`` (``base`` narrowed by filters) at the requested position.

    ``exact``: count every row (one establishment) rather than up to COUNT_LIMIT.
    """
    if not isinstance(rows, Filtered):
        rows = Filtered(rows, rows)
    q = _Query(db_session, base, rows, order, pk, size, exact)
    if after is not None or before is not None:
        cursor = q.cursor(after if after is not None else before)
        if cursor is None:  # the row is gone (or is not this establishment's): start over
            return _first(q)
        if before is not None:
            found = q.fetch(size + 1, cursor, forward=False)
            if len(found) <= size:  # back at the start: show a full first page
                return _first(q)
            return _page_at(q, found[:size][::-1])
        found = q.fetch(size + 1, cursor)
        if not found:  # past the end (rows were deactivated or deleted): show the last page
            return _last(q)
        return _page_at(q, found[:size], more=len(found) > size)
    return _last(q) if last else _first(q)


def _first(q: _Query) -> Page:
    found = q.fetch(q.size + 1)
    return Page(
        found[: q.size], q.size, q.total(), 1 if found else None, False, len(found) > q.size
    )


def _last(q: _Query) -> Page:
    total = q.total()
    if total.more:  # somewhere beyond COUNT_LIMIT: the last full page, position unknown
        found = q.fetch(q.size, forward=False)[::-1]
        return Page(found, q.size, total, None, True, False)
    # The same page boundaries as when paging forward from the first page.
    tail = total.value % q.size or q.size
    found = q.fetch(tail, forward=False)[::-1]
    first = total.value - len(found) + 1 if found else None
    return Page(found, q.size, total, first, total.value > len(found), False)


def _page_at(q: _Query, found: Sequence, more: bool | None = None) -> Page:
    """A page that does not start the list: its position is the number of rows before it."""
    first_cursor = q.cursor(found[0].id)
    assert first_cursor is not None
    total = q.total()
    before = q.before(first_cursor)
    first = None if before.more else before.value + 1
    if more is None:
        if first is not None and not total.more:
            more = first + len(found) - 1 < total.value
        else:
            last_cursor = q.cursor(found[-1].id)
            more = bool(last_cursor and q.fetch(1, last_cursor))
    return Page(list(found), q.size, total, first, first is None or first > 1, more)


def ordered(stmt: Select, order: Ordering) -> Select:
    """Every row of ``stmt`` in the list's order, for an export (no keyset needed)."""
    keys = [_partition_case(order)] if order.partitions else []
    keys += list(order.columns)
    return stmt.order_by(*[k.desc() if order.descending else k.asc() for k in keys])


def _number(n: int) -> str:
    """10 000 with a narrow no-break space, as the French write it."""
    return f"{n:,}".replace(",", "\u202f")


def count_text(total: Count) -> str:
    """The heading's count: « 12 résultats », « plus de 1 000 résultats »."""
    if total.more:
        return f"plus de {_number(total.value)} résultats"
    return f"{_number(total.value)} résultats"


def status_text(page: Page) -> str:
    """The pager's « Voir 11 à 20 sur 35 résultats » (the procedure's wording)."""
    if not page.items:
        return "Voir 0 sur 0 du 0 résultats"
    of = f"plus de {_number(page.total.value)}" if page.total.more else _number(page.total.value)
    if page.first is None:
        return f"Voir {_number(len(page.items))} résultats sur {of}"
    return f"Voir {_number(page.first)} à {_number(page.last)} sur {of} résultats"


def read_page(
    db_session: OrmSession, state: ListState, base: Select, today: date, *, everywhere: bool
) -> Page:
    """The page a list state asks for: ``base`` holds the rows the user may see (scoped, or
    every establishment's for the Carif-Oref, where counting stops at COUNT_LIMIT)."""
    rows = filtered(db_session, state, base, today, scoped=not everywhere)
    return paginate(
        db_session,
        base,
        rows,
        ordering(state, today),
        state.spec.pk,
        state.taille,
        after=state.apres,
        before=state.avant,
        last=state.last,
        exact=not everywhere or bool(state.siret),
    )


def every_row(
    db_session: OrmSession, state: ListState, base: Select, today: date, *, everywhere: bool
) -> Iterator[Any]:
    """Every row of the list in its order, whatever the page: streamed for an export."""
    rows = filtered(db_session, state, base, today, scoped=not everywhere)
    table = state.spec.model.__table__
    stmt = rows.walk if rows.driven else rows.seek
    stmt = ordered(stmt, ordering(state, today)).with_only_columns(*table.columns)
    yield from db_session.execute(stmt.execution_options(yield_per=1000))
