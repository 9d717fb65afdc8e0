"""The Region's extraction file importer (portal.imports.region), called directly."""

from __future__ import annotations

import copy
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from stdnum import luhn

from portal.extensions import db
from portal.imports import region
from portal.imports.runner import KINDS, ImportKind, commit_import
from portal.models import (
    Establishment,
    ImportRun,
    JournalEntry,
    Lot,
    Organisation,
    Programme,
    User,
)
from portal.models.reference import lot_formateurs


def siret(siren8: str, nic: str = "0001") -> str:
    """A SIRET with valid SIREN and SIRET check digits."""
    siren = siren8 + luhn.calc_check_digit(siren8)
    return siren + nic + luhn.calc_check_digit(siren + nic)


MANDATAIRE = siret("71000001")
FORMATEUR_A = siret("71000002")
FORMATEUR_B = siret("71000002", "0002")  # same organisation as A
FORMATEUR_C = siret("71000003")


def org(siret_: str, name: str, **extra) -> dict:
    return {
        "siret": siret_,
        "raison_sociale": name,
        "adresse": "1 rue de la Loire",
        "code_postal": "44000",
        "commune": "Nantes",
        **extra,
    }


def good_sheets() -> dict[str, list[dict]]:
    """Two programmes, three lots (one of an existing programme is added by some tests)."""
    return {
        "programmes": [
            {
                "code_programme": "PE",
                "intitule": "PROGRAMME REGION - Formations Parcours entrepreneur",
                "code_dispositif": 8,
                "publics": "demandeur d'emploi",
                "sessions_annee_du_lot": "oui",
            },
            {
                "code_programme": "PSS",
                "intitule": "PROGRAMME REGION - PREPA Sanitaire et social",
                "code_dispositif": "6",
                "sessions_annee_du_lot": "non",
            },
        ],
        "lots": [
            {
                "code_lot": "PE2024_1",
                "code_programme": "PE",
                "intitule": "Lot 1 - Création-reprise en Loire-Atlantique Nord",
                "annee": 2024,
                "numero_lot_cr": "PE2024_1",
                "id_action_cr": 2871,
                "places_commandees": 12,
                "forfait_recrutement": "non",
                "date_debut": date(2024, 1, 1),
                "date_fin": date(2024, 12, 31),
            },
            {
                "code_lot": "PE2024_2",
                "code_programme": "PE",
                "intitule": "Lot 2 - Création-reprise en Loire-Atlantique Sud",
                "annee": "2024",
                "numero_lot_cr": "PE2024_2",
                "id_action_cr": "2872",
                "places_commandees": 24,
                "forfait_recrutement": "oui",
            },
            {
                "code_lot": "PSS2025_1",
                "code_programme": "PSS",
                "intitule": "Lot 1 - Soin et accompagnement en Vendée",
                "annee": 2025,
            },
        ],
        "mandataires": [
            {"code_lot": "PE2024_1", "of_mandataire_cr": 75, **org(MANDATAIRE, "MANDATAIRE SA")},
            {"code_lot": "PE2024_2", "of_mandataire_cr": "75", **org(MANDATAIRE, "MANDATAIRE SA")},
            {"code_lot": "PSS2025_1", "of_mandataire_cr": "112", **org(FORMATEUR_C, "SOIN")},
        ],
        "formateurs": [
            {"code_lot": "PE2024_1", **org(FORMATEUR_A, "FORMA", nom_etablissement="FORMA Nantes")},
            {
                "code_lot": "PE2024_1",
                **org(FORMATEUR_B, "FORMA", nom_etablissement="FORMA Angers", code_postal=49000),
            },
            {"code_lot": "PE2024_2", **org(FORMATEUR_A, "FORMA", nom_etablissement="FORMA Nantes")},
        ],
    }


@pytest.fixture
def write(tmp_path):
    """Write sheets as an XLSX (default) or as the four CSV files; return the paths."""

    def writer(sheets: dict, fmt: str = "xlsx", name: str = "region.xlsx") -> list:
        if fmt == "csv":
            return region.write_csvs(tmp_path / "csv", sheets)
        path = tmp_path / name
        region.write_xlsx(path, sheets)
        return [path]

    return writer


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Programme, Lot, Organisation, Establishment, JournalEntry, User)
    } | {"formateurs": db.session.scalar(select(func.count()).select_from(lot_formateurs))}


def commit(paths):
    return commit_import(KINDS["region"], paths)


def lot(code: str) -> Lot:
    return db.session.scalars(select(Lot).where(Lot.code == code)).one()


def test_plan_lists_creations_with_their_rows_and_writes_nothing(app, write):
    paths = write(good_sheets())
    before = counts()
    plan = region.plan_region(paths)
    assert plan.ok, plan.errors
    assert plan.counts() == {
        "programme": {"create": 2},
        "lot": {"create": 3},
        "organisation": {"create": 3},
        "establishment": {"create": 4},
    }
    rows = {(c.entity, c.key): (c.sheet, c.row) for c in plan.changes}
    assert rows["programme", "PSS"] == ("Programmes", 3)
    assert rows["lot", "PSS2025_1"] == ("Lots", 4)
    assert rows["establishment", FORMATEUR_B] == ("Formateurs", 3)
    db.session.rollback()
    assert counts() == before


def test_import_creates_programmes_lots_and_unknown_establishments_without_accounts(app, write):
    result = commit(write(good_sheets()))
    assert result.status == "committed", result.plan.errors

    pe = db.session.scalars(select(Programme).where(Programme.code == "PE")).one()
    assert (pe.dispositif_code, pe.start_in_lot_year, pe.is_region, pe.publics) == (
        8,
        True,
        True,
        "demandeur d'emploi",
    )
    first = lot("PE2024_1")
    assert first.programme is pe
    assert (first.year, first.region_action_id, first.region_mandataire_id) == (2024, "2871", "75")
    assert first.places_ordered == 12 and first.fixed_recruitment_fee is False
    assert lot("PE2024_2").fixed_recruitment_fee is True
    assert first.mandataire.siret == MANDATAIRE
    assert sorted(e.siret for e in first.formateurs) == sorted([FORMATEUR_A, FORMATEUR_B])
    assert [e.siret for e in lot("PE2024_2").formateurs] == [FORMATEUR_A]
    assert lot("PSS2025_1").formateurs == []

    a = db.session.scalars(select(Establishment).where(Establishment.siret == FORMATEUR_A)).one()
    b = db.session.scalars(select(Establishment).where(Establishment.siret == FORMATEUR_B)).one()
    assert a.organisation is b.organisation  # one organisation from the shared SIREN
    assert a.organisation.siren == FORMATEUR_A[:9] and a.organisation.name == "FORMA"
    assert (a.name, b.name, b.postcode) == ("FORMA Nantes", "FORMA Angers", "49000")
    numbers = list(db.session.scalars(select(Establishment.sofi_number)))
    assert len(set(numbers)) == 4
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    run = db.session.get(ImportRun, result.run.id)
    assert run.status == "committed" and run.kind == "region"
    assert run.report["totals"]["create"] == 12
    # The creations are journaled like any other change.
    journaled = set(db.session.scalars(select(JournalEntry.record_type)))
    assert {"Programme", "Lot", "Organisation", "Establishment"} <= journaled


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_second_import_of_the_same_file_changes_nothing(app, write, fmt):
    paths = write(good_sheets(), fmt)
    assert commit(paths).status == "committed"
    before = counts()
    plan = region.plan_region(paths)
    assert plan.ok and not plan.has_changes
    assert plan.totals()["unchanged"] == 2 + 3 + 4
    result = commit(paths)
    assert result.status == "committed"
    after = counts()
    assert after == before  # not even a journal line


def test_csv_files_give_the_same_plan_as_the_workbook(app, write):
    xlsx = region.plan_region(write(good_sheets()))
    csv = region.plan_region(write(good_sheets(), "csv"))
    assert [c.as_dict() for c in csv.changes] == [c.as_dict() for c in xlsx.changes]


def test_headers_are_matched_whatever_their_case_accents_and_order(app, tmp_path):
    sheets = good_sheets()
    (tmp_path / "in").mkdir()
    files = region.write_csvs(tmp_path / "in", sheets)
    lots_csv = tmp_path / "in" / "lots.csv"
    text = lots_csv.read_text(encoding="utf-8").splitlines()
    text[0] = text[0].replace("code_lot", "Code lot").replace("annee", "Année")
    lots_csv.write_text("\n".join(text), encoding="cp1252")  # as Excel saves a French CSV
    renamed = tmp_path / "in" / "Region 2024 - LOTS.csv"
    lots_csv.rename(renamed)
    plan = region.plan_region([*(f for f in files if f.stem != "lots"), renamed])
    assert plan.ok, plan.errors
    assert plan.counts()["lot"] == {"create": 3}


def test_changed_lot_is_updated_field_by_field_and_its_formateurs_replaced(app, write):
    assert commit(write(good_sheets())).status == "committed"
    sheets = good_sheets()
    sheets["lots"][0]["intitule"] = "Lot 1 - Nouvel intitulé"
    sheets["lots"][0]["places_commandees"] = 15
    sheets["formateurs"] = [
        f
        for f in sheets["formateurs"]
        if not (f["code_lot"] == "PE2024_1" and f["siret"] == FORMATEUR_B)
    ] + [{"code_lot": "PE2024_1", **org(FORMATEUR_C, "SOIN")}]
    paths = write(sheets, name="v2.xlsx")
    plan = region.plan_region(paths)
    updates = [c for c in plan.changes if c.action == "update"]
    assert [(c.entity, c.key, c.row) for c in updates] == [("lot", "PE2024_1", 2)]
    fields = {f.label: (f.before, f.after) for f in updates[0].fields}
    assert fields["Intitulé"] == (
        "Lot 1 - Création-reprise en Loire-Atlantique Nord",
        "Lot 1 - Nouvel intitulé",
    )
    assert fields["Places commandées"] == ("12", "15")
    assert fields["Formateurs (SIRET)"][1] == ", ".join(sorted([FORMATEUR_A, FORMATEUR_C]))
    db.session.rollback()

    assert commit(paths).status == "committed"
    db.session.expire_all()
    first = lot("PE2024_1")
    assert first.title == "Lot 1 - Nouvel intitulé"
    assert sorted(e.siret for e in first.formateurs) == sorted([FORMATEUR_A, FORMATEUR_C])
    journal = db.session.scalars(
        select(JournalEntry).where(
            JournalEntry.record_type == "Lot", JournalEntry.operation == "update"
        )
    ).all()
    assert {(j.field, j.before, j.after) for j in journal} == {
        ("title", "Lot 1 - Création-reprise en Loire-Atlantique Nord", "Lot 1 - Nouvel intitulé"),
        ("places_ordered", "12", "15"),
    }
    assert not region.plan_region(paths).has_changes


def test_known_establishment_is_linked_and_left_as_the_organisation_keeps_it(
    app, write, make_establishment
):
    known = make_establishment(siret=MANDATAIRE, name="Nom tenu par l'OF", commune="Angers")
    plan = region.plan_region(write(good_sheets()))
    assert (
        next(c for c in plan.changes if c.key == MANDATAIRE).action,
        plan.counts()["establishment"],
    ) == ("unchanged", {"create": 3, "unchanged": 1})
    db.session.rollback()
    assert commit(write(good_sheets(), name="again.xlsx")).status == "committed"
    db.session.expire_all()
    assert lot("PE2024_1").mandataire_id == known.id
    assert (known.name, known.commune) == ("Nom tenu par l'OF", "Angers")


def test_lot_of_a_programme_known_only_in_the_database_is_accepted(app, write, make_programme):
    make_programme(code="1E1F", name="PROGRAMME REGION - 1 emploi = 1 formation")
    sheets = good_sheets()
    sheets["lots"].append(
        {"code_lot": "1E1F2026_3", "code_programme": "1E1F", "intitule": "Lot 3", "annee": 2026}
    )
    sheets["mandataires"].append({"code_lot": "1E1F2026_3", **org(MANDATAIRE, "MANDATAIRE SA")})
    result = commit(write(sheets))
    assert result.status == "committed", result.plan.errors
    assert lot("1E1F2026_3").programme.code == "1E1F"


def _drop_column(sheets, sheet, column):
    for record in sheets[sheet]:
        record.pop(column, None)


def _mutate(name):
    """Each bad file: (mutation, expected issue (sheet, row, column), message fragment)."""
    cases = {
        "unknown programme": (
            lambda s: s["lots"][1].update(code_programme="XX"),
            ("Lots", 3, "code_programme"),
            "Programme inconnu : XX",
        ),
        "invalid siret": (
            lambda s: s["formateurs"][1].update(siret=FORMATEUR_B[:-1] + "0"),
            ("Formateurs", 3, "siret"),
            "SIRET invalide",
        ),
        "short siret": (
            lambda s: s["mandataires"][2].update(siret="1234"),
            ("Mandataires", 4, "siret"),
            "14 chiffres",
        ),
        "duplicate lot code": (
            lambda s: s["lots"].append(dict(s["lots"][0])),
            ("Lots", 5, "code_lot"),
            "Code lot PE2024_1 en double (déjà ligne 2)",
        ),
        "duplicate programme": (
            lambda s: s["programmes"].append(dict(s["programmes"][0])),
            ("Programmes", 4, "code_programme"),
            "en double",
        ),
        "bad date": (
            lambda s: s["lots"][1].update(date_debut="31/02/2024"),
            ("Lots", 3, "date_debut"),
            "n'est pas une date valide",
        ),
        "end before start": (
            lambda s: s["lots"][0].update(date_fin=date(2023, 6, 1)),
            ("Lots", 2, "date_fin"),
            "antérieure",
        ),
        "bad year": (
            lambda s: s["lots"][2].update(annee="deux mille"),
            ("Lots", 4, "annee"),
            "n'est pas un nombre entier",
        ),
        "bad yes/no": (
            lambda s: s["lots"][0].update(forfait_recrutement="peut-être"),
            ("Lots", 2, "forfait_recrutement"),
            "oui/non",
        ),
        "missing value": (
            lambda s: s["lots"][0].update(intitule=None),
            ("Lots", 2, "intitule"),
            "Valeur obligatoire manquante",
        ),
        "too long": (
            lambda s: s["lots"][0].update(code_lot="L" * 31),
            ("Lots", 2, "code_lot"),
            "30 caractères au plus",
        ),
        "bad postcode": (
            lambda s: s["formateurs"][0].update(code_postal="44 00"),
            ("Formateurs", 2, "code_postal"),
            "code postal",
        ),
        "bad nda": (
            lambda s: s["formateurs"][0].update(nda="123"),
            ("Formateurs", 2, "nda"),
            "déclaration d'activité",
        ),
        "lot without mandataire": (
            lambda s: s["mandataires"].pop(2),
            ("Lots", 4, "code_lot"),
            "n'a pas de mandataire",
        ),
        "two mandataires": (
            lambda s: s["mandataires"].append({"code_lot": "PE2024_1", **org(FORMATEUR_C, "SOIN")}),
            ("Mandataires", 5, "code_lot"),
            "déjà un mandataire (ligne 2)",
        ),
        "unknown lot": (
            lambda s: s["formateurs"].append({"code_lot": "PE2099_9", **org(FORMATEUR_C, "SOIN")}),
            ("Formateurs", 5, "code_lot"),
            "Lot inconnu : PE2099_9",
        ),
        "duplicate formateur": (
            lambda s: s["formateurs"].append(dict(s["formateurs"][0])),
            ("Formateurs", 5, "siret"),
            "en double pour le lot PE2024_1",
        ),
        "conflicting description": (
            lambda s: s["formateurs"][2].update(adresse="99 autre rue"),
            ("Formateurs", 4, "siret"),
            "décrit autrement que feuille Formateurs, ligne 2",
        ),
        "conflicting organisation": (
            lambda s: s["formateurs"][1].update(raison_sociale="AUTRE NOM"),
            ("Formateurs", 3, "raison_sociale"),
            "raison sociale ou NDA différents",
        ),
        "missing column": (
            lambda s: _drop_column(s, "lots", "annee"),
            ("Lots", 1, None),
            "Colonne obligatoire absente : annee",
        ),
    }
    return cases[name]


BAD_FILES = [
    "unknown programme",
    "invalid siret",
    "short siret",
    "duplicate lot code",
    "duplicate programme",
    "bad date",
    "end before start",
    "bad year",
    "bad yes/no",
    "missing value",
    "too long",
    "bad postcode",
    "bad nda",
    "lot without mandataire",
    "two mandataires",
    "unknown lot",
    "duplicate formateur",
    "conflicting description",
    "conflicting organisation",
    "missing column",
]


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_row_is_reported_with_its_row_and_nothing_is_imported(app, write, case, tmp_path):
    mutation, (sheet, row, column), fragment = _mutate(case)
    sheets = copy.deepcopy(good_sheets())
    mutation(sheets)
    if case == "missing column":
        # write_xlsx writes every column: drop it from the CSV header instead.
        paths = write(sheets, "csv")
        lots_csv = next(p for p in paths if p.stem == "lots")
        lines = lots_csv.read_text(encoding="utf-8").splitlines()
        header = lines[0].split(";")
        at = header.index("annee")
        lots_csv.write_text(
            "\n".join(
                ";".join(c for i, c in enumerate(line.split(";")) if i != at) for line in lines
            ),
            encoding="utf-8",
        )
    else:
        paths = write(sheets)
    before = counts()
    result = commit(paths)
    assert result.status == "invalid"
    matching = [e for e in result.plan.errors if (e.sheet, e.row, e.column) == (sheet, row, column)]
    assert matching, [str(e) for e in result.plan.errors]
    assert fragment in matching[0].message
    after = counts()
    assert after == before  # not one of the good rows was written
    run = db.session.get(ImportRun, result.run.id)
    assert run.status == "failed" and run.report["error_count"] >= 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("code_lot;annee\n"), "n'est pas un classeur Excel"),
        (lambda p: p.write_bytes(b"PK\x03\x04 broken zip"), "n'est pas un classeur Excel"),
    ],
)
def test_file_that_is_not_a_workbook_is_refused(app, tmp_path, make, message):
    path = tmp_path / "region.xlsx"
    make(path)
    plan = region.plan_region([path])
    assert [e.message for e in plan.errors] == [
        "Le fichier n'est pas un classeur Excel (XLSX) valide."
    ]
    assert message in plan.errors[0].message


def test_missing_sheet_is_reported(app, write, tmp_path):
    paths = write(good_sheets(), "csv")
    plan = region.plan_region([p for p in paths if p.stem != "formateurs"])
    assert [str(e) for e in plan.errors] == ["Feuille « Formateurs » absente du fichier."]


def test_csv_with_an_unknown_name_is_refused(app, write, tmp_path):
    paths = write(good_sheets(), "csv")
    other = tmp_path / "csv" / "divers.csv"
    other.write_text("a;b\n1;2\n", encoding="utf-8")
    plan = region.plan_region([*paths, other])
    assert any("divers.csv non reconnu" in e.message for e in plan.errors)


def test_spreadsheet_numbers_lose_no_leading_zero(app, write):
    sheets = good_sheets()
    sheets["formateurs"][0]["code_postal"] = 1000  # typed as a number: 01000
    sheets["formateurs"][2]["code_postal"] = 1000
    sheets["mandataires"][0]["siret"] = int(MANDATAIRE)
    sheets["mandataires"][1]["siret"] = int(MANDATAIRE)
    assert commit(write(sheets)).status == "committed"
    a = db.session.scalars(select(Establishment).where(Establishment.siret == FORMATEUR_A)).one()
    assert a.postcode == "01000"


def test_failure_while_writing_rolls_everything_back(app, write):
    def explode(plan):
        region.apply_region(plan)  # everything flushed…
        raise RuntimeError("disk full")  # …then a failure: nothing may remain

    kind = ImportKind("region", "Région", "", region.EXTENSIONS, KINDS["region"].plan, explode)
    before = counts()
    result = commit_import(kind, write(good_sheets()))
    assert result.status == "failed"
    assert "Rien n'a été enregistré" in result.message
    assert counts() == before
    run = db.session.get(ImportRun, result.run.id)
    assert run.status == "failed"


def test_template_workbook_has_every_sheet_and_column(app, tmp_path):
    path = tmp_path / "modele.xlsx"
    region.write_xlsx(path, {})
    tables, errors = region.read_tables([path])
    assert not errors
    assert {k: t.headers for k, t in tables.items()} == {
        s.key: [c.name for c in s.columns] for s in region.SHEETS
    }
    plan = region.plan_region([path])
    assert [e.message for e in plan.errors] == ["Le fichier ne contient ni programme ni lot."]


# The workbook reader -------------------------------------------------------------------------

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
EXCEL_LIKE_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override '
        'PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0"?><workbook {_NS} {_R}><sheets><sheet name="Lots" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/sharedStrings" '
        f'Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{_REL}/styles" '
        'Target="styles.xml"/></Relationships>'
    ),
    "xl/sharedStrings.xml": (
        f'<?xml version="1.0"?><sst {_NS} count="4" uniqueCount="4"><si><t>code_lot</t></si>'
        "<si><t>annee</t></si><si><r><t>PE2024</t></r><r><rPr><b/></rPr><t>_8</t></r>"
        '<rPh sb="0" eb="1"><t>ふりがな</t></rPh></si>'
        '<si><t xml:space="preserve"> Lot 8 </t></si></sst>'
    ),
    "xl/styles.xml": (
        f'<?xml version="1.0"?><styleSheet {_NS}><numFmts count="1"><numFmt numFmtId="164" '
        'formatCode="dd/mm/yyyy"/></numFmts><fonts count="1"><font/></fonts><fills count="1">'
        '<fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/>'
        '</cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" '
        'applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>'
        "</styleSheet>"
    ),
    "xl/worksheets/sheet1.xml": (
        f'<?xml version="1.0"?><worksheet {_NS}><dimension ref="A1:B1"/><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="D1" t="inlineStr"><is><t>intitule</t></is></c></row>'
        '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3"><v>2024</v></c>'
        '<c r="C3" s="1"><v>45292</v></c><c r="D3" t="s"><v>3</v></c>'
        '<c r="E3" s="2"><v>45657.5</v></c><c r="F3" t="b"><v>1</v></c>'
        '<c r="G3" t="e"><v>#N/A</v></c><c r="H3" t="str"><f>A3&amp;"x"</f><v>PE2024_8x</v>'
        '</c><c r="I3"><v>12.5</v></c></row>'
        '<row><c><v>7</v></c><c t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c>'
        "</row></sheetData></worksheet>"
    ),
}


def test_fast_reader_reads_an_excel_workbook_as_openpyxl_does(tmp_path):
    import zipfile

    from portal.imports import common

    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in EXCEL_LIKE_PARTS.items():
            archive.writestr(name, content)
    fast = common.read_xlsx_tables(path)
    slow = common._read_xlsx_openpyxl(path)
    assert [(t.name, t.headers, t.rows) for t in fast] == [
        (t.name, t.headers, t.rows) for t in slow
    ]
    table = fast[0]
    assert table.headers == ["code_lot", "annee", "", "intitule"]
    assert table.rows[0] == (
        3,
        [
            "PE2024_8",
            2024,
            date(2024, 1, 1),
            "Lot 8",
            datetime(2024, 12, 31, 12, 0),
            True,
            "#N/A",
            "PE2024_8x",
            12.5,
        ],
    )
    assert table.rows[1] == (4, [7, "ab", None, None])


def test_workbook_that_expands_too_much_is_refused(tmp_path, monkeypatch):
    from portal.imports import common

    monkeypatch.setattr(common, "MAX_XLSX_EXPANDED", 1000)
    path = tmp_path / "bomb.xlsx"
    region.write_xlsx(path, good_sheets())
    with pytest.raises(common.ImportFileError, match="trop volumineux"):
        common.read_xlsx_tables(path)


def test_the_documentation_lists_every_column():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "region-file.md").read_text("utf-8")
    for spec in region.SHEETS:
        assert f"### {spec.title}" in doc
        for column in spec.columns:
            assert f"`{column.name}`" in doc, column.name


def test_ids_taken_by_the_import_do_not_collide_with_later_records(app, write, make_establishment):
    assert commit(write(good_sheets())).status == "committed"
    later = make_establishment()  # an ordinary insert: the id sequence moved past the import's
    assert later.id > max(
        db.session.scalars(select(Establishment.id).where(Establishment.id != later.id))
    )
