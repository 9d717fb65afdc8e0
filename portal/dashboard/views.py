from __future__ import annotations

from datetime import date

from flask import redirect, render_template, url_for
from flask_login import current_user

from ..scoping import current_establishment, require_establishment
from ..search.filters import ACTION_FILTERS, SESSION_FILTERS, dashboard_counts
from . import bp


@bp.route("/")
def index():
    """Tableau de bord of the current establishment: the procedure's two counter blocks."""
    if current_user.is_carif and current_establishment() is None:
        return redirect(url_for("review.index"))
    establishment = require_establishment()
    counts = dashboard_counts(establishment.id, date.today())
    return render_template(
        "dashboard/index.html",
        establishment=establishment,
        counts=counts,
        session_filters=SESSION_FILTERS,
        action_filters=ACTION_FILTERS,
    )
