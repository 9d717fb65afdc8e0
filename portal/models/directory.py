"""Organisations, establishments (SIRET), users and each establishment's directory (annuaire)."""

from __future__ import annotations

from datetime import date, datetime, time

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import Audited, Timestamped, Versioned

user_establishments = Table(
    "user_establishments",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "establishment_id",
        ForeignKey("establishments.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Organisation(Timestamped, db.Model):
    """The legal entity (organisme de formation) behind one or more establishments."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(250))
    # Numéro de déclaration d'activité: exactly 11 characters in LHEO (numero-activite).
    nda: Mapped[str | None] = mapped_column(String(11))

    establishments: Mapped[list[Establishment]] = relationship(back_populates="organisation")


class Establishment(Timestamped, Versioned, db.Model):
    """An établissement, known by its SIRET and its SOFI number; the unit of data scoping."""

    __tablename__ = "establishments"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    sofi_number: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(250))
    address_line1: Mapped[str | None] = mapped_column(String(50))
    address_line2: Mapped[str | None] = mapped_column(String(50))
    postcode: Mapped[str | None] = mapped_column(String(5))
    commune: Mapped[str | None] = mapped_column(String(50))
    insee_code: Mapped[str | None] = mapped_column(String(5))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(160))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    organisation: Mapped[Organisation] = relationship(back_populates="establishments")
    sites: Mapped[list[Site]] = relationship(back_populates="establishment", order_by="Site.name")

    @property
    def switcher_label(self) -> str:
        """SIRET - SOFI number - name - commune, as the procedure's header list shows it."""
        parts = [self.siret, str(self.sofi_number), self.name]
        if self.commune:
            parts.append(self.commune)
        return " - ".join(parts)


class User(UserMixin, Timestamped, Versioned, db.Model):
    __tablename__ = "users"

    ROLE_OF = "of"
    ROLE_CARIF = "carif"
    ROLES = (ROLE_OF, ROLE_CARIF)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so that the unique constraint is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    establishments: Mapped[list[Establishment]] = relationship(
        secondary=user_establishments, order_by="Establishment.siret"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts at login and load.
        return self.active

    @property
    def is_carif(self) -> bool:
        return self.role == self.ROLE_CARIF

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email


class Site(Audited, Versioned, db.Model):
    """A place of an establishment: site dispensateur, site lieu, site de réalisation."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(250))
    address_line1: Mapped[str | None] = mapped_column(String(50))
    address_line2: Mapped[str | None] = mapped_column(String(50))
    postcode: Mapped[str | None] = mapped_column(String(5))
    commune: Mapped[str | None] = mapped_column(String(50))
    insee_code: Mapped[str | None] = mapped_column(String(5))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(160))
    accessibility_note: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    establishment: Mapped[Establishment] = relationship(back_populates="sites")

    @property
    def label(self) -> str:
        """SOFI number - establishment name - site name, as the fiches list sites."""
        return f"{self.establishment.sofi_number} - {self.establishment.name} - {self.name}"


class Contact(Audited, Versioned, db.Model):
    """A person of an establishment; its LHEO type-contact roles make it a référent."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE"), index=True
    )
    civility: Mapped[str | None] = mapped_column(String(3))
    last_name: Mapped[str] = mapped_column(String(50))
    first_name: Mapped[str | None] = mapped_column(String(50))
    function: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(160))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    mobile: Mapped[str | None] = mapped_column(String(20))  # E.164
    # LHEO dict-type-contact codes (as strings), e.g. ["1", "3"].
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    establishment: Mapped[Establishment] = relationship()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def label(self) -> str:
        """Contact id, name - SOFI number, establishment, SIRET (the procédure's référent list)."""
        est = self.establishment
        return f"{self.id}, {self.full_name} - {est.sofi_number}, {est.name}, SIRET {est.siret}"


class OpenDay(Audited, Versioned, db.Model):
    """A porte ouverte held at one of the establishment's sites."""

    __tablename__ = "open_days"
    __table_args__ = (Index("ix_open_days_establishment_date", "establishment_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE")
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    description: Mapped[str | None] = mapped_column(Text)
    registration_url: Mapped[str | None] = mapped_column(String(400))

    site: Mapped[Site] = relationship()


class PasswordToken(db.Model):
    """A single-use, expiring link to set a password; only the token's hash is stored."""

    __tablename__ = "password_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
