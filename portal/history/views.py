"""The history page of a record: who changed which field, when, from what to what."""

from __future__ import annotations

from flask import render_template, request, url_for

from ..validators import parse_int
from . import bp
from .records import KINDS, SLUGS, history, load_record, slug_for


@bp.app_template_global()
def history_url(record) -> str:
    """The history page of ``record`` (a fiche, an annuaire record, an account)."""
    return url_for("history.record", kind=slug_for(record), record_id=record.id)


def record_url(kind_slug: str, record) -> str:
    """The page the history belongs to, for the way back."""
    endpoints = {
        "formation": ("offer.formation", "formation_id", record.id),
        "action": ("offer.action", "action_id", record.id),
        "session": ("offer.session", "session_id", record.id),
        "dispositif": ("offer.funding", "session_id", getattr(record, "session_id", None)),
        "compte": ("accounts.edit", "user_id", record.id),
    }
    if kind_slug in endpoints:
        endpoint, argument, value = endpoints[kind_slug]
        return url_for(endpoint, **{argument: value})
    return url_for("directory.index")


@bp.route(f"/<{SLUGS}:kind>/<int:record_id>")
def record(kind: str, record_id: int):
    chosen = KINDS[kind]
    item = load_record(chosen, record_id)
    before = parse_int(request.args.get("avant", ""), minimum=1)
    page = history(chosen, item, before_id=before)
    return render_template(
        "history/record.html",
        kind=chosen,
        record=item,
        page=page,
        back_url=record_url(kind, item),
        first_page=before is None,
    )
