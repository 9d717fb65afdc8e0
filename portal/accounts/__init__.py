from flask import Blueprint

from ..access import protect_blueprint

bp = Blueprint("accounts", __name__, url_prefix="/comptes")
protect_blueprint(bp, carif_only=True)


from . import views  # noqa: E402, F401
