"""LHEO 2.3 export: XSD validity (demo data, thousands of generated sessions), the mapping
(FAS numbers, organisme responsable, financeur, extras, fallbacks), filters and the public URL.

Validation uses the repository's copy of the official XSD (portal/data/lheo/lheo.xsd), loaded
here directly with lxml so that the test does not depend on the code under test.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import event, insert, select

from portal.extensions import db
from portal.models import (
    Action,
    ActionStatus,
    EnrolmentPeriod,
    PublishedSession,
    SessionFunding,
)

from . import factories
from .offer_builders import complete_offer

XSD_FILE = Path(__file__).resolve().parent.parent / "portal" / "data" / "lheo" / "lheo.xsd"
NS = "http://lheo.gouv.fr/2.3"
N = {"l": NS}
_schema = None


def schema() -> etree.XMLSchema:
    global _schema
    if _schema is None:
        _schema = etree.XMLSchema(etree.parse(str(XSD_FILE)))
    return _schema


def assert_valid(data: bytes) -> etree._Element:
    """Parse the document and assert it validates against the LHEO 2.3 XSD."""
    doc = etree.fromstring(data, etree.XMLParser(huge_tree=True, resolve_entities=False))
    valid = schema().validate(doc)
    errors = [f"line {e.line}: {e.message}" for e in list(schema().error_log)[:20]]
    assert valid, "\n".join(errors)
    return doc


def publish_actions(app, actions) -> None:
    """Validate submitted actions (the Carif-Oref's decision), republish validated ones."""
    from portal.publication import publish
    from portal.review.decisions import validate

    with app.test_request_context():
        for action in actions:
            if action.status == ActionStatus.SUBMITTED:
                validate(action)
            elif action.status == ActionStatus.VALIDATED:
                publish(action)
        db.session.commit()


def validated_offer(app, establishment, **kw):
    """complete_offer(), sent and validated: its session is published."""
    built = complete_offer(establishment, **kw)
    built["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [built["action"]])
    return built


def export(client, **query) -> bytes:
    response = client.get("/exports/lheo.xml", query_string=query)
    assert response.status_code == 200, response.text
    return response.data


def texts(node, path: str) -> list[str]:
    return [e.text for e in node.xpath(path, namespaces=N)]


def extra(node, info: str, level: str) -> list[str]:
    return texts(node, f"l:extras[@info='{level}']/l:extra[@info='{info}']")


def test_the_xsd_copy_is_the_official_lheo_23_schema():
    digest = hashlib.sha256(XSD_FILE.read_bytes()).hexdigest()
    # sha256 recorded in shared/reference/lheo/SOURCE.md and portal/data/SOURCE.md.
    assert digest.startswith("93c57269") and digest.endswith("d71c")
    assert etree.parse(str(XSD_FILE)).getroot().get("targetNamespace") == NS


def test_demo_offer_exports_valid_lheo_with_fas_numbers(app, client):
    from portal.demo import load_demo_data

    load_demo_data()
    publish_actions(app, db.session.scalars(select(Action).order_by(Action.id)).all())
    published = db.session.scalars(select(PublishedSession)).all()
    assert len(published) >= 8

    response = client.get("/exports/lheo.xml")  # anonymous: the published offer is public
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/xml"
    assert "attachment" in response.headers["Content-Disposition"]
    doc = assert_valid(response.data)

    # F/A/S numbers of the procedure's example session, nested as in SOFI.
    session = doc.xpath(
        "//l:formation[@numero='19482']/l:action[@numero='89393']/l:session[@numero='143842']",
        namespaces=N,
    )
    assert len(session) == 1
    # Every published session once, under its own action and formation, each of those once.
    sessions = doc.xpath("//l:session", namespaces=N)
    assert sorted(int(s.get("numero")) for s in sessions) == sorted(p.session_id for p in published)
    for row in published:
        (node,) = doc.xpath(f"//l:session[@numero='{row.session_id}']", namespaces=N)
        assert node.getparent().get("numero") == str(row.action_id)
        assert node.getparent().getparent().get("numero") == str(row.formation_id)
    formation_numbers = [f.get("numero") for f in doc.xpath("//l:formation", namespaces=N)]
    assert len(formation_numbers) == len(set(formation_numbers))
    action_numbers = [a.get("numero") for a in doc.xpath("//l:action", namespaces=N)]
    assert len(action_numbers) == len(set(action_numbers))
    (formation,) = doc.xpath("//l:formation[@numero='19482']", namespaces=N)
    assert texts(formation, "l:intitule-formation") == [
        "Titre professionnel assistant ressources humaines"
    ]
    assert texts(formation, "l:certification/l:code-CERTIFINFO") == ["81506"]
    # The organisme responsable is the lot's mandataire, with its NDA and SIRET.
    assert texts(formation, "l:organisme-formation-responsable/l:numero-activite") == [
        "52440000044"
    ]
    assert texts(
        formation, "l:organisme-formation-responsable/l:SIRET-organisme-formation/l:SIRET"
    ) == ["13000511900032"]
    # Region programme: Conseil régional (2) with the places of the action's sessions.
    (action,) = formation.xpath("l:action[@numero='89393']", namespaces=N)
    assert texts(action, "l:organisme-financeur/l:code-financeur") == ["2"]
    places = sum(f["places"] for p in published if p.action_id == 89393 for f in p.data["fundings"])
    assert texts(action, "l:organisme-financeur/l:nb-places-financees") == [str(places)]


def _template(establishment):
    """The ``data`` of a real published session, the mould of the generated ones."""
    # Imported here: portal.publication and the blueprints import each other.
    from portal.publication import session_data

    built = complete_offer(establishment)
    session = built["session"]
    db.session.add(
        EnrolmentPeriod(
            session_id=session.id,
            establishment_id=establishment.id,
            kind="1",
            start_date=date(2024, 1, 2),
            end_date=date(2024, 2, 1),
        )
    )
    db.session.commit()
    db.session.refresh(session)
    return session_data(session)


EDGE_TEXT = "Intitulé <b>&</b> « très » long\x0b\x01 avec émojis 🎓 " * 20


def generated_rows(template: dict, establishment_id: int, count: int) -> list[dict]:
    """``count`` published rows: 5 sessions per action, 4 actions per formation, and on a
    share of them every kind of missing, over-long or odd value the writer must survive.

    Formation- and action-level values vary by action (``k``), as publish() writes all the
    rows of an action from the same records; session-level values vary by row (``i``).
    """
    today = date(2024, 9, 1)
    rows = []
    for i in range(count):
        k = i // 5
        d = copy.deepcopy(template)
        f, a, s = d["formation"], d["action"], d["session"]
        f["id"], a["id"], s["id"] = 500000 + i // 20, 600000 + k, 700000 + i
        d["fas_code"] = f"{f['id']}-{a['id']}-{s['id']}"
        start = today + timedelta(days=i % 300)
        s["start_date"] = start.isoformat()
        s["end_date"] = (start + timedelta(days=30 + i % 200)).isoformat()
        s["teaching_mode"] = i % 3
        s["hours_centre"], s["hours_company"] = 100 + i % 400, (i % 4) * 35
        department = ("44", "49", "72", "85", "53")[i % 5]
        if k % 7 == 0:  # no Certif Info: free title (too long, with control characters)
            f["certification"], f["has_certif_info"] = None, False
            f["title"] = f["free_title"] = EDGE_TEXT
            f["objective"] = None
        if k % 11 == 0:  # huge HTML texts
            a["programme_complement"] = "<p>" + "Module & atelier. " * 400 + "</p>"
            a["objectives"] = "<ul><li>Un</li><li>Deux</li></ul>" * 200
            a["public_comment"] = "x" * 1000
        if k % 5 == 1:  # no action site address
            d["action_site"] = {"name": "Sans adresse", "postcode": None, "commune": None}
        if k % 13 == 0:  # no NDA, no programme, unknown codes
            d["organisation"]["nda"] = None
            d["organisation"]["address"]["postcode"] = "123"
            d["formation"]["programme"] = None
            a["public_targets"] = ["99999", "ABCDE"]
            a["entry_level"] = "42"
        if i % 5 == 1:  # no session site either: no address anywhere usable
            d["session_site"] = None
            department = None
        if i % 13 == 0:  # no responsible, no referent, no dispositif
            d["responsible"] = None
            d["referents"] = dict.fromkeys(d["referents"])
            d["fundings"] = []
        if i % 17 == 0:  # unknown dates and codes, empty lists
            s["start_date"] = s["end_date"] = None
            s["rhythm"] = s["path_type"] = s["entry_exit_mode"] = None
            s["teaching_mode"] = None
            s["recruitment_modes"] = []
            d["info_meetings"] = []
        if i % 19 == 0:  # many information meetings, odd contact values
            d["info_meetings"] = (
                [
                    dict(
                        d["info_meetings"][0],
                        day=(start - timedelta(days=n)).isoformat(),
                        start_time=None,
                        comment="c" * 600,
                    )
                    for n in range(6)
                ]
                if d["info_meetings"]
                else []
            )
            pmr = d["referents"].get("pmr")
            if pmr:
                pmr.update(email="x", phone="+33 pas un numéro du tout, vraiment pas", civility="")
        if i % 23 == 0:  # places unknown, big fees
            for funding in d["fundings"]:
                funding.update(places=None, fee_ttc="99999999.99", additional_fees="12.50")
        rows.append(
            {
                "session_id": s["id"],
                "action_id": a["id"],
                "formation_id": f["id"],
                "establishment_id": establishment_id,
                "fas_code": d["fas_code"],
                "programme_id": (f.get("programme") or {}).get("id"),
                "lot_id": (f.get("lot") or {}).get("id"),
                "title": "Généré",
                "establishment_name": "Généré",
                "department": department,
                "start_date": start,
                "active": True,
                "search_text": "",
                "data": d,
            }
        )
    return rows


def test_thousands_of_generated_sessions_export_valid_lheo(app, client, make_establishment):
    establishment = make_establishment()
    template = _template(establishment)
    db.session.execute(insert(PublishedSession), generated_rows(template, establishment.id, 3000))
    db.session.commit()
    doc = assert_valid(export(client))
    assert len(doc.xpath("//l:session", namespaces=N)) == 3000
    assert len(doc.xpath("//l:action", namespaces=N)) == 600
    assert len(doc.xpath("//l:formation", namespaces=N)) == 150
    # Over-long titles are cut at the XSD's limit, control characters dropped.
    titles = texts(doc, "//l:formation[@numero='500000']/l:intitule-formation")
    assert len(titles[0]) == 255 and "\x0b" not in titles[0] and titles[0].endswith("…")
    # Unknown dates become LHEO's "unknown" values, unknown codes are left out (fallback used).
    (unknown,) = doc.xpath("//l:session[@numero='700017']", namespaces=N)
    assert texts(unknown, "l:periode/l:debut") == ["00000000"]
    assert texts(unknown, "l:periode/l:fin") == ["99999999"]


def test_filters_by_programme_lot_and_department(app, client, make_establishment):
    nantes = make_establishment(commune="Nantes", postcode="44000")
    angers = make_establishment(commune="Angers", postcode="49100")
    first = validated_offer(app, nantes)
    second = validated_offer(app, angers)
    second["site"].postcode, second["site"].commune = "49100", "Angers"
    db.session.commit()
    publish_actions(app, [second["action"]])

    def sessions(**query) -> set[str]:
        doc = assert_valid(export(client, **query))
        return {s.get("numero") for s in doc.xpath("//l:session", namespaces=N)}

    one, two = str(first["session"].id), str(second["session"].id)
    assert sessions() == {one, two}
    assert sessions(programme=first["programme"].id) == {one}
    assert sessions(programme=second["programme"].code) == {two}
    assert sessions(lot=first["lot"].id) == {one}
    assert sessions(lot=second["lot"].code) == {two}
    assert sessions(departement="44") == {one}
    assert sessions(departement="49") == {two}
    assert sessions(programme=second["programme"].id, departement="49", lot="") == {two}
    doc = assert_valid(export(client, departement="49"))
    assert extra(doc, "departement", "sofi-export") == ["49"]
    # A valid selection with nothing published: no LHEO document can be empty.
    response = client.get("/exports/lheo.xml", query_string={"departement": "85"})
    assert response.status_code == 404
    assert "Aucune session publiée" in response.text


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"format": "json"}, 400, "Paramètre inconnu : format"),
        ({"programme": "P 1; drop"}, 400, "donnez son numéro ou son code"),
        ({"lot": "<script>"}, 400, "Lot « <script> » invalide"),
        ({"departement": "4"}, 400, "Département « 4 » invalide"),
        ({"departement": "999"}, 400, "Département « 999 » invalide"),
        ({"programme": ["1", "2"]}, 400, "plusieurs fois"),
        ({"programme": "987654"}, 404, "Programme « 987654 » inconnu"),
        ({"lot": "NOPE_1"}, 404, "Lot « NOPE_1 » inconnu"),
    ],
)
def test_bad_filters_answer_in_french(client, query, status, message):
    response = client.get("/exports/lheo.xml", query_string=query)
    assert response.status_code == status
    assert message in response.text.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"')


def test_the_export_query_streams_its_rows(app, client, make_establishment):
    validated_offer(app, make_establishment())
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY published_sessions.formation_id" in statement:
            seen.append(context.execution_options)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        response = client.get("/exports/lheo.xml")
        assert response.is_streamed
        response.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    # yield_per: server-side cursor on PostgreSQL, incremental fetches elsewhere.
    assert seen and seen[0].get("stream_results") is True and seen[0].get("yield_per")


def test_region_funder_code_2_carries_the_places_of_every_session(app, client, make_establishment):
    establishment = make_establishment()
    built = complete_offer(establishment)
    built["funding"].region_action_id = "2872"
    second = factories.make_session(
        built["action"],
        site_id=built["site"].id,
        start_date=date(2024, 3, 1),
        end_date=date(2024, 5, 1),
        hours_centre=80,
    )
    db.session.add(
        SessionFunding(
            session_id=second.id,
            establishment_id=establishment.id,
            programme_id=built["programme"].id,
            places=8,
            places_remaining=3,
        )
    )
    built["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [built["action"]])
    doc = assert_valid(export(client))
    (action,) = doc.xpath("//l:action", namespaces=N)
    assert texts(action, "l:organisme-financeur/l:code-financeur") == ["2"]
    assert texts(action, "l:organisme-financeur/l:nb-places-financees") == ["20"]
    assert texts(action, "l:conventionnement") == ["1"]
    # Each session keeps its own fiche Dispositif in the extras.
    (first_session,) = action.xpath(f"l:session[@numero='{built['session'].id}']", namespaces=N)
    funding = first_session.xpath(
        "l:extras[@info='sofi-session']/l:extras[@info='dispositif']", namespaces=N
    )
    assert funding[0].get("numero") == built["programme"].code
    assert texts(funding[0], "l:extra[@info='places']") == ["12"]
    assert texts(funding[0], "l:extra[@info='frais-ttc']") == ["3000.00"]
    assert texts(funding[0], "l:extra[@info='id-action-cr']") == ["2872"]


def test_mapping_of_an_offer(app, client, make_establishment, make_contact):
    mandataire = make_establishment(name="Mandataire du lot")
    mandataire.organisation.nda = "52440000099"
    establishment = make_establishment(name="Organisme formateur")
    built = complete_offer(establishment)
    lot, action, session = built["lot"], built["action"], built["session"]
    lot.mandataire_id = mandataire.id
    lot.formateurs = [establishment]
    built["formation"].mandataire_id = mandataire.id
    session.responsible_id = mandataire.id
    action.title_complement = "Parcours court"
    action.programme_complement = (
        "<p>Étude de marché</p><ul><li>Statuts</li><li>Prévisionnel</li></ul>"
    )
    action.expected_results = "Attestation de compétences."
    action.public_targets = ["80006", "82010"]
    action.prerequisites = ["5"]
    action.action_url = "https://exemple.org/formation"
    action.video_url = "https://www.youtube.com/watch?v=abc"
    session.pedagogical_modes = ["96142", "96129"]
    session.training_periods = ["1", "3"]
    session.hours_weekly = Decimal("35")
    session.liaison_contact_id = make_contact(establishment, last_name="Liaison", roles=["4"]).id
    action.status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [action])
    doc = assert_valid(export(client))
    (formation,) = doc.xpath("//l:formation", namespaces=N)
    (act,) = formation.xpath("l:action", namespaces=N)
    (sess,) = act.xpath("l:session", namespaces=N)
    assert formation.get("numero") == str(built["formation"].id)
    assert act.get("numero") == str(action.id)
    assert sess.get("numero") == str(session.id)
    assert texts(formation, "l:contenu-formation") == ["Étude de marché\n- Statuts\n- Prévisionnel"]
    assert texts(formation, "l:resultats-attendus") == ["Attestation de compétences."]
    assert texts(formation, "l:certifiante") == ["1"]
    assert texts(formation, "l:contact-formation/l:coordonnees/l:nom") == ["Liaison"]
    assert texts(formation, "l:organisme-formation-responsable/l:numero-activite") == [
        "52440000099"
    ]
    assert texts(formation, "l:organisme-formation-responsable/l:nom-organisme") == [
        "Mandataire du lot"
    ]
    assert texts(act, "l:organisme-formateur/l:SIRET-formateur/l:SIRET") == [establishment.siret]
    assert texts(act, "l:code-public-vise") == ["80006", "82010"]
    assert act.xpath("l:code-public-vise/@ref", namespaces=N) == ["V14", "V14"]
    assert texts(act, "l:code-modalite-pedagogique") == ["96142", "96129"]
    assert texts(act, "l:rythme-formation") == [
        "Temps plein, en journée, le week-end, 35 h par semaine"
    ]
    assert texts(act, "l:nombre-heures-centre") == ["200"]
    assert texts(act, "l:nombre-heures-total") == ["200"]
    assert texts(act, "l:url-action/l:urlweb") == ["https://exemple.org/formation"]
    assert texts(act, "l:prix-total-TTC") == ["3000.00"]
    assert texts(act, "l:lieu-de-formation/l:coordonnees/l:adresse/l:denomination") == ["Principal"]
    # Dates as AAAAMMJJ; the information collective is a recrutement 9 with date and hour.
    assert texts(sess, "l:periode/l:debut") == ["20240210"]
    assert texts(sess, "l:periode/l:fin") == ["20240628"]
    assert texts(sess, "l:recrutement/l:modalite-recrutement") == ["9"]
    assert texts(sess, "l:recrutement/l:periode/l:debut") == ["20240125"]
    assert texts(sess, "l:recrutement/l:heure-debut") == ["9h30"]
    assert texts(sess, "l:etat-recrutement") == ["1"]
    # Référents: type-contact and the SOFI role in the extras.
    roles = sess.xpath(
        "l:contact-session/l:extras[@info='sofi-referent']/l:extra[@info='role']/text()",
        namespaces=N,
    )
    assert roles == ["pmr", "mobilite", "liaison"]
    assert texts(sess, "l:contact-session/l:type-contact") == ["1", "2", "4"]
    # SOFI fields with no LHEO element travel in the extras.
    assert extra(act, "complement-intitule", "sofi-action") == ["Parcours court"]
    assert extra(act, "url-video", "sofi-action") == ["https://www.youtube.com/watch?v=abc"]
    assert extra(act, "prerequis", "sofi-action") == ["5"]
    assert extra(formation, "programme-code", "sofi-formation") == [built["programme"].code]
    assert extra(formation, "lot-code", "sofi-formation") == [lot.code]
    assert extra(sess, "heures-hebdo", "sofi-session") == ["35.00"]
    assert extra(sess, "periode-formation", "sofi-session") == ["1", "3"]
    assert extra(sess, "session-perimee", "sofi-session") == ["1"]  # 2024 is over
    # Only what had no data is marked as a default value.
    assert extra(act, "valeur-par-defaut", "sofi-action") == [
        "modalites-alternance",  # no cycle text and no hours in a company
        "niveau-entree-obligatoire",  # SOFI's entry level is always indicative
    ]


def test_missing_data_gets_documented_fallbacks_and_stays_valid(app, client, make_establishment):
    establishment = make_establishment(postcode=None, commune=None)
    establishment.organisation.nda = None
    formation = factories.make_formation(establishment, title="Découverte")
    action = factories.make_action(formation)
    session = factories.make_session(action, teaching_mode=None, start_date=None)
    action.status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [action])
    doc = assert_valid(export(client))
    (f,) = doc.xpath("//l:formation", namespaces=N)
    assert texts(f, "l:objectif-formation") == ["Découverte"]
    assert texts(f, "l:resultats-attendus") == ["Attestation de fin de formation."]
    assert texts(f, "l:certifiante") == ["0"]
    assert texts(f, "l:organisme-formation-responsable/l:numero-activite") == ["00000000000"]
    assert texts(f, "l:action/l:conditions-specifiques") == ["Aucune."]
    assert texts(f, "l:action/l:code-public-vise") == ["83056"]
    assert texts(f, "l:action/l:session/l:periode/l:debut") == ["00000000"]
    assert texts(f, "l:action/l:session/l:adresse-inscription/l:adresse/l:codepostal") == ["00000"]
    defaulted = set(extra(f, "valeur-par-defaut", "sofi-formation"))
    assert {
        "objectif-formation",
        "resultats-attendus",
        "contenu-formation",
        "contact-formation",
        "numero-activite",
    } <= defaulted
    (s,) = f.xpath("l:action/l:session", namespaces=N)
    assert extra(s, "valeur-par-defaut", "sofi-session") == ["adresse-inscription"]
    assert session.id == int(s.get("numero"))


def test_the_export_page_is_public_and_builds_the_url(client, make_programme):
    programme = make_programme()
    response = client.get("/exports/lheo")
    assert response.status_code == 200
    assert "Export LHEO de l'offre publiée" in response.text
    assert f'<option value="{programme.id}">{programme.name}</option>' in response.text
    assert 'action="/exports/lheo.xml"' in response.text


def test_published_rows_come_whole_and_in_fas_order(app, make_establishment):
    """Only the first row of an action is read whole; the others are completed from it: what
    comes out must be exactly what was published, across batch boundaries."""
    from portal.lheo import export as lheo_export

    establishment = make_establishment()
    rows = generated_rows(_template(establishment), establishment.id, 137)
    db.session.execute(insert(PublishedSession), rows)
    db.session.commit()
    stored = dict(
        db.session.execute(select(PublishedSession.session_id, PublishedSession.data)).all()
    )
    expected = sorted(
        stored, key=lambda sid: (stored[sid]["formation"]["id"], stored[sid]["action"]["id"], sid)
    )
    for batch in (7, 500):
        read = list(lheo_export.published_rows(batch=batch))
        assert [d["session"]["id"] for d in read] == expected
        assert read == [stored[sid] for sid in expected]
