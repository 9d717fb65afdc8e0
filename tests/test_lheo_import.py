"""LHEO import: the round trip (export an offer, import it into another establishment, the same
offer comes back), LHEO 2.2 files from other tools, bad files refused whole with a French
report, and the import page (OF users only, scoped, CSRF)."""

from __future__ import annotations

import html
import io
from datetime import date, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.lheo.mapping import parse_lheo_date
from portal.lheo.reader import read_lheo, translate_xsd_error
from portal.models import (
    Action,
    ActionStatus,
    Contact,
    EnrolmentPeriod,
    Formation,
    InfoMeeting,
    Session,
    SessionFunding,
    Site,
)
from portal.richtext import visible_text

from . import factories
from .conftest import csrf_token_from
from .offer_builders import complete_offer
from .test_lheo_export import assert_valid, export, publish_actions

URL = "/exports/lheo/import"


def post_file(client, content: bytes, name: str = "offre.xml", **kw):
    return client.post(
        URL, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data", **kw
    )


def shown(response) -> str:
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(response.text)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def importer(client, auth, make_establishment, make_user):
    """An OF user logged in on an establishment with no offer yet."""
    establishment = make_establishment(name="Organisme importateur", postcode="49100")
    user = make_user(establishments=[establishment])
    auth.login(user)
    auth.switch(establishment)
    return establishment


def rich_offer(app, source, target):
    """A validated offer of ``source`` with two sessions (two sites, different values), periods,
    référents, a fiche Dispositif each; ``target`` is a formateur of its lot."""
    built = complete_offer(source)
    action, first = built["action"], built["session"]
    built["lot"].formateurs = [target]
    antenne = factories.make_site(
        source,
        name="Antenne d'Angers",
        postcode="49100",
        commune="Angers",
        insee_code="49007",
        address_line1="2 boulevard Foch",
        phone="+33241000000",
    )
    action.title_complement = "Parcours court"
    action.programme_complement = "<p>Étude de marché</p><ul><li>Statuts</li></ul>"
    action.objectives = "<p>Créer son <strong>entreprise</strong>.</p>"
    action.expected_results = "Attestation de compétences."
    action.plus_formation = "Un suivi individuel."
    action.entry_level = "14"
    action.public_targets = ["80006", "82010"]
    action.prerequisites = ["5", "6"]
    action.prerequisites_comment = "Projet à présenter."
    action.public_comment = "Créateurs d'entreprise."
    action.action_url = "https://exemple.org/formation"
    action.video_url = "https://www.youtube.com/watch?v=abc"
    action.equipment_type = "10"
    action.equipment_cost = Decimal("45.50")
    action.equipment_comment = "Tenue fournie."
    first.hours_weekly = Decimal("35")
    first.training_periods = ["1"]
    second = factories.make_session(
        action,
        site_id=antenne.id,
        start_date=date(2024, 3, 4),
        end_date=date(2024, 9, 30),
        entry_exit_mode="1",
        rhythm="2",
        training_periods=["2", "3"],
        path_type="2",
        pedagogical_modes=["96129", "96411"],
        teaching_mode=2,
        hours_centre=120,
        hours_company=70,
        hours_weekly=Decimal("17.5"),
        company_unit="3",
        recruitment_state="3",
        recruitment_modes=["7", "8", "9"],
        is_apprenticeship=True,
        alternance_cycle="2 semaines en centre, 1 en entreprise",
        duration_comment="6 mois",
        responsible_id=source.id,
        referent_prf_id=built["contact"].id,
    )
    db.session.add_all(
        [
            EnrolmentPeriod(
                session_id=first.id,
                establishment_id=source.id,
                kind="3",
                start_date=date(2024, 1, 2),
                end_date=date(2024, 2, 1),
            ),
            EnrolmentPeriod(
                session_id=first.id,
                establishment_id=source.id,
                kind="1",
                start_date=date(2023, 12, 1),
                end_date=None,
            ),
            InfoMeeting(
                session_id=second.id,
                establishment_id=source.id,
                site_id=antenne.id,
                day=date(2024, 2, 20),
                start_time=time(14, 0),
                comment="Salle 2",
            ),
            SessionFunding(
                session_id=second.id,
                establishment_id=source.id,
                programme_id=built["programme"].id,
                places=8,
                places_remaining=2,
                min_headcount=4,
                simultaneous_capacity=10,
                fee_ht=Decimal("1000"),
                vat_rate=Decimal("20"),
                additional_fees=Decimal("35.00"),
                certification_fees_included=True,
                teaching_fees_covered=True,
                region_lot_number="PE2024_8",
                region_action_id="2872",
                region_mandataire_id="75",
            ),
        ]
    )
    action.status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [action])
    return built | {"antenne": antenne, "second": second}


SESSION_FIELDS = (
    "start_date",
    "end_date",
    "entry_exit_mode",
    "rhythm",
    "training_periods",
    "path_type",
    "pedagogical_modes",
    "teaching_mode",
    "hours_centre",
    "hours_company",
    "hours_weekly",
    "duration_comment",
    "alternance_cycle",
    "company_unit",
    "recruitment_state",
    "is_initial_training",
    "is_apprenticeship",
    "is_professionalisation",
    "responsible_id",
)
ACTION_FIELDS = (
    "title_complement",
    "plus_formation",
    "public_comment",
    "entry_level",
    "public_targets",
    "prerequisites",
    "action_url",
    "video_url",
    "equipment_type",
    "equipment_cost",
)
FUNDING_FIELDS = (
    "publics",
    "region_lot_number",
    "region_action_id",
    "region_mandataire_id",
    "places",
    "places_remaining",
    "min_headcount",
    "simultaneous_capacity",
    "fee_ht",
    "vat_rate",
    "additional_fees",
    "certification_fees_included",
    "teaching_fees_covered",
    "fee_ttc",
)


def test_round_trip_brings_the_same_offer_back(app, client, make_establishment, importer):
    source = make_establishment(name="Organisme source")
    built = rich_offer(app, source, importer)
    xml = export(client)
    assert_valid(xml)

    response = post_file(client, xml)
    assert response.status_code == 200, response.text
    assert "1 formation(s), 1 action(s) et 2 session(s) créées en cours de saisie" in (
        response.text
    )
    original = built["action"]
    (action,) = db.session.scalars(
        select(Action).where(Action.establishment_id == importer.id)
    ).all()
    formation = action.formation
    # Formation: same Certif Info record (so the same title), programme, lot and mandataire.
    assert formation.establishment_id == importer.id
    assert formation.title == original.formation.title
    assert formation.certification_id == original.formation.certification_id
    assert (formation.programme_id, formation.lot_id, formation.mandataire_id) == (
        original.formation.programme_id,
        original.formation.lot_id,
        source.id,
    )
    assert formation.bloc_validation == "1" and formation.individualised_by_blocs is False
    # Action: a draft with the same texts and codes.
    assert action.status == ActionStatus.DRAFT
    for name in ACTION_FIELDS:
        assert getattr(action, name) == getattr(original, name), name
    # Rich fields travel as plain text (paragraphs and list items kept): same visible text.
    for name in (
        "programme_complement",
        "objectives",
        "expected_results",
        "prerequisites_comment",
        "equipment_comment",
    ):
        assert visible_text(getattr(action, name)) == visible_text(getattr(original, name)), name
    assert (action.site.name, action.site.postcode, action.site.commune) == (
        "Principal",
        "44000",
        "Nantes",
    )
    assert formation.realisation_site_id == action.site_id
    # Sessions: dates, durations, codes, places, each at its own site.
    originals = sorted(original.sessions, key=lambda s: s.start_date)
    imported = sorted(action.sessions, key=lambda s: s.start_date)
    assert len(imported) == 2
    for old, new in zip(originals, imported, strict=True):
        for name in SESSION_FIELDS:
            assert getattr(new, name) == getattr(old, name), name
        assert sorted(new.recruitment_modes) == sorted(old.recruitment_modes)
        assert new.establishment_id == importer.id and new.active
        assert (new.site.name, new.site.postcode, new.site.commune, new.site.address_line1) == (
            old.site.name,
            old.site.postcode,
            old.site.commune,
            old.site.address_line1,
        )
        assert [(m.day, m.start_time, m.comment, m.site.name) for m in new.info_meetings] == [
            (m.day, m.start_time, m.comment, m.site.name) for m in old.info_meetings
        ]
        assert sorted((p.kind, p.start_date, p.end_date) for p in new.enrolment_periods) == sorted(
            (p.kind, p.start_date, p.end_date) for p in old.enrolment_periods
        )
        assert len(new.fundings) == len(old.fundings) == 1
        for name in FUNDING_FIELDS:
            assert getattr(new.fundings[0], name) == getattr(old.fundings[0], name), name
        assert new.fundings[0].programme_id == old.fundings[0].programme_id
        for referent in ("referent_pmr", "referent_prf", "referent_mobility", "liaison_contact"):
            before, after = getattr(old, referent), getattr(new, referent)
            assert (after is None) == (before is None), referent
            if after is not None:
                assert after.establishment_id == importer.id
                assert (after.last_name, after.first_name) == (before.last_name, before.first_name)
    # The directory of the target gained the two sites and the référent, once each.
    assert count(Site) == 2 + 2
    assert (
        db.session.scalar(
            select(func.count()).select_from(Contact).where(Contact.establishment_id == importer.id)
        )
        == 1
    )
    # The report links to the new fiches.
    assert f'href="/actions/{action.id}"' in response.text


def test_round_trip_through_the_lheo_22_namespace(app, client, make_establishment, importer):
    source = make_establishment(name="Organisme source")
    built = rich_offer(app, source, importer)
    xml = export(client).replace(
        b'xmlns="http://lheo.gouv.fr/2.3"', b'xmlns="http://www.lheo.org/2.2"'
    )
    response = post_file(client, xml)
    assert response.status_code == 200, response.text
    assert "depuis un fichier LHEO 2.2" in shown(response)
    (action,) = db.session.scalars(
        select(Action).where(Action.establishment_id == importer.id)
    ).all()
    assert sorted((s.start_date, s.hours_centre) for s in action.sessions) == sorted(
        (s.start_date, s.hours_centre) for s in built["action"].sessions
    )


FOREIGN_22 = """<?xml version="1.0" encoding="UTF-8"?>
<lheo xmlns="http://www.lheo.org/2.2">
<offres>
<formation numero="F_22" datemaj="20240102">
<domaine-formation><code-FORMACODE ref="V12">22403</code-FORMACODE></domaine-formation>
<intitule-formation>Développeur web</intitule-formation>
<objectif-formation>Obtenir la qualification de développeur web.</objectif-formation>
<resultats-attendus>Titre professionnel</resultats-attendus>
<contenu-formation>HTML, CSS et JavaScript.</contenu-formation>
<certifiante>1</certifiante>
<contact-formation><coordonnees><nom>Martin</nom><courriel>contact@exemple.fr</courriel></coordonnees></contact-formation>
<parcours-de-formation>3</parcours-de-formation>
<code-niveau-entree>1</code-niveau-entree>
<certification><code-CERTIFINFO>{certif}</code-CERTIFINFO></certification>
<action numero="A_22">
<rythme-formation>Temps partiel, modulaire</rythme-formation>
<code-public-vise ref="V12">83056</code-public-vise>
<code-public-vise ref="V12">12345</code-public-vise>
<niveau-entree-obligatoire>0</niveau-entree-obligatoire>
<modalites-alternance>Stage de quatre semaines en entreprise</modalites-alternance>
<modalites-enseignement>1</modalites-enseignement>
<conditions-specifiques>Savoir utiliser un ordinateur</conditions-specifiques>
<prise-en-charge-frais-possible>1</prise-en-charge-frais-possible>
<lieu-de-formation><coordonnees><nom>Campus Paris</nom>
<adresse><ligne>1 rue de Paris</ligne><codepostal>75019</codepostal><ville>Paris</ville></adresse>
<telfixe><numtel>01 40 00 00 00</numtel></telfixe></coordonnees></lieu-de-formation>
<modalites-entrees-sorties>1</modalites-entrees-sorties>
<session numero="S_1"><periode><debut>20240900</debut><fin>20250600</fin></periode>
<adresse-inscription>
<adresse><ligne>1 rue de Paris</ligne><codepostal>75019</codepostal><ville>Paris</ville></adresse>
</adresse-inscription>
<periode-inscription><periode><debut>00000000</debut><fin>20240831</fin></periode></periode-inscription>
<etat-recrutement>1</etat-recrutement></session>
<session numero="S_2"><periode><debut>00000000</debut><fin>99999999</fin></periode>
<adresse-inscription><adresse><ligne>Siège</ligne><codepostal>69001</codepostal><ville>Lyon</ville></adresse></adresse-inscription></session>
<adresse-information>
<adresse><ligne>1 rue de Paris</ligne><codepostal>75019</codepostal><ville>Paris</ville></adresse>
</adresse-information>
<date-information><date>20240815</date></date-information>
<code-perimetre-recrutement>3</code-perimetre-recrutement>
<nombre-heures-centre>600</nombre-heures-centre>
<nombre-heures-entreprise>140</nombre-heures-entreprise>
<organisme-financeur><code-financeur>4</code-financeur><nb-places-financees>10</nb-places-financees></organisme-financeur>
<extras info="session-perimee"><extra info="session-perimee">0</extra></extras>
</action>
<organisme-formation-responsable>
<numero-activite>11755555555</numero-activite>
<SIRET-organisme-formation><SIRET>12345678900011</SIRET></SIRET-organisme-formation>
<nom-organisme>Exemple Formation</nom-organisme>
<raison-sociale>EXEMPLE FORMATION SAS</raison-sociale>
<coordonnees-organisme><coordonnees><nom>Accueil</nom></coordonnees></coordonnees-organisme>
<contact-organisme><coordonnees><nom>Direction</nom></coordonnees></contact-organisme>
</organisme-formation-responsable>
</formation>
</offres>
</lheo>
"""


def test_a_lheo_22_file_from_another_tool(client, importer, make_certification):
    certification = make_certification(code="80735", title="Développeur web et web mobile")
    response = post_file(client, FOREIGN_22.format(certif="80735").encode())
    assert response.status_code == 200, response.text
    (action,) = db.session.scalars(select(Action)).all()
    formation = action.formation
    assert formation.certification_id == certification.id and formation.has_certif_info
    assert formation.free_title is None and formation.programme_id is None
    assert action.status == ActionStatus.DRAFT
    assert action.public_targets == ["83056"]  # 12345 is no Formacode V14 public
    assert visible_text(action.programme_complement) == "HTML, CSS et JavaScript."
    assert visible_text(action.expected_results) == "Titre professionnel"
    assert visible_text(action.prerequisites_comment) == "Savoir utiliser un ordinateur"
    assert action.site.name == "Campus Paris" and action.site.postcode == "75019"
    assert action.site.insee_code == "75056" and action.site.phone == "+33140000000"
    first, second = sorted(action.sessions, key=lambda s: s.id)
    # AAAAMM00: the month's first day for a start, its last for an end.
    assert (first.start_date, first.end_date) == (date(2024, 9, 1), date(2025, 6, 30))
    assert (second.start_date, second.end_date) == (None, None)
    assert (first.teaching_mode, first.entry_exit_mode, first.path_type, first.rhythm) == (
        1,
        "1",
        "3",
        "2",
    )
    assert (first.hours_centre, first.hours_company) == (600, 140)
    assert first.alternance_cycle == "Stage de quatre semaines en entreprise"
    assert first.recruitment_state == "1" and second.recruitment_state is None
    # 2.2 informations collectives (date-information) apply to every session of the action.
    assert [(m.day, m.site.name) for m in first.info_meetings] == [
        (date(2024, 8, 15), "Campus Paris")
    ]
    assert first.recruitment_modes == ["9"] and second.info_meetings
    assert first.enrolment_periods == []  # its start is unknown: reported, not imported
    assert first.fundings == []
    report = shown(response)
    assert "public visé (Formacode V14) « 12345 » inconnu(e) : non repris." in report
    assert "date de début inconnue (00000000)" in report
    assert "période d'inscription sans date de début" in report
    assert "financeur « Pôle emploi » (10 places) non repris" in report
    assert "non importés : code-perimetre-recrutement." in report


def test_an_unknown_certif_info_code_keeps_the_title_as_free_title(client, importer):
    response = post_file(client, FOREIGN_22.format(certif="999999").encode())
    assert response.status_code == 200
    formation = db.session.scalars(select(Formation)).one()
    assert formation.has_certif_info is False and formation.certification_id is None
    assert formation.free_title == "Développeur web"
    assert visible_text(formation.free_objective) == "Obtenir la qualification de développeur web."
    assert "code Certif Info 999999 absent du référentiel" in shown(response)


def test_sites_are_matched_by_postcode_commune_and_name(client, importer, make_site):
    existing = make_site(
        importer,
        name="CAMPUS  paris",
        postcode="75019",
        commune="PARIS",
        insee_code="75056",
        address_line1="1, rue de Paris",
    )
    other = make_site(importer, name="Campus Paris", postcode="75020", commune="Paris")
    response = post_file(client, FOREIGN_22.format(certif="1").encode())
    assert response.status_code == 200
    action = db.session.scalars(select(Action)).one()
    assert action.site_id == existing.id != other.id
    # The adresse-information of 2.2 (no name) is the same address; Lyon's is not a lieu.
    assert {m.site_id for s in action.sessions for m in s.info_meetings} == {existing.id}
    assert count(Site) == 2


def _corrupt(xml: bytes, old: bytes, new: bytes) -> bytes:
    assert old in xml
    return xml.replace(old, new, 1)


def _line_of(xml: bytes, needle: bytes) -> int:
    return xml[: xml.index(needle)].count(b"\n") + 1


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lheo [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>&c;</offres></lheo>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE lheo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>&xxe;</offres></lheo>"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Ceci n'est pas du XML", "n'est pas un document XML valide"),
        (b"", "le fichier est vide"),
        (
            b'<?xml version="1.0"?>\n<catalogue><offre/></catalogue>',
            "l'élément racine est <catalogue>, <lheo> attendu",
        ),
        (
            b'<lheo xmlns="http://example.org/lheo"><offres/></lheo>',
            "Espace de noms « http://example.org/lheo » non pris en charge",
        ),
        (b"<lheo><offres/></lheo>", "Espace de noms absent non pris en charge"),
        (
            b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>',
            "Le fichier ne contient aucune formation.",
        ),
        (
            b'<lheo xmlns="http://lheo.gouv.fr/2.3"><autre/></lheo>',
            "élément <autre> inattendu sous <lheo>",
        ),
        (BILLION_LAUGHS, "déclaration DOCTYPE : refusée"),
        (XXE, "déclaration DOCTYPE : refusée"),
        (
            b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>\n<formation>',
            "s'arrête avant la fermeture de la balise <formation> (ouverte ligne 2)",
        ),
        (
            b'<lheo xmlns="http://lheo.gouv.fr/2.3">\n<offres></offre></lheo>',
            "balise </offre> rencontrée alors que <offres> (ligne 2) n'est pas fermée",
        ),
    ],
    ids=[
        "not-xml",
        "empty",
        "wrong-root",
        "wrong-namespace",
        "no-namespace",
        "no-formation",
        "unexpected",
        "billion-laughs",
        "xxe",
        "truncated",
        "mismatched",
    ],
)
def test_bad_files_are_refused_whole_with_a_french_report(client, importer, content, message):
    response = post_file(client, content)
    assert response.status_code == 422
    assert "Rien n'a été importé" in shown(response)
    assert message in shown(response)
    assert count(Formation) == count(Site) == 0


def test_an_xsd_invalid_part_refuses_the_whole_file(app, client, make_establishment, importer):
    source = make_establishment()
    first = complete_offer(source)  # a valid formation before the broken one
    first["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [first["action"]])
    rich_offer(app, source, importer)
    xml = export(client)
    assert xml.count(b"<formation ") == 2
    # Break the second formation only.
    at = xml.rindex(b"<certifiante>1</certifiante>")
    bad = xml[:at] + b"<certifiante>oui</certifiante>" + xml[at + 28 :]
    at = bad.rindex(b"<nombre-heures-centre>200<")
    bad = bad[:at] + b"<nombre-heures-centre>deux cents<" + bad[at + 26 :]
    response = post_file(client, bad)
    assert response.status_code == 422
    line = _line_of(bad, b"<certifiante>oui")
    assert f'<td class="nowrap">{line}</td>' in shown(response)
    assert "élément <certifiante>" in shown(response)
    assert "valeur « oui » non autorisée (valeurs possibles : 0, 1)" in shown(response)
    assert (
        db.session.scalar(
            select(func.count()).select_from(Action).where(Action.establishment_id == importer.id)
        )
        == 0
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            b"<debut>20240210</debut>",
            b"<debut>20240231</debut>",
            "la date « 20240231 » n'existe pas",
        ),
        (
            b"<fin>20240628</fin>",
            b"<fin>20230628</fin>",
            "la date de fin (28/06/2023) précède la date de début (10/02/2024)",
        ),
        (
            b'<extra info="heures-centre">200</extra>',
            b'<extra info="heures-centre">-5</extra>',
            "heures en centre « -5 » hors limites",
        ),
    ],
    ids=["impossible-date", "end-before-start", "negative-hours"],
)
def test_impossible_values_refuse_the_file(
    app, client, make_establishment, importer, old, new, message
):
    source = make_establishment()
    validated = complete_offer(source)
    validated["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [validated["action"]])
    response = post_file(client, _corrupt(export(client), old, new))
    assert response.status_code == 422
    assert message in shown(response)
    assert count(Formation) == 1


def test_unknown_codes_in_sofi_extras_are_reported_and_left_out(
    app, client, make_establishment, importer
):
    source = make_establishment()
    built = complete_offer(source)
    built["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [built["action"]])
    xml = _corrupt(
        export(client), b'<extra info="rythme">1</extra>', b'<extra info="rythme">9</extra>'
    )
    response = post_file(client, xml)
    assert response.status_code == 200
    assert "rythme « 9 » inconnu(e) : non repris." in shown(response)
    session = db.session.scalars(
        select(Session).where(Session.establishment_id == importer.id)
    ).one()
    assert session.rhythm is None


def test_a_too_large_file_answers_413_and_imports_nothing(app, client, importer, monkeypatch):
    monkeypatch.setitem(app.config, "LHEO_IMPORT_MAX_BYTES", 2048)
    response = post_file(client, FOREIGN_22.format(certif="1").encode())
    assert response.status_code == 413
    assert "Le fichier dépasse la taille autorisée (2 ko)" in shown(response)
    assert count(Formation) == 0


def test_a_database_failure_rolls_everything_back(client, importer, monkeypatch):
    from portal.lheo import importer as lheo_importer

    def broken_site(self, place, where):
        raise SQLAlchemyError("disque plein")

    monkeypatch.setattr(lheo_importer._Importer, "site", broken_site)
    response = post_file(client, FOREIGN_22.format(certif="1").encode())
    assert response.status_code == 500
    assert "L'enregistrement a échoué : rien n'a été importé." in shown(response)
    assert count(Formation) == count(Action) == count(Session) == 0


def test_the_import_page_needs_a_login_and_refuses_carif_staff(client, auth, carif_user):
    response = client.get(URL)
    assert response.status_code == 302 and response.location.startswith("/connexion?next=")
    response = post_file(client, b"<lheo/>")
    assert response.status_code == 302
    auth.login(carif_user)
    assert client.get(URL).status_code == 403
    assert post_file(client, FOREIGN_22.format(certif="1").encode()).status_code == 403
    assert count(Formation) == 0


def test_the_import_goes_to_the_selected_establishment(client, auth, of_user):
    user, first, second, other = of_user
    auth.login(user)
    auth.switch(second)
    page = client.get(URL)
    assert page.status_code == 200
    assert second.switcher_label in page.text
    assert 'enctype="multipart/form-data"' in page.text
    response = post_file(client, FOREIGN_22.format(certif="1").encode())
    assert response.status_code == 200
    formation = db.session.scalars(select(Formation)).one()
    assert formation.establishment_id == second.id
    assert {s.establishment_id for s in db.session.scalars(select(Site))} == {second.id}
    assert {s.establishment_id for s in db.session.scalars(select(Session))} == {second.id}


def test_a_post_without_a_file_answers_422(client, importer):
    response = client.post(URL, data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choisissez un fichier." in shown(response)


def test_the_import_form_needs_the_csrf_token(make_app, make_establishment, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    establishment = make_establishment()
    user = make_user(establishments=[establishment])
    token = csrf_token_from(client.get("/connexion").text)
    client.post(
        "/connexion",
        data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    content = FOREIGN_22.format(certif="1").encode()
    response = post_file(client, content)
    assert response.status_code == 400
    assert count(Formation) == 0
    token = csrf_token_from(client.get(URL).text)
    response = client.post(
        URL,
        data={"file": (io.BytesIO(content), "offre.xml"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert count(Formation) == 1


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("20240915", False, date(2024, 9, 15)),
        ("20240900", False, date(2024, 9, 1)),
        ("20240200", True, date(2024, 2, 29)),
        ("20240000", False, date(2024, 1, 1)),
        ("20240000", True, date(2024, 12, 31)),
        ("00000000", False, None),
        ("99999999", True, None),
    ],
)
def test_lheo_dates(text, end, expected):
    assert parse_lheo_date(text, end=end) == expected


@pytest.mark.parametrize("text", ["20240231", "20241301", "2024-01-01", "2024"])
def test_impossible_lheo_dates_raise_a_french_message(text):
    with pytest.raises(ValueError, match="date"):
        parse_lheo_date(text)


def test_schema_errors_are_translated():
    element, message = translate_xsd_error(
        "Element '{http://lheo.gouv.fr/2.3}codepostal': [facet 'minLength'] The value has a "
        "length of '4'; this underruns the allowed minimum length of '5'."
    )
    assert (element, message) == ("codepostal", "valeur trop courte (4 caractère(s), 5 au minimum)")
    element, message = translate_xsd_error(
        "Element '{http://lheo.gouv.fr/2.3}foo': This element is not expected. Expected is "
        "( {http://lheo.gouv.fr/2.3}rythme-formation )."
    )
    assert (element, message) == ("foo", "élément inattendu ici (attendu : <rythme-formation>)")


def test_the_reader_streams_formations_and_counts_them():
    xml = FOREIGN_22.format(certif="1")
    body = xml.split("<formation ")[1].split("</formation>")[0]
    many = xml.replace(f"<formation {body}</formation>", f"<formation {body}</formation>" * 50)
    result = read_lheo(io.BytesIO(many.encode()))
    assert result.ok, [str(i) for i in result.errors]
    assert result.version == "2.2"
    assert result.counts() == {"formations": 50, "actions": 50, "sessions": 100}
