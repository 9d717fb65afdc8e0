from __future__ import annotations

from datetime import date

from flask import abort, request
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from ..extensions import db
from ..htmx import render_page_or_fragment
from ..models import Action, Formation, Session, Site
from ..scoping import scoped
from . import bp
from .filters import ACTION_FILTERS, SESSION_FILTERS, actions_base, sessions_base

PAGE_SIZES = (10, 25, 50, 100)


def _page_args() -> tuple[int, int]:
    """Read ``page`` and ``taille`` from the query string; 400 for junk, never a 500."""
    try:
        page = int(request.args.get("page", 1))
        size = int(request.args.get("taille", PAGE_SIZES[0]))
    except ValueError:
        abort(400)
    if page < 1 or size not in PAGE_SIZES:
        abort(400)
    return page, size


def _named_filter(filters: dict, slug: str | None):
    if not slug:
        return None
    if slug not in filters:
        abort(404)
    return filters[slug]


@bp.route("/sessions")
def sessions():
    """List the current establishment's sessions, optionally through a dashboard filter."""
    page, size = _page_args()
    named = _named_filter(SESSION_FILTERS, request.args.get("filtre"))
    action = contains_eager(Session.action)
    formation = action.contains_eager(Action.formation)
    stmt = scoped(sessions_base(), Session).options(
        formation.contains_eager(Formation.programme),
        formation.joinedload(Formation.certification),
        action.joinedload(Action.site).joinedload(Site.establishment),
        joinedload(Session.site),
    )
    if named:
        stmt = stmt.where(named.condition(date.today()))
    stmt = stmt.order_by(Session.start_date.desc().nulls_last(), Session.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=size, error_out=False)
    return render_page_or_fragment(
        "search/sessions.html",
        "search/partials/sessions_table.html",
        pagination=pagination,
        named=named,
        size=size,
        page_sizes=PAGE_SIZES,
        today=date.today(),
    )


@bp.route("/actions")
def actions():
    """List the current establishment's actions, optionally through a dashboard filter."""
    page, size = _page_args()
    named = _named_filter(ACTION_FILTERS, request.args.get("filtre"))
    formation = contains_eager(Action.formation)
    stmt = scoped(actions_base(), Action).options(
        formation.contains_eager(Formation.programme),
        formation.joinedload(Formation.certification),
        joinedload(Action.site),
    )
    if named:
        stmt = stmt.where(named.condition(date.today()))
    stmt = stmt.order_by(Action.updated_at.desc(), Action.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=size, error_out=False)
    return render_page_or_fragment(
        "search/actions.html",
        "search/partials/actions_table.html",
        pagination=pagination,
        named=named,
        size=size,
        page_sizes=PAGE_SIZES,
    )


@bp.route("/formations/publiques")
def public_formations():
    """List the current establishment's formations of public (Region) programmes."""
    page, size = _page_args()
    stmt = (
        scoped(select(Formation), Formation)
        .where(Formation.programme_id.is_not(None))
        .options(
            joinedload(Formation.programme),
            joinedload(Formation.lot),
            joinedload(Formation.certification),
        )
        .order_by(Formation.id.desc())
    )
    pagination = db.paginate(stmt, page=page, per_page=size, error_out=False)
    return render_page_or_fragment(
        "search/formations.html",
        "search/partials/formations_table.html",
        pagination=pagination,
        size=size,
        page_sizes=PAGE_SIZES,
    )
