"""The Carif-Oref replaces a formation's Certif Info code, one by one or from a succession file.

The change goes through the ORM, so the journal records it (certification, replaced-from code,
date) and the list rows behind the dashboard counter "dont le code Certifinfo a été remplacé
par le CARIF-OREF" follow in the same flush. The OF sees a notice on the fiche Formation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Certification, Formation
from ..models._base import utcnow


class ReplacementError(ValueError):
    """Why a replacement is refused, in French, for the form."""


def find_replacement(formation: Formation, code: str | None) -> Certification:
    """The certification ``code`` names, if the formation can be moved to it."""
    code = (code or "").strip()
    if not formation.has_certif_info or formation.certification is None:
        raise ReplacementError("Cette formation n'a pas de code Certif Info à remplacer.")
    if not code:
        raise ReplacementError("Saisissez le nouveau code Certif Info.")
    if not code.isdigit() or len(code) > 10:
        raise ReplacementError("Un code Certif Info comporte uniquement des chiffres (10 au plus).")
    certification = db.session.scalar(select(Certification).where(Certification.code == code))
    if certification is None:
        raise ReplacementError(f"Code Certif Info inconnu : {code}.")
    if certification.archived:
        raise ReplacementError(
            f"Le code Certif Info {code} est archivé : choisissez un code actif."
        )
    if certification.id == formation.certification_id:
        raise ReplacementError(f"La formation a déjà le code Certif Info {code}.")
    return certification


def replace_certification(
    formation: Formation, certification: Certification, *, at: datetime | None = None
) -> str | None:
    """Point the formation at ``certification``; return the code it had.

    Chosen blocs de compétences of the old certification are dropped: they belong to it.
    """
    old_code = formation.certification.code if formation.certification else None
    # The column itself, not only the relationship: the journal reads column histories.
    formation.certification_id = certification.id
    formation.certification = certification
    formation.has_certif_info = True
    formation.certif_replaced_from = old_code
    formation.certif_replaced_at = at or utcnow()
    kept = [b for b in formation.blocs if b.certification_id == certification.id]
    if len(kept) != len(formation.blocs):
        formation.blocs = kept
    return old_code
