"""Demo data of DESIGN §8: accounts, establishments, programmes, lots, Certif Info and offers.

Dates are relative to the day of loading so that every dashboard counter is non-zero whatever
the day; the acceptance checks rely on the names, SIRETs and the FAS code 19482-89393-143842.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text

from .auth.passwords import hash_password
from .extensions import db
from .imports.certifinfo import read_register
from .models import (
    Action,
    ActionEvent,
    ActionStatus,
    Certification,
    Contact,
    Establishment,
    Formation,
    InfoMeeting,
    Lot,
    OpenDay,
    Organisation,
    Programme,
    Session,
    SessionFunding,
    Site,
    User,
)
from .models._base import utcnow

DEMO_PASSWORD = "Demo-2024!"
CERTIFINFO_FILE = Path(__file__).parent / "data" / "certifinfo-demo.json"

PROGRAMMES = [
    # code, name, dispositif code, start in lot year
    ("1E1F", "PROGRAMME REGION - 1 emploi = 1 formation", 5, False),
    ("PAS", "PROGRAMME REGION - PREPA Avenir Sup", 3, False),
    ("PCA", "PROGRAMME REGION - PREPA Clés Avenir", 4, False),
    ("PE", "PROGRAMME REGION - Formations Parcours entrepreneur", 8, True),
    ("PSS", "PROGRAMME REGION - PREPA Sanitaire et social", 6, False),
]
PE_LOTS = [
    (1, "Formations à la création-reprise d'entreprise en Loire-Atlantique Nord"),
    (2, "Formations à la création-reprise d'entreprise en Loire-Atlantique Sud"),
    (3, "Formations à la création-reprise d'entreprise dans la métropole nantaise"),
    (4, "Formations à la création-reprise d'entreprise en Vendée"),
    (5, "Formations à la création-reprise d'entreprise en Sarthe"),
    (6, "Formations à la création-reprise d'entreprise en Mayenne"),
    (7, "Formations à la création-reprise d'entreprise dans le Saumurois"),
    (8, "Formations à la création-reprise d'entreprise en Maine-et-Loire"),
]


def is_loaded() -> bool:
    return db.session.scalar(select(User.id).where(User.email == "of.demo@example.org")) is not None


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(User.id)))


def load_demo_data(today: date | None = None) -> bool:
    """Load the demo data once; return False (and change nothing) if it is already there."""
    if is_loaded():
        return False
    today = today or date.today()
    _DemoLoader(today).run()
    db.session.flush()
    _publish_validated()
    db.session.commit()
    _sync_sequences()
    return True


def _publish_validated() -> None:
    """Give the demo's validated actions what validation gives: a snapshot and the published
    copy, so that the public catalogue and the exports have content from the first start."""
    from .offer.snapshot import action_snapshot
    from .publication import publish

    stmt = select(Action).where(Action.status == ActionStatus.VALIDATED).order_by(Action.id)
    for action in db.session.scalars(stmt):
        db.session.add(
            ActionEvent(
                action_id=action.id,
                establishment_id=action.establishment_id,
                kind="validate",
                from_status=ActionStatus.SUBMITTED,
                to_status=ActionStatus.VALIDATED,
                snapshot=action_snapshot(action),
            )
        )
        publish(action)


class _DemoLoader:
    def __init__(self, today: date) -> None:
        self.today = today

    def run(self) -> None:
        self._certifications()
        self._directory()
        self._programmes()
        self._users()
        self._offer()

    def _certifications(self) -> None:
        known = set(db.session.scalars(select(Certification.code)))
        for entry in read_register(CERTIFINFO_FILE):
            if entry.code in known:
                continue
            db.session.add(
                Certification(
                    code=entry.code,
                    title=entry.title,
                    type_code=entry.type_code,
                    type_label=entry.type_label,
                    exit_level=entry.exit_level,
                )
            )
        db.session.flush()
        self.cert_pe = self._certification("93561")
        self.cert_pe.general_objective = "certification"
        self.cert_pe.formacodes = ["32047", "32032"]
        self.cert_pe.content = (
            "Accompagnement des créateurs et repreneurs d'entreprise : étude de marché, "
            "statut juridique, prévisionnel financier, financement et démarches de création."
        )
        self.cert_arh = self._certification("81506")
        self.cert_arh.general_objective = "Certification"
        self.cert_arh.formacodes = ["33054"]
        self.cert_sec = self._certification("99145")

    @staticmethod
    def _certification(code: str) -> Certification:
        return db.session.scalars(select(Certification).where(Certification.code == code)).one()

    def _directory(self) -> None:
        carif_org = Organisation(
            siren="130005119", name="CARIFOREF DES PAYS DE LA LOIRE", nda="52440000044"
        )
        other_org = Organisation(
            siren="888123452", name="ENTREPRENDRE EN LOIRE (démo)", nda="52720000072"
        )
        self.nantes = Establishment(
            organisation=carif_org,
            siret="13000511900032",
            sofi_number=36364,
            name="CARIFOREF DES PAYS DE LA LOIRE",
            address_line1="12 rue du Président Édouard Herriot",
            postcode="44000",
            commune="Nantes",
            insee_code="44109",
            phone="+33240204020",
            email="offre@example.org",
        )
        self.angers = Establishment(
            organisation=carif_org,
            siret="13000511900040",
            sofi_number=36365,
            name="CARIFOREF DES PAYS DE LA LOIRE",
            address_line1="2 boulevard Foch",
            postcode="49100",
            commune="Angers",
            insee_code="49007",
        )
        self.lemans = Establishment(
            organisation=other_org,
            siret="88812345200011",
            sofi_number=41020,
            name="ENTREPRENDRE EN LOIRE (démo)",
            address_line1="5 place de la République",
            postcode="72000",
            commune="Le Mans",
            insee_code="72181",
        )
        db.session.add_all([self.nantes, self.angers, self.lemans])
        db.session.flush()
        self.site_nantes = Site(
            establishment_id=self.nantes.id,
            name="Principal",
            address_line1="12 rue du Président Édouard Herriot",
            postcode="44000",
            commune="Nantes",
            insee_code="44109",
            phone="+33240204020",
            accessibility_note="Locaux accessibles aux personnes à mobilité réduite.",
        )
        self.site_nantes_2 = Site(
            establishment_id=self.nantes.id,
            name="Saint-Herblain",
            address_line1="3 rue Jacques Daguerre",
            postcode="44800",
            commune="Saint-Herblain",
            insee_code="44162",
        )
        self.site_angers = Site(
            establishment_id=self.angers.id,
            name="Principal",
            address_line1="2 boulevard Foch",
            postcode="49100",
            commune="Angers",
            insee_code="49007",
        )
        self.site_lemans = Site(
            establishment_id=self.lemans.id,
            name="Principal",
            address_line1="5 place de la République",
            postcode="72000",
            commune="Le Mans",
            insee_code="72181",
        )
        db.session.add_all(
            [self.site_nantes, self.site_nantes_2, self.site_angers, self.site_lemans]
        )
        # The procedure's référent "1902, auto saisie - 36364, CARIFOREF DES PAYS DE LA LOIRE".
        self.contact_nantes = Contact(
            id=1902,
            establishment_id=self.nantes.id,
            first_name="auto",
            last_name="saisie",
            function="Chargée de l'offre",
            email="auto.saisie@example.org",
            phone="+33240204020",
            roles=["1", "2", "3"],
        )
        self.contact_angers = Contact(
            establishment_id=self.angers.id,
            civility="M.",
            first_name="Paul",
            last_name="Martin",
            function="Responsable pédagogique",
            email="paul.martin@example.org",
            roles=["1", "3"],
        )
        self.contact_lemans = Contact(
            establishment_id=self.lemans.id,
            civility="Mme",
            first_name="Claire",
            last_name="Durand",
            email="claire.durand@example.org",
            roles=["1", "2"],
        )
        db.session.add_all([self.contact_nantes, self.contact_angers, self.contact_lemans])
        db.session.flush()
        db.session.add(
            OpenDay(
                establishment_id=self.nantes.id,
                site_id=self.site_nantes.id,
                day=self.today + timedelta(days=21),
                start_time=time(9, 30),
                end_time=time(12, 30),
                description="Présentation des parcours création-reprise d'entreprise.",
            )
        )

    def _programmes(self) -> None:
        self.programmes: dict[str, Programme] = {}
        for code, name, dispositif, lot_year in PROGRAMMES:
            programme = Programme(
                code=code,
                name=name,
                dispositif_code=dispositif,
                is_public=True,
                is_region=True,
                start_in_lot_year=lot_year,
                funder_code="2",
                publics="demandeur d'emploi",
            )
            db.session.add(programme)
            self.programmes[code] = programme
        db.session.flush()
        self.lots: dict[int, Lot] = {}
        for number, title in PE_LOTS:
            lot = Lot(
                programme_id=self.programmes["PE"].id,
                code=f"PE2024_{number}",
                title=f"Lot {number} - {title}",
                year=2024,
                region_lot_number=f"PE2024_{number}",
                region_action_id=str(2870 + number),
                region_mandataire_id="75" if number != 5 else "81",
                mandataire_id=self.lemans.id if number == 5 else self.nantes.id,
                places_ordered=12 * number,
                fixed_recruitment_fee=number in (2, 8),
            )
            lot.formateurs = [self.angers] if number in (7, 8) else [self.nantes]
            db.session.add(lot)
            self.lots[number] = lot
        self.lot_1e1f = Lot(
            programme_id=self.programmes["1E1F"].id,
            code="1E1F2026_3",
            title="Lot 3 - Métiers du support administratif en Loire-Atlantique",
            year=2026,
            region_lot_number="1E1F2026_3",
            region_action_id="3310",
            region_mandataire_id="75",
            mandataire_id=self.nantes.id,
            places_ordered=24,
        )
        db.session.add(self.lot_1e1f)
        db.session.flush()

    def _users(self) -> None:
        password = hash_password(DEMO_PASSWORD)
        of_demo = User(
            email="of.demo@example.org",
            first_name="Auto",
            last_name="Saisie",
            role=User.ROLE_OF,
            password_hash=password,
        )
        of_demo.establishments = [self.nantes, self.angers]
        other = User(
            email="autre.of@example.org",
            first_name="Claire",
            last_name="Durand",
            role=User.ROLE_OF,
            password_hash=password,
        )
        other.establishments = [self.lemans]
        carif = User(
            email="offre@example.org",
            first_name="Service",
            last_name="Offre",
            role=User.ROLE_CARIF,
            password_hash=password,
        )
        db.session.add_all([of_demo, other, carif])

    def _offer(self) -> None:
        t = self.today
        pe = self.programmes["PE"]
        # The procedure's example session 19482-89393-143842.
        arh = self._formation(self.nantes, self.cert_arh, programme=pe, lot=self.lots[3], id=19482)
        arh_action = self._action(arh, self.site_nantes, ActionStatus.VALIDATED, id=89393)
        self._session(
            arh_action,
            self.site_nantes,
            t - timedelta(days=60),
            t + timedelta(days=90),
            id=143842,
            hours_centre=420,
            hours_company=140,
        )
        self._session(arh_action, self.site_nantes, t - timedelta(days=10), t + timedelta(days=12))
        self._session(
            arh_action,
            self.site_nantes_2,
            t - timedelta(days=30),
            t + timedelta(days=150),
            teaching_mode=2,
        )
        self._session(
            arh_action, self.site_nantes, t - timedelta(days=300), t - timedelta(days=100)
        )
        self._session(
            arh_action,
            self.site_nantes,
            t + timedelta(days=40),
            t + timedelta(days=200),
            active=False,
        )
        # Parcours entrepreneur, PE2024_8: a draft still being entered.
        pe_form = self._formation(self.nantes, self.cert_pe, programme=pe, lot=self.lots[8])
        pe_draft = self._action(pe_form, self.site_nantes, ActionStatus.DRAFT)
        self._session(
            pe_draft, self.site_nantes, date(2024, 2, 10), date(2024, 6, 28), hours_centre=200
        )
        # Awaiting validation, and awaiting answers.
        sec = self._formation(
            self.nantes, self.cert_sec, programme=self.programmes["1E1F"], lot=self.lot_1e1f
        )
        sent = self._action(sec, self.site_nantes, ActionStatus.SUBMITTED)
        self._session(sent, self.site_nantes, t + timedelta(days=20), t + timedelta(days=240))
        asked = self._action(sec, self.site_nantes_2, ActionStatus.QUESTIONED)
        self._session(
            asked,
            self.site_nantes_2,
            t + timedelta(days=35),
            t + timedelta(days=260),
            is_professionalisation=True,
        )
        # The establishment's own offer (no programme): initial training and apprenticeship.
        own = self._formation(self.nantes, None, title="Découvrir les métiers du numérique")
        own_action = self._action(own, self.site_nantes, ActionStatus.DRAFT)
        self._session(
            own_action,
            self.site_nantes,
            t - timedelta(days=5),
            t + timedelta(days=100),
            is_initial_training=True,
            is_apprenticeship=True,
        )
        # A formation whose Certif Info code the Carif-Oref replaced.
        replaced = self._formation(self.nantes, self.cert_sec, programme=pe, lot=self.lots[3])
        replaced.certif_replaced_from = "54913"
        replaced.certif_replaced_at = utcnow()
        self._action(replaced, self.site_nantes, ActionStatus.VALIDATED)
        # Angers: a smaller offer so that switching establishments changes every counter.
        angers_form = self._formation(self.angers, self.cert_pe, programme=pe, lot=self.lots[8])
        angers_action = self._action(angers_form, self.site_angers, ActionStatus.SUBMITTED)
        self._session(
            angers_action, self.site_angers, t - timedelta(days=15), t + timedelta(days=25)
        )
        # Le Mans (another organisation) has its own offer.
        lm = self._formation(self.lemans, self.cert_pe, programme=pe, lot=self.lots[5])
        lm_action = self._action(lm, self.site_lemans, ActionStatus.VALIDATED)
        self._session(lm_action, self.site_lemans, t + timedelta(days=10), t + timedelta(days=70))
        self._session(lm_action, self.site_lemans, t - timedelta(days=200), t - timedelta(days=30))

    def _formation(
        self, establishment, certification, *, programme=None, lot=None, title=None, id=None
    ) -> Formation:
        formation = Formation(
            id=id,
            establishment_id=establishment.id,
            programme_id=programme.id if programme else None,
            lot_id=lot.id if lot else None,
            mandataire_id=lot.mandataire_id if lot else None,
            has_certif_info=certification is not None,
            certification_id=certification.id if certification else None,
            free_title=title,
            free_objective="Découvrir les métiers et construire son projet." if title else None,
            individualised_by_blocs=False,
            bloc_validation="1",
        )
        db.session.add(formation)
        db.session.flush()
        return formation

    def _action(self, formation, site, status, *, id=None) -> Action:
        action = Action(
            id=id,
            formation_id=formation.id,
            establishment_id=formation.establishment_id,
            site_id=site.id,
            programme_complement="<p>Accompagnement individuel et ateliers collectifs.</p>",
            objectives="<p>Construire et valider son projet.</p>",
            plus_formation="Un suivi individuel par un conseiller dédié.",
            entry_level="1",
            prerequisites=["3", "4"],
            prerequisites_comment=(
                "Maîtriser les compétences générales et professionnelles, posséder la "
                "qualification professionnelle nécessaire à la future activité."
            ),
            public_targets=["80006"],
            public_comment=(
                "Demandeurs d'emploi ayant un projet de création/reprise d'entreprise."
            ),
            status=status,
            status_changed_at=utcnow(),
            submitted_at=utcnow() if status != ActionStatus.DRAFT else None,
            validated_at=utcnow() if status == ActionStatus.VALIDATED else None,
        )
        db.session.add(action)
        db.session.flush()
        return action

    def _session(
        self,
        action,
        site,
        start,
        end,
        *,
        id=None,
        active=True,
        teaching_mode=0,
        hours_centre=200,
        hours_company=0,
        **flags,
    ) -> Session:
        formation = db.session.get(Formation, action.formation_id)
        session = Session(
            id=id,
            action_id=action.id,
            establishment_id=action.establishment_id,
            site_id=site.id,
            start_date=start,
            end_date=end,
            entry_exit_mode="0",
            rhythm="1",
            path_type="1",
            teaching_mode=teaching_mode,
            hours_centre=hours_centre,
            hours_company=hours_company,
            hours_weekly=Decimal("35"),
            responsible_id=formation.mandataire_id or action.establishment_id,
            recruitment_state="1",
            recruitment_modes=["8", "9"],
            active=active,
            **flags,
        )
        db.session.add(session)
        db.session.flush()
        db.session.add(
            InfoMeeting(
                session_id=session.id,
                establishment_id=session.establishment_id,
                site_id=site.id,
                day=start - timedelta(days=14),
                start_time=time(9, 30),
            )
        )
        if formation.programme_id:
            lot = db.session.get(Lot, formation.lot_id) if formation.lot_id else None
            db.session.add(
                SessionFunding(
                    session_id=session.id,
                    establishment_id=session.establishment_id,
                    programme_id=formation.programme_id,
                    publics="demandeur d'emploi",
                    region_lot_number=lot.region_lot_number if lot else None,
                    region_action_id=lot.region_action_id if lot else None,
                    region_mandataire_id=lot.region_mandataire_id if lot else None,
                    places=12,
                    places_remaining=5,
                    fee_ht=Decimal("2500.00"),
                    vat_rate=Decimal("0"),
                    certification_fees_included=False,
                    teaching_fees_covered=True,
                )
            )
        return session


def _sync_sequences() -> None:
    """Move PostgreSQL sequences past the explicit ids the demo inserted."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("formations", "actions", "sessions", "contacts"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )
    db.session.commit()
