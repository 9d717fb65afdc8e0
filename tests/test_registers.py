"""The Référentiels pages: upload → preview → confirm, run reports, Certif Info replacement."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.imports import region
from portal.models import Certification, Formation, ImportRun, Lot, Programme
from portal.search.filters import dashboard_counts

from .test_imports_region import good_sheets
from .urls import expand, method_of, url_map_app


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    """Uploads go to a temporary folder, not the repository's instance/."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "IMPORT_UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture
def carif(auth, carif_user):
    auth.login(carif_user)
    return carif_user


def xlsx_bytes(sheets) -> bytes:
    buffer = io.BytesIO()
    region.write_xlsx(buffer, sheets)
    return buffer.getvalue()


def upload(client, slug, *files, **data):
    """POST files given as (name, bytes) to the upload form."""
    payload = {"files": [(io.BytesIO(content), name) for name, content in files], **data}
    return client.post(
        f"/referentiels/imports/{slug}", data=payload, content_type="multipart/form-data"
    )


def token_of(response) -> str:
    match = re.search(r"/apercu/([A-Za-z0-9_-]{32})$", response.location)
    assert match, response.location
    return match.group(1)


def text(response) -> str:
    """The page as a reader sees it: Jinja escapes apostrophes (d&#39;extraction)."""
    return html.unescape(response.text)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Access ---------------------------------------------------------------------------------------


def _registers_rules():
    app = url_map_app()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("registers."):
            with app.test_request_context():
                for path, _ in expand(rule):
                    yield pytest.param(method_of(rule), path, id=f"{method_of(rule)} {path}")


REGISTERS_RULES = list(_registers_rules())


def test_every_import_page_is_covered():
    assert len(REGISTERS_RULES) >= 12


@pytest.mark.parametrize(("method", "path"), REGISTERS_RULES)
def test_anonymous_visitor_is_sent_to_login(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.location.startswith("/connexion?next=")


@pytest.mark.parametrize(("method", "path"), REGISTERS_RULES)
def test_of_user_gets_403(client, auth, of_user, method, path):
    auth.login(of_user[0])
    response = client.open(path, method=method)
    assert response.status_code == 403
    assert "Accès refusé" in text(response)


# Pages ----------------------------------------------------------------------------------------


def test_index_lists_imports_and_recent_runs(client, carif):
    db.session.add(
        ImportRun(
            kind="certifinfo",
            filename="certifinfo.json",
            started_at=date(2024, 5, 2),
            status="committed",
            report={},
            message="3 créations",
        )
    )
    db.session.commit()
    response = client.get("/referentiels/")
    assert response.status_code == 200
    for title in ("Fichier d'extraction de la Région", "Registre Certif Info", "Formacode"):
        assert title in text(response)
    assert "certifinfo.json" in text(response) and "3 créations" in text(response)


@pytest.mark.parametrize("slug", ["region", "certifinfo", "succession", "formacode"])
def test_upload_form_renders(client, carif, slug):
    response = client.get(f"/referentiels/imports/{slug}")
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in text(response)
    assert ("Version du Formacode" in text(response)) is (slug == "formacode")
    assert ("mandataires.csv" in text(response)) is (slug == "region")


def test_region_template_downloads_as_a_workbook_of_four_sheets(client, carif):
    response = client.get("/referentiels/imports/region/modele.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert workbook.sheetnames == ["Programmes", "Lots", "Mandataires", "Formateurs", "Lisez-moi"]
    workbook.close()


# Refused uploads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "files", "message"),
    [
        ("region", [], "Choisissez un fichier à importer."),
        ("region", [("region.ods", b"PK\x03\x04")], "Format non accepté : region.ods"),
        ("region", [("region.xlsx", b"code;lot\n")], "n'est pas un classeur Excel (XLSX)"),
        ("region", [("region.xlsx", b"")], "est vide"),
        (
            "region",
            [("region.xlsx", b"PK\x03\x04"), ("lots.csv", b"a;b\n")],
            "pas les deux",
        ),
        ("region", [("divers.csv", b"a;b\n")], "Fichier divers.csv non reconnu"),
        ("region", [("lots.csv", b"a\n"), ("LOTS.csv", b"a\n")], "Deux fichiers pour la feuille"),
        ("certifinfo", [("a.json", b"{}"), ("b.json", b"{}")], "Un seul fichier à la fois."),
        ("certifinfo", [("register.exe", b"MZ")], "Formats acceptés : .json"),
        ("succession", [("s.csv", b"\x00\x01\x02")], "n'est pas un fichier texte"),
    ],
)
def test_refused_upload_answers_422_with_a_french_message(
    client, carif, upload_dir, slug, files, message
):
    response = upload(client, slug, *files)
    assert response.status_code == 422
    assert message in text(response)
    assert not any(upload_dir.glob("*/meta.json"))  # nothing kept


def test_formacode_needs_a_valid_version(client, carif):
    response = upload(client, "formacode", ("fc.csv", b"11001;X;x;DOM\n"), version="14")
    assert response.status_code == 422
    assert "Version attendue sous la forme V" in text(response)


def test_file_over_the_size_limit_answers_413(app, client, carif, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = upload(client, "region", ("region.xlsx", b"PK\x03\x04" + b"0" * 4096))
    assert response.status_code == 413
    assert "Fichier trop volumineux" in text(response)


# The Region file through HTTP -----------------------------------------------------------------


def test_region_upload_preview_and_commit(client, carif, upload_dir):
    response = upload(client, "region", ("Extraction région 2024.xlsx", xlsx_bytes(good_sheets())))
    assert response.status_code == 303
    token = token_of(response)
    assert (upload_dir / token / "region.xlsx").exists()

    preview = client.get(response.location)
    assert preview.status_code == 200
    assert "Confirmer l'import" in text(preview)
    assert 'data-entity="lot"' in text(preview) and "PSS2025_1" in text(preview)
    assert "Lots · ligne 4" in text(preview)  # the row of PSS2025_1
    assert count(Lot) == 0  # a preview writes nothing

    done = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert done.status_code == 303
    run = db.session.scalars(select(ImportRun)).one()
    assert done.location == f"/referentiels/imports/historique/{run.id}"
    assert (run.status, run.user_id, run.filename) == (
        "committed",
        carif.id,
        "Extraction région 2024.xlsx",
    )
    assert count(Lot) == 3 and count(Programme) == 2
    assert not (upload_dir / token).exists()  # deleted after commit
    report = client.get(done.location)
    assert report.status_code == 200
    assert "Import enregistré" in text(report) and "PE2024_1" in text(report)


def test_region_csv_files_upload_together(client, carif, tmp_path):
    paths = region.write_csvs(tmp_path / "csv", good_sheets())
    files = [(f"region_{p.name}", p.read_bytes()) for p in paths]
    response = upload(client, "region", *files)
    assert response.status_code == 303
    preview = client.get(response.location)
    assert preview.status_code == 200 and "Confirmer l'import" in text(preview)


def test_second_upload_of_the_same_file_has_nothing_to_confirm(client, carif):
    content = xlsx_bytes(good_sheets())
    first = token_of(upload(client, "region", ("r.xlsx", content)))
    client.get(f"/referentiels/imports/region/apercu/{first}")
    client.post("/referentiels/imports/region/confirmer", data={"token": first})
    again = client.get(upload(client, "region", ("r.xlsx", content)).location)
    assert again.status_code == 200
    assert "Rien à importer : les données sont déjà à jour." in text(again)
    assert "Confirmer l'import" not in text(again)


def test_file_with_errors_cannot_be_committed(client, carif):
    sheets = good_sheets()
    sheets["lots"][1]["code_programme"] = "XX"
    sheets["formateurs"][0]["siret"] = "12345678901234"
    token = token_of(upload(client, "region", ("r.xlsx", xlsx_bytes(sheets))))
    preview = client.get(f"/referentiels/imports/region/apercu/{token}")
    assert preview.status_code == 422
    assert "rien ne sera importé" in text(preview)
    assert "Confirmer l'import" not in text(preview)
    assert "Programme inconnu : XX" in text(preview) and "SIRET invalide" in text(preview)
    forced = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert forced.status_code == 422
    assert count(Lot) == 0 and count(Programme) == 0
    assert db.session.scalars(select(ImportRun.status)).all() == ["failed"]


def test_confirming_twice_answers_409_the_second_time(client, carif):
    token = token_of(upload(client, "region", ("r.xlsx", xlsx_bytes(good_sheets()))))
    client.get(f"/referentiels/imports/region/apercu/{token}")
    assert (
        client.post("/referentiels/imports/region/confirmer", data={"token": token}).status_code
        == 303
    )
    second = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert second.status_code == 409
    assert "déjà été importé ou a expiré" in text(second)
    assert db.session.scalar(select(func.count()).select_from(ImportRun)) == 1


def test_changes_since_the_preview_are_shown_before_anything_is_written(
    client, carif, make_programme
):
    token = token_of(upload(client, "region", ("r.xlsx", xlsx_bytes(good_sheets()))))
    client.get(f"/referentiels/imports/region/apercu/{token}")
    make_programme(code="PE", name="Changé entre-temps")  # someone else imports or edits
    conflict = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert conflict.status_code == 409
    assert "Les données ont changé depuis l'aperçu" in text(conflict)
    assert count(Lot) == 0
    # The new preview is the one confirmed next.
    again = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert again.status_code == 303
    assert count(Lot) == 3


def test_commit_without_a_preview_shows_the_preview_first(client, carif):
    token = token_of(upload(client, "region", ("r.xlsx", xlsx_bytes(good_sheets()))))
    response = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert response.status_code == 409
    assert count(Lot) == 0


@pytest.mark.parametrize("token", ["", "short", "../../etc/passwd" + "x" * 16, "a" * 31 + "!"])
def test_malformed_token_answers_400(client, carif, token):
    response = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert response.status_code == 400


def test_preview_url_with_a_malformed_token_answers_404(client, carif):
    assert client.get("/referentiels/imports/region/apercu/x").status_code == 404


def test_another_users_upload_cannot_be_seen_or_committed(client, auth, carif, make_user):
    token = token_of(upload(client, "region", ("r.xlsx", xlsx_bytes(good_sheets()))))
    client.get(f"/referentiels/imports/region/apercu/{token}")
    auth.logout()
    auth.login(make_user(role="carif"))
    assert client.get(f"/referentiels/imports/region/apercu/{token}").status_code == 409
    response = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert response.status_code == 409
    assert count(Lot) == 0


def test_token_of_another_kind_is_not_accepted(client, carif):
    token = token_of(upload(client, "region", ("r.xlsx", xlsx_bytes(good_sheets()))))
    assert client.get(f"/referentiels/imports/certifinfo/apercu/{token}").status_code == 409


# Certif Info, successions and Formacode through HTTP ------------------------------------------


def _commit(client, slug, *files, **data) -> None:
    response = upload(client, slug, *files, **data)
    assert response.status_code == 303, response.text
    token = token_of(response)
    preview = client.get(response.location)
    assert preview.status_code == 200, preview.text
    done = client.post(f"/referentiels/imports/{slug}/confirmer", data={"token": token})
    assert done.status_code == 303


def test_certifinfo_register_import(client, carif):
    tree = {
        "niveau9": {"parent": "#", "text": "Sans niveau spécifique"},
        "type999": {"parent": "niveau9", "text": "Autre certification sans niveau spécifique"},
        "93561": {"parent": "type999", "text": "Actions de formation (93561)"},
    }
    _commit(client, "certifinfo", ("certifinfo.json", json.dumps(tree).encode()))
    assert db.session.scalars(select(Certification.title)).all() == ["Actions de formation"]


def test_formacode_import_with_its_version(client, carif):
    _commit(
        client, "formacode", ("fc.csv", "11001;X;théorie;DOM;110 MATHS\n".encode()), version="v14"
    )
    run = db.session.scalars(select(ImportRun)).one()
    assert run.report["options"] == {"version": "V14"}


def test_succession_import_replaces_formations_and_counts_them_on_the_dashboard(
    client, carif, make_certification, make_establishment, make_formation, make_action
):
    old = make_certification(code="54913")
    new = make_certification(code="93561")
    est = make_establishment()
    formation = make_formation(est, has_certif_info=True, certification_id=old.id)
    make_action(formation)
    _commit(client, "succession", ("chainage.csv", b"cer3_code;x;y;z;w;v\n54913;A;3;93561;B;3\n"))
    db.session.expire_all()
    assert formation.certification_id == new.id and formation.certif_replaced_from == "54913"
    counts = dashboard_counts(est.id, date.today())
    assert counts["actions"]["certifinfo-remplace"] == 1


# One-by-one replacement -----------------------------------------------------------------------


@pytest.fixture
def archived_formation(make_certification, make_establishment, make_formation, make_action):
    old = make_certification(code="54913", archived=True, replaced_by_code="93561")
    new = make_certification(code="93561", title="Créateurs et repreneurs d'entreprise")
    est = make_establishment()
    formation = make_formation(est, has_certif_info=True, certification_id=old.id)
    make_action(formation)
    return formation, old, new


def test_replacements_page_lists_formations_of_archived_codes(client, carif, archived_formation):
    formation, _, _ = archived_formation
    response = client.get("/referentiels/certifinfo/remplacements")
    assert response.status_code == 200
    assert f'id="recode-{formation.id}"' in text(response)
    assert 'value="93561"' in text(response)  # the successor, suggested


def test_replace_from_the_row_answers_the_row_with_a_toast(client, carif, hx, archived_formation):
    formation, _, new = archived_formation
    response = client.post(
        f"/referentiels/formations/{formation.id}/certifinfo",
        data={f"f{formation.id}-code": "93561"},
        headers=hx,
    )
    assert response.status_code == 200
    assert "Remplacé par <b>93561</b>" in text(response)
    assert "saved" in response.headers["HX-Trigger"]
    db.session.expire_all()
    assert formation.certification_id == new.id and formation.certif_replaced_at is not None
    assert (
        dashboard_counts(formation.establishment_id, date.today())["actions"]["certifinfo-remplace"]
        == 1
    )


def test_replace_with_a_bad_code_answers_422_inline(client, carif, hx, archived_formation):
    formation, old, _ = archived_formation
    response = client.post(
        f"/referentiels/formations/{formation.id}/certifinfo",
        data={f"f{formation.id}-code": "54913"},
        headers=hx,
    )
    assert response.status_code == 422
    assert "est archivé" in text(response) and "<html" not in text(response)
    db.session.expire_all()
    assert formation.certification_id == old.id


def test_replace_without_htmx_redirects_with_a_message(client, carif, archived_formation):
    formation, _, _ = archived_formation
    response = client.post(
        f"/referentiels/formations/{formation.id}/certifinfo",
        data={f"f{formation.id}-code": "93561"},
    )
    assert response.status_code == 303
    page = client.get(response.location)
    assert f"Formation {formation.id} : code Certif Info 54913 remplacé par 93561." in text(page)


def test_replace_by_formation_number(
    client, carif, make_certification, make_establishment, make_formation
):
    current = make_certification(code="1001")
    make_certification(code="1002")
    formation = make_formation(
        make_establishment(), has_certif_info=True, certification_id=current.id
    )
    bad = client.post(
        "/referentiels/certifinfo/remplacements", data={"formation_id": "999999", "code": "1002"}
    )
    assert bad.status_code == 422 and "Formation 999999 introuvable." in text(bad)
    good = client.post(
        "/referentiels/certifinfo/remplacements",
        data={"formation_id": str(formation.id), "code": "1002"},
    )
    assert good.status_code == 303
    db.session.expire_all()
    assert formation.certif_replaced_from == "1001"
    assert db.session.get(Formation, formation.id).certification.code == "1002"


def test_unknown_formation_row_answers_404(client, carif):
    response = client.post("/referentiels/formations/999999/certifinfo", data={"f999999-code": "1"})
    assert response.status_code == 404


def test_commit_rolled_back_by_a_concurrent_write_answers_409_and_can_be_retried(
    client, carif, monkeypatch
):
    from dataclasses import replace

    from sqlalchemy.exc import IntegrityError

    from portal.imports.runner import KINDS

    def collide(plan):
        region.apply_region(plan)
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    token = token_of(upload(client, "region", ("r.xlsx", xlsx_bytes(good_sheets()))))
    client.get(f"/referentiels/imports/region/apercu/{token}")
    original = KINDS["region"]
    monkeypatch.setitem(KINDS, "region", replace(original, apply=collide))
    response = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert response.status_code == 409
    assert "modifiées en même temps" in text(response)
    assert count(Lot) == 0
    monkeypatch.setitem(KINDS, "region", original)
    retry = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert retry.status_code == 303, text(retry)
    assert count(Lot) == 3


def test_of_user_sees_the_replacement_notice_on_the_fiche_formation(
    client, auth, carif_user, of_user, make_certification, make_formation, make_action
):
    user, establishment, _, _ = of_user
    old = make_certification(code="54913", archived=True, replaced_by_code="93561")
    make_certification(code="93561")
    formation = make_formation(establishment, has_certif_info=True, certification_id=old.id)
    make_action(formation)
    auth.login(carif_user)
    client.post(
        f"/referentiels/formations/{formation.id}/certifinfo",
        data={f"f{formation.id}-code": "93561"},
    )
    auth.logout()
    auth.login(user)
    auth.switch(establishment)
    page = client.get(f"/formations/{formation.id}")
    assert page.status_code == 200
    assert (
        "Le code Certif Info de cette formation a été remplacé par le CARIF-OREF "
        "(ancien code 54913)" in text(page)
    )
