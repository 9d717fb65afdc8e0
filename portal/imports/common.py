"""What every importer shares: the plan (preview) it returns, row-numbered issues, and readers
for the file formats (CSV in UTF-8 or Windows-1252, XLSX) that normalise cell values.

An importer is four steps over plain data — parse → validate → plan → apply — and never reads
the request: views, CLI commands and benchmarks call the same functions.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import math
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlalchemy import func, select, text

from ..extensions import db

# Lists kept in a run's report (the counts are always complete).
REPORT_CHANGES_LIMIT = 1000
REPORT_ISSUES_LIMIT = 500
# A sheet longer than this is refused rather than read into memory.
MAX_ROWS = 500_000

ACTIONS = ("create", "update", "archive", "replace", "unchanged")
ACTION_LABELS = {
    "create": "Créations",
    "update": "Mises à jour",
    "archive": "Archivages",
    "replace": "Remplacements",
    "unchanged": "Sans changement",
}
ENTITY_LABELS = {  # in the order the previews and reports list them
    "programme": "Programmes",
    "lot": "Lots",
    "organisation": "Organismes",
    "establishment": "Établissements",
    "certification": "Codes Certif Info",
    "formation": "Formations (code Certif Info remplacé)",
    "formacode": "Formacodes",
}


class ImportFileError(Exception):
    """The file cannot be read at all (wrong format, encoding, empty): one French message."""


NOT_A_WORKBOOK = "Le fichier n'est pas un classeur Excel (XLSX) valide."
DAMAGED_WORKBOOK = (
    "Le fichier n'est pas un classeur Excel (XLSX) valide : il est endommagé ou tronqué."
)
# What reading a damaged archive raises: a bad checksum or header (BadZipFile), corrupt or cut
# compressed data (zlib.error, EOFError), an encrypted member (RuntimeError), an unknown
# compression method (NotImplementedError).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


@dataclass(frozen=True)
class Issue:
    """An error (blocks the import) or a warning (shown only), located where possible."""

    message: str
    row: int | None = None
    sheet: str | None = None
    column: str | None = None

    @property
    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"Feuille {self.sheet}")
        if self.row is not None:
            parts.append(f"ligne {self.row}")
        if self.column:
            parts.append(f"colonne {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where} : {self.message}" if self.where else self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class FieldChange(NamedTuple):
    label: str
    before: str | None
    after: str | None


@dataclass
class Change:
    """One record the import creates, updates, archives, replaces or leaves unchanged."""

    action: str
    entity: str
    key: str
    label: str = ""
    row: int | None = None
    sheet: str | None = None
    fields: list[FieldChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.action,
            "entity": self.entity,
            "key": self.key,
            "label": self.label,
        }
        if self.row is not None:
            data["row"] = self.row
        if self.sheet:
            data["sheet"] = self.sheet
        if self.fields:
            data["fields"] = [[f.label, f.before, f.after] for f in self.fields]
        return data


@dataclass
class Plan:
    """The preview of an import: every change with its row, the errors, the warnings.

    ``payload`` holds what the importer's ``apply`` needs (records loaded while planning); a
    plan is applied in the session that computed it, right after, never rebuilt from a client.
    """

    kind: str
    changes: list[Change] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]

    @property
    def has_changes(self) -> bool:
        return any(c.action != "unchanged" for c in self.changes)

    def counts(self) -> dict[str, dict[str, int]]:
        """{entity: {action: n}} for every entity the plan touches, actions in a fixed order."""
        counter = Counter((c.entity, c.action) for c in self.changes)
        result: dict[str, dict[str, int]] = {}
        for entity in dict.fromkeys(c.entity for c in self.changes):
            result[entity] = {a: counter[entity, a] for a in ACTIONS if counter[entity, a]}
        return result

    def totals(self) -> dict[str, int]:
        counter = Counter(c.action for c in self.changes)
        return {a: counter[a] for a in ACTIONS}

    def by_entity(self) -> list[tuple[str, list[tuple[str, list[Change]]]]]:
        """Changes grouped for the preview: [(entity, [(action, changes)])]."""
        groups: dict[str, dict[str, list[Change]]] = {}
        for change in self.changes:
            groups.setdefault(change.entity, {}).setdefault(change.action, []).append(change)
        return [
            (entity, [(a, actions[a]) for a in ACTIONS if a in actions])
            for entity, actions in groups.items()
        ]

    def digest(self) -> str:
        """A fingerprint of what applying would change: the commit refuses a plan that no
        longer matches the one previewed."""
        data = [c.as_dict() for c in self.pending]
        blob = json.dumps([data, self.options], sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def report(self) -> dict[str, Any]:
        """The JSON kept in ImportRun.report: complete counts, capped lists."""
        pending = self.pending
        return {
            "kind": self.kind,
            "options": self.options,
            "totals": self.totals(),
            "counts": self.counts(),
            "errors": [e.as_dict() for e in self.errors[:REPORT_ISSUES_LIMIT]],
            "error_count": len(self.errors),
            "warnings": [w.as_dict() for w in self.warnings[:REPORT_ISSUES_LIMIT]],
            "warning_count": len(self.warnings),
            "changes": [c.as_dict() for c in pending[:REPORT_CHANGES_LIMIT]],
            "change_count": len(pending),
        }

    def summary(self) -> str:
        """One French sentence: "12 créations, 3 mises à jour, 40 sans changement"."""
        totals = self.totals()
        words = {
            "create": ("création", "créations"),
            "update": ("mise à jour", "mises à jour"),
            "archive": ("archivage", "archivages"),
            "replace": ("remplacement", "remplacements"),
            "unchanged": ("sans changement", "sans changement"),
        }
        parts = [f"{n} {words[a][0] if n == 1 else words[a][1]}" for a, n in totals.items() if n]
        return ", ".join(parts) if parts else "aucun changement"


# Reading ------------------------------------------------------------------------------------


def read_text(source: Path | str | bytes | IO) -> str:
    """Decode a text file: UTF-8 (with or without BOM), else Windows-1252 as Excel saves it."""
    if isinstance(source, str | Path):
        data = Path(source).read_bytes()
    elif isinstance(source, bytes):
        data = source
    else:
        data = source.read()
        if isinstance(data, str):
            return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError(
            "Le fichier n'est pas un texte lisible (encodage attendu : UTF-8 ou Windows-1252)."
        ) from None


def csv_rows(text: str, delimiter: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, stripped fields); the delimiter is ``;`` or ``,`` (the one the first
    line uses most) unless given."""
    if "\x00" in text:
        raise ImportFileError("Le fichier n'est pas un fichier texte (CSV) valide.")
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = "," if first.count(",") > first.count(";") else ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for fields in reader:
            if reader.line_num > MAX_ROWS:
                raise ImportFileError(f"Le fichier dépasse {MAX_ROWS} lignes.")
            yield reader.line_num, [f.strip() for f in fields]
    except csv.Error as error:
        raise ImportFileError(
            f"Ligne {reader.line_num} : le fichier CSV est mal formé ({error})."
        ) from None


def normalise_header(value: Any) -> str:
    """ "Code programme", "CODE_PROGRAMME" and "code-programme" all give "code_programme"."""
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def cell_value(value: Any) -> Any:
    """One cell as the importers expect it: stripped text, int for whole numbers, date for
    dates, None for blanks."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    return value


@dataclass
class Table:
    """A sheet (XLSX) or a CSV file: normalised headers and numbered data rows."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number in the file, cells aligned on headers)
    header_row: int = 1

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, cells in self.rows:
            yield number, dict(zip(self.headers, cells, strict=False))


def _table(name: str, rows: Iterable[tuple[int, Iterable[Any]]]) -> Table:
    """Build a table from raw rows: the first non-empty row is the header; blank rows are
    skipped (spreadsheets often end with some)."""
    headers: list[str] | None = None
    header_row = 1
    data: list[tuple[int, list[Any]]] = []
    for number, raw in rows:
        cells = [cell_value(v) for v in raw]
        if not any(c is not None for c in cells):
            continue
        if headers is None:
            headers = [normalise_header(c) for c in cells]
            header_row = number
            continue
        if len(cells) < len(headers):
            cells += [None] * (len(headers) - len(cells))
        data.append((number, cells))
    return Table(name, headers or [], data, header_row)


def read_csv_table(name: str, source: Path | str | bytes | IO) -> Table:
    return _table(name, csv_rows(read_text(source)))


def read_xlsx_tables(source: Path | str | IO[bytes]) -> list[Table]:
    """Every sheet of a workbook.

    Standard workbooks (what Excel, LibreOffice and openpyxl write) are streamed with lxml,
    several times faster than openpyxl's cell objects on 30,000-row files; anything unusual
    (strict OOXML, missing parts) is read by openpyxl in read-only mode instead.
    """
    try:
        return _FastXlsxReader(source).tables()
    except _Unsupported:
        if hasattr(source, "seek"):
            source.seek(0)
        return _read_xlsx_openpyxl(source)


def _read_xlsx_openpyxl(source: Path | str | IO[bytes]) -> list[Table]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    tables = []
    # openpyxl warns about workbook parts it does not read (data validation extensions,
    # missing default styles of files written by other tools): they do not affect values.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
        try:
            workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
        except (*_ZIP_ERRORS, InvalidFileException, KeyError, OSError, ValueError, TypeError):
            # TypeError: openpyxl's descriptors refuse a part with a missing attribute.
            raise ImportFileError(NOT_A_WORKBOOK) from None
        try:
            for sheet in workbook.worksheets:
                # Dimensions written by some tools are wrong; read every row that is there.
                sheet.reset_dimensions()
                rows = []
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    if number > MAX_ROWS:
                        raise ImportFileError(f"Feuille {sheet.title} : plus de {MAX_ROWS} lignes.")
                    rows.append((number, values))
                tables.append(_table(sheet.title, rows))
        except (*_ZIP_ERRORS, OSError, KeyError, IndexError, ValueError, TypeError, AttributeError):
            # openpyxl parses the sheets lazily: a damaged part only fails while it is read.
            raise ImportFileError(DAMAGED_WORKBOOK) from None
        finally:
            workbook.close()
    return tables


class _Unsupported(Exception):
    """The workbook is not in the layout the fast reader knows: let openpyxl read it."""


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_V, _IS, _T, _C = f"{_MAIN}v", f"{_MAIN}is", f"{_MAIN}t", f"{_MAIN}c"
# Uncompressed size a 20 MB upload may expand to (a zip bomb is refused, not inflated).
MAX_XLSX_EXPANDED = 400 * 1024 * 1024


class _FastXlsxReader:
    """Stream the sheets' XML with lxml: shared and inline strings, numbers, booleans, and
    dates (numbers in a date format, as openpyxl decides it)."""

    def __init__(self, source: Path | str | IO[bytes]):
        try:
            self.archive = zipfile.ZipFile(source)
        except (*_ZIP_ERRORS, OSError, ValueError):
            raise ImportFileError(NOT_A_WORKBOOK) from None
        if sum(i.file_size for i in self.archive.infolist()) > MAX_XLSX_EXPANDED:
            self.archive.close()
            raise ImportFileError("Le classeur est trop volumineux une fois décompressé.")

    def _xml(self, name: str):
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            with self.archive.open(name) as fh:
                return etree.parse(fh, parser).getroot()
        except KeyError:
            raise _Unsupported(name) from None
        except (etree.XMLSyntaxError, OSError):
            # lxml raises OSError, not a syntax error, for bytes invalid in the encoding.
            raise ImportFileError(NOT_A_WORKBOOK) from None
        except _ZIP_ERRORS:
            raise ImportFileError(DAMAGED_WORKBOOK) from None

    def _iter(self, name: str, tag: str):
        from lxml import etree

        try:
            with self.archive.open(name) as fh:
                for _, element in etree.iterparse(
                    fh, events=("end",), tag=tag, resolve_entities=False, no_network=True
                ):
                    yield element
                    element.clear(keep_tail=False)
                    # Drop the rows already read: the tree stays small on 30,000-row sheets.
                    while element.getprevious() is not None:
                        del element.getparent()[0]
        except KeyError:
            raise _Unsupported(name) from None
        except (etree.XMLSyntaxError, OSError):
            # lxml raises OSError, not a syntax error, for bytes invalid in the encoding.
            raise ImportFileError(NOT_A_WORKBOOK) from None
        except _ZIP_ERRORS:
            raise ImportFileError(DAMAGED_WORKBOOK) from None

    def tables(self) -> list[Table]:
        """Every worksheet; a part that is not what Excel writes is a damaged workbook."""
        try:
            return self._tables()
        except (ValueError, TypeError, IndexError, OverflowError):
            # A workbook attribute that should be a number (a style or format index) is not.
            raise ImportFileError(DAMAGED_WORKBOOK) from None

    def _tables(self) -> list[Table]:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        with self.archive:
            workbook = self._xml("xl/workbook.xml")
            if workbook.tag != f"{_MAIN}workbook":
                raise _Unsupported("namespace")
            properties = workbook.find(f"{_MAIN}workbookPr")
            date1904 = properties is not None and properties.get("date1904") in ("1", "true")
            self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
            targets = {}
            for rel in self._xml("xl/_rels/workbook.xml.rels").iter(f"{_PKG_RELS}Relationship"):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                targets[rel.get("Id")] = (rel.get("Type", ""), path)
            self.shared = self._shared_strings(targets)
            self.date_styles = self._date_styles(targets)
            tables = []
            for sheet in workbook.iter(f"{_MAIN}sheet"):
                kind, path = targets.get(sheet.get(f"{_DOC_RELS}id"), ("", ""))
                if not kind.endswith("/worksheet"):
                    continue  # chartsheets, dialog sheets
                tables.append(_table(sheet.get("name", ""), self._rows(sheet.get("name"), path)))
            return tables

    def _shared_strings(self, targets) -> list[str]:
        path = next((p for k, p in targets.values() if k.endswith("/sharedStrings")), None)
        if path is None:
            return []
        strings = []
        for item in self._iter(path, f"{_MAIN}si"):
            strings.append(_string_item(item))
        return strings

    def _date_styles(self, targets) -> set[int]:
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        path = next((p for k, p in targets.values() if k.endswith("/styles")), None)
        if path is None:
            return set()
        styles = self._xml(path)
        custom = {
            int(f.get("numFmtId")): f.get("formatCode", "")
            for f in styles.iterfind(f"{_MAIN}numFmts/{_MAIN}numFmt")
        }
        result = set()
        for index, xf in enumerate(styles.iterfind(f"{_MAIN}cellXfs/{_MAIN}xf")):
            number_format = int(xf.get("numFmtId", "0"))
            code = custom.get(number_format, BUILTIN_FORMATS.get(number_format, "General"))
            if is_date_format(code):
                result.add(index)
        return result

    def _rows(self, title: str, path: str):
        row_number = 0
        for row in self._iter(path, f"{_MAIN}row"):
            try:
                row_number = int(row.get("r") or row_number + 1)
            except ValueError:
                raise ImportFileError(
                    f"Feuille {title}, après la ligne {row_number} : numéro de ligne illisible, "
                    f"le classeur est endommagé. {RESAVE}"
                ) from None
            if row_number > MAX_ROWS:
                raise ImportFileError(f"Feuille {title} : plus de {MAX_ROWS} lignes.")
            values: list[Any] = []
            for cell in row.iterfind(_C):
                ref = cell.get("r")
                if ref:
                    match = _CELL_REF.match(ref)
                    if match is None:
                        raise _Unsupported(ref)
                    position = _column_index(match.group(1))
                    if position > len(values):
                        values.extend([None] * (position - len(values)))
                try:
                    values.append(self._value(cell))
                except (ValueError, IndexError, OverflowError):
                    column = _column_letters(len(values))
                    raise ImportFileError(
                        f"Feuille {title}, ligne {row_number}, colonne {column} : cellule "
                        f"illisible, le classeur est endommagé. {RESAVE}"
                    ) from None
            yield row_number, values

    def _value(self, cell) -> Any:
        """The cell's value; ValueError or IndexError when it is not one Excel writes."""
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            for child in cell:
                if child.tag == _IS:
                    if len(child) == 1 and child[0].tag == _T:  # the usual single run
                        return child[0].text or ""
                    return _string_item(child)
            return None
        raw = cell.findtext(_V)
        if raw is None or raw == "":
            return None
        if kind == "s":
            return self.shared[int(raw)]
        if kind == "str":
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "e":
            return raw  # "#N/A", "#REF!": shown as is in the error it causes
        if kind == "d":
            return datetime.fromisoformat(raw)
        number: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
        if not math.isfinite(number):
            raise ValueError(raw)  # "inf", "1e999": no spreadsheet stores these
        if self.date_styles and int(cell.get("s", "0")) in self.date_styles:
            from openpyxl.utils.datetime import from_excel

            try:
                return from_excel(number, self.epoch)
            except (OverflowError, ValueError):
                return number
        return number


def _string_item(item) -> str:
    """The text of a shared or inline string: its runs, without phonetic (rPh) hints."""
    return "".join(
        t.text or "" for t in item.iter(f"{_MAIN}t") if t.getparent().tag != f"{_MAIN}rPh"
    )


RESAVE = "Enregistrez-le à nouveau depuis votre tableur."


def _column_letters(index: int) -> str:
    """ "A" for 0, "AA" for 26: the inverse of ``_column_index``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@functools.cache
def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


# Cell parsers: each returns the value or raises ValueError with a French message ---------------

# Control characters (validators.has_control) are invisible, refused by PostgreSQL (NUL) and
# by XML 1.0 (the LHEO export): a cell holding one is an error, never stored.
CONTROL_MESSAGE = "contient un caractère de contrôle (invisible) : retirez-le."
_DIGITS = re.compile(r"[0-9]+")


def is_digits(value: str, max_length: int | None = None) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" and other scripts' digits."""
    return _DIGITS.fullmatch(value) is not None and (max_length is None or len(value) <= max_length)


_TRUE = {"oui", "o", "1", "vrai", "true", "x", "yes", "y"}
_FALSE = {"non", "n", "0", "faux", "false", "no"}


def parse_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = normalise_header(value)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"« {value} » n'est pas une valeur oui/non.")


def parse_int(value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValueError(f"« {value} » n'est pas un nombre entier.")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"« {value} » n'est pas un nombre entier.")
        number = int(text)
    if minimum is not None and number < minimum:
        raise ValueError(f"{number} : la valeur doit être au moins {minimum}.")
    if maximum is not None and number > maximum:
        raise ValueError(f"{number} : la valeur doit être au plus {maximum}.")
    return number


_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"« {value} » n'est pas une date valide (format JJ/MM/AAAA).")


def text_value(value: Any) -> str | None:
    """A cell as text: numbers lose nothing ("2872", not "2872.0")."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip() or None


def code_value(value: Any, width: int) -> str | None:
    """A numeric identifier (SIRET, postcode) whose leading zeros a spreadsheet dropped."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).zfill(width)
    return text_value(value)


# Writing ----------------------------------------------------------------------------------


def reserve_ids(model: type, count: int) -> list[int]:
    """Primary keys for ``count`` new rows of ``model``.

    With their ids set, the ORM inserts new rows in one executemany instead of INSERT …
    RETURNING statements that must give the generated keys back in order. PostgreSQL ids
    come from the table's own sequence, so that concurrent inserts never collide; SQLite
    allocates max(id) + 1 as it would itself (its writers are serialised).
    """
    if count == 0:
        return []
    table = model.__table__
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        )
        if sequence:
            return list(
                session.scalars(
                    text("SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)"),
                    {"sequence": sequence, "n": count},
                )
            )
    start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + count))
