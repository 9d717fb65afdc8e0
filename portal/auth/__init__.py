from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import reset, views  # noqa: E402, F401
