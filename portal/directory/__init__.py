from flask import Blueprint

from ..access import protect_blueprint

bp = Blueprint("directory", __name__, url_prefix="/annuaire")
protect_blueprint(bp)

from . import views  # noqa: E402, F401
