"""Bulk changes on the sessions ticked in the list: état du recrutement, deactivation.

The records are changed through the ORM, so that each change is journaled, version-checked and
reflected in the list rows by the same flush; the caller commits once, so that either every
selected session changes or none does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..codes import RECRUITMENT_STATES
from ..models import Session
from ..validators import parse_int

MAX_SELECTION = 100
SET_RECRUITMENT_STATE = "etat"
DEACTIVATE = "desactiver"
OPERATIONS = (SET_RECRUITMENT_STATE, DEACTIVATE)


class BulkError(ValueError):
    """A bulk request that cannot be applied; ``message`` says why, in French (422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadSelection(ValueError):
    """The posted ids or operation are not what the form sends (400)."""


@dataclass(frozen=True)
class BulkRequest:
    ids: tuple[int, ...]
    operation: str
    recruitment_state: str | None = None


def parse_bulk(ids: Iterable[str], operation: str | None, state: str | None) -> BulkRequest:
    """Check the ticked ids and the requested change before anything is loaded."""
    if operation not in OPERATIONS:
        raise BadSelection("operation")
    numbers = [parse_int(i) for i in ids]
    if None in numbers:
        raise BadSelection("ids")
    selected = tuple(dict.fromkeys(numbers))
    if not selected:
        raise BulkError("Sélectionnez au moins une session dans la liste.")
    if len(selected) > MAX_SELECTION:
        raise BulkError(f"Sélectionnez au plus {MAX_SELECTION} sessions à la fois.")
    if operation == SET_RECRUITMENT_STATE:
        if not state or state not in RECRUITMENT_STATES:
            choices = ", ".join(label for _, label in RECRUITMENT_STATES)
            raise BulkError(f"Choisissez l'état du recrutement à appliquer ({choices}).")
        return BulkRequest(selected, operation, state)
    return BulkRequest(selected, operation)


def apply(request: BulkRequest, sessions: Sequence[Session], user_id: int | None) -> int:
    """Change the loaded sessions; return how many actually changed."""
    changed = 0
    for session in sessions:
        if request.operation == SET_RECRUITMENT_STATE:
            if session.recruitment_state == request.recruitment_state:
                continue
            session.recruitment_state = request.recruitment_state
        else:
            if not session.active:
                continue
            session.active = False
        session.updated_by_id = user_id
        changed += 1
    return changed


def _sessions(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"


def summary(request: BulkRequest, changed: int) -> str:
    """The toast after a bulk change, e.g. « 3 sessions désactivées »."""
    if request.operation == SET_RECRUITMENT_STATE:
        label = RECRUITMENT_STATES.label(request.recruitment_state)
        if not changed:
            return f"Recrutement déjà « {label} » pour les sessions sélectionnées."
        return f"Recrutement « {label} » appliqué à {_sessions(changed)}."
    if not changed:
        return "Les sessions sélectionnées étaient déjà inactives."
    return f"{_sessions(changed)} désactivée{'s' if changed > 1 else ''}."
