"""Named filters of the session and action lists; the dashboard counts the same filters.

Each filter is a SQL condition over the list rows (``session_listing``, ``action_listing``), so
that a counter and the list behind its 🔍 link read the same rows through the same condition and
can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from ..codes import DISTANCE_TEACHING_MODES
from ..extensions import db
from ..models import ActionStatus
from .models import ActionListing, SessionListing

ENDING_SOON_DAYS = 30
S = SessionListing
A = ActionListing


@dataclass(frozen=True)
class NamedFilter:
    slug: str
    label: str
    condition: Callable[[date], ColumnElement[bool]]
    help: str = ""


def session_is_active(today: date) -> ColumnElement[bool]:
    """Etat A/I: active flag set and not ended yet (a session without end date never ends)."""
    return and_(S.active.is_(True), S.end_date >= today)


def session_is_inactive(today: date) -> ColumnElement[bool]:
    return or_(S.active.is_(False), S.end_date < today)


SESSION_FILTERS: dict[str, NamedFilter] = {
    f.slug: f
    for f in (
        NamedFilter("actives", "Sessions de formation actives", session_is_active),
        NamedFilter(
            "initiales-actives",
            "Sessions de formation initiales actives",
            lambda today: and_(session_is_active(today), S.is_initial_training.is_(True)),
        ),
        NamedFilter(
            "fin-moins-un-mois",
            "Sessions de formation inactives dans moins d'un mois",
            lambda today: and_(
                session_is_active(today), S.end_date <= today + timedelta(days=ENDING_SOON_DAYS)
            ),
            help="Sessions actives dont la date de fin tombe dans les 30 prochains jours.",
        ),
        NamedFilter("inactives", "Sessions de formation inactives", session_is_inactive),
        NamedFilter(
            "programme-region",
            "Sessions de formation du programme région",
            lambda today: and_(session_is_active(today), S.is_region.is_(True)),
        ),
        NamedFilter(
            "apprentissage",
            "Sessions de formation en contrat d'apprentissage",
            lambda today: and_(session_is_active(today), S.is_apprenticeship.is_(True)),
        ),
        NamedFilter(
            "professionnalisation",
            "Sessions de formation en contrat de professionnalisation",
            lambda today: and_(session_is_active(today), S.is_professionalisation.is_(True)),
        ),
        NamedFilter(
            "a-distance",
            "Sessions de formation ouvertes à distance",
            lambda today: and_(
                session_is_active(today), S.teaching_mode.in_(DISTANCE_TEACHING_MODES)
            ),
        ),
    )
}

ACTION_FILTERS: dict[str, NamedFilter] = {
    f.slug: f
    for f in (
        NamedFilter(
            "en-saisie",
            "Actions de formation en cours de saisie",
            lambda today: A.status == ActionStatus.DRAFT,
            help="Actions en cours de création ou de modification qui n'ont pas été envoyées "
            "en validation.",
        ),
        NamedFilter(
            "publiques-en-saisie",
            "Actions de formation publique en cours de saisie",
            lambda today: and_(A.status == ActionStatus.DRAFT, A.is_public.is_(True)),
        ),
        NamedFilter(
            "en-attente-validation",
            "Actions de formation en attente de validation par CARIF-OREF",
            lambda today: A.status == ActionStatus.SUBMITTED,
            help="Actions créées et en attente d'être validées par le service Offre du Cariforef.",
        ),
        NamedFilter(
            "en-attente-reponses",
            "Actions de formation en attente de réponses",
            lambda today: A.status == ActionStatus.QUESTIONED,
        ),
        NamedFilter(
            "certifinfo-remplace",
            "Actions de formation dont le code Certifinfo a été remplacé par le CARIF-OREF",
            lambda today: A.certif_replaced.is_(True),
        ),
    )
}


def _count_each(filters: dict[str, NamedFilter], today: date) -> list:
    return [
        func.coalesce(func.sum(case((f.condition(today), 1), else_=0)), 0) for f in filters.values()
    ]


def dashboard_counts(establishment_id: int, today: date) -> dict[str, dict[str, int]]:
    """Count every dashboard filter for one establishment in two queries (sessions, actions).

    Both read one covering index (``ix_*_listing_est_counters``), not the rows.
    """
    session_row = db.session.execute(
        select(*_count_each(SESSION_FILTERS, today)).where(S.establishment_id == establishment_id)
    ).one()
    action_row = db.session.execute(
        select(*_count_each(ACTION_FILTERS, today)).where(A.establishment_id == establishment_id)
    ).one()
    return {
        "sessions": dict(zip(SESSION_FILTERS, map(int, session_row), strict=True)),
        "actions": dict(zip(ACTION_FILTERS, map(int, action_row), strict=True)),
    }
