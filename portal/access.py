"""Login and role guards shared by the blueprints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort
from flask_login import current_user

from .extensions import login_manager


def protect_blueprint(bp: Blueprint, *, carif_only: bool = False) -> None:
    """Send anonymous visitors of any view of ``bp`` to the login page; with ``carif_only``,
    answer 403 to a logged-in user who is not Carif-Oref staff."""

    @bp.before_request
    def _require_login() -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if carif_only and not current_user.is_carif:
            abort(403)
        return None


def carif_required(view: Callable) -> Callable:
    """403 for a logged-in user who is not Carif-Oref staff."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_carif:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
