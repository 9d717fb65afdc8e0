"""``flask --app wsgi search …``: rebuild or check the list rows."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from ..extensions import db
from ..models import Action, Session
from . import bp, listing
from .models import ActionListing, SessionListing


@bp.cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute every list row from the offer (after a bulk load that bypassed the ORM)."""
    with db.engine.begin() as conn:
        sessions, actions = listing.rebuild(conn)
    click.echo(f"{sessions} sessions et {actions} actions indexées.")


@bp.cli.command("check")
def check_command() -> None:
    """Compare the number of list rows with the offer; exit 1 when they differ."""
    counts = {
        "sessions": (
            db.session.scalar(select(func.count(Session.id))),
            db.session.scalar(select(func.count(SessionListing.session_id))),
        ),
        "actions": (
            db.session.scalar(select(func.count(Action.id))),
            db.session.scalar(select(func.count(ActionListing.action_id))),
        ),
    }
    ok = True
    for name, (records, rows) in counts.items():
        click.echo(f"{name}: {records} fiches, {rows} lignes de liste")
        ok = ok and records == rows
    if not ok:
        raise click.ClickException("Listes à reconstruire : flask --app wsgi search rebuild")
