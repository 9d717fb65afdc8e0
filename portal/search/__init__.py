from flask import Blueprint

from ..access import protect_blueprint

bp = Blueprint("search", __name__)
protect_blueprint(bp)

from . import views  # noqa: E402, F401
