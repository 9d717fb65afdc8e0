"""Live save: one field of a fiche saved as the user changes it, or the whole fiche at once.

The browser posts the whole fiche form plus ``champ`` (the field that changed); only that field
is validated and stored. Bad input answers 422 with the error next to the field and stores
nothing; a form filled from an older version answers 409 (another tab saved first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from ..editing import is_stale, with_trigger
from ..extensions import db
from ..richtext import visible_text
from .forms import FicheForm, YesNoField

STALE_FIELD_MESSAGE = (
    "Cette fiche a été modifiée entre-temps (dans un autre onglet ou par un collègue) : la "
    "valeur actuelle est affichée et votre saisie n'a pas été enregistrée. Rechargez la page "
    "avant de continuer."
)
TYPED_PREVIEW = 300  # characters of the refused input quoted back to the user
NOT_SAVED = {"version", "csrf_token"}
INT_FIELDS = {"teaching_mode"}


def apply_field(record: Any, form: FicheForm, name: str) -> None:
    """Copy one validated field to the record, with the column's type."""
    field = form[name]
    if isinstance(field, YesNoField):
        field.populate_obj(record, name)
        return
    value = field.data
    if value in ("", "None"):
        value = None
    if value is not None and (name.endswith("_id") or name in INT_FIELDS):
        value = int(value)
    setattr(record, name, value)


def editable_fields(form: FicheForm) -> list[str]:
    return [name for name in form._fields if name not in NOT_SAVED]


def _render_field(form: FicheForm, name: str, save_url: str, record: Any, **extra) -> str:
    return render_template(
        "offer/partials/live_field.html",
        form=form,
        name=name,
        save_url=save_url,
        record=record,
        **extra,
    )


def live_save(
    record: Any,
    form: FicheForm,
    save_url: str,
    *,
    on_change: Callable[[], None] | None = None,
) -> Response | tuple[str, int]:
    """Validate and store the posted ``champ`` of ``form`` into ``record``."""
    name = request.form.get("champ", "")
    if name not in editable_fields(form):
        abort(400)
    if is_stale(record, form.version.data):
        return _stale(record, form, name, save_url)
    form.live_field = name
    field = form[name]
    inline = getattr(type(form), f"validate_{name}", None)  # called as (form, field)
    if not field.validate(form, [inline] if inline else []):
        return _render_field(form, name, save_url, record), 422
    apply_field(record, form, name)
    if on_change and db.session.is_modified(record):
        on_change()
    record.updated_by_id = current_user.id
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return _stale(record, form, name, save_url)
    body = _render_field(form, name, save_url, record, saved_version=record.version)
    return with_trigger(body, "Enregistré")


def _stale(record: Any, form: FicheForm, name: str, save_url: str) -> tuple[str, int]:
    """409: the field shows the stored value, the message quotes what the user typed (so that
    nothing typed is lost); the page's version is left as it was, so that every other field
    of the outdated page stays refused until the page is reloaded."""
    typed = visible_text(" ".join(request.form.getlist(name))).strip()
    if len(typed) > TYPED_PREVIEW:
        typed = typed[:TYPED_PREVIEW] + "…"
    db.session.refresh(record)
    form[name].process(None, getattr(record, name))
    message = STALE_FIELD_MESSAGE + (f" Votre saisie : « {typed} »." if typed else "")
    return _render_field(form, name, save_url, record, message=message), 409


def save_all(record: Any, form: FicheForm, *, on_change: Callable[[], None] | None = None) -> bool:
    """The whole fiche at once ("Enregistrer" without JavaScript); False when invalid."""
    if is_stale(record, form.version.data):
        form.version.errors = [STALE_FIELD_MESSAGE]
        return False
    if not form.validate():
        return False
    for name in editable_fields(form):
        apply_field(record, form, name)
    if on_change and db.session.is_modified(record):
        on_change()
    record.updated_by_id = current_user.id
    db.session.commit()
    return True
