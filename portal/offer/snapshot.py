"""A plain-data copy of an action with its formation, sessions and dispositifs.

Stored with each "envoi en validation" so that the Carif-Oref can compare a re-submitted action
with the version it validated, field by field.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

from ..models import Action

SKIPPED = {"created_at", "updated_at", "created_by_id", "updated_by_id", "version"}


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def record_data(record: Any) -> dict[str, Any]:
    return {
        attr.key: _plain(getattr(record, attr.key))
        for attr in inspect(record).mapper.column_attrs
        if attr.key not in SKIPPED
    }


def action_snapshot(action: Action) -> dict[str, Any]:
    return {
        "formation": record_data(action.formation),
        "blocs": sorted(b.code for b in action.formation.blocs),
        "action": record_data(action),
        "sessions": [
            {
                "session": record_data(s),
                "info_meetings": [record_data(m) for m in s.info_meetings],
                "enrolment_periods": [record_data(p) for p in s.enrolment_periods],
                "fundings": [record_data(f) for f in s.fundings],
            }
            for s in action.sessions
        ],
    }
