"""Save an LHEO file's offer as drafts of one establishment, all or nothing.

``run_import`` reads the file (``reader``), refuses it whole when the reader found any error,
else creates formations, actions (status "en cours de saisie"), sessions with their
informations collectives, périodes d'inscription, fiches Dispositif and référents, in one
transaction committed at the end — a database error rolls everything back.

Matching with what the portal already knows:

- Certif Info: the code is looked up in the certifications table; unknown, the formation keeps
  its title as a free title (and the code is reported).
- Sites: a lieu is the establishment's site with the same postcode, commune and name (compared
  without case, accents or punctuation); otherwise a site is created (address checked against
  the communes file, INSEE code filled in when it is unambiguous).
- Référents: the establishment's contact with the same e-mail, else the same name; otherwise
  a contact is created with the LHEO type-contact as its role.
- Programme and lot (SOFI extras): kept only when the lot exists, belongs to the programme and
  the establishment is its mandataire or one of its formateurs (as on the fiche Formation);
  otherwise the formation is imported as the establishment's own offer and its fiches
  Dispositif are left out (reported).
- Organisme responsable: the lot's mandataire; without a lot, the establishment whose SIRET
  the file names if the portal knows it, else the importing establishment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from .. import geo
from ..errors import database_fault, fault_reason
from ..extensions import db
from ..models import (
    Action,
    ActionStatus,
    Certification,
    CertificationBloc,
    Contact,
    EnrolmentPeriod,
    Establishment,
    Formation,
    InfoMeeting,
    Lot,
    Session,
    SessionFunding,
    Site,
)
from ..models.reference import lot_formateurs
from .reader import (
    ERROR,
    MAX_BYTES,
    WARNING,
    ActionIn,
    ContactIn,
    FormationIn,
    Issue,
    Place,
    ReadResult,
    read_lheo,
    site_key,
)

log = logging.getLogger(__name__)
MAX_LISTED_RECORDS = 200


@dataclass
class ImportReport:
    """What the import page shows: counts, errors and warnings, created records."""

    filename: str | None = None
    version: str | None = None
    saved: bool = False
    too_large: bool = False
    failed: bool = False  # the database refused the records: nothing was saved
    unavailable: bool = False  # ... because it refused any write (read-only, full, down)
    read: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == WARNING]

    @property
    def status(self) -> int:
        if self.saved:
            return 200
        if self.failed:
            return 503 if self.unavailable else 500
        return 413 if self.too_large else 422


def run_import(
    source: BinaryIO,
    establishment: Establishment,
    *,
    user_id: int | None,
    filename: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> ImportReport:
    """Read ``source`` and, if it has no error, save its offer as drafts; commit or nothing."""
    result = read_lheo(source, max_bytes=max_bytes)
    report = ImportReport(filename=filename, version=result.version, read=result.counts())
    report.too_large = result.too_large
    if not result.ok:
        report.issues = result.issues
        return report
    importer = _Importer(establishment, user_id, result)
    try:
        importer.run()
        db.session.flush()
        report.records = importer.summary()
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.exception("LHEO import into establishment %s failed", establishment.id)
        fault = database_fault(error)
        report.failed = True
        report.unavailable = fault is not None
        cause = f" ({fault_reason(fault)})" if fault else ""
        report.issues = [
            *result.issues,
            Issue(
                f"L'enregistrement a échoué{cause} : rien n'a été importé. Réessayez ; si le "
                "problème persiste, contactez le service Offre."
            ),
        ]
        return report
    report.saved = True
    report.created = importer.created
    report.issues = [*result.issues, *importer.issues]
    return report


class _Importer:
    def __init__(
        self, establishment: Establishment, user_id: int | None, result: ReadResult
    ) -> None:
        self.establishment = establishment
        self.user_id = user_id
        self.result = result
        self.issues: list[Issue] = []
        self.created = {
            "formations": 0,
            "actions": 0,
            "sessions": 0,
            "sites": 0,
            "contacts": 0,
            "info_meetings": 0,
            "enrolment_periods": 0,
            "fundings": 0,
        }
        self.pairs: list[tuple[FormationIn, Formation, list[tuple[ActionIn, Action]]]] = []
        formations = result.formations
        self.sites = _SiteIndex(
            db.session.scalars(
                select(Site)
                .where(Site.establishment_id == establishment.id)
                .order_by(Site.active.desc(), Site.id)
            )
        )
        self.contacts = list(
            db.session.scalars(
                select(Contact)
                .where(Contact.establishment_id == establishment.id)
                .order_by(Contact.active.desc(), Contact.id)
            )
        )
        certif_codes = {f.certif_code for f in formations if f.certif_code}
        self.certifications = (
            {
                c.code: c
                for c in db.session.scalars(
                    select(Certification).where(Certification.code.in_(certif_codes))
                )
            }
            if certif_codes
            else {}
        )
        lot_codes = {f.lot_code for f in formations if f.lot_code}
        self.lots = (
            {
                lot.code: lot
                for lot in db.session.scalars(select(Lot).where(Lot.code.in_(lot_codes)))
            }
            if lot_codes
            else {}
        )
        formateur = select(lot_formateurs.c.lot_id).where(
            lot_formateurs.c.establishment_id == establishment.id
        )
        self.allowed_lots = set(
            db.session.scalars(
                select(Lot.id).where(
                    Lot.active.is_(True),
                    or_(Lot.mandataire_id == establishment.id, Lot.id.in_(formateur)),
                )
            )
        )
        sirets = {f.responsible_siret for f in formations if f.responsible_siret}
        self.responsibles = (
            {
                e.siret: e
                for e in db.session.scalars(
                    select(Establishment).where(Establishment.siret.in_(sirets))
                )
            }
            if sirets
            else {}
        )

    def warn(self, message: str, line: int | None, where: str | None) -> None:
        self.issues.append(Issue(message, line, where, WARNING))

    def run(self) -> None:
        for item in self.result.formations:
            self.formation(item)

    def summary(self) -> list[dict[str, Any]]:
        records = []
        for item, formation, actions in self.pairs[:MAX_LISTED_RECORDS]:
            records.append(
                {
                    "numero": item.numero,
                    "title": formation.title,
                    "formation_id": formation.id,
                    "actions": [
                        {
                            "numero": a_in.numero,
                            "action_id": action.id,
                            "sessions": len(action.sessions),
                        }
                        for a_in, action in actions
                    ],
                }
            )
        return records

    # Records ----------------------------------------------------------------------------------

    def formation(self, item: FormationIn) -> None:
        where = f"formation {item.numero}" if item.numero else None
        certification = self.certifications.get(item.certif_code or "")
        if item.certif_code and certification is None:
            self.warn(
                f"code Certif Info {item.certif_code} absent du référentiel : la formation "
                "est importée avec son intitulé libre.",
                item.line,
                where,
            )
        if certification is not None and certification.archived:
            replacement = certification.replaced_by_code
            self.warn(
                f"le code Certif Info {certification.code} est archivé"
                + (f" (remplacé par {replacement})" if replacement else "")
                + " : remplacez-le avant l'envoi en validation.",
                item.line,
                where,
            )
        lot = self.lot(item, where)
        fields = dict(item.fields)
        if certification is not None:
            fields["free_title"] = None
            fields["free_objective"] = None
        elif not fields.get("free_title"):
            fields["free_title"] = item.title or None
        formation = Formation(
            establishment_id=self.establishment.id,
            programme_id=lot.programme_id if lot else None,
            lot_id=lot.id if lot else None,
            mandataire_id=lot.mandataire_id if lot else None,
            has_certif_info=certification is not None,
            certification=certification,
            created_by_id=self.user_id,
            **fields,
        )
        if certification is not None and item.bloc_codes:
            blocs = {
                b.code: b
                for b in db.session.scalars(
                    select(CertificationBloc).where(
                        CertificationBloc.certification_id == certification.id,
                        CertificationBloc.code.in_(item.bloc_codes),
                    )
                )
            }
            formation.blocs = [blocs[c] for c in item.bloc_codes if c in blocs]
            unknown = [c for c in item.bloc_codes if c not in blocs]
            if unknown:
                self.warn(
                    f"blocs de compétences inconnus de la certification : "
                    f"{', '.join(unknown)} (non repris).",
                    item.line,
                    where,
                )
        db.session.add(formation)
        self.created["formations"] += 1
        responsible = (
            lot.mandataire
            if lot
            else self.responsibles.get(item.responsible_siret or "", self.establishment)
        )
        actions = [(a, self.action(a, formation, responsible, lot, where)) for a in item.actions]
        formation.realisation_site = actions[0][1].site if actions else None
        self.pairs.append((item, formation, actions))

    def lot(self, item: FormationIn, where: str | None) -> Lot | None:
        if not item.lot_code:
            if item.programme_code:
                self.warn(
                    f"programme « {item.programme_code} » sans lot : la formation est "
                    "importée dans votre offre propre.",
                    item.line,
                    where,
                )
            return None
        lot = self.lots.get(item.lot_code)
        problem = None
        if lot is None:
            problem = "est inconnu"
        elif item.programme_code and lot.programme.code != item.programme_code:
            problem = f"n'appartient pas au programme « {item.programme_code} »"
        elif lot.id not in self.allowed_lots:
            problem = "n'est pas attribué à votre établissement (mandataire ou formateur)"
        if problem:
            self.warn(
                f"le lot « {item.lot_code} » {problem} : la formation est importée dans "
                "votre offre propre, sans fiche Dispositif.",
                item.line,
                where,
            )
            return None
        return lot

    def action(
        self,
        item: ActionIn,
        formation: Formation,
        responsible: Establishment,
        lot: Lot | None,
        formation_where: str | None,
    ) -> Action:
        where = f"{formation_where}, action {item.numero}" if item.numero else formation_where
        places = [(p, self.site(p, where)) for p in item.places]
        action = Action(
            formation=formation,
            establishment_id=self.establishment.id,
            site=places[0][1] if places else None,
            status=ActionStatus.DRAFT,
            created_by_id=self.user_id,
            **item.fields,
        )
        db.session.add(action)
        self.created["actions"] += 1
        lieux = _SiteIndex(site for _, site in places)
        dropped: set[str] = set()
        for session_in in item.sessions:
            session_where = f"{where}, session {session_in.numero}" if session_in.numero else where
            site = lieux.find(session_in.place) if session_in.place else None
            session = Session(
                action=action,
                establishment_id=self.establishment.id,
                site=site or action.site,
                responsible=responsible,
                active=True,
                created_by_id=self.user_id,
                **session_in.fields,
            )
            db.session.add(session)
            self.created["sessions"] += 1
            for meeting in session_in.info_meetings:
                place = meeting["place"]
                meeting_site = None
                if place is not None:
                    meeting_site = lieux.find(place) or self.site(place, session_where)
                db.session.add(
                    InfoMeeting(
                        session=session,
                        establishment_id=self.establishment.id,
                        site=meeting_site or session.site,
                        day=meeting["day"],
                        start_time=meeting["start_time"],
                        comment=meeting["comment"],
                        created_by_id=self.user_id,
                    )
                )
                self.created["info_meetings"] += 1
            for period in session_in.enrolment_periods:
                db.session.add(
                    EnrolmentPeriod(
                        session=session,
                        establishment_id=self.establishment.id,
                        created_by_id=self.user_id,
                        **period,
                    )
                )
                self.created["enrolment_periods"] += 1
            self.fundings(session_in.fundings, session, formation, lot, dropped)
            for field_name, contact in session_in.referents.items():
                setattr(session, _REFERENT_ATTRS[field_name], self.contact(contact))
        for code in sorted(dropped) if lot is not None else ():
            self.warn(
                f"fiches Dispositif du programme « {code} » non reprises : la formation "
                "n'est pas rattachée à ce programme dans votre établissement.",
                item.line,
                where,
            )
        return action

    def fundings(
        self,
        fundings: list[dict[str, Any]],
        session: Session,
        formation: Formation,
        lot: Lot | None,
        dropped: set[str],
    ) -> None:
        seen = False
        for funding in fundings:
            values = dict(funding)
            code = values.pop("programme_code", None)
            if lot is None or code != lot.programme.code or seen:
                dropped.add(code or "?")
                continue
            seen = True
            db.session.add(
                SessionFunding(
                    session=session,
                    establishment_id=self.establishment.id,
                    programme_id=lot.programme_id,
                    created_by_id=self.user_id,
                    **values,
                )
            )
            self.created["fundings"] += 1

    # Directory ---------------------------------------------------------------------------------

    def site(self, place: Place, where: str | None) -> Site:
        """The establishment's site for ``place``, created when there is none."""
        site = self.sites.find(place)
        if site is not None:
            return site
        name = place.label
        insee = place.insee_code
        try:
            commune = geo.check_commune(place.postcode, place.commune, insee)
            insee = commune.insee_code
        except geo.CommuneError as error:
            self.warn(
                f"adresse du lieu « {name} » : {error.message} Le site est créé tel quel : "
                "corrigez-le dans l'annuaire.",
                place.line,
                where,
            )
            if insee and len(insee) != 5:
                insee = None
        site = Site(
            establishment_id=self.establishment.id,
            name=name[:250],
            address_line1=place.line1,
            address_line2=place.line2,
            postcode=place.postcode[:5],
            commune=place.commune[:50],
            insee_code=insee,
            phone=place.phone,
            email=place.email,
            created_by_id=self.user_id,
        )
        db.session.add(site)
        self.sites.add(site)
        self.created["sites"] += 1
        return site

    def contact(self, item: ContactIn) -> Contact:
        for contact in self.contacts:
            if item.email and contact.email and contact.email.casefold() == item.email.casefold():
                return contact
        wanted = (geo.normalise_name(item.last_name), geo.normalise_name(item.first_name or ""))
        for contact in self.contacts:
            if (
                geo.normalise_name(contact.last_name),
                geo.normalise_name(contact.first_name or ""),
            ) == wanted:
                return contact
        contact = Contact(
            establishment_id=self.establishment.id,
            civility=item.civility,
            last_name=item.last_name,
            first_name=item.first_name,
            email=item.email,
            phone=item.phone,
            mobile=item.mobile,
            roles=list(item.roles),
            created_by_id=self.user_id,
        )
        db.session.add(contact)
        self.contacts.append(contact)
        self.created["contacts"] += 1
        return contact


class _SiteIndex:
    """Sites by postcode, commune and name; a place without a name (an ``adresse`` with no
    ``denomination``) matches on postcode, commune and first address line instead."""

    def __init__(self, sites: Iterable[Site] = ()) -> None:
        self._by_name: dict[tuple[str, str, str], Site] = {}
        self._by_line: dict[tuple[str, str, str], Site] = {}
        for site in sites:
            self.add(site)

    def add(self, site: Site) -> None:
        self._by_name.setdefault(site_key(site.postcode, site.commune, site.name), site)
        if site.address_line1:
            self._by_line.setdefault(
                site_key(site.postcode, site.commune, site.address_line1), site
            )

    def find(self, place: Place) -> Site | None:
        site = self._by_name.get(place.key())
        if site is None and place.name is None and place.line1:
            site = self._by_line.get(site_key(place.postcode, place.commune, place.line1))
        return site


_REFERENT_ATTRS = {
    "pmr": "referent_pmr",
    "prf": "referent_prf",
    "liaison": "liaison_contact",
    "mobility": "referent_mobility",
}
