"""French error pages; htmx requests get a short fragment the toast can show.

A database that refuses writes (read-only, disk full, locked, gone) is not a bug of the page:
the user gets 503 and a message saying that their change was not saved and what was saved before
is kept; the transaction is rolled back, so nothing half-written remains.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .editing import STALE_MESSAGE
from .htmx import wants_fragment
from .scoping import NoEstablishmentSelected

MESSAGES = {
    400: (
        "Requête invalide",
        "La demande n'a pas pu être comprise. Vérifiez l'adresse ou le formulaire.",
    ),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page ou à cet établissement."),
    404: ("Page introuvable", "La page demandée n'existe pas ou n'est plus disponible."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible sur cette page."),
    409: (
        "Conflit de modification",
        "Les données ont été modifiées entre-temps. Rechargez la page.",
    ),
    413: (
        "Fichier trop volumineux",
        "Le fichier ou le formulaire envoyé dépasse la taille autorisée.",
    ),
    422: ("Données invalides", "Certaines données saisies ne sont pas valides."),
    429: ("Trop de requêtes", "Trop de requêtes en peu de temps. Patientez quelques minutes."),
    500: (
        "Erreur du serveur",
        "Une erreur est survenue de notre côté. Elle a été enregistrée ; "
        "réessayez dans un instant.",
    ),
    503: (
        "Service indisponible",
        "Le service est momentanément indisponible. Réessayez dans un instant.",
    ),
}

log = logging.getLogger(__name__)

# The database faults the user cannot fix, with their page title and the reason, in French.
READ_ONLY, FULL, BUSY, UNAVAILABLE = "read_only", "full", "busy", "unavailable"
DATABASE_FAULTS = {
    READ_ONLY: ("Base de données en lecture seule", "la base de données est en lecture seule"),
    FULL: ("Espace disque plein", "l'espace disque du serveur est plein"),
    BUSY: ("Base de données occupée", "la base de données est occupée par une autre écriture"),
    UNAVAILABLE: ("Base de données indisponible", "la base de données ne répond pas"),
}
RETRY_AFTER_SECONDS = {READ_ONLY: 300, FULL: 300, BUSY: 5, UNAVAILABLE: 30}

# SQLite primary result codes (extended codes keep them in their low byte).
_SQLITE_CODES = {
    sqlite3.SQLITE_READONLY: READ_ONLY,
    sqlite3.SQLITE_FULL: FULL,
    sqlite3.SQLITE_BUSY: BUSY,
    sqlite3.SQLITE_LOCKED: BUSY,
    sqlite3.SQLITE_IOERR: UNAVAILABLE,
    sqlite3.SQLITE_CANTOPEN: UNAVAILABLE,
    sqlite3.SQLITE_CORRUPT: UNAVAILABLE,
    sqlite3.SQLITE_NOTADB: UNAVAILABLE,
}
# The same faults by message, for SQLite errors without a code.
_SQLITE_MESSAGES = (
    ("readonly database", READ_ONLY),
    ("database or disk is full", FULL),
    ("database is locked", BUSY),
    ("database table is locked", BUSY),
)
# PostgreSQL SQLSTATEs: exact codes first, then classes (two first characters).
_PG_STATES = {
    "25006": READ_ONLY,  # read_only_sql_transaction (default_transaction_read_only, standby)
    "53100": FULL,  # disk_full
    "40001": BUSY,  # serialization_failure
    "40P01": BUSY,  # deadlock_detected
    "55P03": BUSY,  # lock_not_available (lock_timeout)
}
_PG_CLASSES = {"08": UNAVAILABLE, "53": UNAVAILABLE, "57": UNAVAILABLE, "58": UNAVAILABLE}


def database_fault(error: BaseException) -> str | None:
    """Which fault of the database ``error`` is (READ_ONLY, FULL, BUSY, UNAVAILABLE), or None.

    None means a bug (a constraint, bad SQL…), not a state of the database: a 500.
    """
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:
        return UNAVAILABLE
    orig = error.orig
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _SQLITE_CODES:
            return _SQLITE_CODES[code & 0xFF]
        text = str(orig).lower()
        for needle, fault in _SQLITE_MESSAGES:
            if needle in text:
                return fault
    else:
        state = getattr(orig, "sqlstate", None) or ""
        if state in _PG_STATES:
            return _PG_STATES[state]
        if state[:2] in _PG_CLASSES:
            return _PG_CLASSES[state[:2]]
    # Any other OperationalError is about the database's operation, not the query.
    return UNAVAILABLE if isinstance(error, SAOperationalError) else None


def fault_reason(fault: str) -> str:
    """The fault as the end of a sentence: « Import annulé : la base de données est … »."""
    return DATABASE_FAULTS[fault][1]


def fault_message(fault: str, *, writing: bool = True) -> str:
    """What the user reads after a change (or, ``writing=False``, a page) the database refused."""
    reason = fault_reason(fault)
    if fault == BUSY:
        advice = "Réessayez dans un instant."
    elif fault == UNAVAILABLE:
        advice = "Réessayez dans un instant ; si le problème persiste, prévenez le service Offre."
    else:
        advice = "Réessayez plus tard ; si le problème persiste, prévenez le service Offre."
    if not writing:
        return f"{reason[0].upper()}{reason[1:]} : la page ne peut pas être affichée. {advice}"
    return (
        f"{reason[0].upper()}{reason[1:]} : votre modification n'a pas été enregistrée. "
        f"Ce qui était déjà enregistré est conservé. {advice}"
    )


def render_error(status: int, message: str | None = None, title: str | None = None):
    default_title, default = MESSAGES.get(status, MESSAGES[500])
    template = "errors/partials/error.html" if wants_fragment() else "errors/error.html"
    body = render_template(
        template, status=status, title=title or default_title, message=message or default
    )
    return body, status


def _rollback() -> None:
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the pool will replace it
        log.exception("Rollback after a database error failed")


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code == 429 and request.endpoint == "auth.login":
            from .auth.forms import LoginForm
            from .auth.views import TOO_MANY_ATTEMPTS

            return render_template(
                "auth/login.html", form=LoginForm(), error=TOO_MANY_ATTEMPTS
            ), 429
        return render_error(error.code)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400, "Le formulaire a expiré ou n'est pas valide. Rechargez la page et recommencez."
        )

    @app.errorhandler(NoEstablishmentSelected)
    def no_establishment(error: NoEstablishmentSelected):
        if current_user.is_authenticated and current_user.is_carif:
            return redirect(url_for("establishments.picker", next=request.full_path))
        return redirect(url_for("establishments.none_attached"))

    @app.errorhandler(StaleDataError)
    def stale_write(error: StaleDataError):
        """A colleague saved the same record between this request's read and its write (views
        that can show the current values catch it themselves): nothing of this request is kept."""
        _rollback()
        return render_error(409, STALE_MESSAGE)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        fault = database_fault(error)
        if fault is None:
            return server_error(error)
        _rollback()
        app.logger.error(
            "Database %s on %s %s", fault, request.method, request.path, exc_info=error
        )
        title = DATABASE_FAULTS[fault][0]
        message = fault_message(fault, writing=request.method not in ("GET", "HEAD"))
        try:
            body, status = render_error(503, message, title)
        except DBAPIError:
            # Loading the signed-in user read the database too: the page as for a visitor.
            _rollback()
            g._login_user = app.login_manager.anonymous_user()
            try:
                body, status = render_error(503, message, title)
            except Exception:
                _rollback()
                template = app.jinja_env.get_template("errors/partials/error.html")
                body, status = template.render(title=title, message=message), 503
        return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS[fault])}

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        # Logged with its traceback; the user sees a French page without internals.
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        _rollback()
        return render_error(500)
