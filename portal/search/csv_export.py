"""CSV for Excel and LibreOffice: UTF-8 with BOM, ``;``, CRLF, French dates, no formulas.

A cell that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) gets a leading apostrophe, so a title typed as ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from ..models import ActionStatus
from .models import NO_END, NO_START

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def neutralise(text: str) -> str:
    """Prefix a would-be formula with an apostrophe (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    """One cell as text: dates dd/mm/yyyy, numbers as digits, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Yield the file in pieces (BOM and header first), a few hundred rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(h) for h in header])
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell(v) for v in row])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def session_cells(row: Any, today: date, with_siret: bool) -> list[Any]:
    """A session list row as the list shows it (see templates/search/partials)."""
    cells = [row.siret] if with_siret else []
    cells += [
        f"{row.formation_id}-{row.action_id}-{row.session_id}",
        row.title,
        row.site_name,
        row.commune,
        None if row.start_date == NO_START else row.start_date,
        None if row.end_date == NO_END else row.end_date,
        row.dispositif_code or None,
        "Actif" if row.active and row.end_date >= today else "Inactif",
    ]
    return cells


def action_cells(row: Any, today: date, with_siret: bool) -> list[Any]:
    """An action list row as the list shows it."""
    cells = [row.siret] if with_siret else []
    cells += [
        f"{row.formation_id}-{row.action_id}",
        row.title,
        row.site_name,
        ActionStatus.LABELS.get(row.status, row.status),
        "Publique" if row.has_programme else "Offre de l’organisme",
    ]
    return cells
