"""Reference registers (Certif Info, successions, Formacode) and the Region's extraction file:
imports with preview and all-or-nothing commit, and Certif Info code replacement. Carif only."""

from flask import Blueprint

from ..access import protect_blueprint

bp = Blueprint("registers", __name__, url_prefix="/referentiels")
protect_blueprint(bp, carif_only=True)

from . import views  # noqa: E402, F401
