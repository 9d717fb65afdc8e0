"""Who may change an action, and the transitions of DESIGN §3 the OF side triggers."""

from __future__ import annotations

from datetime import date

from flask import abort
from flask_login import current_user

from ..extensions import db
from ..models import Action, ActionEvent, ActionStatus
from ..models._base import utcnow
from .rules import Report, check_action
from .snapshot import action_snapshot

# The OF edits drafts, answers questions, and reopens validated or rejected actions (which
# then go back to "en cours de saisie"; the published copy stays online meanwhile).
EDITABLE = {
    ActionStatus.DRAFT,
    ActionStatus.QUESTIONED,
    ActionStatus.VALIDATED,
    ActionStatus.REJECTED,
}
SENDABLE = {ActionStatus.DRAFT, ActionStatus.REJECTED}


def can_edit(action: Action) -> bool:
    return not current_user.is_carif and action.status in EDITABLE


def ensure_editable(action: Action) -> None:
    """403 for a carif user (no silent change of OF content) or a submitted action."""
    if not can_edit(action):
        abort(403)


def mark_modified(action: Action) -> None:
    """A change to a validated or rejected action reopens it as a draft."""
    if action.status in (ActionStatus.VALIDATED, ActionStatus.REJECTED):
        transition(action, ActionStatus.DRAFT, "reopen")


def can_delete(action: Action) -> bool:
    """Only a draft never validated (nothing published) may be deleted."""
    return (
        not current_user.is_carif
        and action.status == ActionStatus.DRAFT
        and action.validated_at is None
    )


class NotSendable(Exception):
    def __init__(self, report: Report | None, message: str):
        super().__init__(message)
        self.report = report
        self.message = message


def send_for_validation(action: Action, today: date) -> Report:
    """Move the action to "en attente de validation" once every rule passes."""
    if action.status not in SENDABLE:
        raise NotSendable(
            None,
            "Cette action n'est pas en cours de saisie : elle ne peut pas "
            "être envoyée en validation.",
        )
    report = check_action(action, today)
    if not report.complete:
        raise NotSendable(
            report,
            "La saisie est incomplète : corrigez les points signalés "
            "avant d'envoyer l'action en validation.",
        )
    transition(action, ActionStatus.SUBMITTED, "submit", snapshot=action_snapshot(action))
    action.submitted_at = utcnow()
    return report


def transition(
    action: Action,
    to_status: str,
    kind: str,
    *,
    message: str | None = None,
    snapshot: dict | None = None,
) -> None:
    db.session.add(
        ActionEvent(
            action_id=action.id,
            establishment_id=action.establishment_id,
            user_id=current_user.id if current_user.is_authenticated else None,
            kind=kind,
            from_status=action.status,
            to_status=to_status,
            message=message,
            snapshot=snapshot,
        )
    )
    action.status = to_status
    action.status_changed_at = utcnow()
