"""Every record's history, read from the append-only journal."""

from flask import Blueprint

from ..access import protect_blueprint

bp = Blueprint("history", __name__, url_prefix="/historique")
protect_blueprint(bp)

from . import views  # noqa: E402, F401
