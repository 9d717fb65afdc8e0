"""The import commands (portal.imports.cli) share the planners and the all-or-nothing commit."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from portal.extensions import db
from portal.imports import region
from portal.models import Certification, Formacode, ImportRun, Lot

from .test_imports_region import good_sheets


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_region_previews_unless_commit_is_given(app, tmp_path):
    path = tmp_path / "region.xlsx"
    region.write_xlsx(path, good_sheets())
    runner = app.test_cli_runner()
    preview = runner.invoke(args=["import-region", str(path)])
    assert preview.exit_code == 0, preview.output
    assert "Lots — créations : 3" in preview.output
    assert "Aperçu seulement, rien n'a été enregistré" in preview.output
    assert count(Lot) == 0
    done = runner.invoke(args=["import-region", str(path), "--commit"])
    assert done.exit_code == 0, done.output
    assert count(Lot) == 3
    again = runner.invoke(args=["import-region", str(path), "--commit"])
    assert "Lots — sans changement : 3" in again.output
    assert [r.status for r in db.session.scalars(select(ImportRun))] == ["committed"] * 2


def test_import_region_accepts_the_csv_directory(app, tmp_path):
    region.write_csvs(tmp_path / "csv", good_sheets())
    result = app.test_cli_runner().invoke(args=["import-region", str(tmp_path / "csv"), "--commit"])
    assert result.exit_code == 0, result.output
    assert count(Lot) == 3


def test_bad_region_file_exits_1_with_row_numbered_errors(app, tmp_path):
    sheets = good_sheets()
    sheets["lots"][2]["annee"] = "2O25"
    path = tmp_path / "region.xlsx"
    region.write_xlsx(path, sheets)
    result = app.test_cli_runner().invoke(args=["import-region", str(path), "--commit"])
    assert result.exit_code == 1
    assert "Erreur : Feuille Lots, ligne 4, colonne annee" in result.output
    assert count(Lot) == 0
    assert db.session.scalars(select(ImportRun.status)).all() == ["failed"]


def test_import_certifinfo_and_succession(app, tmp_path):
    register = tmp_path / "certifinfo.json"
    register.write_text(
        json.dumps(
            {
                "type999": {"parent": "niveau9", "text": "Autre"},
                "1001": {"parent": "type999", "text": "Ancien (1001)"},
                "1002": {"parent": "type999", "text": "Nouveau (1002)"},
            }
        ),
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-certifinfo", str(register)])
    assert result.exit_code == 0, result.output
    assert "Import enregistré" in result.output and count(Certification) == 2
    chain = tmp_path / "chainage.csv"
    chain.write_text("cer3_code;a;b;cer3_codenew;c;d\n1001;A;3;1002;B;3\n", encoding="utf-8")
    dry = runner.invoke(args=["import-succession", str(chain), "--dry-run"])
    assert "Codes Certif Info — archivages : 1" in dry.output
    assert (
        db.session.scalar(select(Certification.archived).where(Certification.code == "1001"))
        is False
    )
    applied = runner.invoke(args=["import-succession", str(chain)])
    assert applied.exit_code == 0, applied.output
    assert db.session.scalar(select(Certification.archived).where(Certification.code == "1001"))


def test_import_formacode_needs_a_valid_version(app, tmp_path):
    path = tmp_path / "fc.csv"
    path.write_text("11001;X;théorie graphes;DOM;110 MATHS\n", encoding="utf-8")
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["import-formacode", str(path), "--version", "14"])
    assert bad.exit_code == 2 and "Version attendue" in bad.output
    good = runner.invoke(args=["import-formacode", str(path), "--version", "v14"])
    assert good.exit_code == 0, good.output
    assert db.session.scalar(select(Formacode.version)) == "V14"
