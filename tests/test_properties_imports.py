"""Property tests of every importer: whatever the file, a report (errors, or a clean preview),
never an uncaught exception or a 500, and nothing written when the file has errors.

Importers are called as plain modules (plan, then commit through ``imports.runner``, as the
Référentiels pages and the CLI do) and through the upload pages. Inputs are arbitrary bytes,
the real samples (docs/samples, an LHEO export of a complete offer) truncated and mutated at
the byte level and inside their XML, CSV or JSON structure, wrong encodings, huge fields,
formula-like cells, XML bombs and external entities.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import func, select

from portal.extensions import db
from portal.imports import certifinfo, common, formacode, region, succession
from portal.imports.runner import KINDS, commit_import, plan_import
from portal.lheo.importer import run_import
from portal.models import (
    Action,
    Certification,
    Contact,
    EnrolmentPeriod,
    Establishment,
    Formacode,
    Formation,
    InfoMeeting,
    Lot,
    Organisation,
    Programme,
    Session,
    SessionFunding,
    Site,
)
from portal.models.reference import lot_formateurs

from . import factories
from .strategies import (
    ANY_CHAR,
    SPECIALS,
    Shown,
    assert_answer,
    long_text,
    property_settings,
    shown,
)
from .test_imports_formacode import GOOD as GOOD_FORMACODE
from .test_imports_region import good_sheets
from .test_lheo_import import rich_offer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_XLSX = ROOT / "docs" / "samples" / "region-extraction-sample.xlsx"
SAMPLE_CSV = ROOT / "docs" / "samples" / "region-extraction-csv"
PASSWD = "root:x:0:0"  # what an external entity on /etc/passwd would leak

REGION_TABLES = (Programme, Lot, Organisation, Establishment, lot_formateurs)
REFERENCE_TABLES = (*REGION_TABLES, Certification, Formation, Formacode)
OFFER_TABLES = (
    Formation,
    Action,
    Session,
    Site,
    Contact,
    InfoMeeting,
    EnrolmentPeriod,
    SessionFunding,
)


def counts(tables) -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(getattr(t, "__table__", t)))
        for t in tables
    )


def check_import(kind: str, paths: list[Path], options: dict | None, tables) -> common.Plan:
    """The importer's property: planning never raises; a plan with errors commits nothing
    (status "invalid"); a clean plan commits ("committed", never "failed" or "conflict")."""
    plan = plan_import(KINDS[kind], paths, options)
    db.session.rollback()
    for issue in plan.errors + plan.warnings:
        assert str(issue).strip()
    before = counts(tables)
    result = commit_import(KINDS[kind], paths, options)
    if plan.ok:
        assert result.status == "committed", result.message
    else:
        assert result.status == "invalid", result.message
        assert counts(tables) == before
    return plan


# Byte-level mutations -------------------------------------------------------------------------


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """``original`` truncated, with bytes flipped, inserted or deleted."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(("truncate", "flip", "insert", "delete")))
        if operation == "truncate":
            del data[at:]
        elif operation == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


def xml_text(max_size: int = 30) -> st.SearchStrategy[str]:
    """Text a well-formed XML document can hold (no control characters, no U+FFFE/FFFF)."""
    char = st.characters(
        exclude_categories=("Cs",),
        exclude_characters="\ufffe\uffff",
        min_codepoint=0x20,
    )
    return st.one_of(
        st.text(char, max_size=max_size),
        st.sampled_from([s for s in SPECIALS if not re.search(r"[\x00-\x1f\ufffe\uffff]", s)]),
        st.builds(lambda s, n: s * n, st.text(char, min_size=1, max_size=3), st.integers(1, 5000)),
    )


def escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


# Region file ----------------------------------------------------------------------------------

SAMPLE_PARTS = {}
with zipfile.ZipFile(SAMPLE_XLSX) as _archive:
    for _info in _archive.infolist():
        SAMPLE_PARTS[_info.filename] = _archive.read(_info.filename)
XML_PARTS = sorted(name for name in SAMPLE_PARTS if name.endswith((".xml", ".rels")))


def zip_parts(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


_VALUE = re.compile(rb"(<v>|<t>|<t xml:space=\"preserve\">)([^<]*)(</v>|</t>)")
_ATTRIBUTE = re.compile(rb'\b(r|t|s|numFmtId|Id|Target|name|r:id|Type)="([^"]*)"')


@st.composite
def mutated_xml_part(draw) -> dict[str, bytes]:
    """The sample workbook with one XML part changed: a cell value, an attribute, or bytes."""
    parts = dict(SAMPLE_PARTS)
    name = draw(st.sampled_from(XML_PARTS))
    content = parts[name]
    how = draw(st.sampled_from(("value", "attribute", "bytes", "doctype")))
    pattern = _VALUE if how == "value" else _ATTRIBUTE
    matches = list(pattern.finditer(content)) if how in ("value", "attribute") else []
    if matches:
        match = draw(st.sampled_from(matches))
        new = escape(draw(xml_text())).encode()
        if draw(st.booleans()):
            new = draw(st.binary(max_size=6))  # possibly breaking the XML itself
        start, end = match.span(2)
        content = content[:start] + new + content[end:]
    elif how == "doctype":
        # An entity declared in a part: never expanded, never read from the disk.
        content = re.sub(
            rb"^(<\?xml[^>]*\?>)?",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">'
            b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
            content,
            count=1,
        )
        content = content.replace(b"<t>", b"<t>&e;&b;", 1).replace(b"<v>", b"<v>&b;", 1)
    else:
        content = draw(mutated(content))
    parts[name] = content
    return parts


# openpyxl (lxml) refuses to write what XML cannot hold; any other text goes in a cell.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
cell_values = st.one_of(
    st.none(),
    st.text(ANY_CHAR, max_size=30).map(lambda s: _ILLEGAL.sub("", s)),
    st.sampled_from([s for s in SPECIALS if not _ILLEGAL.search(s)]),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    long_text(100, 400).map(lambda s: _ILLEGAL.sub("", s)),
    st.sampled_from(["=1+1", '=HYPERLINK("http://x","y")', "@SUM(A1)", "+cmd", "-2+3"]),
)


@st.composite
def region_sheets(draw) -> dict[str, list[dict]]:
    """The good test sheets with a few cells replaced by anything, or rows added or dropped."""
    sheets = good_sheets()
    for _ in range(draw(st.integers(1, 4))):
        spec = draw(st.sampled_from(region.SHEETS))
        rows = sheets[spec.key]
        operation = draw(st.sampled_from(("cell", "cell", "cell", "drop", "duplicate")))
        if operation == "drop" and rows:
            rows.pop(draw(st.integers(0, len(rows) - 1)))
        elif operation == "duplicate" and rows:
            rows.append(dict(draw(st.sampled_from(rows))))
        elif rows:
            row = draw(st.sampled_from(rows))
            column = draw(st.sampled_from(spec.columns))
            row[column.name] = draw(cell_values)
    return sheets


def test_region_workbook_any_content_gives_a_report(app, tmp_path):
    path = tmp_path / "region.xlsx"

    @given(
        shown(
            st.one_of(
                region_sheets().map(lambda s: ("sheets", s)),
                mutated_xml_part().map(lambda p: ("parts", p)),
                mutated(SAMPLE_XLSX.read_bytes()).map(lambda b: ("bytes", b)),
                st.binary(max_size=200).map(lambda b: ("bytes", b)),
            )
        )
    )
    @property_settings(100)
    def run(case):
        what, content = case.value
        if what == "sheets":
            region.write_xlsx(path, content)
        elif what == "parts":
            path.write_bytes(zip_parts(content))
        else:
            path.write_bytes(content)
        plan = check_import("region", [path], None, REGION_TABLES)
        assert PASSWD not in json.dumps(plan.report(), default=str)

    run()


@st.composite
def region_csv_files(draw) -> dict[str, bytes]:
    """The sample CSV files, one of them rewritten: cells changed, encoding, bytes."""
    files = {p.name: p.read_bytes() for p in sorted(SAMPLE_CSV.glob("*.csv"))}
    name = draw(st.sampled_from(sorted(files)))
    how = draw(st.sampled_from(("cells", "encoding", "bytes", "huge")))
    text = files[name].decode("utf-8")
    if how == "cells":
        lines = [line.split(";") for line in text.splitlines()]
        for _ in range(draw(st.integers(1, 3))):
            line = draw(st.sampled_from(lines))
            at = draw(st.integers(0, len(line) - 1))
            line[at] = draw(st.one_of(st.text(ANY_CHAR, max_size=20), st.sampled_from(SPECIALS)))
        files[name] = "\n".join(";".join(line) for line in lines).encode("utf-8")
    elif how == "encoding":
        encoding = draw(st.sampled_from(("cp1252", "latin-1", "utf-16", "utf-8-sig", "cp437")))
        files[name] = text.encode(encoding, errors="replace")
    elif how == "huge":
        files[name] = text.replace(
            ";", ";" + "x" * draw(st.integers(250, 200_000)) + ";", 1
        ).encode()
    else:
        files[name] = draw(mutated(files[name]))
    return files


def test_region_csv_files_any_content_give_a_report(app, tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()

    @given(shown(region_csv_files()))
    @property_settings(40)
    def run(files):
        files = files.value
        paths = []
        for name, content in files.items():
            (folder / name).write_bytes(content)
            paths.append(folder / name)
        check_import("region", paths, None, REGION_TABLES)

    run()


def test_region_workbook_with_entities_neither_expands_nor_reads_files(app, tmp_path):
    """A DOCTYPE in a sheet: the entity bomb is not expanded, /etc/passwd is not read."""
    parts = dict(SAMPLE_PARTS)
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    bomb = (
        b'<!ENTITY a0 "'
        + b"x" * 100
        + b'">'
        + b"".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">'.encode() for i in range(1, 9))
    )
    parts[sheet] = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet ['
        + bomb
        + b'<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + parts[sheet].replace(b"<t>", b"<t>&a8;&e;", 3)
    )
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(zip_parts(parts))
    plan = check_import("region", [path], None, REGION_TABLES)
    assert PASSWD not in json.dumps(plan.report(), default=str)
    assert "x" * 1000 not in json.dumps(plan.report(), default=str)


# Regressions found by the properties above (each a plain example) ------------------------------


def _sample_with(tmp_path, old: bytes, new: bytes, part: str = "xl/worksheets/sheet1.xml"):
    parts = dict(SAMPLE_PARTS)
    assert old in parts[part]
    parts[part] = parts[part].replace(old, new, 1)
    path = tmp_path / "region.xlsx"
    path.write_bytes(zip_parts(parts))
    return path


CELL_C2 = (
    "Feuille Programmes, ligne 2, colonne C : cellule illisible, le classeur est endommagé. "
    "Enregistrez-le à nouveau depuis votre tableur."
)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"<v>5</v>", b"<v>nan</v>", CELL_C2),  # a number cell that is not a number
        (b"<v>5</v>", b"<v>abc</v>", CELL_C2),
        (b"<v>5</v>", b"<v>1e999</v>", CELL_C2),
        (b'<c r="C2" t="n">', b'<c r="C2" t="s">', CELL_C2),  # no such shared string
        (b'<c r="C2" t="n">', b'<c r="C2" t="n" s="zz">', CELL_C2),  # a style index, not one
        (b'<c r="C2" t="n">', b'<c r="C2" t="d">', CELL_C2),  # an ISO date cell holding "5"
        (
            b'<row r="2">',
            b'<row r="x">',
            "Feuille Programmes, après la ligne 1 : numéro de ligne illisible, le classeur est "
            "endommagé. Enregistrez-le à nouveau depuis votre tableur.",
        ),
    ],
    ids=["nan", "text", "infinite", "shared-index", "style-index", "iso-date", "row-number"],
)
def test_damaged_cell_of_a_workbook_is_reported_not_raised(app, tmp_path, old, new, message):
    plan = region.plan_region([_sample_with(tmp_path, old, new)])
    assert [str(e) for e in plan.errors] == [message]


@pytest.mark.parametrize(
    "part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"]
)
def test_workbook_part_with_bytes_invalid_in_utf8_is_reported(app, tmp_path, part):
    """lxml raises OSError, not XMLSyntaxError, for them: it escaped as a 500."""
    parts = dict(SAMPLE_PARTS)
    parts[part] = parts[part].replace(b">", b">\xff", 1)
    path = tmp_path / "region.xlsx"
    path.write_bytes(zip_parts(parts))
    plan = region.plan_region([path])
    assert [str(e) for e in plan.errors] == [common.NOT_A_WORKBOOK]


def test_workbook_with_a_style_that_is_not_a_number_is_reported(app, tmp_path):
    path = _sample_with(tmp_path, b'numFmtId="', b'numFmtId="x', part="xl/styles.xml")
    plan = region.plan_region([path])
    assert [str(e) for e in plan.errors] == [common.DAMAGED_WORKBOOK]


def test_workbook_with_a_corrupted_part_is_reported_not_raised(app, tmp_path):
    """A zip member whose data does not match its checksum (a damaged download)."""
    data = bytearray(zip_parts(SAMPLE_PARTS))
    offset = data.index(b"xl/worksheets/sheet1.xml") + 200  # inside the compressed data
    data[offset] ^= 0xFF
    path = tmp_path / "region.xlsx"
    path.write_bytes(bytes(data))
    plan = region.plan_region([path])
    assert [str(e) for e in plan.errors] == [common.DAMAGED_WORKBOOK]


def test_region_cell_with_a_control_character_is_reported_with_its_row(app, tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    for path in SAMPLE_CSV.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    lots = folder / "lots.csv"
    lots.write_text(lots.read_text("utf-8").replace("Lot 1 - ", "Lot 1\x0b- ", 1), "utf-8")
    plan = region.plan_region(sorted(folder.glob("*.csv")))
    assert [str(e) for e in plan.errors] == [
        "Feuille Lots, ligne 2, colonne intitule : La cellule contient un caractère de contrôle "
        "(invisible) : retirez-le."
    ]


# Certif Info register ---------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(ANY_CHAR, max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
register_keys = st.one_of(
    st.from_regex(r"\A[0-9]{1,12}\Z"),
    st.sampled_from(["type999", "type461", "niveau4", "niveau9", "#", "²", "١٢"]),
    st.text(ANY_CHAR, max_size=8),
)
register_nodes = st.one_of(
    st.fixed_dictionaries(
        {"text": st.one_of(st.text(ANY_CHAR, max_size=40), long_text(), json_values)},
        optional={"parent": st.one_of(register_keys, json_values)},
    ),
    json_values,
)


TYPES = {
    "niveau4": {"parent": "#", "text": "Niveau IV (Bac)"},
    "niveau9": {"parent": "#", "text": "Sans niveau spécifique"},
    "type461": {"parent": "niveau4", "text": "Titre professionnel de niveau 4"},
    "type999": {"parent": "niveau9", "text": "Autre certification sans niveau spécifique"},
}
# A plausible register: the types above and codes whose titles are any text.
plausible_register = st.dictionaries(
    st.from_regex(r"\A[0-9]{1,10}\Z"),
    st.fixed_dictionaries(
        {
            "text": st.one_of(st.text(ANY_CHAR, min_size=1, max_size=40), long_text(50, 200)),
            "parent": st.sampled_from([*TYPES, "type000", ""]),
        }
    ),
    min_size=1,
    max_size=6,
).map(lambda codes: TYPES | codes)


@st.composite
def register_files(draw) -> bytes:
    how = draw(st.sampled_from(("plausible", "plausible", "tree", "json", "bytes", "deep")))
    if how in ("tree", "plausible"):
        tree = draw(
            plausible_register
            if how == "plausible"
            else st.dictionaries(register_keys, register_nodes, max_size=8)
        )
        encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "cp1252", "utf-16")))
        return json.dumps(tree, ensure_ascii=draw(st.booleans())).encode(encoding, "replace")
    if how == "json":
        return json.dumps(draw(json_values)).encode()
    if how == "deep":
        depth = draw(st.integers(500, 200_000))
        opener, closer = draw(st.sampled_from((("[", "]"), ('{"a":', "}"))))
        return (opener * depth + "1" + closer * depth).encode()
    return draw(st.binary(max_size=300))


def test_certifinfo_register_any_content_gives_a_report(app, tmp_path):
    path = tmp_path / "certifinfo.json"

    @given(shown(register_files()))
    @property_settings(60)
    def run(content):
        path.write_bytes(content.value)
        check_import("certifinfo", [path], None, (Certification,))

    run()


def test_deeply_nested_register_is_reported_not_raised(app, tmp_path):
    path = tmp_path / "certifinfo.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    plan = certifinfo.plan_register(path)
    assert [str(e) for e in plan.errors] == [
        "Le fichier n'est pas un JSON valide : il est imbriqué trop profondément."
    ]


@pytest.mark.parametrize(
    "key", ["²", "١٢٣", "１２"], ids=["superscript", "arabic-indic", "fullwidth"]
)
def test_register_code_of_non_ascii_digits_is_refused(app, tmp_path, key):
    """str.isdigit() accepts "²" and Arabic-Indic digits: a code is ASCII digits only."""
    path = tmp_path / "certifinfo.json"
    path.write_text(json.dumps({key: {"text": "Titre", "parent": "type999"}}), "utf-8")
    plan = certifinfo.plan_register(path)
    assert not plan.changes
    assert [str(e) for e in plan.errors] == ["Le fichier ne contient aucun code Certif Info."]


@pytest.mark.parametrize("title", ["Titre\x00nul", "Titre\x0bvertical"], ids=["nul", "vt"])
def test_register_title_with_control_characters_is_refused(app, tmp_path, title):
    """A NUL cannot be stored by PostgreSQL, nor any control character written to LHEO."""
    path = tmp_path / "certifinfo.json"
    path.write_text(json.dumps({"123": {"text": title, "parent": "type999"}}), "utf-8")
    plan = certifinfo.plan_register(path)
    assert [str(e) for e in plan.errors] == [
        "Code 123 : l'intitulé contient un caractère de contrôle (invisible) : retirez-le."
    ]


# Code successions -------------------------------------------------------------------------------

codes_text = st.one_of(
    st.from_regex(r"\A[0-9]{1,12}\Z"),
    st.sampled_from(["", "²", "١٢", "-1", " 12 ", "1e3"]),
    st.text(ANY_CHAR, max_size=6),
)
succession_rows = st.lists(
    st.tuples(
        codes_text,
        st.text(ANY_CHAR, max_size=20),
        st.sampled_from(["1", "2", "3", "", "x"]),
        codes_text,
        st.one_of(st.text(ANY_CHAR, max_size=20), long_text(200, 600)),
        st.sampled_from(["1", "2", "3", "", "x"]),
    ).map(lambda fields: ";".join(fields)),
    max_size=8,
)


@st.composite
def succession_files(draw) -> bytes:
    how = draw(st.sampled_from(("rows", "rows", "chain", "bytes")))
    if how == "chain":  # A → B → C … : chains resolve to their last code
        length = draw(st.integers(2, 3000))
        start = draw(st.integers(1, 10**6))
        lines = [f"{start + i};Titre;3;{start + i + 1};Titre {i};3" for i in range(length)]
        if draw(st.booleans()):
            lines.append(f"{start + length};Titre;3;{start};Titre;3")  # closes a cycle
        return "\n".join(lines).encode()
    if how == "rows":
        header = "cer3_code;cer3_libelle;cer3_etat;cer3_codenew;cer3_libelle;cer3_etat\n"
        text = header + "\n".join(draw(succession_rows))
        encoding = draw(st.sampled_from(("utf-8", "cp1252", "utf-16", "latin-1")))
        return text.encode(encoding, "replace")
    return draw(st.binary(max_size=300))


def test_succession_file_any_content_gives_a_report(app, tmp_path, make_certification):
    # Known codes, some used by a formation, so that plans archive and replace.
    establishment = factories.make_establishment()
    for code in ("1", "2", "12", "123", "1000000"):
        certification = make_certification(code=code)
        factories.make_formation(
            establishment, has_certif_info=True, certification_id=certification.id
        )
    path = tmp_path / "successions.csv"

    @given(shown(succession_files()))
    @property_settings(60)
    def run(content):
        path.write_bytes(content.value)
        check_import("succession", [path], None, (Certification, Formation))

    run()


def test_long_chain_of_successions_resolves_without_recursion_error(
    app, tmp_path, make_certification
):
    make_certification(code="1")
    path = tmp_path / "successions.csv"
    path.write_text("\n".join(f"{i};Titre;3;{i + 1};Titre {i + 1};3" for i in range(1, 3001)))
    plan = succession.plan_succession(path)
    assert plan.ok, plan.errors
    archive = next(c for c in plan.changes if c.action == "archive")
    assert (archive.key, archive.fields[1].after) == ("1", "3001")


@pytest.mark.parametrize("code", ["²", "١٢"], ids=["superscript", "arabic-indic"])
def test_succession_code_of_non_ascii_digits_is_refused(app, tmp_path, code):
    path = tmp_path / "successions.csv"
    path.write_text(f"{code};Ancien;3;12;Nouveau;3\n", "utf-8")
    plan = succession.plan_succession(path)
    assert [(e.row, e.column) for e in plan.errors] == [(1, "cer3_code")]


# Formacode ---------------------------------------------------------------------------------------

formacode_field = st.one_of(
    st.text(ANY_CHAR, max_size=15),
    st.sampled_from(SPECIALS),
    long_text(30, 100),
)
formacode_lines = st.lists(
    st.one_of(
        # code;DESCRIPTEUR;libellé;type;champ as the export has them, any text in the fields
        st.tuples(
            st.from_regex(r"\A[0-9]{5}\Z"),
            formacode_field,
            formacode_field,
            st.sampled_from(["DOM", "PUB", "OUT$ADM$AIR$AIS$DIS$FON$MAT$MOD", ""]),
            formacode_field,
        ).map(list),
        st.lists(st.one_of(st.from_regex(r"\A[0-9]{5}\Z"), formacode_field), max_size=17),
    ).map(lambda fields: ";".join(f.replace(";", ",") for f in fields)),
    max_size=8,
)
# The real export's lines, one of them with a field replaced by any text.
plausible_formacode = st.builds(
    lambda at, field, text: "\n".join(
        ";".join(text if (n, i) == (at, field) else f for i, f in enumerate(line.split(";")))
        for n, line in enumerate(GOOD_FORMACODE)
    ),
    st.integers(0, len(GOOD_FORMACODE) - 1),
    st.integers(1, 4),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=40),
)


@st.composite
def formacode_files(draw) -> tuple[bytes, str]:
    version = draw(st.sampled_from(["V14", "V14", "v15", " V13 ", "V14", "V1000", "14", "Ⅴ14"]))
    how = draw(st.sampled_from(("plausible", "lines", "bytes")))
    if how == "plausible":
        return draw(plausible_formacode).encode("utf-8"), version
    if how == "lines":
        encoding = draw(st.sampled_from(("utf-8", "cp1252", "utf-16", "latin-1")))
        return "\n".join(draw(formacode_lines)).encode(encoding, "replace"), version
    return draw(st.binary(max_size=300)), version


def test_formacode_file_any_content_gives_a_report(app, tmp_path):
    path = tmp_path / "formacode.csv"

    @given(shown(formacode_files()))
    @property_settings(60)
    def run(case):
        content, version = case.value
        path.write_bytes(content)
        check_import("formacode", [path], {"version": version}, (Formacode,))

    run()


@pytest.mark.parametrize("code", ["¹²³⁴⁵", "١٢٣٤٥"], ids=["superscript", "arabic-indic"])
def test_formacode_of_non_ascii_digits_is_refused(app, tmp_path, code):
    path = tmp_path / "formacode.csv"
    path.write_text(f"{code};DESCRIPTEUR;libellé;DOM;110 MATHEMATIQUES\n", "utf-8")
    plan = formacode.plan_formacode(path, "V14")
    assert [(e.row, e.column) for e in plan.errors] == [(1, "1")]


@pytest.mark.parametrize("label", ["libellé\x00", "libellé\x1b[31m"], ids=["nul", "escape"])
def test_formacode_label_with_control_characters_is_refused(app, tmp_path, label):
    path = tmp_path / "formacode.csv"
    path.write_bytes(f"11001;DESCRIPTEUR;{label};DOM;110 MATHEMATIQUES\n".encode())
    plan = formacode.plan_formacode(path, "V14")
    assert not plan.ok
    assert "contrôle" in str(plan.errors[0]) or "texte" in str(plan.errors[0])


# LHEO import -------------------------------------------------------------------------------------


@pytest.fixture
def lheo_world(app, client, auth, make_establishment, make_user):
    """A rich published offer exported as LHEO, and an OF user of another establishment (a
    formateur of its lot) to import it into."""
    source = make_establishment(name="Organisme source")
    target = make_establishment(name="Organisme importateur", postcode="49100")
    rich_offer(app, source, target)
    exported = client.get("/exports/lheo.xml")
    assert exported.status_code == 200
    user = make_user(establishments=[target])
    return exported.data, target, user


@st.composite
def lheo_files(draw, original: bytes) -> bytes:
    """The export with one element's text or attribute changed, bytes mutated, re-encoded,
    or an XML bomb, external entity or huge field."""
    how = draw(st.sampled_from(("text", "text", "attribute", "bytes", "encoding", "hostile")))
    if how in ("text", "attribute"):
        root = etree.fromstring(original)
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        if how == "text":
            element = draw(st.sampled_from([e for e in elements if e.text and e.text.strip()]))
            element.text = draw(xml_text())
        else:
            element = draw(st.sampled_from([e for e in elements if e.attrib]))
            name = draw(st.sampled_from(sorted(element.attrib)))
            element.set(name, draw(xml_text()))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if how == "encoding":
        text = original.decode("utf-8")
        encoding = draw(st.sampled_from(("iso-8859-1", "utf-16", "cp1252")))
        declared = draw(st.sampled_from(("UTF-8", encoding, "bogus")))
        text = re.sub(r'encoding="[^"]*"', f'encoding="{declared}"', text, count=1)
        return text.encode(encoding, "replace")
    if how == "hostile":
        return draw(
            st.sampled_from(
                [
                    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><lheo>&b;</lheo>',
                    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY e SYSTEM '
                    b'"file:///etc/passwd">]><lheo>&e;</lheo>',
                    b'<?xml version="1.0"?><!DOCTYPE l SYSTEM "http://127.0.0.1:1/x.dtd"><lheo/>',
                    b"<lheo>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</lheo>",
                    original.replace(
                        b"<intitule-formation>", b"<intitule-formation>" + b"x" * 300_000, 1
                    ),
                    b'<?xml version="1.0"?><?xml-stylesheet href="file:///etc/passwd"?>'
                    + original[38:],
                ]
            )
        )
    return draw(st.one_of(mutated(original), st.binary(max_size=200)))


def test_lheo_import_any_file_gives_a_report_and_saves_all_or_nothing(
    app, client, auth, lheo_world
):
    original, target, user = lheo_world
    auth.login(user)
    auth.switch(target)

    @given(shown(lheo_files(original)))
    @example(Shown(original))
    @property_settings(60)
    def run(content):
        content = content.value
        before = counts(OFFER_TABLES)
        report = run_import(io.BytesIO(content), target, user_id=user.id, filename="offre.xml")
        assert report.status in (200, 413, 422), [str(i) for i in report.issues]
        assert PASSWD not in " ".join(str(i) for i in report.issues)
        if not report.saved:
            assert counts(OFFER_TABLES) == before
            assert report.errors
            return
        # What was imported opens: the fiches and the état de la saisie of each draft.
        for record in report.records:
            assert client.get(f"/formations/{record['formation_id']}").status_code == 200
            for action in record["actions"]:
                for url in (
                    f"/actions/{action['action_id']}",
                    f"/actions/{action['action_id']}/etat",
                ):
                    assert client.get(url).status_code == 200, url
        session_ids = db.session.scalars(
            select(Session.id).where(Session.establishment_id == target.id)
        ).all()
        for session_id in session_ids[-3:]:
            assert client.get(f"/sessions/{session_id}").status_code == 200

    run()


# Through the upload pages ------------------------------------------------------------------------


@pytest.fixture
def upload_dir(app, tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "IMPORT_UPLOAD_DIR", str(folder))
    return folder


UPLOAD_NAMES = {
    "region": st.sampled_from(["region.xlsx", "lots.csv", "Programmes.CSV", "x.xlsx"]),
    "certifinfo": st.sampled_from(["certifinfo.json", "a.JSON"]),
    "succession": st.sampled_from(["successions.csv", "s.txt"]),
    "formacode": st.sampled_from(["formacode.csv", "f.txt"]),
}


@st.composite
def uploads(draw):
    slug = draw(st.sampled_from(sorted(KINDS)))
    content = draw(
        {
            "region": st.one_of(mutated(SAMPLE_XLSX.read_bytes()), st.binary(max_size=100)),
            "certifinfo": register_files(),
            "succession": succession_files(),
            "formacode": formacode_files().map(lambda case: case[0]),
        }[slug]
    )
    name = draw(st.one_of(UPLOAD_NAMES[slug], st.text(ANY_CHAR, max_size=12)))
    version = draw(st.one_of(st.just("V14"), st.text(ANY_CHAR, max_size=6)))
    return slug, name, content, version


def test_upload_preview_and_confirm_never_answer_500(app, client, auth, carif_user, upload_dir):
    auth.login(carif_user)

    @given(shown(uploads()))
    @property_settings(40)
    def run(case):
        slug, name, content, version = case.value
        response = client.post(
            f"/referentiels/imports/{slug}",
            data={"files": [(io.BytesIO(content), name)], "version": version},
            content_type="multipart/form-data",
        )
        assert_answer(response)
        if response.status_code != 303:
            assert response.status_code == 422
            return
        token = response.location.rsplit("/", 1)[1]
        preview = client.get(response.location)
        assert_answer(preview, allowed={200, 422})
        before = counts(REFERENCE_TABLES)
        confirm = client.post(f"/referentiels/imports/{slug}/confirmer", data={"token": token})
        assert_answer(confirm, allowed={303, 409, 422})
        if preview.status_code == 422:
            assert confirm.status_code == 422
        if confirm.status_code != 303:
            assert counts(REFERENCE_TABLES) == before

    run()


def test_lheo_import_page_never_answers_500(app, client, auth, lheo_world):
    original, target, user = lheo_world
    auth.login(user)
    auth.switch(target)

    @given(
        shown(st.one_of(lheo_files(original), st.binary(max_size=100))),
        st.text(ANY_CHAR, max_size=20),
    )
    @property_settings(20)
    def run(content, name):
        content = content.value
        before = counts(OFFER_TABLES)
        response = client.post(
            "/exports/lheo/import",
            data={"file": (io.BytesIO(content), name or "offre.xml")},
            content_type="multipart/form-data",
        )
        assert_answer(response, allowed={200, 413, 422})
        if response.status_code != 200:
            assert counts(OFFER_TABLES) == before

    run()
