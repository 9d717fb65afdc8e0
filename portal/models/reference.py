"""Reference data loaded by the Carif-Oref and read-only for OF users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import Timestamped
from .directory import Establishment

lot_formateurs = Table(
    "lot_formateurs",
    db.metadata,
    Column("lot_id", ForeignKey("lots.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "establishment_id",
        ForeignKey("establishments.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Programme(Timestamped, db.Model):
    """A funding programme (dispositif), e.g. "PROGRAMME REGION - Formations Parcours
    entrepreneur"."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(250))
    # "Code dispositif" shown in the session list (8 for Parcours entrepreneur).
    dispositif_code: Mapped[int] = mapped_column(Integer)
    # Public programmes are entered under Formations > Formations publiques.
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    # Region programmes: counted on the dashboard, need the Region's agreement to change.
    is_region: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sessions must start in the year of their lot (Parcours entrepreneur).
    start_in_lot_year: Mapped[bool] = mapped_column(Boolean, default=False)
    # LHEO dict-financeurs code of the funder (2 = Conseil régional).
    funder_code: Mapped[str] = mapped_column(String(2), default="2")
    # Default "Publics" of the fiche Dispositif, e.g. "demandeur d'emploi".
    publics: Mapped[str | None] = mapped_column(String(250))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    lots: Mapped[list[Lot]] = relationship(back_populates="programme", order_by="Lot.code")


class Lot(Timestamped, db.Model):
    """A lot of a programme ordered by the Region, with its mandataire and formateurs."""

    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)  # PE2024_8
    title: Mapped[str] = mapped_column(String(250))  # Lot 8 - Formations à la création-...
    year: Mapped[int] = mapped_column(Integer)
    # Codes externes of the fiche Dispositif (Region ids).
    region_lot_number: Mapped[str | None] = mapped_column(String(30))  # Numéro lot CR
    region_action_id: Mapped[str | None] = mapped_column(String(30))  # ID Action CR
    region_mandataire_id: Mapped[str | None] = mapped_column(String(30))  # OF Mandataire CR
    mandataire_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    places_ordered: Mapped[int | None] = mapped_column(Integer)
    # Forfait recrutement: a validated session's start date can no longer move.
    fixed_recruitment_fee: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    programme: Mapped[Programme] = relationship(back_populates="lots")
    mandataire: Mapped[Establishment] = relationship()
    formateurs: Mapped[list[Establishment]] = relationship(secondary=lot_formateurs)

    @property
    def label(self) -> str:
        return f"{self.code} - {self.title}"


class Formacode(db.Model):
    """A Formacode descriptor (5 digits) of a given thesaurus version."""

    __tablename__ = "formacodes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    label: Mapped[str] = mapped_column(String(250))
    version: Mapped[str] = mapped_column(String(5), default="V14")
    # Semantic field, e.g. "110 MATHEMATIQUES".
    field: Mapped[str | None] = mapped_column(String(250))
    descriptor_type: Mapped[str | None] = mapped_column(String(20))


class Certification(Timestamped, db.Model):
    """A Certif Info record; its fields are shown read-only on the fiche Formation."""

    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    general_objective: Mapped[str | None] = mapped_column(Text)
    type_code: Mapped[str | None] = mapped_column(String(10))  # type999
    type_label: Mapped[str | None] = mapped_column(String(250))
    exit_level: Mapped[str | None] = mapped_column(String(2))  # LHEO dict-niveaux
    formacodes: Mapped[list[str]] = mapped_column(JSON, default=list)  # first is the main one
    rncp_code: Mapped[str | None] = mapped_column(String(12))
    rs_code: Mapped[str | None] = mapped_column(String(12))
    content: Mapped[str | None] = mapped_column(Text)  # description / programme
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    replaced_by_code: Mapped[str | None] = mapped_column(String(10))

    blocs: Mapped[list[CertificationBloc]] = relationship(
        back_populates="certification", order_by="CertificationBloc.code"
    )


class CertificationBloc(db.Model):
    """A bloc de compétences (module) of a certification."""

    __tablename__ = "certification_blocs"
    __table_args__ = (UniqueConstraint("certification_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(
        ForeignKey("certifications.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(30))
    module_type: Mapped[str | None] = mapped_column(String(2))  # LHEO dict-type-module
    title: Mapped[str] = mapped_column(String(500))
    objective: Mapped[str | None] = mapped_column(Text)
    programme: Mapped[str | None] = mapped_column(Text)

    certification: Mapped[Certification] = relationship(back_populates="blocs")


class ImportRun(db.Model):
    """A register or Region-file import, kept with its report."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20))  # running, committed, failed
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
