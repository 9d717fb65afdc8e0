"""The catalogue's word index over the published copy (see ``terms`` for what a term is)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..extensions import db
from ..models import PublishedSession
from .terms import TERM_LENGTH

# Byte order on both databases: a word's prefix range [w, w + "\x7f") must hold exactly the
# words that start with w, which a linguistic collation of PostgreSQL does not guarantee.
TermType = String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql")


class PublishedTerm(db.Model):
    """One term of one published session; written with the row by ``publish()``.

    The primary key is the search order: a term's sessions by span class, then start date, so
    that a page of results in date order is read from the index, not sorted. The second index
    finds a session's terms: it checks the other words of a search and serves the cascade that
    removes these rows with their published session.
    """

    __tablename__ = "published_terms"
    __table_args__ = (
        Index("ix_published_terms_session_term", "session_id", "term"),
        {"sqlite_with_rowid": False},
    )

    term: Mapped[str] = mapped_column(TermType, primary_key=True)
    span: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    start_day: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("published_sessions.session_id", ondelete="CASCADE"), primary_key=True
    )
    # In the key too, so that "not ended" is checked in the index on both databases.
    end_day: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The single-valued filters, copied into every row: a search driven by a word checks them
    # in the row it reads (~0.1 µs) instead of looking up another term (~2 µs).
    department: Mapped[str | None] = mapped_column(String(3))
    programme_id: Mapped[int | None] = mapped_column(Integer)
    teaching_mode: Mapped[int | None] = mapped_column(SmallInteger)
    exit_level: Mapped[str | None] = mapped_column(String(2))

    # PublishedSession.terms: saved with the published row; removed by the database's cascade
    # when unpublish() deletes the row (declared here, so the published copy's model does not
    # depend on the catalogue package).
    session: Mapped[PublishedSession] = relationship(
        backref=backref("terms", cascade="all, delete-orphan", passive_deletes=True)
    )
