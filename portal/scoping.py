"""The one place that scopes OF data to the establishment chosen in the header switcher.

Views never filter on establishment_id themselves: they call ``scoped()`` or
``get_scoped_or_404()``, which read the current establishment checked here once per request.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort, g, session
from flask_login import current_user
from sqlalchemy import Select, exists, select

from .extensions import db
from .models import Establishment, User
from .models.directory import user_establishments
from .validators import parse_int

SESSION_KEY = "establishment_id"
M = TypeVar("M")


class NoEstablishmentSelected(Exception):
    """A carif user (or an OF user with no attachment) reached a page that needs one."""


def attached_establishments(user: User) -> list[Establishment]:
    """The establishments an OF user may switch to, in SIRET order."""
    stmt = (
        select(Establishment)
        .join(user_establishments, user_establishments.c.establishment_id == Establishment.id)
        .where(user_establishments.c.user_id == user.id, Establishment.active.is_(True))
        .order_by(Establishment.siret)
    )
    return list(db.session.scalars(stmt))


def can_access(user: User, establishment_id: int) -> bool:
    """Whether ``user`` may act for the establishment (carif: any; OF: the active ones they
    are attached to — a deactivated establishment is closed to its OF users)."""
    if user.is_carif:
        return True
    stmt = select(
        exists().where(
            user_establishments.c.user_id == user.id,
            user_establishments.c.establishment_id == establishment_id,
            Establishment.id == user_establishments.c.establishment_id,
            Establishment.active.is_(True),
        )
    )
    return bool(db.session.scalar(stmt))


def current_establishment() -> Establishment | None:
    """Return the establishment selected for this login session, checked against the user.

    An OF user who never chose one gets the first they are attached to; a carif user has none
    until they pick one.
    """
    if "current_establishment" in g:
        return g.current_establishment
    establishment = None
    if current_user.is_authenticated:
        chosen = session.get(SESSION_KEY)
        if chosen is not None and can_access(current_user, chosen):
            establishment = db.session.get(Establishment, chosen)
        if establishment is None and not current_user.is_carif:
            attached = attached_establishments(current_user)
            establishment = attached[0] if attached else None
            if establishment is not None:
                session[SESSION_KEY] = establishment.id
    g.current_establishment = establishment
    return establishment


def require_establishment() -> Establishment:
    establishment = current_establishment()
    if establishment is None:
        raise NoEstablishmentSelected
    return establishment


def select_establishment(establishment_id: Any) -> Establishment:
    """Make ``establishment_id`` current for the login session.

    403 for an OF user not attached to it (the id came from a forged form), 404 when it does
    not exist for a carif user, 400 when it is not a number.
    """
    establishment_id = parse_int(establishment_id)
    if establishment_id is None:
        abort(400)
    if not can_access(current_user, establishment_id):
        abort(403)
    establishment = db.session.get(Establishment, establishment_id)
    if establishment is None:
        abort(404)
    session[SESSION_KEY] = establishment.id
    g.current_establishment = establishment
    return establishment


def scoped(stmt: Select, model: type) -> Select:
    """Restrict ``stmt`` to rows of ``model`` owned by the current establishment."""
    return stmt.where(model.establishment_id == require_establishment().id)


def get_scoped_or_404(model: type[M], id_: Any) -> M:
    """Load a record of the current establishment; 404 (not 403) so that other
    establishments' ids are not disclosed."""
    record = db.session.get(model, id_)
    if record is None or record.establishment_id != require_establishment().id:
        abort(404)
    return record


def sees_every_establishment() -> bool:
    """Carif-Oref staff search the offer of every establishment; OF users only their own."""
    return bool(current_user.is_authenticated and current_user.is_carif)


def scoped_unless_carif(stmt: Select, model: type) -> Select:
    """Restrict ``stmt`` to the current establishment for an OF user; leave it whole for a
    carif user (who needs no establishment selected)."""
    if sees_every_establishment():
        return stmt
    return scoped(stmt, model)


def get_many_scoped_or_404(model: type[M], ids: Any) -> list[M]:
    """Load every record of ``ids``: 404 if one is missing or, for an OF user, belongs to
    another establishment — the whole request fails, so nothing is changed half-way."""
    wanted = set(ids)
    records = list(db.session.scalars(select(model).where(model.id.in_(wanted))))
    if len(records) != len(wanted):
        abort(404)
    if not sees_every_establishment():
        establishment_id = require_establishment().id
        if any(r.establishment_id != establishment_id for r in records):
            abort(404)
    return records
