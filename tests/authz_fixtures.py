"""The world of the authorization matrix: establishment A with one record of every kind a URL
takes an id for, establishment B, their OF users, a Carif-Oref user; and the tools to act as
each of them and to check that a refused request changed nothing.

The world holds plain ids (no ORM objects): every request runs in its own application context
(hence its own database session and ``g``), as in production, so nothing loaded by the test
leaks into a view, and nothing a view loads leaks into the next request.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta

from flask import Flask, session
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.auth import tokens
from portal.catalogue import public
from portal.extensions import db
from portal.imports import region
from portal.imports.runner import KINDS
from portal.models import (
    Action,
    ActionStatus,
    CertificationBloc,
    EnrolmentPeriod,
    ImportRun,
    OpenDay,
    PublishedSession,
    User,
)
from portal.models._base import utcnow
from portal.pdf import jobs
from portal.registers.uploads import save_upload
from portal.review import decisions
from portal.scoping import SESSION_KEY

from . import factories
from .offer_builders import complete_offer

ROLES = ("anon", "of_a", "of_b", "carif")
# In the names of A's records: no page B's user (or a visitor) may open shows it.
MARKER = "ALPHA"

# Small files of each register kind: enough to be stored and previewed (with or without
# errors), never a valid import.
UPLOADS = {
    "region": ("region.xlsx", None),
    "certifinfo": ("registre.json", b"{}"),
    "succession": ("successions.csv", b"cer3_code;cer3_libelle\n"),
    "formacode": ("formacode.csv", b"99999;Libelle\n"),
}


@dataclass
class World:
    """Ids of establishment A's records (and of the users), put in the database per case."""

    establishment_a: int
    establishment_b: int
    users: dict[str, int]
    formation: int
    action: int  # validated and published, so editable by the OF and shown in the catalogue
    draft_action: int  # never validated: the one the OF may delete
    submitted_action: int  # waiting in the Carif-Oref's queue
    session: int
    funding: int
    bloc: int
    info_meeting: int
    enrolment_period: int
    site: int
    contact: int
    open_day: int
    import_run: int
    password_token: str
    catalogue_slug: str
    siret_a: str
    pdf_job: str | None = None
    uploads: dict[str, str] = field(default_factory=dict)


# Per database: the world built once through the models, and every row it left.
_BUILT: dict[str, tuple[World, dict[str, list[dict]]]] = {}


def fresh_world(app: Flask, *, pdf_job: bool = False, uploads: bool = False) -> World:
    """Empty the database and put the world in it.

    The first call builds it through the factories and the Carif-Oref's validation; later
    ones insert the rows that build left (the same ids), which is ten times faster.
    """
    wipe()
    key = app.config["SQLALCHEMY_DATABASE_URI"]
    if key in _BUILT:
        world, rows = _BUILT[key]
        world = replace(world, users=dict(world.users), uploads={})
        _restore(rows)
    else:
        world = _build(app)
        _BUILT[key] = (replace(world, users=dict(world.users)), _dump())
    if pdf_job:
        world.pdf_job = _pdf_job(app)
    if uploads:
        world.uploads = _uploads(app, world.users["carif"])
    return world


def _dump() -> dict[str, list[dict]]:
    with db.engine.connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in conn.execute(select(table))]
            for table in db.metadata.sorted_tables
        }


def _restore(rows: dict[str, list[dict]]) -> None:
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])
    # New rows get new ids: SQLite takes max + 1, PostgreSQL's sequences already went past
    # these ids when the world was first built.


def _build(app: Flask) -> World:
    """Create the world in the empty test database through the models; return its ids."""
    next_year = date.today().year + 1
    a = factories.make_establishment(name=f"Organisme {MARKER}", email="contact@alpha.example")
    b = factories.make_establishment(name="Organisme B", commune="Angers", postcode="49000")
    users = {
        "of_a": factories.make_user(establishments=[a], email="of-a@example.org"),
        "of_b": factories.make_user(establishments=[b], email="of-b@example.org"),
        "carif": factories.make_user(role=User.ROLE_CARIF, email="carif@example.org"),
    }
    factories.make_site(b, name="Site B")
    built = complete_offer(a, year=next_year)
    site, certification, formation = built["site"], built["certification"], built["formation"]
    site.name = f"Site {MARKER}"
    built["contact"].last_name = MARKER
    built["action"].title_complement = f"session {MARKER}"
    bloc = CertificationBloc(certification_id=certification.id, code="RNCP1BC01", title="Bloc 1")
    open_day = OpenDay(
        establishment_id=a.id,
        site_id=site.id,
        day=date.today() + timedelta(days=20),
        start_time=time(9),
        end_time=time(12),
        description=f"Journée {MARKER}",
    )
    period = EnrolmentPeriod(
        session_id=built["session"].id,
        establishment_id=a.id,
        kind="1",
        start_date=date(next_year, 1, 5),
        end_date=date(next_year, 1, 20),
    )
    draft = Action(
        formation_id=formation.id,
        establishment_id=a.id,
        site_id=site.id,
        status=ActionStatus.DRAFT,
    )
    # On a formation of its own: a submitted action makes its formation read-only.
    queued = factories.make_formation(a, title="Formation en validation")
    submitted = Action(
        formation_id=queued.id,
        establishment_id=a.id,
        site_id=site.id,
        status=ActionStatus.SUBMITTED,
    )
    run = ImportRun(
        kind="certifinfo",
        filename="certifinfo.json",
        started_at=utcnow(),
        status="committed",
        report={},
        user_id=users["carif"].id,
    )
    db.session.add_all([bloc, open_day, period, draft, submitted, run])
    built["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    with app.test_request_context():
        decisions.validate(built["action"])
        raw_token = tokens.issue(users["of_a"], created_by=users["carif"])
        db.session.commit()
    title = db.session.scalar(
        select(PublishedSession.title).where(PublishedSession.session_id == built["session"].id)
    )
    world = World(
        establishment_a=a.id,
        establishment_b=b.id,
        users={role: user.id for role, user in users.items()},
        formation=formation.id,
        action=built["action"].id,
        draft_action=draft.id,
        submitted_action=submitted.id,
        session=built["session"].id,
        funding=built["funding"].id,
        bloc=bloc.id,
        info_meeting=built["session"].info_meetings[0].id,
        enrolment_period=period.id,
        site=site.id,
        contact=built["contact"].id,
        open_day=open_day.id,
        import_run=run.id,
        password_token=raw_token,
        catalogue_slug=public.slug(title),
        siret_a=a.siret,
    )
    # Nothing the test session loaded may be seen (stale) by a request.
    db.session.commit()
    db.session.close()
    return world


def _pdf_job(app: Flask) -> str:
    """Build the public catalogue of the published offer; return its job id."""
    client = app.test_client()
    with app.app_context(), client.get("/exports/catalogue.pdf") as response:
        assert response.status_code == 200, response.status_code
    finished = [j for j in jobs.JobStore.for_app(app).jobs() if not j.pending]
    assert finished, "the catalogue PDF was not built"
    return finished[0].id


def _uploads(app: Flask, carif_id: int) -> dict[str, str]:
    """One stored upload of each register kind, owned by the carif user: slug → token."""
    tokens_ = {}
    with app.test_request_context():
        for slug, (filename, content) in UPLOADS.items():
            if content is None:
                buffer = io.BytesIO()
                region.write_xlsx(buffer, {})
                content = buffer.getvalue()
            storage = FileStorage(io.BytesIO(content), filename=filename)
            options = {"version": "V14"} if slug == "formacode" else {}
            tokens_[slug] = save_upload(KINDS[slug], [storage], options, carif_id).token
    return tokens_


def wipe() -> None:
    """Empty every table (what the ``app`` fixture does after each test)."""
    db.session.rollback()
    db.session.close()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, read through a connection of its own."""
    with db.engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            for table in db.metadata.sorted_tables
        }


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


def client_for(app: Flask, role: str, world: World) -> FlaskClient:
    """A test client logged in as ``role`` (no login form: no Argon2 hash to verify).

    The session is written by Flask-Login itself (``login_user``), identifier included, so
    "strong" session protection accepts it. OF users act for their own establishment; the
    carif user has chosen establishment A in the header switcher.
    """
    client = app.test_client()
    if role == "anon":
        return client
    with app.app_context(), app.test_request_context(environ_base=client.environ_base):
        login_user(db.session.get(User, world.users[role]))
        if role == "carif":
            session[SESSION_KEY] = world.establishment_a
        values = dict(session)
    with client.session_transaction() as sess:
        sess.update(values)
    return client
