"""Search data of the session and action lists: one denormalised row per session and per action.

The lists never join the offer tables to filter, search or sort: every column they show, sort
on or filter by is copied here, with its sort key (``*_key``: normalised, never NULL) and the id
of its label in ``search_labels``. Composite indexes ``(establishment_id, key, id)`` serve one
establishment's list and ``(key, id)`` the Carif-Oref's list over every establishment, so that
keyset pagination reads a page, not the table.

These rows are derived data: ``portal.search.maintenance`` rewrites them in the flush that
changes what they copy, and ``flask --app wsgi search rebuild`` recomputes them all.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# Dates that are not set are stored as these bounds, so that sort keys are never NULL (keyset
# comparisons with NULL select nothing): no start sorts first, no end sorts last (open-ended).
NO_START = date(1, 1, 1)
NO_END = date(9999, 12, 31)
# Sort keys keep the first characters only: enough to order, small enough to index.
KEY_LENGTH = 120
LABEL_LENGTH = 600


class SearchLabel(db.Model):
    """A distinct normalised text (a title, a site, a commune…) that a list row shows.

    A search finds the labels holding a word (through ``search_words``), not the million rows
    that use them; the label ids then find the rows through an index on each label column.
    """

    __tablename__ = "search_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(LABEL_LENGTH), unique=True)


class SearchWord(db.Model):
    """A distinct word of the labels: a typed word is looked for among these (a few thousand
    short strings), then reaches its labels through ``search_label_words``.

    A typed word has no space, so it is inside a label exactly when it is inside one of the
    label's words: the two-step lookup finds the same labels as scanning them all.
    """

    __tablename__ = "search_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(LABEL_LENGTH), unique=True)


class SearchLabelWord(db.Model):
    __tablename__ = "search_label_words"
    __table_args__ = {"sqlite_with_rowid": False}

    word_id: Mapped[int] = mapped_column(
        ForeignKey("search_words.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("search_labels.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def _label_id() -> Mapped[int | None]:
    return mapped_column(Integer, index=True)


class SessionListing(db.Model):
    """One row of the session list (Code FAS … Etat A/I), with what its filters read."""

    __tablename__ = "session_listing"
    __table_args__ = (
        # One establishment's list, in every sort order (Etat A/I: partitions read by id).
        Index("ix_session_listing_est_id", "establishment_id", "session_id"),
        Index(
            "ix_session_listing_est_code",
            "establishment_id",
            "formation_id",
            "action_id",
            "session_id",
        ),
        Index("ix_session_listing_est_title", "establishment_id", "title_key", "session_id"),
        Index("ix_session_listing_est_site", "establishment_id", "site_key", "session_id"),
        Index("ix_session_listing_est_commune", "establishment_id", "commune_key", "session_id"),
        Index("ix_session_listing_est_start", "establishment_id", "start_date", "session_id"),
        Index("ix_session_listing_est_end", "establishment_id", "end_date", "session_id"),
        Index(
            "ix_session_listing_est_dispositif", "establishment_id", "dispositif_code", "session_id"
        ),
        # The dashboard counters and the named filters, read from the index alone.
        Index(
            "ix_session_listing_est_counters",
            "establishment_id",
            "active",
            "end_date",
            "teaching_mode",
            "is_initial_training",
            "is_apprenticeship",
            "is_professionalisation",
            "is_region",
        ),
        # Every establishment (Carif-Oref), in every sort order.
        Index("ix_session_listing_code", "formation_id", "action_id", "session_id"),
        Index("ix_session_listing_title", "title_key", "session_id"),
        Index("ix_session_listing_site", "site_key", "session_id"),
        Index("ix_session_listing_commune", "commune_key", "session_id"),
        Index("ix_session_listing_start", "start_date", "session_id"),
        Index("ix_session_listing_end", "end_date", "session_id"),
        Index("ix_session_listing_dispositif", "dispositif_code", "session_id"),
        Index("ix_session_listing_siret", "siret", "session_id"),
        Index(
            "ix_session_listing_counters",
            "active",
            "end_date",
            "teaching_mode",
            "is_initial_training",
            "is_apprenticeship",
            "is_professionalisation",
            "is_region",
        ),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # Fixed-width columns first, texts last: PostgreSQL reads a row's columns in order, and the
    # filters and label ids are what a scan checks.
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"))
    formation_id: Mapped[int] = mapped_column(Integer)
    action_id: Mapped[int] = mapped_column(Integer, index=True)
    start_date: Mapped[date] = mapped_column(Date)  # NO_START when not set
    end_date: Mapped[date] = mapped_column(Date)  # NO_END when not set
    dispositif_code: Mapped[int] = mapped_column(Integer)  # 0 without a programme
    active: Mapped[bool] = mapped_column(Boolean)
    teaching_mode: Mapped[int | None] = mapped_column(Integer)
    is_initial_training: Mapped[bool] = mapped_column(Boolean)
    is_apprenticeship: Mapped[bool] = mapped_column(Boolean)
    is_professionalisation: Mapped[bool] = mapped_column(Boolean)
    is_region: Mapped[bool] = mapped_column(Boolean)
    title_label_id: Mapped[int | None] = _label_id()
    complement_label_id: Mapped[int | None] = _label_id()
    site_label_id: Mapped[int | None] = _label_id()
    commune_label_id: Mapped[int | None] = _label_id()
    siret: Mapped[str] = mapped_column(String(14))
    # Intitulé formation: the formation's title, then " - " and the action's complement.
    title: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    title_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    # Site dispensateur: the establishment of the action's site, as the procedure shows it.
    site_name: Mapped[str] = mapped_column(String(250))
    site_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    # Commune lieu: the commune of the session's site.
    commune: Mapped[str] = mapped_column(String(50))
    commune_key: Mapped[str] = mapped_column(String(50))
    # The four labels, " | " between them: what a frequent word is checked against row by row.
    search_text: Mapped[str] = mapped_column(Text)

    @property
    def id(self) -> int:
        return self.session_id

    @property
    def fas_parts(self) -> tuple[int, int, int]:
        return (self.formation_id, self.action_id, self.session_id)

    @property
    def start(self) -> date | None:
        return None if self.start_date == NO_START else self.start_date

    @property
    def end(self) -> date | None:
        return None if self.end_date == NO_END else self.end_date

    def is_current(self, today: date) -> bool:
        """Etat A/I, the rule of Session.is_current."""
        return self.active and self.end_date >= today


class ActionListing(db.Model):
    """One row of the action list (Action, Libellé, Site dispensateur, Etat, Type)."""

    __tablename__ = "action_listing"
    __table_args__ = (
        Index("ix_action_listing_est_id", "establishment_id", "action_id"),
        Index("ix_action_listing_est_code", "establishment_id", "formation_id", "action_id"),
        Index("ix_action_listing_est_title", "establishment_id", "title_key", "action_id"),
        Index("ix_action_listing_est_site", "establishment_id", "site_key", "action_id"),
        Index("ix_action_listing_est_status", "establishment_id", "status_rank", "action_id"),
        Index("ix_action_listing_est_type", "establishment_id", "has_programme", "action_id"),
        Index(
            "ix_action_listing_est_counters",
            "establishment_id",
            "status",
            "is_public",
            "certif_replaced",
        ),
        Index("ix_action_listing_code", "formation_id", "action_id"),
        Index("ix_action_listing_title", "title_key", "action_id"),
        Index("ix_action_listing_site", "site_key", "action_id"),
        Index("ix_action_listing_status", "status_rank", "action_id"),
        Index("ix_action_listing_type", "has_programme", "action_id"),
        Index("ix_action_listing_siret", "siret", "action_id"),
    )

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"))
    formation_id: Mapped[int] = mapped_column(Integer)
    # Etat sorts by its French label, as the list shows it.
    status_rank: Mapped[int] = mapped_column(Integer)
    # Type: "Publique" with a programme, "Offre de l'organisme" without.
    has_programme: Mapped[bool] = mapped_column(Boolean)
    is_public: Mapped[bool] = mapped_column(Boolean)
    certif_replaced: Mapped[bool] = mapped_column(Boolean)
    title_label_id: Mapped[int | None] = _label_id()
    complement_label_id: Mapped[int | None] = _label_id()
    site_label_id: Mapped[int | None] = _label_id()
    status: Mapped[str] = mapped_column(String(12))
    siret: Mapped[str] = mapped_column(String(14))
    title: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    title_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    # Site dispensateur as the fiches show a site: SOFI number - establishment - site name.
    site_name: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    site_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    search_text: Mapped[str] = mapped_column(Text)

    @property
    def id(self) -> int:
        return self.action_id

    @property
    def status_label(self) -> str:
        from ..models import ActionStatus

        return ActionStatus.LABELS.get(self.status, self.status)
