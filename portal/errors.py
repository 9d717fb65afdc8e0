"""French error pages; htmx requests get a short fragment the toast can show."""

from __future__ import annotations

from flask import Flask, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
}


def render_error(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, MESSAGES[500])
    template = "errors/partials/error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message or default), status


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

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        # Logged with its traceback; the user sees a French page without internals.
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        from .extensions import db

        db.session.rollback()
        return render_error(500)
