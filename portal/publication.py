"""The published copy (DESIGN §3): what validation makes public.

``publish(action)`` replaces the action's rows of ``published_sessions`` by one flat row per
active session, with everything the catalogue, the PDF catalogues and the LHEO/open-data
exports need in ``data``. Nothing else writes these rows, so later edits by the OF stay
private until the next validation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from . import codes, geo
from .catalogue.models import PublishedTerm
from .catalogue.terms import NO_END, NO_START, day_number, session_terms, span_class
from .extensions import db
from .models import (
    Action,
    Contact,
    Establishment,
    Formacode,
    PublishedSession,
    Session,
    Site,
)
from .models._base import utcnow
from .offer.snapshot import record_data
from .richtext import visible_text
from .search.normalise import normalise


def _address(site: Site | Establishment | None) -> dict[str, Any] | None:
    if site is None:
        return None
    return {
        "name": getattr(site, "name", None),
        "line1": site.address_line1,
        "line2": site.address_line2,
        "postcode": site.postcode,
        "commune": site.commune,
        "insee_code": site.insee_code,
        "department": geo.department_of(site.postcode) if site.postcode else None,
        "phone": site.phone,
        "email": site.email,
        "accessibility": getattr(site, "accessibility_note", None),
    }


def _contact(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {
        "id": contact.id,
        "civility": contact.civility,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "function": contact.function,
        "email": contact.email,
        "phone": contact.phone,
        "mobile": contact.mobile,
        "roles": list(contact.roles or []),
    }


def _organisation(establishment: Establishment | None) -> dict[str, Any] | None:
    if establishment is None:
        return None
    return {
        "id": establishment.id,
        "siret": establishment.siret,
        "sofi_number": establishment.sofi_number,
        "name": establishment.name,
        "legal_name": establishment.organisation.name,
        "siren": establishment.organisation.siren,
        "nda": establishment.organisation.nda,
        "address": _address(establishment),
    }


def session_data(session: Session) -> dict[str, Any]:
    """Everything about one session as published: plain JSON."""
    action = session.action
    formation = action.formation
    certification = formation.certification
    fundings = [
        record_data(f)
        | {
            "fee_ttc": format(f.fee_ttc, "f") if f.fee_ttc is not None else None,
            "programme_name": f.programme.name,
        }
        for f in session.fundings
    ]
    return {
        "fas_code": session.fas_code,
        "formation": record_data(formation)
        | {
            "title": formation.title,
            "objective": (certification.general_objective if certification else None)
            or formation.free_objective,
            "certification": record_data(certification) if certification else None,
            "blocs": [{"code": b.code, "title": b.title} for b in formation.blocs],
            "programme": {
                "id": formation.programme.id,
                "code": formation.programme.code,
                "name": formation.programme.name,
                "dispositif_code": formation.programme.dispositif_code,
                "funder_code": formation.programme.funder_code,
                "is_region": formation.programme.is_region,
            }
            if formation.programme
            else None,
            "lot": {
                "id": formation.lot.id,
                "code": formation.lot.code,
                "title": formation.lot.title,
                "year": formation.lot.year,
            }
            if formation.lot
            else None,
        },
        "action": record_data(action),
        "session": record_data(session),
        "organisation": _organisation(action.establishment),
        "responsible": _organisation(session.responsible or formation.mandataire),
        "action_site": _address(action.site),
        "session_site": _address(session.site),
        "info_meetings": [
            record_data(m) | {"site": _address(m.site)} for m in session.info_meetings
        ],
        "enrolment_periods": [record_data(p) for p in session.enrolment_periods],
        "fundings": fundings,
        "referents": {
            "pmr": _contact(session.referent_pmr),
            "prf": _contact(session.referent_prf),
            "liaison": _contact(session.liaison_contact),
            "mobility": _contact(session.referent_mobility),
        },
    }


def _search_text(session: Session) -> str:
    action = session.action
    formation = action.formation
    certification = formation.certification
    parts = [
        formation.title,
        action.title_complement,
        visible_text(action.objectives),
        certification.general_objective if certification else formation.free_objective,
        session.site.commune if session.site else None,
        action.establishment.name,
        " ".join(codes.PUBLIC_TARGETS.label(c) for c in action.public_targets or []),
    ]
    return normalise(" ".join(p for p in parts if p))


def published_row(session: Session) -> PublishedSession:
    """The published copy of one session, with the catalogue's word index (``terms``)."""
    action = session.action
    formation = action.formation
    site = session.site
    certification = formation.certification
    formacodes = list(certification.formacodes or []) if certification else []
    # The Formacode labels are searchable too ("comptabilité" finds a 32663 formation).
    labels = (
        db.session.scalars(select(Formacode.label).where(Formacode.code.in_(formacodes))).all()
        if formacodes
        else []
    )
    search_text = normalise(" ".join([_search_text(session), *labels]))
    department = geo.department_of(site.postcode) if site and site.postcode else None
    exit_level = certification.exit_level if certification else None
    public_targets = list(action.public_targets or [])
    row = PublishedSession(
        session_id=session.id,
        action_id=action.id,
        formation_id=formation.id,
        establishment_id=action.establishment_id,
        fas_code=session.fas_code,
        programme_id=formation.programme_id,
        lot_id=formation.lot_id,
        title=formation.title
        + (f" - {action.title_complement}" if action.title_complement else ""),
        establishment_name=action.establishment.name,
        site_name=site.name if site else None,
        commune=site.commune if site else None,
        postcode=site.postcode if site else None,
        department=department,
        start_date=session.start_date,
        end_date=session.end_date,
        teaching_mode=session.teaching_mode,
        exit_level=exit_level,
        public_targets=public_targets,
        formacodes=formacodes,
        active=session.active,
        search_text=search_text,
        data=session_data(session),
        published_at=utcnow(),
    )
    if session.active:
        span = span_class(session.start_date, session.end_date)
        start_day = day_number(session.start_date, NO_START)
        end_day = day_number(session.end_date, NO_END)
        for term in session_terms(
            search_text=search_text,
            department=department,
            programme_id=formation.programme_id,
            commune=row.commune,
            teaching_mode=session.teaching_mode,
            exit_level=exit_level,
            public_targets=public_targets,
            formacodes=formacodes,
        ):
            PublishedTerm(
                session=row,
                term=term,
                span=span,
                start_day=start_day,
                end_day=end_day,
                department=department,
                programme_id=formation.programme_id,
                teaching_mode=session.teaching_mode,
                exit_level=exit_level,
            )
    return row


def publish(action: Action) -> int:
    """Replace the action's published rows by its active sessions; return how many."""
    unpublish(action)
    rows = [published_row(s) for s in action.sessions if s.active]
    db.session.add_all(rows)
    return len(rows)


def unpublish(action: Action) -> None:
    db.session.execute(delete(PublishedSession).where(PublishedSession.action_id == action.id))
