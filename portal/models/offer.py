"""The offer: Formation → Action → Session → Dispositif (FASD)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import Audited, Versioned
from .directory import Contact, Establishment, Site
from .reference import Certification, CertificationBloc, Lot, Programme

formation_blocs = Table(
    "formation_blocs",
    db.metadata,
    Column("formation_id", ForeignKey("formations.id", ondelete="CASCADE"), primary_key=True),
    Column("bloc_id", ForeignKey("certification_blocs.id", ondelete="CASCADE"), primary_key=True),
)


class ActionStatus:
    """Workflow states of an action (DESIGN §3), with the procedure's wording."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    QUESTIONED = "questioned"
    VALIDATED = "validated"
    REJECTED = "rejected"

    LABELS = {
        DRAFT: "En cours de saisie",
        SUBMITTED: "En attente de validation par le CARIF-OREF",
        QUESTIONED: "En attente de réponses",
        VALIDATED: "Validée",
        REJECTED: "Refusée",
    }
    ALL = tuple(LABELS)


class Formation(Audited, Versioned, db.Model):
    """F: what is taught, taken from a Certif Info record (or free title and objective)."""

    __tablename__ = "formations"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    # Null for the establishment's own (non-public) offer.
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    mandataire_id: Mapped[int | None] = mapped_column(ForeignKey("establishments.id"))
    realisation_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    # "Référence Certifinfo" Oui/Non; with Non the free title and objective are used.
    has_certif_info: Mapped[bool | None] = mapped_column(Boolean)
    certification_id: Mapped[int | None] = mapped_column(
        ForeignKey("certifications.id"), index=True
    )
    free_title: Mapped[str | None] = mapped_column(String(255))
    free_objective: Mapped[str | None] = mapped_column(Text)
    individualised_by_blocs: Mapped[bool | None] = mapped_column(Boolean)
    # LHEO dict-type-validation-blocs: 0 partielle, 1 totale.
    bloc_validation: Mapped[str | None] = mapped_column(String(1))
    # Set when the Carif-Oref replaced the Certif Info code (dashboard counter and OF notice).
    certif_replaced_from: Mapped[str | None] = mapped_column(String(10))
    certif_replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    establishment: Mapped[Establishment] = relationship(foreign_keys=[establishment_id])
    programme: Mapped[Programme | None] = relationship()
    lot: Mapped[Lot | None] = relationship()
    mandataire: Mapped[Establishment | None] = relationship(foreign_keys=[mandataire_id])
    realisation_site: Mapped[Site | None] = relationship()
    certification: Mapped[Certification | None] = relationship()
    blocs: Mapped[list[CertificationBloc]] = relationship(secondary=formation_blocs)
    actions: Mapped[list[Action]] = relationship(back_populates="formation", order_by="Action.id")

    @property
    def title(self) -> str:
        if self.has_certif_info and self.certification is not None:
            return self.certification.title
        return self.free_title or ""


class Action(Audited, Versioned, db.Model):
    """A: what one establishment delivers of a formation; the unit of validation."""

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'submitted', 'questioned', 'validated', 'rejected')",
            name="status",
        ),
        Index("ix_actions_establishment_status", "establishment_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    formation_id: Mapped[int] = mapped_column(
        ForeignKey("formations.id", ondelete="CASCADE"), index=True
    )
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    title_complement: Mapped[str | None] = mapped_column(String(255))
    # Rich fields hold a sanitised HTML subset (paragraphs, lists, bold, italic, links).
    programme_complement: Mapped[str | None] = mapped_column(Text)  # ≤ 3000
    objectives: Mapped[str | None] = mapped_column(Text)  # ≤ 3000
    expected_results: Mapped[str | None] = mapped_column(Text)  # ≤ 3000
    plus_formation: Mapped[str | None] = mapped_column(Text)  # ≤ 250
    video_url: Mapped[str | None] = mapped_column(String(400))
    pdf_url: Mapped[str | None] = mapped_column(String(400))
    action_url: Mapped[str | None] = mapped_column(String(400))
    equipment_type: Mapped[str | None] = mapped_column(String(2))  # LHEO dict-type-equipement
    equipment_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    equipment_comment: Mapped[str | None] = mapped_column(Text)
    entry_level: Mapped[str | None] = mapped_column(String(2))  # LHEO dict-niveaux
    prerequisites: Mapped[list[str]] = mapped_column(JSON, default=list)  # codes.PREREQUISITES
    prerequisites_comment: Mapped[str | None] = mapped_column(Text)
    public_targets: Mapped[list[str]] = mapped_column(JSON, default=list)  # Formacode V14
    public_comment: Mapped[str | None] = mapped_column(Text)  # info-public-vise

    status: Mapped[str] = mapped_column(String(12), default=ActionStatus.DRAFT)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # Changing a validated Region action needs the Region's prior agreement.
    region_agreement_date: Mapped[date | None] = mapped_column(Date)
    region_agreement_ref: Mapped[str | None] = mapped_column(String(100))

    formation: Mapped[Formation] = relationship(back_populates="actions")
    establishment: Mapped[Establishment] = relationship()
    site: Mapped[Site | None] = relationship()
    sessions: Mapped[list[Session]] = relationship(
        back_populates="action", order_by="Session.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return ActionStatus.LABELS[self.status]


class Session(Audited, Versioned, db.Model):
    """S: dates, place, durations and recruitment of one run of an action."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates"
        ),
        CheckConstraint("hours_centre IS NULL OR hours_centre >= 0", name="hours_centre"),
        CheckConstraint("hours_company IS NULL OR hours_company >= 0", name="hours_company"),
        CheckConstraint("hours_weekly IS NULL OR hours_weekly >= 0", name="hours_weekly"),
        # The dashboard's active/ending-soon counters and the default session list order.
        Index("ix_sessions_establishment_active_end", "establishment_id", "active", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)  # site lieu
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    entry_exit_mode: Mapped[str | None] = mapped_column(String(1))  # ESP, dict-modalites-es
    rhythm: Mapped[str | None] = mapped_column(String(2))  # codes.RHYTHMS
    training_periods: Mapped[list[str]] = mapped_column(JSON, default=list)  # TRAINING_PERIODS
    path_type: Mapped[str | None] = mapped_column(String(1))  # dict-type-parcours
    pedagogical_modes: Mapped[list[str]] = mapped_column(JSON, default=list)  # Formacode 96xxx
    teaching_mode: Mapped[int | None] = mapped_column(Integer)  # dict-modalites-enseignement
    hours_centre: Mapped[int | None] = mapped_column(Integer)
    hours_company: Mapped[int | None] = mapped_column(Integer)
    hours_weekly: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    duration_comment: Mapped[str | None] = mapped_column(Text)
    alternance_cycle: Mapped[str | None] = mapped_column(String(250))
    company_unit: Mapped[str | None] = mapped_column(String(1))  # dict-unite-rythme
    # Organisme responsable: always the lot's mandataire (shown read-only).
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("establishments.id"))
    recruitment_state: Mapped[str | None] = mapped_column(String(1))  # dict-etat-recrutement
    recruitment_modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    referent_pmr_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    referent_prf_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    liaison_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    referent_mobility_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    # Etat A/I: a session is active while this flag is set and it has not ended.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_initial_training: Mapped[bool] = mapped_column(Boolean, default=False)
    is_apprenticeship: Mapped[bool] = mapped_column(Boolean, default=False)
    is_professionalisation: Mapped[bool] = mapped_column(Boolean, default=False)

    action: Mapped[Action] = relationship(back_populates="sessions")
    establishment: Mapped[Establishment] = relationship(foreign_keys=[establishment_id])
    site: Mapped[Site | None] = relationship()
    responsible: Mapped[Establishment | None] = relationship(foreign_keys=[responsible_id])
    referent_pmr: Mapped[Contact | None] = relationship(foreign_keys=[referent_pmr_id])
    referent_prf: Mapped[Contact | None] = relationship(foreign_keys=[referent_prf_id])
    liaison_contact: Mapped[Contact | None] = relationship(foreign_keys=[liaison_contact_id])
    referent_mobility: Mapped[Contact | None] = relationship(foreign_keys=[referent_mobility_id])
    info_meetings: Mapped[list[InfoMeeting]] = relationship(
        back_populates="session", order_by="InfoMeeting.day", cascade="all, delete-orphan"
    )
    enrolment_periods: Mapped[list[EnrolmentPeriod]] = relationship(
        back_populates="session",
        order_by="EnrolmentPeriod.start_date",
        cascade="all, delete-orphan",
    )
    fundings: Mapped[list[SessionFunding]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )

    def is_current(self, today: date) -> bool:
        """Etat A/I in Python; search.filters.session_is_active is the same rule in SQL."""
        return self.active and (self.end_date is None or self.end_date >= today)

    @property
    def fas_parts(self) -> tuple[int, int, int]:
        return (self.action.formation_id, self.action_id, self.id)

    @property
    def fas_code(self) -> str:
        return "-".join(str(p) for p in self.fas_parts)


class InfoMeeting(Audited, Versioned, db.Model):
    """An information collective before a session (required to feed the national systems)."""

    __tablename__ = "info_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    comment: Mapped[str | None] = mapped_column(String(250))

    session: Mapped[Session] = relationship(back_populates="info_meetings")
    site: Mapped[Site | None] = relationship()


class EnrolmentPeriod(Audited, Versioned, db.Model):
    """A période d'inscription: candidature individuelle, recrutement or inscription."""

    __tablename__ = "enrolment_periods"
    __table_args__ = (CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(1))  # codes.ENROLMENT_PERIOD_KINDS
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    session: Mapped[Session] = relationship(back_populates="enrolment_periods")


class SessionFunding(Audited, Versioned, db.Model):
    """D (fiche Dispositif): the funding programme's data for one session."""

    __tablename__ = "session_fundings"
    __table_args__ = (
        UniqueConstraint("session_id", "programme_id"),
        CheckConstraint("places IS NULL OR places >= 0", name="places"),
        CheckConstraint("places_remaining IS NULL OR places_remaining >= 0", name="remaining"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    publics: Mapped[str | None] = mapped_column(String(250))
    # Codes externes, prefilled from the lot and read-only for the OF.
    region_lot_number: Mapped[str | None] = mapped_column(String(30))
    region_action_id: Mapped[str | None] = mapped_column(String(30))
    region_mandataire_id: Mapped[str | None] = mapped_column(String(30))
    places: Mapped[int | None] = mapped_column(Integer)  # Nb places dispositif (required)
    places_remaining: Mapped[int | None] = mapped_column(Integer)
    min_headcount: Mapped[int | None] = mapped_column(Integer)
    simultaneous_capacity: Mapped[int | None] = mapped_column(Integer)
    fee_ht: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    vat_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent, e.g. 20.00
    additional_fees: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    certification_fees_included: Mapped[bool | None] = mapped_column(Boolean)
    teaching_fees_covered: Mapped[bool | None] = mapped_column(Boolean)

    session: Mapped[Session] = relationship(back_populates="fundings")
    programme: Mapped[Programme] = relationship()

    @property
    def fee_ttc(self) -> Decimal | None:
        """Frais TTC = HT × (1 + TVA), computed, never typed; rounded to the cent."""
        if self.fee_ht is None:
            return None
        rate = self.vat_rate or Decimal(0)
        return (self.fee_ht * (1 + rate / 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)
