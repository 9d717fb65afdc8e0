"""Exports of the published offer: LHEO 2.3 XML (and its import) and PDF catalogues."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")

from . import lheo_views, pdf_views  # noqa: E402, F401
