"""The append-only journal: every change to the offer, the directory and the accounts.

One ``after_flush`` listener writes who, when, which record, which field, before and after,
inside the same transaction as the change itself — a rolled-back save leaves no journal line,
and no view can forget to journal.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session as OrmSession

from .models import (
    Action,
    Contact,
    EnrolmentPeriod,
    Establishment,
    Formation,
    InfoMeeting,
    JournalEntry,
    Lot,
    OpenDay,
    Organisation,
    Programme,
    Session,
    SessionFunding,
    Site,
    User,
)
from .models._base import utcnow

JOURNALED = (
    Organisation,
    Establishment,
    Site,
    Contact,
    OpenDay,
    Programme,
    Lot,
    Formation,
    Action,
    Session,
    InfoMeeting,
    EnrolmentPeriod,
    SessionFunding,
    User,
)
# Bookkeeping columns: their change is implied by every journal line.
IGNORED_FIELDS = {"updated_at", "created_at", "version", "updated_by_id", "created_by_id"}
REDACTED_FIELDS = {"password_hash"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _actor_id() -> int | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id
    return None


def _establishment_id(record: Any) -> int | None:
    if isinstance(record, Establishment):
        return record.id
    return getattr(record, "establishment_id", None)


def _changes(record: Any) -> list[tuple[str, str | None, str | None]]:
    state = inspect(record)
    changes = []
    for attr in state.mapper.column_attrs:
        if attr.key in IGNORED_FIELDS:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before == after:
            continue
        if attr.key in REDACTED_FIELDS:
            changes.append((attr.key, None, "(modifié)"))
        else:
            changes.append((attr.key, _text(before), _text(after)))
    # Many-to-many links (an account's establishments, a formation's blocs, a lot's
    # formateurs): the ids before and after, as a JSON list.
    for relationship in state.mapper.relationships:
        if relationship.secondary is None:
            continue
        history = state.attrs[relationship.key].history
        if not history.has_changes():
            continue
        kept = [_id(r) for r in history.unchanged]
        before = sorted(kept + [_id(r) for r in history.deleted])
        after = sorted(kept + [_id(r) for r in history.added])
        if before != after:
            changes.append((relationship.key, _text(before), _text(after)))
    return changes


def _id(record: Any) -> Any:
    return inspect(record).mapper.primary_key_from_instance(record)[0]


def _keep_old_value(target: Any, value: Any, oldvalue: Any, initiator: Any) -> Any:
    return value


# active_history makes SQLAlchemy load the old value of an expired attribute when it is set,
# so that the journal's "before" is never lost after a commit expired the record.
for _model in JOURNALED:
    for _attr in inspect(_model).column_attrs:
        if _attr.key not in IGNORED_FIELDS:
            event.listen(
                getattr(_model, _attr.key),
                "set",
                _keep_old_value,
                active_history=True,
                retval=True,
            )


class JournalIsAppendOnly(Exception):
    """Raised on any attempt to change or delete a journal line through the ORM (the database
    refuses changes to its content too: a trigger, migration e7f8a9b0c1d2)."""


@event.listens_for(JournalEntry, "before_update")
@event.listens_for(JournalEntry, "before_delete")
def _refuse_journal_change(mapper: Any, connection: Any, target: JournalEntry) -> None:
    raise JournalIsAppendOnly(f"journal line {target.id} cannot be changed or deleted")


@event.listens_for(OrmSession, "after_flush")
def _journal_flush(session: OrmSession, flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    at = utcnow()
    user_id = _actor_id()

    def row(record: Any, operation: str, field=None, before=None, after=None) -> None:
        rows.append(
            {
                "at": at,
                "user_id": user_id,
                "establishment_id": _establishment_id(record),
                "record_type": type(record).__name__,
                "record_id": inspect(record).mapper.primary_key_from_instance(record)[0],
                "operation": operation,
                "field": field,
                "before": before,
                "after": after,
            }
        )

    for record in session.new:
        if isinstance(record, JOURNALED):
            row(record, "create")
    for record in session.dirty:
        if isinstance(record, JOURNALED) and session.is_modified(record):
            for field, before, after in _changes(record):
                row(record, "update", field, before, after)
    for record in session.deleted:
        if isinstance(record, JOURNALED):
            row(record, "delete")
    if rows:
        session.connection().execute(insert(JournalEntry), rows)
