"""Where a site or a contact is used, so that a record in use is never deleted."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Action, Contact, Formation, InfoMeeting, OpenDay, Session, Site
from ..templating import fr_date

SHOWN = 3


def _describe(one: str, many: str, items: list[str], total: int) -> str | None:
    """ "la session 1-2-3" or "les sessions 1-2-3, 1-2-4, 1-2-5 et 4 autres"."""
    if not total:
        return None
    if total == 1:
        return f"{one} {items[0]}"
    shown = ", ".join(items[:SHOWN])
    more = f" et {total - SHOWN} autre{'s' if total - SHOWN > 1 else ''}" if total > SHOWN else ""
    return f"{many} {shown}{more}"


def _count_and_first(stmt) -> tuple[int, list]:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    first = db.session.execute(stmt.limit(SHOWN)).all() if total else []
    return total, first


def site_usages(site: Site) -> list[str]:
    """French descriptions of what uses ``site`` (empty when it can be deleted)."""
    uses: list[str | None] = []
    total, rows = _count_and_first(
        select(Action.formation_id, Action.id).where(Action.site_id == site.id).order_by(Action.id)
    )
    uses.append(_describe("l'action", "les actions", [f"{f}-{a}" for f, a in rows], total))
    total, rows = _count_and_first(
        select(Action.formation_id, Action.id, Session.id)
        .join(Action, Session.action_id == Action.id)
        .where(Session.site_id == site.id)
        .order_by(Session.id)
    )
    uses.append(
        _describe("la session", "les sessions", [f"{f}-{a}-{s}" for f, a, s in rows], total)
    )
    total, rows = _count_and_first(
        select(Formation.id).where(Formation.realisation_site_id == site.id).order_by(Formation.id)
    )
    uses.append(_describe("la formation", "les formations", [str(f) for (f,) in rows], total))
    total, rows = _count_and_first(
        select(InfoMeeting.day).where(InfoMeeting.site_id == site.id).order_by(InfoMeeting.day)
    )
    uses.append(
        _describe(
            "l'information collective du",
            "les informations collectives des",
            [fr_date(d) for (d,) in rows],
            total,
        )
    )
    total, rows = _count_and_first(
        select(OpenDay.day).where(OpenDay.site_id == site.id).order_by(OpenDay.day)
    )
    uses.append(
        _describe(
            "la porte ouverte du", "les portes ouvertes des", [fr_date(d) for (d,) in rows], total
        )
    )
    return [u for u in uses if u]


def contact_usages(contact: Contact) -> list[str]:
    """French descriptions of the sessions that name ``contact`` as a référent or liaison."""
    stmt = (
        select(Action.formation_id, Action.id, Session.id)
        .join(Action, Session.action_id == Action.id)
        .where(
            or_(
                Session.referent_pmr_id == contact.id,
                Session.referent_prf_id == contact.id,
                Session.liaison_contact_id == contact.id,
                Session.referent_mobility_id == contact.id,
            )
        )
        .order_by(Session.id)
    )
    total, rows = _count_and_first(stmt)
    use = _describe("la session", "les sessions", [f"{f}-{a}-{s}" for f, a, s in rows], total)
    return [use] if use else []
