"""Keep the list rows in step with the offer, in the flush that changes it.

One ``after_flush`` listener, like the journal's: whoever saves a session, renames a
certification, moves a site to another commune or changes a programme's dispositif code —
through any view, command or import that uses the ORM — rewrites the list rows that show it, in
the same transaction. Views never call anything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, event, inspect, or_, select
from sqlalchemy.orm import Session as OrmSession

from ..models import Action, Certification, Establishment, Formation, Programme, Session, Site
from . import listing
from .models import ActionListing, SessionListing

# The columns each record lends to the list rows; changing any other column refreshes nothing.
WATCHED: dict[type, frozenset[str]] = {
    Session: frozenset(
        {
            "establishment_id",
            "action_id",
            "site_id",
            "start_date",
            "end_date",
            "active",
            "teaching_mode",
            "is_initial_training",
            "is_apprenticeship",
            "is_professionalisation",
        }
    ),
    Action: frozenset(
        {"establishment_id", "formation_id", "site_id", "title_complement", "status"}
    ),
    Formation: frozenset(
        {"has_certif_info", "certification_id", "free_title", "programme_id", "certif_replaced_at"}
    ),
    Certification: frozenset({"title"}),
    Programme: frozenset({"dispositif_code", "is_region", "is_public"}),
    Site: frozenset({"name", "commune", "establishment_id"}),
    Establishment: frozenset({"name", "siret", "sofi_number"}),
}


def _changed(record: Any, keys: frozenset[str]) -> bool:
    state = inspect(record)
    return any(state.attrs[key].history.has_changes() for key in keys)


def _collect(session: OrmSession) -> tuple[dict[type, set[int]], dict[type, set[int]]]:
    """Ids of the watched records this flush created or changed, and of those it deleted."""
    touched: dict[type, set[int]] = {}
    for record in session.new:
        if isinstance(record, Session | Action):
            touched.setdefault(type(record), set()).add(record.id)
    for record in session.dirty:
        keys = WATCHED.get(type(record))
        if keys and _changed(record, keys):
            touched.setdefault(type(record), set()).add(record.id)
    deleted: dict[type, set[int]] = {}
    for record in session.deleted:
        if isinstance(record, Session | Action):
            deleted.setdefault(type(record), set()).add(record.id)
    return touched, deleted


def _any(*conditions: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
    kept = [c for c in conditions if c is not None]
    return or_(*kept) if kept else None


def _in(column, ids: set[int] | None):
    return column.in_(ids) if ids else None


def affected_ids(touched: dict[type, set[int]], conn) -> tuple[set[int], set[int]]:
    """The actions and sessions whose list rows show something that changed."""
    formations = set(touched.get(Formation, ()))
    if touched.get(Certification):
        formations |= set(
            conn.scalars(
                select(Formation.id).where(Formation.certification_id.in_(touched[Certification]))
            )
        )
    if touched.get(Programme):
        formations |= set(
            conn.scalars(select(Formation.id).where(Formation.programme_id.in_(touched[Programme])))
        )
    sites = touched.get(Site)
    establishments = touched.get(Establishment)
    provider_sites = (
        select(Site.id).where(Site.establishment_id.in_(establishments)) if establishments else None
    )
    action_condition = _any(
        _in(Action.id, touched.get(Action)),
        _in(Action.formation_id, formations),
        _in(Action.site_id, sites),
        _in(Action.establishment_id, establishments),
        Action.site_id.in_(provider_sites) if provider_sites is not None else None,
    )
    actions = (
        set(conn.scalars(select(Action.id).where(action_condition)))
        if action_condition is not None
        else set()
    )
    # Sessions of the changed actions go through a subquery: a certification renamed by the
    # Carif-Oref can reach thousands of them.
    session_condition = _any(
        _in(Session.id, touched.get(Session)),
        Session.action_id.in_(select(Action.id).where(action_condition))
        if action_condition is not None
        else None,
        _in(Session.site_id, sites),
        _in(Session.establishment_id, establishments),
    )
    sessions = (
        set(conn.scalars(select(Session.id).where(session_condition)))
        if session_condition is not None
        else set()
    )
    return actions, sessions


@event.listens_for(OrmSession, "after_flush")
def _refresh_listings(session: OrmSession, flush_context: Any) -> None:
    touched, deleted = _collect(session)
    if not touched and not deleted:
        return
    conn = session.connection()
    if deleted.get(Session):
        conn.execute(delete(SessionListing).where(SessionListing.session_id.in_(deleted[Session])))
    if deleted.get(Action):
        conn.execute(delete(ActionListing).where(ActionListing.action_id.in_(deleted[Action])))
    if not touched:
        return
    actions, sessions = affected_ids(touched, conn)
    writer = listing.ListingWriter(conn)
    listing.refresh_actions(conn, actions, writer)
    listing.refresh_sessions(conn, sessions, writer)
