"""Workflow history, the published copy read by the public side, and the journal."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import utcnow
from .directory import User


class ActionEvent(db.Model):
    """One workflow step of an action: sent, validated, rejected, question, answer."""

    __tablename__ = "action_events"
    __table_args__ = (Index("ix_action_events_action_at", "action_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # submit, validate, reject, question, answer
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    message: Mapped[str | None] = mapped_column(Text)
    # The action as it was sent, so that a re-submission can be diffed field by field.
    snapshot: Mapped[dict | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()


class PublishedSession(db.Model):
    """The published copy: one flat row per session of a validated action (DESIGN §3).

    Written only by validation; the catalogue, the PDF catalogues and the exports read it, so
    later edits by the OF stay private until the next validation.
    """

    __tablename__ = "published_sessions"
    __table_args__ = (
        Index("ix_published_sessions_start", "start_date"),
        Index("ix_published_sessions_programme_start", "programme_id", "start_date"),
        Index("ix_published_sessions_department_start", "department", "start_date"),
    )

    session_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # S, kept after deletion
    action_id: Mapped[int] = mapped_column(Integer, index=True)
    formation_id: Mapped[int] = mapped_column(Integer)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    fas_code: Mapped[str] = mapped_column(String(40))
    programme_id: Mapped[int | None] = mapped_column(Integer)
    lot_id: Mapped[int | None] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(600))
    establishment_name: Mapped[str] = mapped_column(String(250))
    site_name: Mapped[str | None] = mapped_column(String(250))
    commune: Mapped[str | None] = mapped_column(String(50))
    postcode: Mapped[str | None] = mapped_column(String(5))
    department: Mapped[str | None] = mapped_column(String(3))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    teaching_mode: Mapped[int | None] = mapped_column(Integer)
    exit_level: Mapped[str | None] = mapped_column(String(2))
    public_targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    formacodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Lower-cased, accent-free text of the searchable fields (catalogue keyword search).
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Everything else the detail page, the PDF and the LHEO export need, as validated.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JournalEntry(db.Model):
    """Append-only journal of every change: who, when, record, field, before, after."""

    __tablename__ = "journal"
    __table_args__ = (
        Index("ix_journal_record", "record_type", "record_id", "at"),
        Index("ix_journal_establishment_at", "establishment_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishments.id"))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(12))  # create, update, delete, transition
    field: Mapped[str | None] = mapped_column(String(60))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship()
