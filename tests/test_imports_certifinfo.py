"""Certif Info register, code successions and code replacement (portal.imports), directly."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.imports import certifinfo, succession
from portal.imports.replacement import ReplacementError, find_replacement, replace_certification
from portal.imports.runner import KINDS, commit_import
from portal.models import Certification, CertificationBloc, Formation, ImportRun, JournalEntry
from portal.search.filters import dashboard_counts

SHARED_REGISTER = (
    Path(__file__).resolve().parents[2]
    / "shared/reference/datasets/certifinfo/certifinfo-trefle-2020.json"
)


def tree(**codes) -> dict:
    """A register tree: two levels, two types, and ``code=(title, type)`` entries."""
    nodes = {
        "niveau4": {"parent": "#", "text": "Niveau IV (Bac)"},
        "niveau9": {"parent": "#", "text": "Sans niveau spécifique"},
        "type461": {"parent": "niveau4", "text": "Titre professionnel de niveau 4"},
        "type999": {"parent": "niveau9", "text": "Autre certification sans niveau spécifique"},
    }
    for code, (title, type_) in codes.items():
        nodes[code.lstrip("c")] = {"parent": type_, "text": f"{title} ({code.lstrip('c')})"}
    return nodes


@pytest.fixture
def register_file(tmp_path):
    def write(content) -> Path:
        path = tmp_path / "certifinfo.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
        return path

    return write


def certification(code: str) -> Certification:
    return db.session.scalars(select(Certification).where(Certification.code == code)).one()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Register -------------------------------------------------------------------------------------


def test_register_import_creates_codes_with_type_and_level(app, register_file):
    path = register_file(
        tree(
            c93561=("Actions de formation dispensées aux créateurs", "type999"),
            c81506=("Titre professionnel assistant ressources humaines", "type461"),
        )
    )
    plan = certifinfo.plan_register(path)
    assert plan.counts() == {"certification": {"create": 2}}
    result = commit_import(KINDS["certifinfo"], [path])
    assert result.status == "committed"
    arh = certification("81506")
    assert (arh.title, arh.type_code, arh.type_label, arh.exit_level) == (
        "Titre professionnel assistant ressources humaines",
        "type461",
        "Titre professionnel de niveau 4",
        "14",
    )
    assert certification("93561").exit_level == "1"
    assert db.session.get(ImportRun, result.run.id).report["totals"]["create"] == 2


def test_register_import_twice_changes_nothing(app, register_file):
    path = register_file(tree(c93561=("Créateurs", "type999"), c81506=("ARH", "type461")))
    assert commit_import(KINDS["certifinfo"], [path]).status == "committed"
    plan = certifinfo.plan_register(path)
    assert plan.ok and not plan.has_changes
    assert plan.totals()["unchanged"] == 2


def test_register_updates_archives_and_restores_codes(app, register_file, make_certification):
    make_certification(code="1001", title="Ancien intitulé", type_code="type999")
    make_certification(code="1002", title="Retiré du registre")
    make_certification(code="1003", title="Revenu", archived=True)
    make_certification(code="1004", title="Remplacé", archived=True, replaced_by_code="1001")
    make_certification(code="1005", title="Déjà archivé", archived=True)
    path = register_file(
        tree(
            c1001=("Nouvel intitulé", "type999"),
            c1003=("Revenu", "type999"),
            c1004=("Remplacé", "type999"),
        )
    )
    plan = certifinfo.plan_register(path)
    by_code = {c.key: c for c in plan.changes}
    assert by_code["1001"].action == "update"
    assert [tuple(f) for f in by_code["1001"].fields] == [
        ("Intitulé", "Ancien intitulé", "Nouvel intitulé")
    ]
    assert by_code["1002"].action == "archive"
    assert by_code["1003"].action == "update"  # back in the register: restored
    assert by_code["1004"].action == "unchanged"  # a succession replaced it: stays archived
    assert "1005" not in by_code
    db.session.rollback()
    assert commit_import(KINDS["certifinfo"], [path]).status == "committed"
    db.session.expire_all()
    assert certification("1001").title == "Nouvel intitulé"
    assert certification("1002").archived is True
    assert certification("1003").archived is False
    assert certification("1004").archived is True


def test_register_title_change_reaches_the_action_list(
    app, register_file, make_certification, make_establishment, make_formation, make_action
):
    from portal.search.models import ActionListing

    cert = make_certification(code="1001", title="Ancien intitulé")
    formation = make_formation(make_establishment(), has_certif_info=True, certification_id=cert.id)
    action = make_action(formation)
    path = register_file(tree(c1001=("Nouvel intitulé", "type999")))
    assert commit_import(KINDS["certifinfo"], [path]).status == "committed"
    # Changed records go through the ORM, so the list rows follow in the same flush.
    assert db.session.get(ActionListing, action.id).title.startswith("Nouvel intitulé")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"1001": {"parent": "type999", "text": "A"', "n'est pas un JSON valide (ligne 1"),
        ("[1, 2]", "doit être un objet"),
        ("{}", "ne contient aucun code"),
        (tree(c12345678901=("Trop long", "type999")), "10 chiffres au plus"),
        ({"1001": {"parent": "type999"}}, "n'a pas d'intitulé"),
        ({"1001": {"parent": "type999", "text": " (1001)"}}, "l'intitulé est vide"),
        (tree(c1001=("x" * 501, "type999")), "dépasse 500 caractères"),
    ],
)
def test_bad_register_is_refused_and_nothing_is_written(
    app, register_file, make_certification, content, message
):
    make_certification(code="2002")
    path = register_file(content)
    result = commit_import(KINDS["certifinfo"], [path])
    assert result.status == "invalid"
    assert any(message in e.message for e in result.plan.errors), result.plan.errors
    assert count(Certification) == 1 and certification("2002").archived is False


def test_register_in_windows_1252_is_read(app, tmp_path):
    path = tmp_path / "cp1252.json"
    path.write_bytes(
        json.dumps(tree(c1001=("Élève", "type999")), ensure_ascii=False).encode("cp1252")
    )
    plan = certifinfo.plan_register(path)
    assert [c.label for c in plan.changes] == ["Élève"]


def test_read_register_still_accepts_a_path_or_a_text_stream(app, register_file):
    data = tree(c1001=("Un", "type999"))
    from_path = list(certifinfo.read_register(register_file(data)))
    from_stream = list(certifinfo.read_register(io.StringIO(json.dumps(data))))
    assert (
        from_path
        == from_stream
        == [
            certifinfo.RegisterEntry(
                "1001", "Un", "type999", "Autre certification sans niveau spécifique", "1"
            )
        ]
    )


@pytest.mark.skipif(not SHARED_REGISTER.exists(), reason="../shared reference data not present")
def test_real_register_imports_and_reimports_without_change(app):
    result = commit_import(KINDS["certifinfo"], [SHARED_REGISTER])
    assert result.status == "committed"
    assert count(Certification) == 12429
    pe = certification("93561")
    assert pe.type_code == "type999" and pe.exit_level == "1"
    assert not certifinfo.plan_register(SHARED_REGISTER).has_changes


# Successions ----------------------------------------------------------------------------------

HEADER = "cer3_code;cer3_libelle;cer3_etat;cer3_codenew;cer3_libelle;cer3_etat\n"


@pytest.fixture
def succession_file(tmp_path):
    def write(*lines: str) -> Path:
        path = tmp_path / "successions.csv"
        path.write_text(HEADER + "".join(f"{line}\n" for line in lines), "utf-8")
        return path

    return write


@pytest.fixture
def formation_with(make_establishment, make_formation, make_action):
    """A formation of a new establishment using ``certification``, with one action."""

    def build(certification, **kw):
        est = make_establishment()
        formation = make_formation(
            est, has_certif_info=True, certification_id=certification.id, **kw
        )
        make_action(formation)
        return formation

    return build


def replaced_counter(formation) -> int:
    return dashboard_counts(formation.establishment_id, date.today())["actions"][
        "certifinfo-remplace"
    ]


def test_succession_archives_old_code_and_moves_its_formations(
    app, succession_file, make_certification, formation_with
):
    old = make_certification(code="54913", title="Ancien titre")
    new = make_certification(code="93561", title="Nouveau titre")
    formation = formation_with(old)
    assert replaced_counter(formation) == 0
    path = succession_file('54913;"Ancien titre";3;93561;"Nouveau titre";3')

    plan = succession.plan_succession(path)
    assert plan.counts() == {"certification": {"archive": 1}, "formation": {"replace": 1}}
    replace = next(c for c in plan.changes if c.entity == "formation")
    assert (replace.key, replace.row, tuple(replace.fields[0])) == (
        str(formation.id),
        2,
        ("Code Certif Info", "54913", "93561"),
    )
    db.session.rollback()
    result = commit_import(KINDS["succession"], [path])
    assert result.status == "committed"
    db.session.expire_all()
    assert (old.archived, old.replaced_by_code) == (True, "93561")
    assert formation.certification_id == new.id
    assert formation.certif_replaced_from == "54913"
    assert formation.certif_replaced_at is not None
    assert replaced_counter(formation) == 1
    journal = {
        (j.field, j.before, j.after)
        for j in db.session.scalars(
            select(JournalEntry).where(
                JournalEntry.record_type == "Formation", JournalEntry.record_id == formation.id
            )
        )
    }
    assert ("certification_id", str(old.id), str(new.id)) in journal
    assert ("certif_replaced_from", None, "54913") in journal
    # Idempotent: the second run changes nothing.
    again = succession.plan_succession(path)
    assert again.ok and not again.has_changes


def test_chain_resolves_to_the_last_code_and_creates_it(
    app, succession_file, make_certification, formation_with
):
    a = make_certification(code="44496")
    b = make_certification(code="65183")
    formation = formation_with(a)
    path = succession_file(
        '65183;"Master B";3;74963;"Sciences des organisations";3',
        '44496;"Master A";3;65183;"Master B";3',
    )
    result = commit_import(KINDS["succession"], [path])
    assert result.status == "committed", result.plan.errors
    assert result.plan.counts()["certification"] == {"create": 1, "archive": 2}
    db.session.expire_all()
    created = certification("74963")
    assert created.title == "Sciences des organisations" and not created.archived
    assert (a.replaced_by_code, b.replaced_by_code) == ("74963", "74963")
    assert formation.certification_id == created.id
    assert formation.certif_replaced_from == "44496"


def test_one_to_many_archives_without_successor_and_leaves_formations_to_do_by_hand(
    app, succession_file, make_certification, formation_with
):
    old = make_certification(code="26565")
    make_certification(code="45814")
    make_certification(code="74090")
    formation = formation_with(old)
    path = succession_file("26565;Master;3;45814;Master 1;3", "26565;Master;3;74090;Master 2;3")
    result = commit_import(KINDS["succession"], [path])
    assert result.status == "committed"
    assert result.plan.counts() == {"certification": {"archive": 1}}
    assert any(
        f"Formation {formation.id}" in w.message and "45814, 74090" in w.message
        for w in result.plan.warnings
    )
    db.session.expire_all()
    assert (old.archived, old.replaced_by_code) == (True, None)
    assert formation.certification_id == old.id and formation.certif_replaced_at is None


def test_erroneous_succession_is_ignored_with_a_warning(app, succession_file, make_certification):
    old = make_certification(code="27624")
    path = succession_file("27624;Master;3;80104;Autre master;2", "1;X;3;2;Y;3")
    plan = succession.plan_succession(path)
    assert plan.ok and not plan.has_changes
    assert [(w.row, w.message) for w in plan.warnings] == [
        (2, "Succession 27624 → 80104 ignorée : état « erroné »."),
        (None, "1 ancien(s) code(s) absent(s) de la base : rien à remplacer."),
    ]
    db.session.rollback()
    assert old.archived is False


def test_replacement_drops_the_blocs_of_the_old_certification(
    app, succession_file, make_certification, formation_with
):
    old = make_certification(code="1001")
    new = make_certification(code="1002")
    bloc = CertificationBloc(certification_id=old.id, code="RNCP1BC01", title="Bloc 1")
    db.session.add(bloc)
    db.session.commit()
    formation = formation_with(old)
    formation.blocs = [bloc]
    db.session.commit()
    assert (
        commit_import(KINDS["succession"], [succession_file("1001;A;3;1002;B;3")]).status
        == "committed"
    )
    db.session.expire_all()
    assert formation.certification_id == new.id and formation.blocs == []


@pytest.mark.parametrize(
    ("lines", "row", "message"),
    [
        (["10013;A;3;7403X;B;3"], 2, "n'est pas un code Certif Info"),
        (["10013;A;3;10013;A;3"], 2, "se remplace lui-même"),
        (["10013;A"], 2, "2 champ(s) au lieu de 6"),
        (["1001;A;3;1002;B;3", "1002;B;3;1001;A;3"], 2, "Chaînage circulaire : 1001 → 1002 → 1001"),
        (["1001;A;3;9999;;3"], 2, "ne donne pas son intitulé"),
    ],
)
def test_bad_succession_file_is_refused_and_nothing_is_written(
    app, succession_file, make_certification, formation_with, lines, row, message
):
    old = make_certification(code="1001")
    make_certification(code="1002")
    formation = formation_with(old)
    # A good line too: it must not be applied either.
    result = commit_import(KINDS["succession"], [succession_file("1001;A;3;1002;B;3", *lines)])
    assert result.status == "invalid"
    assert any(message in e.message and e.row in (row, row + 1) for e in result.plan.errors), [
        str(e) for e in result.plan.errors
    ]
    db.session.expire_all()
    assert old.archived is False and formation.certification_id == old.id


# One-by-one replacement ------------------------------------------------------------------------


def test_replace_one_formation_records_the_old_code(app, make_certification, formation_with):
    old = make_certification(code="1001")
    new = make_certification(code="1002")
    formation = formation_with(old)
    assert find_replacement(formation, " 1002 ") is new
    assert replace_certification(formation, new) == "1001"
    db.session.commit()
    assert (formation.certification_id, formation.certif_replaced_from) == (new.id, "1001")
    assert replaced_counter(formation) == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Saisissez le nouveau code"),
        ("12a", "uniquement des chiffres"),
        ("424242", "Code Certif Info inconnu : 424242"),
        ("1003", "est archivé"),
        ("1001", "a déjà le code Certif Info 1001"),
    ],
)
def test_replacement_refuses_bad_codes(app, make_certification, formation_with, code, message):
    old = make_certification(code="1001")
    make_certification(code="1003", archived=True)
    formation = formation_with(old)
    with pytest.raises(ReplacementError, match=message):
        find_replacement(formation, code)


def test_formation_without_certif_info_has_nothing_to_replace(
    app, make_certification, make_establishment, make_formation
):
    make_certification(code="1002")
    formation = make_formation(make_establishment())
    with pytest.raises(ReplacementError, match="pas de code Certif Info"):
        find_replacement(formation, "1002")
    assert db.session.scalar(select(Formation.certif_replaced_at)) is None
