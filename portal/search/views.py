from __future__ import annotations

import json
from datetime import date

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from .. import codes
from ..extensions import db
from ..htmx import render_page_or_fragment, wants_fragment
from ..models import Formation, Session
from ..offer.workflow import can_edit, mark_modified
from ..scoping import get_many_scoped_or_404, scoped, scoped_unless_carif, sees_every_establishment
from ..validators import parse_int
from . import bp, bulk, csv_export, pagination, query
from .query import ACTIONS, PAGE_SIZES, SESSIONS, ListingSpec, ListState

TEMPLATES = {
    "sessions": ("search/sessions.html", "search/partials/sessions_results.html"),
    "actions": ("search/actions.html", "search/partials/actions_results.html"),
}


def _state(spec: ListingSpec, args=None) -> ListState:
    return query.parse_state(
        request.args if args is None else args, spec, carif=sees_every_establishment()
    )


def _list(spec: ListingSpec, state: ListState, status: int = 200, **extra):
    """Render a list page, or its results fragment for an htmx swap."""
    today = date.today()
    carif = sees_every_establishment()
    base = scoped_unless_carif(select(spec.model), spec.model)
    page = pagination.read_page(db.session, state, base, today, everywhere=carif)
    page_template, fragment_template = TEMPLATES[spec.name]
    context = dict(
        spec=spec,
        state=state,
        listing=page,
        columns=spec.columns(with_siret=carif),
        carif=carif,
        today=today,
        page_sizes=PAGE_SIZES,
        count_text=pagination.count_text(page.total),
        status_text=pagination.status_text(page),
        recruitment_states=codes.RECRUITMENT_STATES,
        oob=wants_fragment(),
        error=None,
        selected=(),
    )
    context.update(extra)
    response = Response(render_page_or_fragment(page_template, fragment_template, **context))
    response.status_code = status
    if wants_fragment() and request.method == "GET":
        # The form sends every control (taille=10 included): push the canonical URL instead.
        response.headers["HX-Push-Url"] = url_for(spec.endpoint, **state.params())
    return response


@bp.route("/sessions")
def sessions():
    """The session list (procedure p. 6): search, sort, page; a named filter from the
    dashboard. OF users see their current establishment; carif users every establishment."""
    return _list(SESSIONS, _state(SESSIONS))


@bp.route("/actions")
def actions():
    """The action list, with the same search, sort and paging as the session list."""
    return _list(ACTIONS, _state(ACTIONS))


@bp.route("/sessions/selection", methods=["POST"])
def sessions_bulk():
    """Apply the bulk change to the ticked sessions, all or nothing.

    422 with the message inline when nothing is ticked or the état is missing; 404 when an id
    is not the user's to change; the list is re-rendered in the state it was posted from.
    """
    state = _state(SESSIONS, request.form)
    ids = request.form.getlist("ids")
    try:
        wanted = bulk.parse_bulk(ids, request.form.get("operation"), request.form.get("etat"))
    except bulk.BadSelection:
        abort(400)
    except bulk.BulkError as error:
        return _list(SESSIONS, state, 422, error=error.message, selected=_ints(ids))
    records = get_many_scoped_or_404(Session, wanted.ids)
    # The fiches' rule: the Carif-Oref never changes OF content, and a session of an action
    # waiting for validation is read-only; one such session refuses the whole selection.
    if any(not can_edit(session.action) for session in records):
        abort(403)
    changed = bulk.apply(wanted, records, current_user.id)
    for session in records:
        if db.session.is_modified(session):
            mark_modified(session.action)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        abort(409)
    message = bulk.summary(wanted, changed)
    if wants_fragment():
        response = _list(SESSIONS, state)
        response.headers["HX-Trigger"] = json.dumps({"saved": message})
        return response
    flash(message, "success")
    return redirect(url_for("search.sessions", **state.params()), 303)


def _ints(values: list[str]) -> set[int]:
    return {n for v in values if (n := parse_int(v)) is not None}


def _export(spec: ListingSpec, filename: str, cells):
    """Stream the whole current list (every page) as CSV, in the list's order."""
    state = _state(spec)
    today = date.today()
    carif = sees_every_establishment()
    base = scoped_unless_carif(select(spec.model), spec.model)
    rows = pagination.every_row(db.session, state, base, today, everywhere=carif)
    header = [c.label for c in spec.columns(with_siret=carif)]
    body = csv_export.csv_chunks(header, (cells(row, today, carif) for row in rows))
    response = Response(stream_with_context(body), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    stamp = today.strftime("%Y%m%d")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


@bp.route("/sessions/export.csv")
def sessions_csv():
    """The current session list (every page, same words, filter and sort) as CSV."""
    return _export(SESSIONS, "sessions", csv_export.session_cells)


@bp.route("/actions/export.csv")
def actions_csv():
    """The current action list as CSV."""
    return _export(ACTIONS, "actions", csv_export.action_cells)


def _page_args() -> tuple[int, int]:
    """Read ``page`` and ``taille`` from the query string; 400 for junk, never a 500."""
    page = parse_int(request.args.get("page", "1"), minimum=1)
    size = parse_int(request.args.get("taille", str(PAGE_SIZES[0])))
    if page is None or size not in PAGE_SIZES:
        abort(400)
    return page, size


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
    pagination_ = db.paginate(stmt, page=page, per_page=size, error_out=False)
    return render_page_or_fragment(
        "search/formations.html",
        "search/partials/formations_table.html",
        pagination=pagination_,
        size=size,
        page_sizes=PAGE_SIZES,
    )
