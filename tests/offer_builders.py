"""A complete public offer (every completeness rule passes), for tests of the fiches."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from portal.extensions import db
from portal.models import InfoMeeting, SessionFunding

from . import factories


def complete_offer(establishment, *, year: int = 2024, start: date | None = None):
    """Programme (sessions start in the lot's year), lot, certification, formation, action,
    one session with its information collective and dispositif: everything filled in."""
    site = factories.make_site(establishment, name="Principal")
    contact = factories.make_contact(establishment)
    programme = factories.make_programme(start_in_lot_year=True, publics="demandeur d'emploi")
    lot = factories.make_lot(
        programme,
        establishment,
        year=year,
        region_lot_number=f"PE{year}_8",
        region_action_id="2872",
        region_mandataire_id="75",
    )
    certification = factories.make_certification()
    formation = factories.make_formation(
        establishment,
        programme_id=programme.id,
        lot_id=lot.id,
        mandataire_id=establishment.id,
        realisation_site_id=site.id,
        has_certif_info=True,
        certification_id=certification.id,
        individualised_by_blocs=False,
        bloc_validation="1",
    )
    action = factories.make_action(formation, site_id=site.id, entry_level="1")
    session = factories.make_session(
        action,
        site_id=site.id,
        start_date=start or date(year, 2, 10),
        end_date=date(year, 6, 28),
        entry_exit_mode="0",
        rhythm="1",
        training_periods=["1"],
        path_type="1",
        pedagogical_modes=["96142"],
        teaching_mode=0,
        hours_centre=200,
        hours_company=0,
        company_unit="0",
        recruitment_state="1",
        recruitment_modes=["9"],
        referent_pmr_id=contact.id,
        referent_mobility_id=contact.id,
        responsible_id=establishment.id,
    )
    db.session.add_all(
        [
            InfoMeeting(
                session_id=session.id,
                establishment_id=establishment.id,
                site_id=site.id,
                day=date(year, 1, 25),
                start_time=time(9, 30),
            ),
            SessionFunding(
                session_id=session.id,
                establishment_id=establishment.id,
                programme_id=programme.id,
                places=12,
                fee_ht=Decimal("2500"),
                vat_rate=Decimal("20"),
            ),
        ]
    )
    db.session.commit()
    return {
        "site": site,
        "contact": contact,
        "programme": programme,
        "lot": lot,
        "certification": certification,
        "formation": formation,
        "action": action,
        "session": session,
        "funding": session.fundings[0],
    }
