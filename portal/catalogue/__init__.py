"""The public catalogue: search, detail pages, open data. No login; published copy only."""

from flask import Blueprint

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

from . import views  # noqa: E402, F401
