"""The Carif-Oref's decisions on a submitted action, and the OF's answer to a question.

Each decision is allowed from one state only (DESIGN §3), journaled as an ActionEvent shown
in the action's history on both sides, and notified by e-mail. Validation publishes.
"""

from __future__ import annotations

from datetime import date

from flask import url_for
from sqlalchemy import select

from .. import notify
from ..extensions import db
from ..forms import without_controls
from ..models import Action, ActionEvent, ActionStatus, User
from ..models._base import utcnow
from ..models.directory import user_establishments
from ..offer.rules import check_action
from ..offer.snapshot import action_snapshot
from ..offer.workflow import transition
from ..publication import publish


class DecisionRefused(Exception):
    """The action is not in a state that allows this decision, or the message is missing."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


def _require(action: Action, status: str, what: str) -> None:
    if action.status != status:
        raise DecisionRefused(f"Impossible de {what} : l'action est « {action.status_label} ».")


def _require_text(text: str | None, message: str) -> str:
    text = without_controls(text or "").strip()
    if not text:
        raise DecisionRefused(message, status=422)
    if len(text) > 5000:
        raise DecisionRefused("Message trop long (5000 caractères au maximum).", status=422)
    return text


def establishment_recipients(action: Action) -> list[str]:
    """The OF accounts attached to the establishment, and its own e-mail."""
    stmt = (
        select(User.email)
        .join(user_establishments, user_establishments.c.user_id == User.id)
        .where(
            user_establishments.c.establishment_id == action.establishment_id, User.active.is_(True)
        )
    )
    return [*db.session.scalars(stmt), action.establishment.email]


def _last_event(action: Action, kind: str) -> ActionEvent | None:
    stmt = (
        select(ActionEvent)
        .where(ActionEvent.action_id == action.id, ActionEvent.kind == kind)
        .order_by(ActionEvent.at.desc(), ActionEvent.id.desc())
    )
    return db.session.scalars(stmt).first()


def last_validated_snapshot(action: Action) -> dict | None:
    event = _last_event(action, "validate")
    return event.snapshot if event else None


def _action_url(action: Action) -> str:
    return url_for("offer.action", action_id=action.id, _external=True)


def validate(action: Action) -> int:
    """Validate and publish; return the number of sessions published."""
    _require(action, ActionStatus.SUBMITTED, "valider")
    transition(action, ActionStatus.VALIDATED, "validate", snapshot=action_snapshot(action))
    action.validated_at = utcnow()
    action.rejection_reason = None
    # The Region's agreement covered this version; the next change needs a new one.
    action.region_agreement_date = None
    action.region_agreement_ref = None
    published = publish(action)
    notify.send_on_commit(
        establishment_recipients(action),
        f"Action {action.formation_id}-{action.id} validée",
        f"L'action « {action.formation.title} » a été validée par le service Offre du "
        f"Carif-Oref ; ses {published} session(s) sont publiées.\n{_action_url(action)}",
    )
    return published


def reject(action: Action, reason: str | None) -> None:
    _require(action, ActionStatus.SUBMITTED, "refuser")
    reason = _require_text(reason, "Indiquez le motif du refus.")
    transition(action, ActionStatus.REJECTED, "reject", message=reason)
    action.rejection_reason = reason
    notify.send_on_commit(
        establishment_recipients(action),
        f"Action {action.formation_id}-{action.id} refusée",
        f"L'action « {action.formation.title} » a été refusée par le service Offre du "
        f"Carif-Oref.\nMotif : {reason}\n{_action_url(action)}",
    )


def ask(action: Action, question: str | None) -> None:
    _require(action, ActionStatus.SUBMITTED, "poser une question")
    question = _require_text(question, "Saisissez votre question.")
    transition(action, ActionStatus.QUESTIONED, "question", message=question)
    notify.send_on_commit(
        establishment_recipients(action),
        f"Question sur l'action {action.formation_id}-{action.id}",
        f"Le service Offre du Carif-Oref pose une question sur l'action "
        f"« {action.formation.title} » :\n\n{question}\n\nRépondez depuis la fiche Action : "
        f"{_action_url(action)}",
    )


def answer(action: Action, message: str | None, today: date) -> None:
    """The OF answers; the action goes back to the validation queue if it is complete."""
    _require(action, ActionStatus.QUESTIONED, "répondre")
    message = _require_text(message, "Saisissez votre réponse.")
    report = check_action(action, today)
    if not report.complete:
        raise DecisionRefused(
            "La saisie est incomplète : corrigez les points de l'état de la saisie avant de "
            "répondre.",
            status=422,
        )
    question = _last_event(action, "question")
    transition(
        action, ActionStatus.SUBMITTED, "answer", message=message, snapshot=action_snapshot(action)
    )
    action.submitted_at = utcnow()
    if question and question.user:
        notify.send_on_commit(
            [question.user.email],
            f"Réponse sur l'action {action.formation_id}-{action.id}",
            f"L'organisme a répondu à votre question :\n\n{message}\n\n"
            + url_for("review.action", action_id=action.id, _external=True),
        )
