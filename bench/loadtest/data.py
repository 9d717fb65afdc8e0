"""The load test's database: an offer entered by many establishments, part of it published.

Reuses the generator of ``bench/live_save_bench.py`` (Core bulk inserts of organisations,
establishments with one OF user each, sites, contacts, lots, formations, actions, sessions,
Dispositifs and their journal lines), then gives the validated actions their published copy
with ``portal.publication.publish`` — the code validation runs — and rebuilds the list rows.
Works on SQLite and PostgreSQL alike (the schema comes from the migrations).

The first ``of_users`` generated establishments are the load test's OF users (``of.<j>@...``):
each gets one draft action with a dated session and its fiche Dispositif, edited by that user
only. ``build()`` returns the plan the Locust users read: accounts, targets, and the values the
public searchers pick their searches from (words, filters, published session ids).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import live_save_bench as lsb  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text, update  # noqa: E402

from portal import create_app  # noqa: E402
from portal.demo import DEMO_PASSWORD, load_demo_data  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Action,
    ActionStatus,
    Establishment,
    Formation,
    JournalEntry,
    PublishedSession,
    Session,
    SessionFunding,
    User,
)
from portal.models.directory import user_establishments  # noqa: E402

# Tables the generator fills with explicit ids: PostgreSQL's sequences must move past them.
EXPLICIT_ID_TABLES = tuple(lsb.RECORD_TYPES)
WORD_RE = re.compile(r"[a-z0-9]{4,}")


def make_app(url: str) -> Flask:
    return create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})


def _generator_args(seed: int) -> argparse.Namespace:
    """The options ``live_save_bench.generate`` reads (its own defaults)."""
    return argparse.Namespace(
        seed=seed,
        chunk=5_000,
        no_journal=False,
        sessions_per_action=5,
        actions_per_formation=2,
        demo_sites=0,
        demo_contacts=0,
    )


def _sync_sequences() -> None:
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as conn:
        for table in EXPLICIT_ID_TABLES:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )


def _of_establishments(count: int) -> list[tuple[int, int, str]]:
    """(establishment id, user id, e-mail) of the first ``count`` generated OF accounts."""
    rows = db.session.execute(
        select(Establishment.id, User.id, User.email)
        .join(user_establishments, user_establishments.c.establishment_id == Establishment.id)
        .join(User, User.id == user_establishments.c.user_id)
        .where(User.email.like("of.%@of-example.org"))
        .order_by(Establishment.id)
        .limit(count)
    ).all()
    if len(rows) < count:
        raise SystemExit(f"Only {len(rows)} generated establishments, {count} OF users asked.")
    return [tuple(row) for row in rows]


def _target_stmt(est_id: int, statuses):
    """An action of the establishment with a dated session and its fiche Dispositif."""
    return (
        select(Action.id, Session.id, Session.end_date, SessionFunding.id)
        .join(Session, Session.action_id == Action.id)
        .join(Formation, Formation.id == Action.formation_id)
        .join(
            SessionFunding,
            (SessionFunding.session_id == Session.id)
            & (SessionFunding.programme_id == Formation.programme_id),
        )
        .where(
            Action.establishment_id == est_id,
            Action.status.in_(statuses),
            Session.end_date.is_not(None),
            Session.start_date.is_not(None),
        )
        .order_by(Action.id, Session.id)
        .limit(1)
    )


def pick_targets(count: int) -> list[dict[str, Any]]:
    """One draft action (its session, its Dispositif) per OF user, made a draft if need be."""
    accounts = []
    for est_id, _user_id, email in _of_establishments(count):
        row = db.session.execute(_target_stmt(est_id, [ActionStatus.DRAFT])).first()
        if row is None:
            # Any other action becomes a draft (before publication: it stays unpublished).
            row = db.session.execute(_target_stmt(est_id, ActionStatus.ALL)).first()
            if row is None:
                raise SystemExit(f"No action with a session and a Dispositif for {email}.")
            db.session.execute(
                update(Action)
                .where(Action.id == row[0])
                .values(
                    status=ActionStatus.DRAFT,
                    submitted_at=None,
                    validated_at=None,
                    rejection_reason=None,
                )
            )
        action_id, session_id, end_date, funding_id = row
        accounts.append(
            {
                "email": email,
                "password": DEMO_PASSWORD,
                "establishment_id": est_id,
                "action_id": action_id,
                "session_id": session_id,
                "session_end": end_date.isoformat(),
                "funding_id": funding_id,
            }
        )
    db.session.commit()
    return accounts


def publish_validated(batch: int = 200) -> int:
    """The published copy of every validated action, through ``portal.publication``."""
    from portal.publication import publish

    ids = db.session.scalars(
        select(Action.id).where(Action.status == ActionStatus.VALIDATED).order_by(Action.id)
    ).all()
    published = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        for action in db.session.scalars(select(Action).where(Action.id.in_(chunk))):
            published += publish(action)
        db.session.commit()
        db.session.expunge_all()
    return published


def catalogue_choices(seed: int) -> dict[str, Any]:
    """What the public searchers pick from: words of the published texts, filter values."""
    rng = random.Random(seed)
    texts = db.session.scalars(
        select(PublishedSession.search_text).where(PublishedSession.active.is_(True))
    ).all()
    counts: Counter[str] = Counter()
    for value in texts:
        counts.update(set(WORD_RE.findall(value)))
    ranked = [w for w, _ in counts.most_common() if not w.isdigit()]
    # Frequent words (thousands of results), mid-frequency and rare ones (a handful).
    words = ranked[:30] + ranked[30:300:5] + ranked[-40:]
    prefixes = sorted({w[:4] for w in rng.sample(ranked[:200], min(40, len(ranked[:200])))})

    def distinct(column) -> list:
        return sorted(
            v
            for v in db.session.scalars(
                select(column).where(PublishedSession.active.is_(True)).distinct()
            )
            if v is not None
        )

    session_ids = db.session.scalars(
        select(PublishedSession.session_id).where(PublishedSession.active.is_(True))
    ).all()
    publics = Counter()
    for targets in db.session.scalars(select(PublishedSession.public_targets).limit(5000)):
        publics.update(targets or [])
    return {
        "words": words,
        "prefixes": prefixes,
        "departments": distinct(PublishedSession.department),
        "programmes": distinct(PublishedSession.programme_id),
        "levels": distinct(PublishedSession.exit_level),
        "modes": distinct(PublishedSession.teaching_mode),
        "communes": distinct(PublishedSession.commune),
        "publics": sorted(publics),
        "session_ids": rng.sample(list(session_ids), min(2000, len(session_ids))),
    }


def build(url: str, *, sessions: int, establishments: int, of_users: int, seed: int = 2024):
    """Create the schema and the data; return the plan (JSON-ready) and the sizes."""
    app = make_app(url)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        load_demo_data()
        timings["schema_and_demo_s"] = time.perf_counter() - started
        step = time.perf_counter()
        counts = lsb.generate(sessions, establishments, _generator_args(seed))
        _sync_sequences()
        timings["offer_s"] = time.perf_counter() - step
        step = time.perf_counter()
        accounts = pick_targets(of_users)
        published = publish_validated()
        timings["publish_s"] = time.perf_counter() - step
        step = time.perf_counter()
        lsb.rebuild_derived_tables()
        timings["list_rows_s"] = time.perf_counter() - step
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does after such a load: the planner needs statistics.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        else:
            # Fold the bulk load's WAL into the file before the server opens it.
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        choices = catalogue_choices(seed)
        sizes = {
            "establishments": db.session.scalar(select(func.count(Establishment.id))),
            "actions": db.session.scalar(select(func.count(Action.id))),
            "sessions": db.session.scalar(select(func.count(Session.id))),
            "session_fundings": db.session.scalar(select(func.count(SessionFunding.id))),
            "published_sessions": db.session.scalar(
                select(func.count()).where(PublishedSession.active.is_(True))
            ),
            "published_actions": db.session.scalar(
                select(func.count(PublishedSession.action_id.distinct()))
            ),
            "journal_lines": db.session.scalar(select(func.count(JournalEntry.id))),
        }
        journal_start = db.session.scalar(select(func.max(JournalEntry.id))) or 0
        db.session.remove()
        db.engine.dispose()
    timings["total_s"] = time.perf_counter() - started
    return {
        "accounts": accounts,
        "catalogue": choices,
        "journal_start_id": journal_start,
        "sizes": sizes,
        "generated_rows": dict(counts),
        "published_by_generator": published,
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "built_on": date.today().isoformat(),
    }
