"""Optimistic locking on every editable record: a save made from an outdated page never
overwrites a colleague's change; it answers 409 with a French message and the current values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, update

from portal.extensions import db
from portal.models import (
    Action,
    Contact,
    EnrolmentPeriod,
    Establishment,
    Formation,
    InfoMeeting,
    OpenDay,
    Session,
    SessionFunding,
    Site,
    User,
)
from portal.models._base import Versioned

from .offer_builders import complete_offer

HX = {"HX-Request": "true"}
STALE_WORDS = ("modifiée", "entre-temps")


@dataclass(frozen=True)
class Case:
    """One editable record: how to load it, which text field a colleague changes, and the
    request the outdated page sends."""

    model: type
    field: str
    url: str  # formatted with the record (and its session for sub-rows)
    carif: bool = False  # edited by the Carif-Oref (accounts, the establishment's record)
    prefix: str | None = None  # form prefix, formatted with the record
    live: bool = False  # a live per-field save: champ + the field + version
    extra: tuple[tuple[str, Any], ...] = ()  # the other fields of a whole-form post


CASES = {
    "formation": Case(
        Formation,
        "free_title",
        "/formations/{r.id}/certifinfo",
        extra=(("has_certif_info", "0"), ("free_objective", "Objectif")),
    ),
    "action": Case(Action, "title_complement", "/actions/{r.id}/champ", live=True),
    "session": Case(Session, "alternance_cycle", "/sessions/{r.id}/champ", live=True),
    "dispositif": Case(SessionFunding, "publics", "/dispositifs/{r.id}/champ", live=True),
    "site": Case(
        Site,
        "name",
        "/annuaire/sites/{r.id}",
        prefix="site-{r.id}",
        extra=(("postcode", "44000"), ("commune", "Nantes")),
    ),
    "contact": Case(
        Contact,
        "last_name",
        "/annuaire/contacts/{r.id}",
        prefix="contact-{r.id}",
        extra=(("roles", "1"), ("civility", "Mme")),
    ),
    "porte-ouverte": Case(
        OpenDay,
        "description",
        "/annuaire/portes-ouvertes/{r.id}",
        prefix="open_day-{r.id}",
        extra=(("day", "2030-01-20"), ("start_time", "09:00"), ("end_time", "12:00")),
    ),
    "etablissement": Case(
        Establishment,
        "address_line1",
        "/annuaire/etablissement",
        carif=True,
        prefix="establishment",
        extra=(("name", "Premier"), ("postcode", "44000"), ("commune", "Nantes")),
    ),
    "information-collective": Case(
        InfoMeeting,
        "comment",
        "/sessions/{r.session_id}/informations-collectives/{r.id}",
        prefix="info_meeting-{r.id}",
        extra=(("day", "2030-01-25"), ("start_time", "09:30")),
    ),
    "periode-inscription": Case(
        EnrolmentPeriod,
        "start_date",
        "/sessions/{r.session_id}/periodes-inscription/{r.id}",
        prefix="enrolment_period-{r.id}",
        extra=(("kind", "1"), ("end_date", "2030-01-31")),
    ),
    "compte": Case(
        User, "last_name", "/comptes/{r.id}", carif=True, extra=(("role", "of"),)
    ),
}  # fmt: skip

# What each colleague and each outdated page write.
THEIRS = {"start_date": "2030-01-05"}
MINE = {"start_date": "2030-01-06"}


def test_every_versioned_record_is_covered():
    versioned = {m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, Versioned)}
    assert versioned == {case.model for case in CASES.values()}, (
        "a new editable record needs its case here"
    )


@pytest.fixture
def world(app, of_user, make_contact, carif_user):
    from datetime import date, time

    user, first, *_ = of_user
    built = complete_offer(first, year=2030)
    session = built["session"]
    built["formation"].free_title = "Titre libre"
    db.session.add_all(
        [
            OpenDay(
                establishment_id=first.id,
                site_id=built["site"].id,
                day=date(2030, 1, 20),
                start_time=time(9),
                end_time=time(12),
                description="Visite",
            ),
            EnrolmentPeriod(
                session_id=session.id,
                establishment_id=first.id,
                kind="1",
                start_date=date(2030, 1, 2),
                end_date=date(2030, 1, 31),
            ),
        ]
    )
    db.session.commit()
    return {"user": user, "first": first, "carif": carif_user, **built}


def record_of(world, model):
    if model is Establishment:
        return world["first"]
    if model is User:
        return world["user"]
    return db.session.query(model).order_by(model.id).first()


def post_from_outdated_page(client, case: Case, record, version: int, value: str):
    url = case.url.format(r=record)
    if case.live:
        data = {"champ": case.field, case.field: value, "version": version}
    else:
        fields = dict(case.extra) | {case.field: value, "version": version}
        if case.model is User:
            fields |= {"email": record.email, "sirets": record.establishments[0].siret}
        if case.model is InfoMeeting:
            fields["site_id"] = record.site_id
        if case.model is Establishment:
            fields["siret"] = record.siret
        prefix = case.prefix.format(r=record) + "-" if case.prefix else ""
        data = {prefix + name: value for name, value in fields.items()}
    return client.post(url, data=data, headers=HX)


def login_for(client, auth, world, case: Case):
    if case.carif:
        auth.login(world["carif"])
        auth.switch(world["first"])
    else:
        auth.login(world["user"])


@pytest.mark.parametrize("name", list(CASES))
def test_a_save_from_an_outdated_page_gets_409_and_the_current_values(client, auth, world, name):
    case = CASES[name]
    record = record_of(world, case.model)
    login_for(client, auth, world, case)
    outdated = record.version
    theirs = THEIRS.get(case.field, "Valeur du collègue")
    # A colleague saves first.
    setattr(record, case.field, _typed(record, case.field, theirs))
    db.session.commit()
    response = post_from_outdated_page(
        client, case, record, outdated, MINE.get(case.field, "Ma valeur")
    )
    assert response.status_code == 409, response.text[:400]
    body = response.text.replace("&#39;", "'")
    assert all(word in body for word in STALE_WORDS), body[:400]
    assert theirs in body, "the answer shows the current value"
    db.session.expire_all()
    assert str(getattr(db.session.get(case.model, record.id), case.field)) == theirs


@pytest.mark.parametrize("name", list(CASES))
def test_a_colleague_saving_between_the_check_and_the_commit_still_gives_409(
    client, auth, world, name
):
    """The version is also checked by the UPDATE itself (SQLAlchemy's version counter)."""
    case = CASES[name]
    record = record_of(world, case.model)
    login_for(client, auth, world, case)
    table = case.model.__table__
    theirs = THEIRS.get(case.field, "Valeur du collègue")
    fired = []

    @event.listens_for(db.session, "before_flush")
    def colleague(session, flush_context, instances):
        if fired:
            return
        fired.append(True)
        with db.engine.begin() as other:  # another connection commits first
            other.execute(
                update(table)
                .where(table.c.id == record.id)
                .values(
                    {case.field: _typed(record, case.field, theirs), "version": table.c.version + 1}
                )
            )

    try:
        response = post_from_outdated_page(
            client, case, record, record.version, MINE.get(case.field, "Ma valeur")
        )
    finally:
        event.remove(db.session, "before_flush", colleague)
    assert fired, response.text
    assert response.status_code == 409, response.text[:400]
    db.session.expire_all()
    assert str(getattr(db.session.get(case.model, record.id), case.field)) == theirs


def _typed(record, field: str, text: str):
    from datetime import date

    current = getattr(record, field)
    return date.fromisoformat(text) if isinstance(current, date) else text
