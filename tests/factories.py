"""Builders of test records: each takes overrides and commits, so browser tests see them."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from stdnum import luhn

from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.models import (
    Action,
    ActionStatus,
    Certification,
    Contact,
    Establishment,
    Formation,
    Lot,
    Organisation,
    Programme,
    Session,
    Site,
    User,
)

PASSWORD = "Motdepasse-2024!"
_seq = itertools.count(1)
_password_hash = None


def _siret(n: int) -> str:
    """A SIRET valid for python-stdnum (Luhn-valid SIREN and SIRET) built from a counter."""
    siren = f"{90000000 + n:08d}"
    siren += luhn.calc_check_digit(siren)
    return siret_with_prefix(f"{siren}{n % 10000:04d}")


def siret_with_prefix(base: str) -> str:
    """Complete 13 digits (a valid SIREN + 4 NIC digits) into a Luhn-valid SIRET."""
    return base + luhn.calc_check_digit(base)


def _save(record):
    db.session.add(record)
    db.session.commit()
    return record


def make_establishment(**kw) -> Establishment:
    n = next(_seq)
    organisation = kw.pop("organisation", None) or Organisation(
        siren=_siret(n)[:9], name=f"Organisme {n}"
    )
    defaults = dict(
        organisation=organisation,
        siret=_siret(n),
        sofi_number=50000 + n,
        name=f"Établissement {n}",
        commune="Nantes",
        postcode="44000",
    )
    return _save(Establishment(**(defaults | kw)))


def make_user(*, establishments=(), role=User.ROLE_OF, password=PASSWORD, **kw) -> User:
    global _password_hash
    if password == PASSWORD:
        _password_hash = _password_hash or hash_password(PASSWORD)
        password_hash = _password_hash
    else:
        password_hash = hash_password(password)
    n = next(_seq)
    user = User(
        email=kw.pop("email", f"user{n}@example.org"),
        role=role,
        password_hash=password_hash,
        first_name=kw.pop("first_name", "Prénom"),
        last_name=kw.pop("last_name", f"Nom{n}"),
        **kw,
    )
    user.establishments = list(establishments)
    return _save(user)


def make_site(establishment, **kw) -> Site:
    defaults = dict(
        establishment_id=establishment.id,
        name="Principal",
        commune="Nantes",
        postcode="44000",
        insee_code="44109",
    )
    return _save(Site(**(defaults | kw)))


def make_contact(establishment, **kw) -> Contact:
    defaults = dict(
        establishment_id=establishment.id, last_name="Martin", first_name="Léa", roles=["1"]
    )
    return _save(Contact(**(defaults | kw)))


def make_programme(**kw) -> Programme:
    n = next(_seq)
    defaults = dict(
        code=f"P{n}",
        name=f"PROGRAMME REGION - Programme {n}",
        dispositif_code=8,
        is_public=True,
        is_region=True,
    )
    return _save(Programme(**(defaults | kw)))


def make_lot(programme, mandataire, **kw) -> Lot:
    n = next(_seq)
    defaults = dict(
        programme_id=programme.id,
        code=f"L{n}",
        title=f"Lot {n}",
        year=2024,
        mandataire_id=mandataire.id,
    )
    return _save(Lot(**(defaults | kw)))


def make_certification(**kw) -> Certification:
    n = next(_seq)
    defaults = dict(
        code=str(90000 + n),
        title=f"Certification {n}",
        type_code="type999",
        type_label="Autre certification sans niveau spécifique",
        exit_level="1",
    )
    return _save(Certification(**(defaults | kw)))


def make_formation(establishment, **kw) -> Formation:
    defaults = dict(
        establishment_id=establishment.id,
        has_certif_info=False,
        free_title=kw.pop("title", "Formation de test"),
    )
    return _save(Formation(**(defaults | kw)))


def make_action(formation, **kw) -> Action:
    defaults = dict(
        formation_id=formation.id,
        establishment_id=formation.establishment_id,
        status=ActionStatus.DRAFT,
    )
    return _save(Action(**(defaults | kw)))


def make_session(action, **kw) -> Session:
    today = date.today()
    defaults = dict(
        action_id=action.id,
        establishment_id=action.establishment_id,
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=90),
        active=True,
        teaching_mode=0,
    )
    return _save(Session(**(defaults | kw)))
