"""The Carif-Oref back office: its dashboard, the validation queue, the review page and the
decisions (valider, refuser, poser une question)."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..htmx import render_page_or_fragment
from ..models import (
    Action,
    ActionEvent,
    ActionStatus,
    Establishment,
    Formation,
    Lot,
    Programme,
    PublishedSession,
)
from ..models._base import utcnow
from ..offer.rules import check_action
from ..offer.snapshot import action_snapshot
from ..validators import parse_int
from . import bp
from .decisions import DecisionRefused, ask, last_validated_snapshot, reject, validate
from .diff import LABELS, diff_snapshots, display

PAGE_SIZES = (25, 50, 100)
SORTS = {
    "attente": (Action.submitted_at.asc(), Action.id.asc()),
    "-attente": (Action.submitted_at.desc(), Action.id.desc()),
    "etablissement": (Establishment.name.asc(), Action.id.asc()),
    "intitule": (Action.id.asc(),),
}


@bp.route("/")
def index():
    """The Carif-Oref's dashboard: the actions of every establishment by state, queue first."""
    counts = dict(
        db.session.execute(select(Action.status, func.count()).group_by(Action.status)).all()
    )
    oldest = db.session.scalar(
        select(func.min(Action.submitted_at)).where(Action.status == ActionStatus.SUBMITTED)
    )
    published = db.session.scalar(select(func.count()).select_from(PublishedSession))
    return render_template(
        "review/index.html",
        counts={status: counts.get(status, 0) for status in ActionStatus.ALL},
        labels=ActionStatus.LABELS,
        oldest=oldest,
        published=published,
    )


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if value == "":
        return None
    number = parse_int(value)
    if number is None:
        abort(400)
    return number


@bp.route("/file")
def queue():
    """ "Actions de formation en attente de validation": filters, sort and waiting time."""
    programme_id, lot_id = _int_arg("programme"), _int_arg("lot")
    establishment_q = (request.args.get("etablissement") or "").strip()
    sort = request.args.get("tri", "attente")
    size = _int_arg("taille") or PAGE_SIZES[0]
    page = _int_arg("page") or 1
    if sort not in SORTS or size not in PAGE_SIZES:
        abort(400)
    stmt = (
        select(Action)
        .join(Formation, Action.formation_id == Formation.id)
        .join(Establishment, Action.establishment_id == Establishment.id)
        .where(Action.status == ActionStatus.SUBMITTED)
        .options(
            joinedload(Action.formation).joinedload(Formation.lot),
            joinedload(Action.formation).joinedload(Formation.programme),
            joinedload(Action.formation).joinedload(Formation.certification),
            joinedload(Action.establishment),
        )
        .order_by(*SORTS[sort])
    )
    if programme_id:
        stmt = stmt.where(Formation.programme_id == programme_id)
    if lot_id:
        stmt = stmt.where(Formation.lot_id == lot_id)
    if establishment_q:
        pattern = f"%{establishment_q}%"
        stmt = stmt.where(
            Establishment.siret.like(f"{establishment_q}%") | Establishment.name.ilike(pattern)
        )
    pagination = db.paginate(stmt, page=page, per_page=size, error_out=False)
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    lots = (
        db.session.scalars(
            select(Lot).where(Lot.programme_id == programme_id).order_by(Lot.code)
        ).all()
        if programme_id
        else []
    )
    args = {
        "programme": programme_id,
        "lot": lot_id,
        "etablissement": establishment_q or None,
        "tri": sort,
        "taille": size,
    }
    return render_page_or_fragment(
        "review/queue.html",
        "review/partials/queue_table.html",
        pagination=pagination,
        programmes=programmes,
        lots=lots,
        args=args,
        sorts=SORTS,
        page_sizes=PAGE_SIZES,
        now=utcnow(),
    )


def _load(action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None:
        abort(404)
    return action


def _history(action: Action) -> list[ActionEvent]:
    stmt = (
        select(ActionEvent)
        .where(ActionEvent.action_id == action.id)
        .options(joinedload(ActionEvent.user))
        .order_by(ActionEvent.at.desc(), ActionEvent.id.desc())
    )
    return list(db.session.scalars(stmt))


def _render_review(action: Action, *, errors: dict | None = None, status: int = 200):
    current = action_snapshot(action)
    previous = last_validated_snapshot(action)
    changes = diff_snapshots(previous, current) if previous else None
    return render_template(
        "review/action.html",
        action=action,
        snapshot=current,
        changes=changes,
        history=_history(action),
        report=check_action(action, date.today()),
        labels=LABELS,
        display=display,
        errors=errors or {},
    ), status


@bp.route("/actions/<int:action_id>")
def action(action_id: int):
    """The whole action with its formation, sessions and dispositifs, the differences from
    the last validated version, the history and the decision forms."""
    return _render_review(_load(action_id))


def _decide(action_id: int, decide, field: str | None, done: str):
    action = _load(action_id)
    try:
        decide(action)
    except DecisionRefused as refusal:
        db.session.rollback()
        return _render_review(
            action, errors={field or "decision": refusal.message}, status=refusal.status
        )
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("review.queue"))


@bp.route("/actions/<int:action_id>/valider", methods=["POST"])
def validate_action(action_id: int):
    return _decide(action_id, validate, None, "Action validée et publiée.")


@bp.route("/actions/<int:action_id>/refuser", methods=["POST"])
def reject_action(action_id: int):
    reason = request.form.get("motif")
    return _decide(action_id, lambda a: reject(a, reason), "motif", "Action refusée.")


@bp.route("/actions/<int:action_id>/question", methods=["POST"])
def ask_question(action_id: int):
    question = request.form.get("question")
    return _decide(
        action_id, lambda a: ask(a, question), "question", "Question envoyée à l'organisme."
    )
