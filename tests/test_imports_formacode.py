"""Formacode import from the Centre Inffo CSV export (portal.imports.formacode), directly."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.imports import formacode
from portal.imports.runner import KINDS, commit_import
from portal.models import Formacode

# Lines in the export's layout (15 fields; public descriptors have only 4).
GOOD = [
    "11001;THEORIE GRAPHES;théorie graphes;DOM;110 MATHEMATIQUES;;11022 RECHERCHE OPERATIONNELLE"
    ";;31672 PERT;Branche des mathématiques.;;;114 Mathématiques;;11001 THEORIE GRAPHES",
    "32047;CREATION ENTREPRISE;création entreprise;DOM;320 DIRECTION ENTREPRISE;création PME"
    ";32054 DIRECTION ENTREPRISE;;13250 CONSTITUTION SOCIETE;;;;310 Spécialités;;32047 CREATION",
    "80018;FEMME;femme;PUB",
    "15099;OUTILS;;OUT$ADM$AIR$AIS$DIS$FON$MAT$MOD$PUB$RYT$VAL;150 DEVELOPPEMENT",
]


@pytest.fixture
def formacode_file(tmp_path):
    def write(*lines: str, encoding: str = "utf-8"):
        path = tmp_path / "formacode.csv"
        path.write_text("\n".join(lines) + "\n", encoding=encoding)
        return path

    return write


def stored() -> dict[str, tuple]:
    return {
        f.code: (f.label, f.version, f.field, f.descriptor_type)
        for f in db.session.scalars(select(Formacode))
    }


def test_import_keeps_code_label_type_field_and_the_given_version(app, formacode_file):
    path = formacode_file(*GOOD)
    result = commit_import(KINDS["formacode"], [path], {"version": "V14"})
    assert result.status == "committed", result.plan.errors
    assert stored() == {
        "11001": ("théorie graphes", "V14", "110 MATHEMATIQUES", "DOM"),
        "32047": ("création entreprise", "V14", "320 DIRECTION ENTREPRISE", "DOM"),
        "80018": ("femme", "V14", None, "PUB"),
        # No libellé: the DESCRIPTEUR; the long type keeps the whole sub-types that fit.
        "15099": ("OUTILS", "V14", "150 DEVELOPPEMENT", "OUT$ADM$AIR$AIS$DIS"),
    }
    assert [(w.row, w.column) for w in result.plan.warnings] == [(4, "4")]
    assert result.run.report["options"] == {"version": "V14"}


def test_second_import_changes_nothing_and_a_new_version_updates_every_code(app, formacode_file):
    path = formacode_file(*GOOD)
    assert commit_import(KINDS["formacode"], [path], {"version": "V14"}).status == "committed"
    same = formacode.plan_formacode(path, "V14")
    assert same.ok and not same.has_changes
    newer = formacode.plan_formacode(path, "v15")
    assert newer.counts() == {"formacode": {"update": 4}}
    assert tuple(newer.changes[0].fields[0]) == ("Version", "V14", "V15")


def test_codes_absent_from_the_file_are_kept_with_a_warning(app, formacode_file):
    db.session.add(Formacode(code="99999", label="ancien", version="V12"))
    db.session.commit()
    result = commit_import(KINDS["formacode"], [formacode_file(*GOOD[:1])], {"version": "V14"})
    assert result.status == "committed"
    assert "1 Formacode(s) de la base absent(s) du fichier" in result.plan.warnings[0].message
    assert "99999" in stored()


def test_windows_1252_export_is_read(app, formacode_file):
    plan = formacode.plan_formacode(formacode_file(GOOD[0], encoding="cp1252"), "V14")
    assert plan.changes[0].label == "théorie graphes"


@pytest.mark.parametrize(
    ("lines", "row", "message"),
    [
        (["1100A;X;x;DOM"], 2, "n'est pas un Formacode (5 chiffres)"),
        (["110;X;x;DOM"], 2, "n'est pas un Formacode"),
        (["11002;X"], 2, "2 champ(s)"),
        ([GOOD[0]], 2, "Formacode 11001 en double (déjà ligne 1)"),
        (["11003;;;DOM"], 2, "Le libellé est vide"),
        (["11004;X;" + "y" * 251 + ";DOM"], 2, "libellé : 250 caractères au plus"),
    ],
)
def test_bad_line_is_refused_with_its_number_and_nothing_is_written(
    app, formacode_file, lines, row, message
):
    result = commit_import(
        KINDS["formacode"], [formacode_file(GOOD[0], *lines)], {"version": "V14"}
    )
    assert result.status == "invalid"
    assert [(e.row, message in e.message) for e in result.plan.errors] == [(row, True)]
    assert db.session.scalar(select(func.count()).select_from(Formacode)) == 0


@pytest.mark.parametrize("version", ["", "14", "V", "version 14", "V1234"])
def test_version_must_look_like_v14(app, formacode_file, version):
    plan = formacode.plan_formacode(formacode_file(*GOOD), version)
    assert [e.message for e in plan.errors] == [
        "Version attendue sous la forme V suivi du numéro, par exemple V14."
    ]


def test_empty_file_is_refused(app, formacode_file):
    plan = formacode.plan_formacode(formacode_file(""), "V14")
    assert [e.message for e in plan.errors] == ["Le fichier ne contient aucun Formacode."]
