"""The session's inline sub-tables: informations collectives and périodes d'inscription.

Rows are added, edited and deleted without leaving the fiche Session; each answer is the
re-rendered row or table, 422 with inline errors for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TimeField
from wtforms.validators import ValidationError

from .. import codes
from ..editing import STALE_MESSAGE, is_stale, with_trigger
from ..extensions import db
from ..forms import BaseForm, VersionField, max_length, optional, required, select_choices
from ..htmx import wants_fragment
from ..models import EnrolmentPeriod, InfoMeeting, Session
from ..scoping import get_scoped_or_404
from . import bp
from .workflow import can_edit, ensure_editable, mark_modified


class InfoMeetingForm(BaseForm):
    day = DateField("Date", [required()], format="%Y-%m-%d")
    start_time = TimeField("Heure", [optional()], format="%H:%M")
    site_id = SelectField("Lieu", [required()], coerce=str)
    comment = StringField("Précisions", [optional(), max_length(250)])
    version = VersionField()

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.site_id.choices = select_choices(
            ((str(s.id), s.label) for s in sites), blank="Choisissez un site"
        )


class EnrolmentPeriodForm(BaseForm):
    kind = SelectField(
        "Type", [required()], choices=select_choices(codes.ENROLMENT_PERIOD_KINDS, blank="—")
    )
    start_date = DateField("Date début", [required()], format="%Y-%m-%d")
    end_date = DateField("Date fin", [optional()], format="%Y-%m-%d")
    version = VersionField()

    def validate_start_date(self, field) -> None:
        # Also here: an edit that posts no end date keeps the stored one, whose own check
        # Optional() stops (the database would refuse the pair).
        end = self.end_date.data
        if field.data and end and field.data > end:
            raise ValidationError(
                f"La date de début doit précéder la date de fin ({end.strftime('%d/%m/%Y')})."
            )

    def validate_end_date(self, field) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError("La date de fin doit être postérieure à la date de début.")


@dataclass(frozen=True)
class SubKind:
    slug: str
    name: str
    model: type
    form: type
    title: str
    order_by: tuple


SUBKINDS = {
    k.slug: k
    for k in (
        SubKind(
            "informations-collectives",
            "info_meeting",
            InfoMeeting,
            InfoMeetingForm,
            "Informations collectives",
            (InfoMeeting.day, InfoMeeting.start_time),
        ),
        SubKind(
            "periodes-inscription",
            "enrolment_period",
            EnrolmentPeriod,
            EnrolmentPeriodForm,
            "Périodes d'inscription",
            (EnrolmentPeriod.start_date,),
        ),
    )
}
SLUGS = "any(" + ", ".join(f'"{slug}"' for slug in SUBKINDS) + ")"


def _form(kind: SubKind, record: Any = None, formdata=None) -> BaseForm:
    prefix = f"{kind.name}-{record.id if record is not None else 'new'}"
    kwargs: dict[str, Any] = {"prefix": prefix, "obj": record, "formdata": formdata}
    if kind.model is InfoMeeting:
        from .views import active_sites

        kwargs["sites"] = active_sites()
    return kind.form(**kwargs)


def _populate(record: Any, form: BaseForm) -> None:
    for name, field in form._fields.items():
        if name in ("version", "csrf_token"):
            continue
        value = field.data if field.data not in ("", None) else None
        setattr(record, name, int(value) if name.endswith("_id") and value else value)


def _session(session_id: int, *, editing: bool) -> Session:
    session = get_scoped_or_404(Session, session_id)
    if editing:
        ensure_editable(session.action)
    return session


def _child(kind: SubKind, session: Session, record_id: int) -> Any:
    record = get_scoped_or_404(kind.model, record_id)
    if record.session_id != session.id:
        abort(404)
    return record


def rows_of(kind: SubKind, session: Session) -> list:
    stmt = select(kind.model).where(kind.model.session_id == session.id)
    return list(db.session.scalars(stmt.order_by(*kind.order_by, kind.model.id)))


def render_table(kind: SubKind, session: Session, **extra: Any) -> str:
    rows = rows_of(kind, session)
    return render_template(
        f"offer/partials/{kind.name}_table.html",
        kind=kind,
        session=session,
        rows=rows,
        editable=can_edit(session.action),
        **extra,
    )


def _render_form(kind: SubKind, session: Session, record: Any, form: BaseForm, message=None):
    return render_template(
        "offer/partials/subrow_form.html",
        kind=kind,
        session=session,
        record=record,
        form=form,
        message=message,
    )


def _back(session: Session, kind: SubKind):
    return redirect(url_for("offer.session", session_id=session.id, _anchor=kind.slug))


@bp.route(f"/sessions/<int:session_id>/<{SLUGS}:slug>/nouveau")
def subrow_new(session_id: int, slug: str):
    kind = SUBKINDS[slug]
    session = _session(session_id, editing=True)
    return _render_form(kind, session, None, _form(kind))


@bp.route(f"/sessions/<int:session_id>/<{SLUGS}:slug>", methods=["POST"])
def subrow_create(session_id: int, slug: str):
    kind = SUBKINDS[slug]
    session = _session(session_id, editing=True)
    form = _form(kind, formdata=request.form)
    if not form.validate():
        return _render_form(kind, session, None, form), 422
    record = kind.model(
        session_id=session.id,
        establishment_id=session.establishment_id,
        created_by_id=current_user.id,
    )
    _populate(record, form)
    db.session.add(record)
    mark_modified(session.action)
    db.session.commit()
    if not wants_fragment():
        return _back(session, kind)
    return with_trigger(
        render_table(kind, session),
        "Ligne ajoutée",
        HX_Retarget=f"#{kind.slug}",
        HX_Reswap="outerHTML",
    )


@bp.route(f"/sessions/<int:session_id>/<{SLUGS}:slug>/<int:record_id>")
def subrow(session_id: int, slug: str, record_id: int):
    kind = SUBKINDS[slug]
    session = _session(session_id, editing=False)
    record = _child(kind, session, record_id)
    if not wants_fragment():
        return _back(session, kind)
    return render_template(
        f"offer/partials/{kind.name}_row.html",
        kind=kind,
        session=session,
        row=record,
        editable=can_edit(session.action),
    )


@bp.route(f"/sessions/<int:session_id>/<{SLUGS}:slug>/<int:record_id>/modifier")
def subrow_edit(session_id: int, slug: str, record_id: int):
    kind = SUBKINDS[slug]
    session = _session(session_id, editing=True)
    record = _child(kind, session, record_id)
    return _render_form(kind, session, record, _form(kind, record))


@bp.route(f"/sessions/<int:session_id>/<{SLUGS}:slug>/<int:record_id>", methods=["POST"])
def subrow_update(session_id: int, slug: str, record_id: int):
    kind = SUBKINDS[slug]
    session = _session(session_id, editing=True)
    record = _child(kind, session, record_id)
    form = _form(kind, record, request.form)
    if is_stale(record, form.version.data):
        return _render_form(kind, session, record, _form(kind, record), STALE_MESSAGE), 409
    if not form.validate():
        return _render_form(kind, session, record, form), 422
    _populate(record, form)
    record.updated_by_id = current_user.id
    mark_modified(session.action)
    db.session.commit()
    if not wants_fragment():
        return _back(session, kind)
    body = render_template(
        f"offer/partials/{kind.name}_row.html",
        kind=kind,
        session=session,
        row=record,
        editable=True,
    )
    return with_trigger(body, "Enregistré")


@bp.route(f"/sessions/<int:session_id>/<{SLUGS}:slug>/<int:record_id>/supprimer", methods=["POST"])
def subrow_delete(session_id: int, slug: str, record_id: int):
    kind = SUBKINDS[slug]
    session = _session(session_id, editing=True)
    record = _child(kind, session, record_id)
    db.session.delete(record)
    mark_modified(session.action)
    db.session.commit()
    if not wants_fragment():
        return _back(session, kind)
    return with_trigger(render_table(kind, session), "Ligne supprimée")
