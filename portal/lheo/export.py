"""Which published sessions an LHEO export holds, read as a stream.

The filters come from a query string (``programme``, ``lot``, ``departement``); anything else in
it is refused, so that a typo never silently exports the whole offer. The rows come ordered by
formation, action and session — the grouping the writer needs — from a query executed with
``yield_per``, which makes SQLAlchemy stream the result (a server-side cursor on PostgreSQL,
incremental fetches on SQLite): memory stays flat whatever the size of the offer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Text, cast, select

from ..extensions import db
from ..models import Lot, Programme, PublishedSession

PARAMETERS = ("programme", "lot", "departement")
BATCH = 500
_ID = re.compile(r"[0-9]{1,9}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,29}")
_DEPARTMENT = re.compile(r"(?:0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|97[1-6])")


class FilterError(ValueError):
    """A French message and the HTTP status it deserves (400 malformed, 404 unknown)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ExportFilters:
    programme: Programme | None = None
    lot: Lot | None = None
    department: str | None = None
    conditions: tuple[ColumnElement[bool], ...] = field(default=(), compare=False)

    def description(self) -> dict[str, str]:
        """The filters in words, for the document's root extras and the page."""
        result = {}
        if self.programme is not None:
            result["programme"] = f"{self.programme.code} - {self.programme.name}"
        if self.lot is not None:
            result["lot"] = self.lot.label
        if self.department is not None:
            result["departement"] = self.department
        return result

    def filename(self, today: date) -> str:
        parts = ["lheo-offre"]
        if self.programme is not None:
            parts.append(f"programme-{self.programme.code}")
        if self.lot is not None:
            parts.append(f"lot-{self.lot.code}")
        if self.department is not None:
            parts.append(f"departement-{self.department}")
        parts.append(today.strftime("%Y%m%d"))
        return re.sub(r"[^A-Za-z0-9_.-]", "_", "-".join(parts)) + ".xml"


def _single(args: Mapping[str, list[str]], name: str) -> str | None:
    values = args.get(name) or []
    if len(values) > 1:
        raise FilterError(f"Le paramètre « {name} » est donné plusieurs fois.")
    value = values[0].strip() if values else ""
    return value or None


def _lookup(model: type, value: str, label: str):
    if _ID.fullmatch(value):
        record = db.session.get(model, int(value))
    elif _CODE.fullmatch(value):
        record = db.session.scalars(select(model).where(model.code == value)).first()
    else:
        raise FilterError(
            f"{label.capitalize()} « {value[:40]} » invalide : donnez son numéro ou son code."
        )
    if record is None:
        raise FilterError(f"{label.capitalize()} « {value} » inconnu.", status=404)
    return record


def parse_filters(args: Mapping[str, list[str]]) -> ExportFilters:
    """Filters from query-string values (name → list of values, as ``request.args.lists()``).

    Programme and lot are given by number or code; the département by its code (44, 2A, 974).
    Raises FilterError: 400 for an unknown parameter or a malformed value, 404 for a programme
    or lot that does not exist.
    """
    unknown = sorted(set(args) - set(PARAMETERS))
    if unknown:
        raise FilterError(
            f"Paramètre inconnu : {', '.join(name[:40] for name in unknown)}. "
            f"Paramètres possibles : {', '.join(PARAMETERS)}."
        )
    conditions: list[ColumnElement[bool]] = []
    programme = lot = department = None
    if value := _single(args, "programme"):
        programme = _lookup(Programme, value, "programme")
        conditions.append(PublishedSession.programme_id == programme.id)
    if value := _single(args, "lot"):
        lot = _lookup(Lot, value, "lot")
        conditions.append(PublishedSession.lot_id == lot.id)
    if value := _single(args, "departement"):
        department = value.upper()
        if not _DEPARTMENT.fullmatch(department):
            raise FilterError(
                f"Département « {value[:10]} » invalide : donnez son code (44, 2A, 974…)."
            )
        conditions.append(PublishedSession.department == department)
    return ExportFilters(programme, lot, department, tuple(conditions))


def published_rows(filters: ExportFilters | None = None, *, batch: int = BATCH) -> Iterator[dict]:
    """The ``data`` of the matching published sessions, by formation, action and session.

    Two Core queries on the session's connection (the ORM adds nothing here but per-row cost):
    the ordered keys are streamed (``yield_per``), so that the database sorts only them and
    never holds the rows with their JSON in its sorter; each batch of keys is then read by
    primary key, the JSON as text, decoded one row at a time as it is yielded (a batch of
    decoded rows alive at once makes Python's garbage collector rescan them over and over).
    A row unpublished between the two reads is skipped.
    """
    table = PublishedSession.__table__
    keys = (
        select(table.c.session_id)
        .where(table.c.active.is_(True), *(filters.conditions if filters else ()))
        .order_by(table.c.formation_id, table.c.action_id, table.c.session_id)
        .execution_options(yield_per=batch)
    )
    connection = db.session.connection()
    for ids in connection.execute(keys).scalars().partitions(batch):
        rows = connection.execute(
            select(table.c.session_id, cast(table.c.data, Text)).where(table.c.session_id.in_(ids))
        )
        found = dict(rows.all())
        for session_id in ids:
            text = found.get(session_id)
            if text is not None:
                yield json.loads(text)
