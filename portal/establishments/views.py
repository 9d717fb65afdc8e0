from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from ..access import carif_required
from ..auth.views import safe_next
from ..extensions import db
from ..htmx import render_page_or_fragment, wants_fragment
from ..models import Establishment
from ..scoping import select_establishment
from ..validators import parse_int
from . import bp

SEARCH_LIMIT = 20


def _reload_target(path: str | None) -> str:
    """Where to land after a switch: the same page, unless it shows one record (whose id
    belongs to the previous establishment), then the dashboard."""
    path = safe_next(path)
    if path is None:
        return url_for("dashboard.index")
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(path.split("?", 1)[0], method="GET")
    except (NotFound, RequestRedirect, HTTPException):
        return url_for("dashboard.index")
    # The back office is the same for every establishment: picking one means seeing its portal.
    if args or endpoint.startswith(("establishments.", "review.")):
        return url_for("dashboard.index")
    return path


@bp.route("/etablissement/courant", methods=["POST"])
def switch():
    """Make the posted establishment current for the login session, then reload the page."""
    establishment = select_establishment(request.form.get("establishment_id"))
    target = _reload_target(request.form.get("next"))
    current_app.logger.info("establishment switched to %s", establishment.siret)
    if wants_fragment():
        response = current_app.response_class(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


@bp.route("/etablissements")
@carif_required
def picker():
    """Carif-Oref: search any establishment by SIRET, SOFI number or name, to act as it."""
    q = (request.args.get("q") or "").strip()
    results: list[Establishment] = []
    if q:
        pattern = f"%{q}%"
        conditions = [
            Establishment.siret.like(f"{q.replace(' ', '')}%"),
            Establishment.name.ilike(pattern),
        ]
        if (number := parse_int(q)) is not None:
            conditions.append(Establishment.sofi_number == number)
        results = list(
            db.session.scalars(
                select(Establishment)
                .where(or_(*conditions))
                .order_by(Establishment.name, Establishment.siret)
                .limit(SEARCH_LIMIT)
            )
        )
    return render_page_or_fragment(
        "establishments/picker.html",
        "establishments/partials/results.html",
        q=q,
        results=results,
        limit=SEARCH_LIMIT,
        next=request.args.get("next") or "",
    )


@bp.route("/etablissements/aucun")
def none_attached():
    """Landing page of an OF account attached to no active establishment."""
    return render_template("establishments/none.html")
