"""Duplicate a session: everything but its dates (and its informations collectives, which
are dated too)."""

from __future__ import annotations

from sqlalchemy import inspect

from ..extensions import db
from ..models import Session, SessionFunding

NOT_COPIED = {"id", "version", "created_at", "updated_at", "created_by_id", "updated_by_id"}
SESSION_DATES = {"start_date", "end_date"}


def _columns(record, skip: set[str]) -> dict:
    return {
        attr.key: getattr(record, attr.key)
        for attr in inspect(record).mapper.column_attrs
        if attr.key not in skip
    }


def duplicate_session(original: Session, user_id: int) -> Session:
    values = _columns(original, NOT_COPIED | SESSION_DATES)
    copy = Session(**values, created_by_id=user_id)
    # Lists are copied, not shared, so that editing one session never changes the other.
    for name in ("training_periods", "pedagogical_modes", "recruitment_modes"):
        setattr(copy, name, list(getattr(original, name) or []))
    db.session.add(copy)
    db.session.flush()
    for funding in original.fundings:
        values = _columns(funding, NOT_COPIED | {"session_id"})
        db.session.add(SessionFunding(**values, session_id=copy.id, created_by_id=user_id))
    return copy
