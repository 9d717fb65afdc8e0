"""Add the public catalogue's word index over the published copy (published_terms)

One row per (term, published session): the words of the session's search_text and its filter
values (~dep:44, ~prog:3…), keyed in search order (term, span class, start day, session), with
the session's single-valued filters copied in each row.
A plain table with B-tree indexes, identical on SQLite and PostgreSQL, so nothing outside the
models' metadata (no FTS table, trigger or GIN index) and the same rows found on both.

The rows of sessions already published are computed here with a frozen copy of the rules of
portal/catalogue/terms.py, so that this migration keeps working whatever that code becomes.

Revision ID: d5e6f7a8b9c0
Revises: c4a1d2e3f5b7
Create Date: 2026-11-27 03:00:00
"""

import json
import re
import unicodedata
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "d5e6f7a8b9c0"
down_revision = "c4a1d2e3f5b7"
branch_labels = None
depends_on = None

TERM_LENGTH = 40
SPANS = (31, 92, 183, 366, 731)
NO_START = 0
NO_END = date(9999, 12, 31).toordinal()
STOPWORDS = frozenset(
    (
        *("a", "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "en", "et", "il"),
        *("la", "le", "les", "leur", "lors", "par", "pour", "qu", "que", "qui", "sa", "se"),
        *("ses", "son", "sur", "un", "une", "vos", "votre", "ou", "the", "and", "of", "for"),
        *("to", "l", "d", "s", "n", "c", "j", "m", "t", "y"),
    )
)
_WORD = re.compile(r"[a-z0-9]+")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’‘`´.,;/()]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}


def _commune_key(name):
    text = (name or "").casefold().replace("œ", "oe").replace("æ", "ae")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(_ABBREVIATIONS.get(word, word) for word in _SEPARATORS.split(text) if word)


def _day(value, default):
    if value is None:
        return default
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.toordinal()


def _span(start, end):
    if start in (None, "") or end in (None, ""):
        return len(SPANS)
    days = _day(end, 0) - _day(start, 0)
    for index, limit in enumerate(SPANS):
        if days <= limit:
            return index
    return len(SPANS)


def _list(value):
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


def _terms(row):
    terms = {}
    for word in _WORD.findall(row.search_text or ""):
        if len(word) > 1 and word not in STOPWORDS:
            terms.setdefault(word[:TERM_LENGTH], None)
    terms.setdefault("~tout", None)
    values = [
        ("~dep:", row.department),
        ("~prog:", row.programme_id),
        ("~com:", _commune_key(row.commune) or None),
        ("~mod:", row.teaching_mode),
        ("~niv:", row.exit_level),
        *(("~pub:", code) for code in _list(row.public_targets)),
        *(("~fc:", code) for code in _list(row.formacodes)),
    ]
    for prefix, value in values:
        if value is not None and value != "":
            terms.setdefault(f"{prefix}{value}"[:TERM_LENGTH], None)
    return list(terms)


def upgrade():
    term_type = sa.String(length=TERM_LENGTH).with_variant(
        sa.String(length=TERM_LENGTH, collation="C"), "postgresql"
    )
    terms = op.create_table(
        "published_terms",
        sa.Column("term", term_type, nullable=False),
        sa.Column("span", sa.SmallInteger(), nullable=False),
        sa.Column("start_day", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("end_day", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("teaching_mode", sa.SmallInteger(), nullable=True),
        sa.Column("exit_level", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["published_sessions.session_id"],
            name=op.f("fk_published_terms_session_id_published_sessions"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "term", "span", "start_day", "session_id", "end_day", name=op.f("pk_published_terms")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_published_terms_session_term", "published_terms", ["session_id", "term"], unique=False
    )

    published = sa.table(
        "published_sessions",
        sa.column("session_id", sa.Integer()),
        sa.column("active", sa.Boolean()),
        sa.column("search_text", sa.Text()),
        sa.column("department", sa.String()),
        sa.column("programme_id", sa.Integer()),
        sa.column("commune", sa.String()),
        sa.column("teaching_mode", sa.Integer()),
        sa.column("exit_level", sa.String()),
        sa.column("public_targets", sa.JSON()),
        sa.column("formacodes", sa.JSON()),
        sa.column("start_date", sa.Date()),
        sa.column("end_date", sa.Date()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(published).where(published.c.active.is_(True))).all()
    batch = []
    for row in rows:
        span = _span(row.start_date, row.end_date)
        start_day = _day(row.start_date, NO_START)
        end_day = _day(row.end_date, NO_END)
        batch.extend(
            {"term": term, "span": span, "start_day": start_day, "end_day": end_day,
             "session_id": row.session_id, "department": row.department,
             "programme_id": row.programme_id, "teaching_mode": row.teaching_mode,
             "exit_level": row.exit_level}
            for term in _terms(row)
        )
        if len(batch) >= 5000:
            conn.execute(terms.insert(), batch)
            batch = []
    if batch:
        conn.execute(terms.insert(), batch)


def downgrade():
    op.drop_index("ix_published_terms_session_term", table_name="published_terms")
    op.drop_table("published_terms")
