"""Property tests of every form and every page that reads a query string: whatever is posted
or asked, an expected status (never a 500), a French message next to the field when the
answer is 422, and nothing saved half-way (a rejected save leaves the record as it was).

Everything goes through HTTP with the Flask test client, as a user's browser (or a forged
request) would. Each test builds its world once and runs its Hypothesis examples in it (see
``tests/strategies.py``); the properties hold whatever earlier examples saved.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, time
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, TimeField

from portal.auth import tokens
from portal.auth.passwords import hash_password, policy_errors, verify_password
from portal.catalogue import query as catalogue_query
from portal.extensions import db, limiter
from portal.models import (
    Action,
    ActionStatus,
    Contact,
    EnrolmentPeriod,
    Establishment,
    Formation,
    InfoMeeting,
    OpenDay,
    Site,
    User,
)
from portal.offer.forms import (
    ActionForm,
    FormationForm,
    FrenchDecimalField,
    FundingForm,
    SessionForm,
    WholeNumberField,
)
from portal.review.decisions import ask
from portal.validators import normalise_siret

from . import factories
from .offer_builders import complete_offer
from .strategies import (
    ANY_CHAR,
    altered,
    assert_answer,
    big_int_text,
    french_number,
    id_text,
    long_text,
    nasty_text,
    odd_date,
    property_settings,
    shown,
)
from .test_lheo_export import publish_actions

HX = {"HX-Request": "true"}
POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres")


@dataclass
class World:
    """Two establishments of one OF user with a complete offer each, one establishment of
    someone else with its own offer (its ids are what a forged form would post)."""

    user: User
    carif: User
    first: Establishment
    second: Establishment
    other: Establishment
    mine: dict[str, Any]
    theirs: dict[str, Any]

    def ids(self, key: str) -> list[int]:
        """The id of a record of each establishment: ours, then someone else's."""
        return [self.mine[key].id, self.theirs[key].id]

    @property
    def all_ids(self) -> list[int]:
        return sorted(
            {r.id for built in (self.mine, self.theirs) for r in built.values()}
            | {self.first.id, self.second.id, self.other.id}
        )


@pytest.fixture
def world(app, of_user, carif_user, make_certification) -> World:
    user, first, second, other = of_user
    mine = complete_offer(first)
    theirs = complete_offer(other)
    replacement = make_certification(code="424242", title="Nouveau titre")
    make_certification(code="111111", archived=True, replaced_by_code=replacement.code)
    return World(user, carif_user, first, second, other, mine, theirs)


@pytest.fixture
def as_of(client, auth, world) -> World:
    auth.login(world.user)
    auth.switch(world.first)
    return world


@pytest.fixture
def as_carif(client, auth, world) -> World:
    auth.login(world.carif)
    return world


def columns(record) -> dict[str, Any]:
    """Every column of a record, read again from the database."""
    db.session.expire_all()
    fresh = db.session.get(type(record), record.id)
    return {a.key: getattr(fresh, a.key) for a in inspect(type(record)).mapper.column_attrs}


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def answered(response, **kw) -> None:
    """Check the shared property on a response, read whole and closed (exports stream)."""
    with response:
        response.get_data()  # PDF, CSV, XML or HTML
        assert_answer(response, **kw)


# Authentication -------------------------------------------------------------------------------

emails = st.one_of(
    st.just("placeholder"),  # replaced by the real user's e-mail, as typed in any case
    st.emails().map(str),
    nasty_text(),
)
passwords = st.one_of(st.just(factories.PASSWORD), nasty_text())
next_urls = st.one_of(
    st.sampled_from(["/sessions", "//evil.example", "https://evil.example/", "/\\evil", ""]),
    nasty_text(),
)


def test_login_answers_anything_and_only_the_right_password_logs_in(app, client, world):
    @given(emails, passwords, next_urls, st.booleans())
    @property_settings(20)
    def run(email, password, next_url, upper):
        limiter.reset()  # the failure limit is tested elsewhere; here every attempt counts
        if email == "placeholder":
            email = world.user.email.upper() if upper else f" {world.user.email} "
        response = client.post(
            "/connexion",
            query_string={"next": next_url},
            data={"email": email, "password": password},
        )
        answered(response, allowed={200, 302, 422})
        if response.status_code == 302:
            assert email.strip().lower() == world.user.email and password == factories.PASSWORD
            assert urlsplit(response.location).netloc in ("", "localhost")
            client.post("/deconnexion")

    run()


def test_forgot_password_answers_anything_the_same_way(app, client, world):
    @given(emails, st.booleans())
    @property_settings(10)
    def run(email, upper):
        limiter.reset()
        if email == "placeholder":
            email = world.user.email.upper() if upper else world.user.email
        response = client.post("/mot-de-passe-oublie", data={"email": email})
        answered(response, allowed={302, 422})

    run()


def strong_passwords() -> st.SearchStrategy[str]:
    return st.builds(
        lambda core, tail: f"Aa1!{core}{tail}",
        st.text(ANY_CHAR, min_size=8, max_size=20),
        st.sampled_from(["", "\x00", "é" * 3]),
    )


def test_set_password_link_accepts_only_a_strong_confirmed_password(app, client, world):
    user = world.user

    @given(
        st.one_of(strong_passwords(), nasty_text()),
        st.booleans(),
        st.one_of(st.just("valid"), st.text(ANY_CHAR, max_size=120)),
    )
    @property_settings(15)
    def run(password, same, token):
        limiter.reset()
        raw = tokens.issue(user)
        db.session.commit()
        url = f"/mot-de-passe/{raw if token == 'valid' else token}"
        confirm = password if same else password + "x"
        response = client.post(url, data={"password": password, "confirm": confirm})
        answered(response, allowed={200, 302, 308, 404, 422})
        db.session.expire_all()
        if response.status_code == 302:
            assert token == "valid" and same and not policy_errors(password, user.email)
            assert verify_password(db.session.get(User, user.id).password_hash, password)
            fresh = db.session.get(User, user.id)
            fresh.password_hash = hash_password(factories.PASSWORD)
            db.session.commit()

    run()


def test_change_password_needs_the_current_one_and_a_strong_new_one(app, client, auth, world):
    user = world.user
    auth.login(user)
    auth.switch(world.first)

    @given(passwords, st.one_of(strong_passwords(), nasty_text()), st.booleans())
    @property_settings(15)
    def run(current, password, same):
        limiter.reset()
        confirm = password if same else password + "x"
        response = client.post(
            "/mon-compte/mot-de-passe",
            data={"current": current, "password": password, "confirm": confirm},
        )
        answered(response, allowed={200, 302, 422})
        if response.status_code == 302:
            assert current == factories.PASSWORD and same
            assert not policy_errors(password, user.email)
            db.session.expire_all()
            fresh = db.session.get(User, user.id)
            assert verify_password(fresh.password_hash, password)
            fresh.password_hash = hash_password(factories.PASSWORD)
            db.session.commit()

    run()


# Accounts (Carif-Oref) --------------------------------------------------------------------------


def siret_lines(world: World) -> st.SearchStrategy[str]:
    known = [e.siret for e in (world.first, world.second, world.other)]
    line = st.one_of(
        st.sampled_from(known),
        st.sampled_from([f" {s[:3]} {s[3:9]} {s[9:]} " for s in known]),
        nasty_text(),
    )
    return st.lists(line, max_size=4).map("\n".join)


def test_account_forms_refuse_bad_input_and_change_no_account(app, client, as_carif):
    world = as_carif
    target = world.user

    @given(
        st.sampled_from(["/comptes/nouveau", f"/comptes/{target.id}"]),
        altered(
            {
                "email": st.emails().map(str),
                "last_name": st.just("Nom"),
                "role": st.just("of"),
                "sirets": st.just(world.second.siret),
            },
            {
                "email": st.one_of(st.emails().map(str), nasty_text()),
                "first_name": nasty_text(),
                "last_name": nasty_text(),
                "role": st.one_of(st.sampled_from(["of", "carif"]), nasty_text()),
                "sirets": siret_lines(world),
            },
        ),
    )
    @property_settings(35)
    def run(url, data):
        users = count(User)
        before = columns(target)
        response = client.post(url, data=data)
        answered(response, allowed={200, 302, 422})
        if response.status_code == 422:
            assert count(User) == users
            assert columns(target) == before
        elif url.endswith("nouveau"):
            assert count(User) == users + 1

    run()


# Annuaire -------------------------------------------------------------------------------------

times = st.one_of(
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.sampled_from(["24:00", "9h30", "25:61", "-1:00", "09:30:00"]),
    nasty_text(),
)
phones = st.one_of(
    st.sampled_from(["02 40 20 40 20", "+33240204020", "0033 6 12 34 56 78", "+1 202 555 0100"]),
    nasty_text(),
)
postcodes = st.one_of(st.sampled_from(["44000", "49100", "44 000", "2A004", "99999"]), nasty_text())
communes = st.one_of(st.sampled_from(["Nantes", "ANGERS", "St Herblain"]), nasty_text())
urls = st.one_of(
    st.sampled_from(
        [
            "https://exemple.org/",
            "http://x",
            "javascript:alert(1)",
            "https://a b",
            "ftp://x",
            "http://[::1",
            "http://x:99999/",
            "https://[::1]/v.mp4",
        ]
    ),
    nasty_text(),
)


def address(prefix: str) -> dict[str, st.SearchStrategy]:
    return {
        f"{prefix}-address_line1": nasty_text(),
        f"{prefix}-address_line2": nasty_text(),
        f"{prefix}-postcode": postcodes,
        f"{prefix}-commune": communes,
        f"{prefix}-insee_code": st.one_of(st.sampled_from(["44109", "49007", ""]), nasty_text()),
    }


def directory_data(kind: str, prefix: str, world: World) -> st.SearchStrategy[dict]:
    version = {
        f"{prefix}-version": st.one_of(st.just(""), st.integers(-1, 5).map(str), nasty_text())
    }
    if kind == "sites":
        valid = {"name": "Antenne", "phone": "02 40 20 40 20", "postcode": "44000"}
        valid |= {"commune": "Nantes", "email": "accueil@exemple.fr"}
        fields = {
            f"{prefix}-name": nasty_text(),
            f"{prefix}-phone": phones,
            f"{prefix}-email": st.one_of(st.emails().map(str), nasty_text()),
            f"{prefix}-accessibility_note": nasty_text(),
            **address(prefix),
        }
    elif kind == "contacts":
        valid = {"last_name": "Durand", "roles": ["1"], "phone": "0612345678"}
        fields = {
            f"{prefix}-civility": st.one_of(st.sampled_from(["", "1", "2"]), nasty_text()),
            f"{prefix}-last_name": nasty_text(),
            f"{prefix}-first_name": nasty_text(),
            f"{prefix}-function": nasty_text(),
            f"{prefix}-email": st.one_of(st.emails().map(str), nasty_text()),
            f"{prefix}-phone": phones,
            f"{prefix}-mobile": phones,
            f"{prefix}-roles": st.lists(st.one_of(st.sampled_from(["1", "2", "3"]), nasty_text())),
        }
    else:
        valid = {"site_id": str(world.mine["site"].id), "day": "2031-05-05"}
        valid |= {"start_time": "09:00", "end_time": "12:00"}
        fields = {
            f"{prefix}-site_id": id_text(world.ids("site")),
            f"{prefix}-day": st.one_of(odd_date(), st.dates().map(date.isoformat)),
            f"{prefix}-start_time": times,
            f"{prefix}-end_time": times,
            f"{prefix}-description": nasty_text(),
            f"{prefix}-registration_url": urls,
        }
    return altered({f"{prefix}-{k}": st.just(v) for k, v in valid.items()}, fields | version)


@pytest.mark.parametrize("kind", ["sites", "contacts", "portes-ouvertes"])
def test_annuaire_forms_refuse_bad_input_and_keep_the_record(app, client, as_of, kind):
    world = as_of
    model = {"sites": Site, "contacts": Contact, "portes-ouvertes": OpenDay}[kind]
    name = {"sites": "site", "contacts": "contact", "portes-ouvertes": "open_day"}[kind]
    if model is OpenDay:
        record = OpenDay(
            establishment_id=world.first.id,
            site_id=world.mine["site"].id,
            day=date(2030, 1, 1),
            start_time=time(9, 0),
            end_time=time(12, 0),
        )
        db.session.add(record)
        db.session.commit()
    else:
        record = world.mine[name]

    @given(st.booleans(), st.data())
    @property_settings(30)
    def run(creating, data):
        prefix = f"{name}-new" if creating else f"{name}-{record.id}"
        posted = data.draw(directory_data(kind, prefix, world), label="form")
        url = f"/annuaire/{kind}" if creating else f"/annuaire/{kind}/{record.id}"
        rows = count(model)
        before = columns(record)
        headers = HX if data.draw(st.booleans(), label="htmx") else {}
        if data.draw(st.booleans(), label="json"):  # Flask-WTF also reads a JSON body
            response = client.post(url, json=posted, headers=headers)
        else:
            response = client.post(url, data=posted, headers=headers)
        answered(response)
        if response.status_code in (409, 422):
            assert count(model) == rows
            assert columns(record) == before

    run()


def test_establishment_record_refuses_bad_input_and_stays_as_it_was(app, client, auth, as_carif):
    world = as_carif
    auth.switch(world.first)
    p = "establishment"

    @given(
        altered(
            {
                f"{p}-name": st.just("Premier"),
                f"{p}-siret": st.just(world.first.siret),
                f"{p}-postcode": st.just("44000"),
                f"{p}-commune": st.just("Nantes"),
            },
            {
                f"{p}-name": nasty_text(),
                f"{p}-siret": st.one_of(
                    st.sampled_from([world.first.siret, world.second.siret, world.other.siret]),
                    nasty_text(),
                ),
                f"{p}-nda": st.one_of(
                    st.sampled_from(["52440000044", "5244 0000 044"]), nasty_text()
                ),
                f"{p}-phone": phones,
                f"{p}-email": st.one_of(st.emails().map(str), nasty_text()),
                f"{p}-version": st.one_of(st.just(""), st.integers(-1, 5).map(str), nasty_text()),
                **address(p),
            },
        )
    )
    @property_settings(20)
    def run(data):
        before = columns(world.first)
        response = client.post("/annuaire/etablissement", data=data, headers=HX)
        answered(response)
        if response.status_code != 200:
            assert columns(world.first) == before

    run()


# Offer creation path -----------------------------------------------------------------------------


def test_offer_creation_path_answers_anything_and_creates_only_valid_formations(app, client, as_of):
    world = as_of
    formation = world.mine["formation"]
    programmes = id_text(world.ids("programme"))
    lots = id_text(world.ids("lot"))
    requests = st.one_of(
        st.fixed_dictionaries(
            {
                "programme_id": programmes,
                "lot_id": lots,
                "realisation_site_id": id_text(world.ids("site")),
            }
        ).map(lambda data: ("POST", "/formations/publiques/creer", data)),
        programmes.map(lambda v: ("GET", "/formations/lots", {"programme_id": v})),
        lots.map(lambda v: ("GET", "/formations/mandataire", {"lot_id": v})),
        st.one_of(st.sampled_from(["111111", "424242"]), nasty_text()).map(
            lambda v: ("GET", "/certifinfo/recherche", {"certif_code": v})
        ),
        st.fixed_dictionaries(
            {
                "has_certif_info": st.one_of(st.sampled_from(["1", "0", ""]), nasty_text()),
                "certif_code": st.one_of(
                    st.sampled_from(["111111", "424242", world.mine["certification"].code]),
                    nasty_text(),
                ),
                "free_title": nasty_text(),
                "free_objective": nasty_text(),
            }
        ).map(lambda data: ("POST", f"/formations/{formation.id}/certifinfo", data)),
    )

    @given(requests)
    @property_settings(60)
    def run(request):
        method, url, data = request
        # The views' own _int_arg() crashes on "²" (str.isdigit accepts it) and sends unbounded
        # ints to the database: reported, see test_junk_ids_in_the_creation_path.
        formations = count(Formation)
        before = columns(formation)
        if method == "GET":
            response = client.get(url, query_string=data, headers=HX)
        else:
            response = client.post(url, data=data)
        answered(response)
        if response.status_code == 422:
            assert count(Formation) == formations
            assert columns(formation) == before

    run()


@pytest.mark.parametrize(
    "url",
    [
        "/formations/lots?programme_id=²",
        "/formations/mandataire?lot_id=²",
        "/formations/mandataire?lot_id=" + "9" * 30,
    ],
)
def test_junk_ids_in_the_creation_path(client, as_of, url):
    assert client.get(url, headers=HX).status_code in (200, 400)


# Live save of the fiches -------------------------------------------------------------------------

html_snippets = st.sampled_from(
    [
        "<p>Texte</p>",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<p>" + "a" * 3001 + "</p>",
        "<ul><li>un</li><li>deux</li></ul>",
        "<a href='javascript:alert(1)'>x</a>",
        "<!--",
        "&amp;&lt;&#0;",
    ]
)


def value_strategy(field, ids: list[int]) -> st.SearchStrategy:
    """What a browser (or a forged request) may post for a field of a fiche."""
    if isinstance(field, SelectMultipleField):
        choices = [c[0] if isinstance(c, tuple) else c.value for c in field.choices or []]
        item = st.one_of(st.sampled_from(choices), nasty_text()) if choices else nasty_text()
        return st.lists(item, max_size=4)
    if isinstance(field, SelectField | RadioField):
        choices = [c[0] if isinstance(c, tuple) else c.value for c in field.choices or []]
        strategies = [nasty_text()]
        if field.name.endswith("_id"):
            strategies.insert(0, id_text(ids))
        if choices:
            strategies.insert(0, st.sampled_from([str(c) for c in choices]))
        return st.one_of(strategies)
    if isinstance(field, DateField):
        return st.one_of(
            st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat),
            odd_date(),
            nasty_text(),
        )
    if isinstance(field, TimeField):
        return times
    if isinstance(field, FrenchDecimalField | WholeNumberField):
        return st.one_of(french_number(), big_int_text(), nasty_text())
    if field.name.endswith("_url"):
        return st.one_of(
            urls,
            st.sampled_from(["https://www.youtube.com/watch?v=x", "https://x.org/v.mp4"]),
            st.builds(lambda n: "https://x.org/" + "a" * n, st.integers(380, 420)),
        )
    return st.one_of(nasty_text(), html_snippets)


def fiche_cases(app, form_class, ids, **kwargs) -> st.SearchStrategy:
    """(champ, posted value) pairs for every field of the form, and unknown champs."""
    with app.test_request_context():
        form = form_class(formdata=None, **kwargs)
        fields = [f for f in form if f.name not in ("version", "csrf_token")]
        by_field = [st.tuples(st.just(f.name), value_strategy(f, ids)) for f in fields]
    unknown = st.tuples(
        st.one_of(
            st.sampled_from(["", "version", "csrf_token", "id", "establishment_id"]), nasty_text()
        ),
        nasty_text(),
    )
    return st.one_of(*by_field, unknown)


def posted_value(field) -> str | list[str]:
    """What the browser sends for a field rendered from the stored record."""
    if isinstance(field, SelectMultipleField):
        return [str(v) for v in field.data or []]
    if hasattr(field, "_value"):
        return field._value()
    return "" if field.data is None else str(field.data)


FICHES = {
    # key in complete_offer's result: (form, URL of the live save, the record's pages)
    "formation": (FormationForm, "/formations/{id}/champ", ("/formations/{id}",)),
    "action": (ActionForm, "/actions/{id}/champ", ("/actions/{id}", "/actions/{id}/etat")),
    "session": (SessionForm, "/sessions/{id}/champ", ("/sessions/{id}",)),
    "funding": (FundingForm, "/dispositifs/{id}/champ", ("/sessions/{session_id}/dispositif",)),
}


@pytest.mark.parametrize("key", sorted(FICHES))
def test_live_save_stores_only_valid_values_and_every_page_still_opens(app, client, as_of, key):
    world = as_of
    form_class, save_url, pages = FICHES[key]
    record = world.mine[key]
    kwargs = {}
    if form_class in (ActionForm, SessionForm):
        kwargs["sites"] = [world.mine["site"]]
    if form_class is SessionForm:
        kwargs["contacts"] = [world.mine["contact"]]
    ids = world.all_ids
    url = save_url.format(id=record.id)
    action = world.mine["action"]

    @given(
        shown(fiche_cases(app, form_class, ids, **kwargs)),
        st.one_of(st.just("current"), st.just(""), st.integers(-1, 100).map(str), nasty_text()),
        st.booleans(),
    )
    @property_settings(100)
    def run(case, version, whole):
        champ, value = case.value
        before = columns(record)
        if version == "current":
            version = str(before["version"])
        data: dict[str, Any] = {"champ": champ, "version": version}
        if whole:  # the browser posts the whole form: the other fields as they are stored
            with app.test_request_context():
                stored = form_class(obj=db.session.get(type(record), record.id), **kwargs)
                data |= {f.name: posted_value(f) for f in stored if f.name != "version"}
        data[champ] = value
        response = client.post(url, data=data, headers=HX)
        answered(response, allowed={200, 400, 409, 422})
        if response.status_code != 200:
            assert columns(record) == before
            return
        # A saved value leaves every page of the offer working.
        values = {"id": record.id, "session_id": getattr(record, "session_id", None)}
        for page in (*pages, f"/actions/{action.id}", f"/actions/{action.id}/etat", "/"):
            assert client.get(page.format(**values)).status_code == 200, page
        for page in ("/sessions", "/actions", "/sessions/export.csv"):
            with client.get(page) as listed:
                assert listed.status_code == 200, page

    run()


# Sub-rows of the session -------------------------------------------------------------------------


def subrow_data(slug: str, prefix: str, world: World) -> st.SearchStrategy[dict]:
    if slug == "informations-collectives":
        fields = {
            f"{prefix}-day": st.one_of(st.dates().map(date.isoformat), odd_date(), nasty_text()),
            f"{prefix}-start_time": times,
            f"{prefix}-site_id": id_text(world.ids("site")),
            f"{prefix}-comment": nasty_text(),
        }
    else:
        fields = {
            f"{prefix}-kind": st.one_of(st.sampled_from(["1", "2", "3"]), nasty_text()),
            f"{prefix}-start_date": st.one_of(st.dates().map(date.isoformat), odd_date()),
            f"{prefix}-end_date": st.one_of(
                st.dates().map(date.isoformat), odd_date(), nasty_text()
            ),
        }
    valid = (
        {"day": "2024-01-20", "start_time": "09:30", "site_id": str(world.mine["site"].id)}
        if slug == "informations-collectives"
        else {"kind": "1", "start_date": "2024-01-02", "end_date": "2024-02-01"}
    )
    version = st.one_of(st.just(""), st.integers(-1, 5).map(str), nasty_text())
    return altered(
        {f"{prefix}-{k}": st.just(v) for k, v in valid.items()},
        fields | {f"{prefix}-version": version},
    )


@pytest.mark.parametrize("slug", ["informations-collectives", "periodes-inscription"])
def test_session_subrows_refuse_bad_input_and_keep_the_rows(app, client, as_of, slug):
    world = as_of
    session = world.mine["session"]
    model, name = {
        "informations-collectives": (InfoMeeting, "info_meeting"),
        "periodes-inscription": (EnrolmentPeriod, "enrolment_period"),
    }[slug]
    record = session.info_meetings[0] if model is InfoMeeting else None
    if record is None:
        record = EnrolmentPeriod(
            session_id=session.id,
            establishment_id=world.first.id,
            kind="1",
            start_date=date(2024, 1, 2),
        )
        db.session.add(record)
        db.session.commit()

    @given(st.booleans(), st.booleans(), st.data())
    @property_settings(25)
    def run(creating, htmx, data):
        prefix = f"{name}-new" if creating else f"{name}-{record.id}"
        url = f"/sessions/{session.id}/{slug}" + ("" if creating else f"/{record.id}")
        posted = data.draw(subrow_data(slug, prefix, world), label="form")
        rows = count(model)
        before = columns(record)
        response = client.post(url, data=posted, headers=HX if htmx else {})
        answered(response)
        if response.status_code in (409, 422):
            assert count(model) == rows
            assert columns(record) == before
        if response.status_code in (200, 302, 303):
            assert client.get(f"/sessions/{session.id}").status_code == 200

    run()


# Review decisions ---------------------------------------------------------------------------------


def test_review_decisions_and_answer_refused_change_nothing(app, client, auth, world):
    action = world.mine["action"]
    messages = st.one_of(nasty_text(), long_text(1000, 3000), st.just("Pourquoi ?"))

    @given(st.sampled_from(["refuser", "question", "repondre"]), messages)
    @property_settings(30)
    def run(decision, message):
        # The action waits for a decision (as after "Envoyer en validation"), or for the
        # answer to a question the Carif-Oref asked.
        db.session.expire_all()
        fresh = db.session.get(Action, action.id)
        fresh.status = ActionStatus.SUBMITTED
        if decision == "repondre":
            with app.test_request_context():
                ask(fresh, "Quel est le rythme ?")
        db.session.commit()
        user = world.user if decision == "repondre" else world.carif
        auth.login(user)
        if decision == "repondre":
            auth.switch(world.first)
            url, field = f"/actions/{action.id}/repondre", "reponse"
        else:
            url = f"/validation/actions/{action.id}/{decision}"
            field = "motif" if decision == "refuser" else "question"
        before = columns(action)
        response = client.post(url, data={field: message})
        answered(response)
        if response.status_code != 302:
            assert columns(action) == before
        auth.logout()

    run()


def test_nul_in_a_review_message_is_refused_or_dropped(app, client, auth, world):
    action = world.mine["action"]
    action.status = ActionStatus.SUBMITTED
    db.session.commit()
    auth.login(world.carif)
    response = client.post(f"/validation/actions/{action.id}/question", data={"question": "a\x00"})
    assert response.status_code in (302, 422)


# Bulk changes on the session list ----------------------------------------------------------------


def test_bulk_change_is_all_or_nothing_and_spares_other_establishments(app, client, as_of):
    world = as_of
    sessions = [world.mine["session"], world.theirs["session"]]

    @given(
        st.lists(
            st.one_of(st.sampled_from([str(s.id) for s in sessions]), id_text(), nasty_text()),
            max_size=5,
        ),
        st.one_of(st.sampled_from(["etat", "desactiver"]), nasty_text()),
        st.one_of(st.sampled_from(["0", "1", "3"]), nasty_text()),
        st.booleans(),
    )
    @property_settings(40)
    def run(ids, operation, etat, htmx):
        before = [columns(s) for s in sessions]
        response = client.post(
            "/sessions/selection",
            data={"ids": ids, "operation": operation, "etat": etat},
            headers=HX if htmx else {},
        )
        answered(response)
        if response.status_code not in (200, 303):
            assert [columns(s) for s in sessions] == before
        assert columns(world.theirs["session"]) == before[1]  # never someone else's

    run()


def test_huge_session_id_in_a_bulk_change_is_a_404(client, as_of):
    response = client.post(
        "/sessions/selection", data={"ids": ["9" * 30], "operation": "desactiver"}
    )
    assert response.status_code in (400, 404)


# Référentiels forms -------------------------------------------------------------------------------


def test_certifinfo_replacement_forms_answer_anything(app, client, as_carif):
    world = as_carif
    formation = world.mine["formation"]
    codes = st.one_of(
        st.sampled_from(["424242", "111111", world.mine["certification"].code]), nasty_text()
    )

    @given(
        st.one_of(
            st.fixed_dictionaries({"formation_id": id_text([formation.id]), "code": codes}).map(
                lambda d: ("/referentiels/certifinfo/remplacements", d)
            ),
            codes.map(
                lambda c: (
                    f"/referentiels/formations/{formation.id}/certifinfo",
                    {f"f{formation.id}-code": c},
                )
            ),
        ),
        st.booleans(),
    )
    @property_settings(20)
    def run(request, htmx):
        url, data = request
        response = client.post(url, data=data, headers=HX if htmx else {})
        answered(response)

    run()


@pytest.mark.parametrize("number", ["9" * 30, "2147483648", "-1", "0"])
def test_replacement_of_an_impossible_formation_number_is_a_422(client, as_carif, number):
    """Found by the property above: a number beyond the id column reached the database."""
    response = client.post(
        "/referentiels/certifinfo/remplacements", data={"formation_id": number, "code": "424242"}
    )
    assert response.status_code == 422
    assert "Numéro de formation inconnu." in response.text


# Pages driven by the query string ----------------------------------------------------------------

LIST_PARAMS = ("q", "filtre", "tri", "taille", "page", "apres", "avant", "siret")
CATALOGUE_PARAMS = catalogue_query.PARAMETERS  # every parameter the catalogue reads
PLAUSIBLE = {
    "filtre": st.sampled_from(["actives", "inactives", "en-saisie", "fin-moins-un-mois"]),
    "tri": st.sampled_from(["debut", "-debut", "fin", "-code", "siret", "etat", "attente"]),
    "taille": st.sampled_from(["10", "20", "25", "50", "100", "0", "-1"]),
    "page": st.sampled_from(["1", "2", "derniere", "0"]),
    "departement": st.sampled_from(["44", "2A", "974", "99"]),
    "du": st.sampled_from(["2024-01-01", "1989-12-31", "2101-01-01"]),
    "niveau": st.sampled_from(["1", "14", "17"]),
    "modalite": st.sampled_from(["0", "1", "2", "3"]),
    "terminees": st.sampled_from(["1", "0", "oui"]),
}


def query_strings(names: tuple[str, ...], ids: list[int]) -> st.SearchStrategy[dict]:
    def value(name: str) -> st.SearchStrategy[str | list[str]]:
        options = [nasty_text(), id_text(ids)]
        if name in PLAUSIBLE:
            options.insert(0, PLAUSIBLE[name])
        one = st.one_of(options)
        return st.one_of(one, st.lists(one, min_size=2, max_size=2))  # ?a=1&a=2 too

    known = st.fixed_dictionaries({}, optional={n: value(n) for n in names})
    extra = st.dictionaries(st.text(ANY_CHAR, min_size=1, max_size=8), nasty_text(), max_size=1)
    return st.builds(lambda k, e: e | k, known, extra)


OF_PAGES = (
    ("/sessions", LIST_PARAMS),
    ("/actions", LIST_PARAMS),
    ("/sessions/export.csv", LIST_PARAMS),
    ("/actions/export.csv", LIST_PARAMS),
    ("/formations/publiques", ("page", "taille")),
    ("/formations/{formation}/blocs", ("q", "taille", "page")),
    ("/annuaire/communes", ("champ", "postcode", "liste", "x-postcode")),
    ("/catalogue/formations/{formation}-{action}/x", ("retour",)),
)
CARIF_PAGES = (
    ("/sessions", LIST_PARAMS),
    ("/actions/export.csv", LIST_PARAMS),
    ("/comptes/", ("q", "page")),
    ("/validation/file", ("programme", "lot", "etablissement", "tri", "taille", "page")),
    ("/referentiels/certifinfo/remplacements", ("page",)),
    ("/etablissements", ("q", "next")),
)
PUBLIC_PAGES = (
    ("/catalogue/", CATALOGUE_PARAMS),
    ("/api/v1/sessions", CATALOGUE_PARAMS),
    ("/exports/lheo.xml", ("programme", "lot", "departement")),
    ("/exports/catalogue.pdf", ("programme", "lot", "departement")),
)


def _visit(client, world: World, pages, data, *, allowed=None):
    template, names = data.draw(st.sampled_from(pages), label="page")
    path = template.format(formation=world.mine["formation"].id, action=world.mine["action"].id)
    params = data.draw(query_strings(names, world.all_ids), label="query")
    headers = HX if data.draw(st.booleans(), label="htmx") else {}
    limiter.reset()
    answered(
        client.get(path, query_string=params, headers=headers),
        **({"allowed": allowed} if allowed else {}),
    )


def test_of_pages_read_any_query_string(app, client, as_of):
    @given(st.data())
    @property_settings(100)
    def run(data):
        _visit(client, as_of, OF_PAGES, data)

    run()


def test_carif_pages_read_any_query_string(app, client, as_carif):
    @given(st.data())
    @property_settings(60)
    def run(data):
        _visit(client, as_carif, CARIF_PAGES, data)

    run()


def test_public_pages_read_any_query_string(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_JOB_RUNNER", lambda task: None)  # never in a thread
    world.mine["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    publish_actions(app, [world.mine["action"]])

    @given(st.data())
    @property_settings(60)
    def run(data):
        # A catalogue PDF may be prepared in the background (202) or refused when too many are.
        _visit(client, world, PUBLIC_PAGES, data, allowed={200, 202, 302, 400, 404, 429})

    run()


@pytest.mark.parametrize(
    "url",
    [
        "/comptes/?page=" + "9" * 30,
        "/validation/file?page=²",
        "/validation/file?page=" + "9" * 30,
        "/referentiels/certifinfo/remplacements?page=" + "9" * 30,
        "/etablissements?q=" + "9" * 30,
        "/etablissements?q=²",
    ],
)
def test_junk_page_numbers_of_carif_pages_are_400(client, as_carif, url):
    assert client.get(url).status_code in (200, 400, 404)


def test_huge_page_of_the_public_formations_is_400(client, as_of):
    assert client.get("/formations/publiques?page=" + "9" * 30).status_code in (200, 400)


def test_pdf_catalogue_form_answers_anything(app, client, as_carif, monkeypatch, tmp_path):
    world = as_carif
    # Jobs are queued, never run: building PDFs is tested in test_pdf_views.
    monkeypatch.setitem(app.config, "PDF_JOB_RUNNER", lambda task: None)
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path))
    choice = st.one_of(st.just(""), id_text(world.all_ids), st.sampled_from(["44", "2A"]))

    @given(
        st.fixed_dictionaries(
            {}, optional=dict.fromkeys(("programme", "lot", "departement"), choice)
        ),
        st.booleans(),
    )
    @property_settings(15)
    def run(data, htmx):
        limiter.reset()
        response = client.post("/exports/catalogues", data=data, headers=HX if htmx else {})
        answered(response, allowed={204, 303, 422, 429})

    run()


def test_path_segments_read_anything(app, client, as_carif, monkeypatch, tmp_path):
    """Routes whose URL holds a free string: tokens, job ids, slugs, unknown API paths."""
    monkeypatch.setitem(app.config, "IMPORT_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "pdf"))
    templates = (
        "/exports/catalogues/{}",
        "/exports/catalogues/{}.pdf",
        "/referentiels/imports/region/apercu/{}",
        "/mot-de-passe/{}",
        "/catalogue/formations/1-1/{}",
        "/api/v1/{}",
    )
    segments = st.one_of(
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/?#"), max_size=40),
        st.sampled_from(["..", "%2e%2e", "0" * 32, "a" * 32, "..%2F..%2Fetc%2Fpasswd"]),
    )

    @given(st.sampled_from(templates), segments)
    @property_settings(40)
    def run(template, segment):
        assume(segment.strip("."))  # "." and ".." are resolved by the client, not sent
        answered(client.get(template.format(quote(segment, safe=""))))

    run()


def test_establishment_switch_answers_anything_and_stays_on_the_site(app, client, as_of):
    world = as_of

    @given(id_text(world.all_ids), next_urls, st.booleans())
    @property_settings(20)
    def run(establishment_id, next_url, htmx):
        # scoping.select_establishment sends unbounded ints to the database (reported, see
        # test_huge_establishment_id_in_the_switcher_is_a_404).
        response = client.post(
            "/etablissement/courant",
            data={"establishment_id": establishment_id, "next": next_url},
            headers=HX if htmx else {},
        )
        answered(response)
        target = response.headers.get("HX-Redirect") or response.location or ""
        assert urlsplit(target).netloc in ("", "localhost")
        client.post("/etablissement/courant", data={"establishment_id": world.first.id})

    run()


def test_huge_establishment_id_in_the_switcher_is_a_404(client, as_of):
    response = client.post("/etablissement/courant", data={"establishment_id": "9" * 30})
    assert response.status_code in (400, 403, 404)


# Regressions found by the properties above --------------------------------------------------------


def test_control_characters_are_dropped_from_posted_text(client, as_of):
    """A NUL cannot be stored by PostgreSQL (a 500 there), nor any control character written
    to LHEO XML: they are dropped before validation, as invisible pasted characters."""
    site = as_of.mine["site"]
    response = client.post(
        f"/annuaire/sites/{site.id}",
        data={
            f"site-{site.id}-name": "Ante\x00nne\x0b du\tport",
            f"site-{site.id}-postcode": "44000",
            f"site-{site.id}-commune": "Nantes\x1b",
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert columns(site)["name"] == "Antenne du\tport"


def test_password_keeps_its_control_characters(client, world):
    """Passwords are hashed, never stored as text: they are checked exactly as typed."""
    raw = tokens.issue(world.user)
    db.session.commit()
    password = "Motdepasse\x01-2024!"
    response = client.post(f"/mot-de-passe/{raw}", data={"password": password, "confirm": password})
    assert response.status_code == 302
    db.session.expire_all()
    assert verify_password(db.session.get(User, world.user.id).password_hash, password)


def test_form_posted_as_json_with_numbers_is_read_as_text(client, world):
    limiter.reset()
    response = client.post("/connexion", json={"email": 5, "password": [1, 2]})
    assert response.status_code == 422


def test_form_posted_without_its_version_keeps_the_record_version(client, as_of):
    """A post without the hidden version field stored NULL in the version column (a 500)."""
    site = as_of.mine["site"]
    before = columns(site)["version"]
    response = client.post(f"/annuaire/sites/{site.id}", data={}, headers=HX)
    assert response.status_code == 200
    assert columns(site)["version"] == before + 1


@pytest.mark.parametrize(
    ("key", "url", "champ"),
    [
        ("funding", "/dispositifs/{id}/champ", "fee_ht"),
        ("funding", "/dispositifs/{id}/champ", "additional_fees"),
        ("action", "/actions/{id}/champ", "equipment_cost"),
    ],
)
def test_amount_beyond_its_column_is_a_422(client, as_of, key, url, champ):
    """NUMERIC(10, 2) holds 99 999 999,99 at most: more failed in PostgreSQL (a 500)."""
    record = as_of.mine[key]
    before = columns(record)
    response = client.post(
        url.format(id=record.id),
        data={"champ": champ, champ: "100 000 000", "version": before["version"]},
        headers=HX,
    )
    assert response.status_code == 422
    assert "99 999 999,99 € au plus" in response.text
    assert columns(record) == before


@pytest.mark.parametrize("url", ["http://[::1", "https://[", "http://exemple.org:99999/"])
def test_malformed_url_gets_the_french_message(client, as_of, url):
    """urlsplit's own English ValueError ("Invalid IPv6 URL") was shown next to the field."""
    action = as_of.mine["action"]
    before = columns(action)
    response = client.post(
        f"/actions/{action.id}/champ",
        data={"champ": "action_url", "action_url": url, "version": before["version"]},
        headers=HX,
    )
    assert response.status_code == 422
    assert "Adresse web invalide : elle doit commencer par https:// ou http://." in response.text
    assert "Invalid" not in response.text
    assert columns(action) == before


@pytest.mark.parametrize(
    "siret", ["٠١٢٣٤٥٦٧٨٩٠١٢٣", "¹²³⁴⁵⁶⁷⁸⁹⁰¹²³⁴"], ids=["arabic-indic", "superscript"]
)
def test_siret_of_non_ascii_digits_is_not_fourteen_digits(siret):
    """They passed str.isdigit() and were reported as a wrong check digit."""
    with pytest.raises(ValueError, match="14 chiffres"):
        normalise_siret(siret)


@pytest.mark.parametrize("champ", ["is_initial_training", "is_apprenticeship"])
def test_blank_answer_to_a_required_yes_no_is_a_422(client, as_of, champ):
    """The column is NOT NULL: a blank answer was stored as NULL and failed (a 500)."""
    session = as_of.mine["session"]
    before = columns(session)
    response = client.post(
        f"/sessions/{session.id}/champ",
        data={"champ": champ, champ: "", "version": before["version"]},
        headers=HX,
    )
    assert response.status_code == 422
    assert "Répondez par Oui ou par Non." in response.text
    assert columns(session) == before
