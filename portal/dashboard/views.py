from __future__ import annotations

from datetime import date

from flask import render_template

from ..scoping import require_establishment
from ..search.filters import ACTION_FILTERS, SESSION_FILTERS, dashboard_counts
from . import bp


@bp.route("/")
def index():
    """Tableau de bord of the current establishment: the procedure's two counter blocks."""
    establishment = require_establishment()
    counts = dashboard_counts(establishment.id, date.today())
    return render_template(
        "dashboard/index.html",
        establishment=establishment,
        counts=counts,
        session_filters=SESSION_FILTERS,
        action_filters=ACTION_FILTERS,
    )
