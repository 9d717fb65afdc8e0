from flask import Blueprint

from ..access import protect_blueprint

bp = Blueprint("search", __name__, cli_group="search")
protect_blueprint(bp)

# The list rows' tables and the flush listener that keeps them up to date.
from . import cli, maintenance, models, views  # noqa: E402, F401
