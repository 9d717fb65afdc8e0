"""The read-only JSON API of the published sessions, under /api/v1 (described by openapi.json).

Same search as the catalogue page (same parameters, same order), JSON in and out: every error
is a JSON body with a French message and its HTTP status (400 for a search that cannot run,
404 for what is not published). No login, no cookies needed, GET only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException, NotFound

from ..errors import MESSAGES
from ..extensions import db
from ..models import PublishedSession
from ..search.normalise import MAX_ID
from . import bp, openapi, public, query
from .views import action_url, parse_search

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _register_api(state) -> None:
    state.app.register_blueprint(api)


# The API has its own URL space (/api/v1, not /catalogue); it comes with the catalogue.
bp.record_once(_register_api)


def error(status: int, message: str, parameter: str | None = None):
    body: dict[str, Any] = {"erreur": {"statut": status, "message": message}}
    if parameter:
        body["erreur"]["parametre"] = parameter
    return jsonify(body), status


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code or 500
    title, message = MESSAGES.get(status, MESSAGES[500])
    return error(status, getattr(exc, "api_message", None) or f"{title}. {message}")


@api.errorhandler(Exception)
def _server_error(exc: Exception):
    current_app.logger.exception("Unhandled API error on %s", request.path)
    db.session.rollback()
    return error(500, "Erreur du serveur. Réessayez dans un instant.")


def _not_found(message: str) -> NotFound:
    exc = NotFound()
    exc.api_message = message  # type: ignore[attr-defined]
    return exc


@api.route("/")
def index():
    """Where the API's resources are."""
    return jsonify(
        {
            "sessions": url_for("api.sessions", _external=True),
            "openapi": url_for("api.openapi_file", _external=True),
            "donnees_ouvertes": url_for("catalogue.open_data", _external=True),
        }
    )


@api.route("/sessions")
def sessions():
    """Search the published sessions: the catalogue's filters, start-date order, pages."""
    try:
        search = parse_search(request.args, for_api=True)
    except query.BadQuery as exc:
        return error(400, exc.message, exc.parameter)
    results = query.search(db.session, search, date.today())
    if search.page > results.pages:
        raise _not_found(f"Page hors limites : la recherche compte {results.pages} page(s).")

    def link(page: int) -> str:
        return url_for("api.sessions", _external=True, **search.params(page=page))

    items = [
        public.summary(row)
        | {
            "url": action_url(row, _external=True) + f"#session-{row.session_id}",
            "detail": url_for("api.session", session_id=row.session_id, _external=True),
        }
        for row in results.items
    ]
    return jsonify(
        {
            "total": min(results.total, query.COUNT_LIMIT),
            "total_exact": results.total_exact,
            "page": search.page,
            "taille": search.taille,
            "pages": results.pages,
            "resultats": items,
            "liens": {
                "self": link(search.page),
                "precedent": link(search.page - 1) if results.has_prev else None,
                "suivant": link(search.page + 1) if results.has_next else None,
            },
        }
    )


@api.route("/sessions/<int:session_id>")
def session(session_id: int):
    """One published session with everything public about it."""
    row = db.session.get(PublishedSession, session_id) if session_id <= MAX_ID else None
    if row is None or not row.active:
        raise _not_found(f"La session {session_id} n'est pas publiée.")
    return jsonify(public.detail(row) | {"url": action_url(row, _external=True)})


@api.route("/openapi.json")
def openapi_file():
    """The OpenAPI 3 description of this API."""
    spec = openapi.spec(server=url_for("api.index", _external=True).rstrip("/"))
    return jsonify(spec)


@api.route("/<path:path>")
def unknown(path: str):
    """Any other address under /api/v1: a JSON 404, not the HTML error page."""
    raise _not_found(f"Ressource inconnue : /api/v1/{path[:100]}.")
