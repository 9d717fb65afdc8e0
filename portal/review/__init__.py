from flask import Blueprint, abort
from flask_login import current_user

from ..access import protect_blueprint

bp = Blueprint("review", __name__, url_prefix="/validation")
protect_blueprint(bp)


@bp.before_request
def _carif_only():
    # Runs after the login check above: an OF user asking for the back office gets 403.
    if current_user.is_authenticated and not current_user.is_carif:
        abort(403)


from . import views  # noqa: E402, F401
