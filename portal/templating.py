"""Template globals and filters: the header switcher's data, code labels, French dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from . import codes
from .htmx import wants_fragment
from .scoping import attached_establishments, current_establishment
from .validators import format_phone


def fr_date(value: date | datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def fr_number(value: int | Decimal | float | None, decimals: int = 0) -> str:
    """Format with a narrow no-break space between thousands and a decimal comma."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def url_for_exists(endpoint: str) -> bool:
    """Whether a view exists, so that menus only link to sections that are there."""
    return endpoint in current_app.view_functions


def register(app: Flask) -> None:
    app.add_template_filter(fr_date, "fr_date")
    app.add_template_filter(fr_number, "fr_number")
    app.add_template_filter(format_phone, "phone")
    app.add_template_global(codes, "codes")
    app.add_template_global(url_for_exists, "url_for_exists")

    @app.context_processor
    def header_context() -> dict:
        # Fragments never render the header: skip its queries on every live save.
        if not current_user.is_authenticated or wants_fragment():
            return {}
        try:
            return _header_context()
        except SQLAlchemyError:
            # An error page must still render when the database is what failed.
            return {}

    def _header_context() -> dict:
        return {
            "current_establishment": current_establishment(),
            "switchable_establishments": (
                [] if current_user.is_carif else attached_establishments(current_user)
            ),
            "current_path": request.full_path.rstrip("?"),
        }
