"""Named filters of the session and action lists; the dashboard counts the same filters.

Each filter is a SQL condition over ``Session`` (or ``Action``) joined to its action, formation
and programme, so that a counter and the list behind its 🔍 link can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, func, not_, or_, select

from ..codes import DISTANCE_TEACHING_MODES
from ..extensions import db
from ..models import Action, ActionStatus, Formation, Programme, Session

ENDING_SOON_DAYS = 30


@dataclass(frozen=True)
class NamedFilter:
    slug: str
    label: str
    condition: Callable[[date], ColumnElement[bool]]
    help: str = ""


def session_is_active(today: date) -> ColumnElement[bool]:
    """Etat A/I: active flag set and not ended yet."""
    return and_(
        Session.active.is_(True), or_(Session.end_date.is_(None), Session.end_date >= today)
    )


SESSION_FILTERS: dict[str, NamedFilter] = {
    f.slug: f
    for f in (
        NamedFilter("actives", "Sessions de formation actives", session_is_active),
        NamedFilter(
            "initiales-actives",
            "Sessions de formation initiales actives",
            lambda today: and_(session_is_active(today), Session.is_initial_training.is_(True)),
        ),
        NamedFilter(
            "fin-moins-un-mois",
            "Sessions de formation inactives dans moins d'un mois",
            lambda today: and_(
                session_is_active(today),
                Session.end_date <= today + timedelta(days=ENDING_SOON_DAYS),
            ),
            help="Sessions actives dont la date de fin tombe dans les 30 prochains jours.",
        ),
        NamedFilter(
            "inactives", "Sessions de formation inactives", lambda t: not_(session_is_active(t))
        ),
        NamedFilter(
            "programme-region",
            "Sessions de formation du programme région",
            lambda today: and_(session_is_active(today), Programme.is_region.is_(True)),
        ),
        NamedFilter(
            "apprentissage",
            "Sessions de formation en contrat d'apprentissage",
            lambda today: and_(session_is_active(today), Session.is_apprenticeship.is_(True)),
        ),
        NamedFilter(
            "professionnalisation",
            "Sessions de formation en contrat de professionnalisation",
            lambda today: and_(session_is_active(today), Session.is_professionalisation.is_(True)),
        ),
        NamedFilter(
            "a-distance",
            "Sessions de formation ouvertes à distance",
            lambda today: and_(
                session_is_active(today), Session.teaching_mode.in_(DISTANCE_TEACHING_MODES)
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
            lambda today: Action.status == ActionStatus.DRAFT,
            help="Actions en cours de création ou de modification qui n'ont pas été envoyées "
            "en validation.",
        ),
        NamedFilter(
            "publiques-en-saisie",
            "Actions de formation publique en cours de saisie",
            lambda today: and_(Action.status == ActionStatus.DRAFT, Programme.is_public.is_(True)),
        ),
        NamedFilter(
            "en-attente-validation",
            "Actions de formation en attente de validation par CARIF-OREF",
            lambda today: Action.status == ActionStatus.SUBMITTED,
            help="Actions créées et en attente d'être validées par le service Offre du Cariforef.",
        ),
        NamedFilter(
            "en-attente-reponses",
            "Actions de formation en attente de réponses",
            lambda today: Action.status == ActionStatus.QUESTIONED,
        ),
        NamedFilter(
            "certifinfo-remplace",
            "Actions de formation dont le code Certifinfo a été remplacé par le CARIF-OREF",
            lambda today: Formation.certif_replaced_at.is_not(None),
        ),
    )
}


def sessions_base() -> Select:
    """Sessions joined to what the filters and the list columns read."""
    return (
        select(Session)
        .join(Action, Session.action_id == Action.id)
        .join(Formation, Action.formation_id == Formation.id)
        .outerjoin(Programme, Formation.programme_id == Programme.id)
    )


def actions_base() -> Select:
    return (
        select(Action)
        .join(Formation, Action.formation_id == Formation.id)
        .outerjoin(Programme, Formation.programme_id == Programme.id)
    )


def _count_each(filters: dict[str, NamedFilter], today: date) -> list:
    return [
        func.coalesce(func.sum(case((f.condition(today), 1), else_=0)), 0) for f in filters.values()
    ]


def dashboard_counts(establishment_id: int, today: date) -> dict[str, dict[str, int]]:
    """Count every dashboard filter for one establishment in two queries (sessions, actions)."""
    session_row = db.session.execute(
        sessions_base()
        .with_only_columns(*_count_each(SESSION_FILTERS, today))
        .where(Session.establishment_id == establishment_id)
    ).one()
    action_row = db.session.execute(
        actions_base()
        .with_only_columns(*_count_each(ACTION_FILTERS, today))
        .where(Action.establishment_id == establishment_id)
    ).one()
    return {
        "sessions": dict(zip(SESSION_FILTERS, map(int, session_row), strict=True)),
        "actions": dict(zip(ACTION_FILTERS, map(int, action_row), strict=True)),
    }
