"""Database faults: nothing half-written, a clear French message, nothing saved before is lost.

- Mid-save faults: every write statement of a save, an import or a workflow step is made to
  fail in turn (the driver's own OperationalError, raised before the statement reaches the
  database); after each failure the database holds exactly what it held before, every table
  compared row by row, and the user reads why nothing was saved.
- An import killed mid-commit (SIGKILL of a `flask import-region --commit` process) leaves
  nothing behind and runs again to the same result as one clean run.
- A read-only, full or locked database, provoked for real (SQLite opened with mode=ro,
  PRAGMA max_page_count, a write lock held by another connection; PostgreSQL with
  default_transaction_read_only and lock_timeout): 503 with the reason, reads still work,
  what was saved before is intact and the same save works once the database is writable.
"""

from __future__ import annotations

import html
import io
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from portal.errors import BUSY, FULL, READ_ONLY, UNAVAILABLE, database_fault
from portal.extensions import db
from portal.imports import region
from portal.models import (
    Action,
    ActionStatus,
    ImportRun,
    JournalEntry,
    Lot,
    Organisation,
    Programme,
    PublishedSession,
    Session,
    Site,
    User,
)

from . import factories
from .offer_builders import complete_offer
from .test_imports_region import good_sheets
from .test_lheo_import import FOREIGN_22

WRITES = ("INSERT", "UPDATE", "DELETE")
ROOT = Path(__file__).resolve().parent.parent


def dialect() -> str:
    return db.engine.dialect.name


# Helpers ---------------------------------------------------------------------------------------


def snapshot(ignore: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every committed row of every table, in a stable order, read on a connection of its own."""
    content = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in ignore:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            content[table.name] = [
                tuple(row) for row in conn.execute(table.select().order_by(*order))
            ]
    return content


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


class Fault:
    """Make the ``at``-th write statement (INSERT, UPDATE, DELETE) fail with ``error``.

    The error is an instance of the driver's own exception class, raised where the driver would
    raise it (SQLAlchemy wraps it, invalidates the connection if it means a disconnect, …).
    """

    def __init__(self, at: int, error: Exception | None = None) -> None:
        self.at = at
        self.error = error
        self.writes = 0
        self.fired = False

    def __enter__(self) -> Fault:
        event.listen(db.engine, "before_cursor_execute", self._check)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._check)

    def _check(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().split(None, 1)[0].upper() not in WRITES:
            return
        self.writes += 1
        if self.writes == self.at:
            self.fired = True
            raise self.error or db.engine.dialect.loaded_dbapi.OperationalError("disk I/O error")


class CommitFault:
    """Make the first COMMIT of the request fail, after every statement went through (as a
    disk that fills up when the WAL is written, or a serialization failure, would)."""

    def __init__(self) -> None:
        self.fired = False

    def __enter__(self) -> CommitFault:
        event.listen(db.engine, "commit", self._fail)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "commit", self._fail)

    def _fail(self, conn) -> None:
        if self.fired:
            return
        self.fired = True
        dbapi = db.engine.dialect.loaded_dbapi
        error = dbapi.OperationalError("disk I/O error")
        raise DBAPIError.instance("COMMIT", None, error, dbapi.Error)


def fail_at_every_write(send, check_refusal, *, ignore=(), after_fault=None):
    """Send the request with its COMMIT failing, then once per write statement it makes, that
    write failing each time; then once without a fault. Return the successful response and the
    number of writes it made.

    After every failure: ``check_refusal(response)``, and every table holds what it held before.
    """
    before = snapshot(ignore)
    with CommitFault() as fault:
        response = send()
    assert fault.fired, "the request did not commit"
    check_refusal(response)
    assert snapshot(ignore) == before, "a failed commit left rows behind"
    if after_fault:
        after_fault(0)
    at = 1
    while True:
        with Fault(at) as fault:
            response = send()
        if not fault.fired:
            break
        check_refusal(response)
        assert snapshot(ignore) == before, f"failure at write {at} left rows behind"
        if after_fault:
            after_fault(at)
        at += 1
        assert at < 2000, "the request never stops writing"
    assert fault.writes >= 1
    assert snapshot(ignore) != before, "the request without a fault changed nothing"
    return response, fault.writes


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


NOT_SAVED = "votre modification n'a pas été enregistrée. Ce qui était déjà enregistré est conservé."


def refused_fragment(reason: str = "La base de données ne répond pas"):
    """The check for an htmx request: 503, a fragment whose alert the toast shows."""

    def check(response) -> None:
        body = text_of(response)
        assert response.status_code == 503, body[:500]
        assert "<html" not in body
        assert 'role="alert"' in body
        assert f"{reason} : {NOT_SAVED}" in body
        assert int(response.headers["Retry-After"]) > 0

    return check


def refused_page(reason: str = "La base de données ne répond pas", title: str | None = None):
    def check(response) -> None:
        body = text_of(response)
        assert response.status_code == 503, body[:500]
        assert '<html lang="fr">' in body
        assert f"{reason} : {NOT_SAVED}" in body
        assert title is None or f"<h1>{title}</h1>" in body
        assert "Traceback" not in body and "OperationalError" not in body

    return check


def live(client, url, record, champ, value):
    data = {"champ": champ, champ: value, "version": record.version}
    return client.post(url, data=data, headers={"HX-Request": "true"})


@pytest.fixture
def offer(client, auth, of_user):
    """A complete offer of the first establishment, its OF user logged in on it."""
    user, first, second, other = of_user
    built = complete_offer(first)
    auth.login(user)
    auth.switch(first)
    built["user"] = user
    return built


# The handler's classification ---------------------------------------------------------------


def _pg_error(name: str):
    errors = pytest.importorskip("psycopg.errors")
    import psycopg

    return DBAPIError.instance(
        "UPDATE x", {}, getattr(errors, name)("message"), psycopg.Error, hide_parameters=True
    )


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        ("ReadOnlySqlTransaction", READ_ONLY),  # 25006: default_transaction_read_only, standby
        ("DiskFull", FULL),  # 53100
        ("OutOfMemory", UNAVAILABLE),  # 53200
        ("SerializationFailure", BUSY),  # 40001
        ("DeadlockDetected", BUSY),  # 40P01
        ("LockNotAvailable", BUSY),  # 55P03: lock_timeout
        ("AdminShutdown", UNAVAILABLE),  # 57P01
        ("ConnectionFailure", UNAVAILABLE),  # 08006
        ("UniqueViolation", None),  # a bug or a race, not a state of the database: 500
        ("UndefinedColumn", None),
    ],
)
def test_postgresql_errors_are_classified_by_sqlstate(name, fault):
    assert database_fault(_pg_error(name)) == fault


def _sqlite_error(sql: str, setup=None) -> DBAPIError:
    """A real SQLite error, wrapped by SQLAlchemy as in a request."""
    from sqlalchemy import create_engine

    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (x TEXT)")
    if setup:
        setup(connection)
    engine = create_engine("sqlite://", creator=lambda: connection)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    except DBAPIError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError("no error")


def test_sqlite_errors_are_classified_by_result_code():
    read_only = _sqlite_error(
        "INSERT INTO t VALUES ('x')", lambda c: c.execute("PRAGMA query_only=ON")
    )
    assert "attempt to write a readonly database" in str(read_only.orig)
    assert database_fault(read_only) == READ_ONLY
    full = _sqlite_error(
        "INSERT INTO t SELECT hex(randomblob(3000)) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3)",
        lambda c: c.execute("PRAGMA max_page_count=2"),
    )
    assert "database or disk is full" in str(full.orig)
    assert database_fault(full) == FULL
    assert database_fault(_sqlite_error("INSERT INTO missing VALUES (1)")) == UNAVAILABLE
    assert database_fault(_sqlite_error("INSERT INTO t VALUES (1, 2)")) == UNAVAILABLE


def test_a_database_error_that_is_a_bug_stays_a_500(make_app, caplog):
    from sqlalchemy.exc import IntegrityError

    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.route("/duplicate")
    def duplicate():
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    response = app.test_client().get("/duplicate")
    assert response.status_code == 500
    assert "Erreur du serveur" in response.text and "UNIQUE" not in response.text


# A fault in the middle of a save -------------------------------------------------------------


def test_live_field_save(client, offer):
    action = offer["action"]
    url = f"/actions/{action.id}/champ"
    response, writes = fail_at_every_write(
        lambda: live(client, url, action, "title_complement", "Cours du soir"), refused_fragment()
    )
    assert response.status_code == 200, response.text
    db.session.expire_all()
    assert action.title_complement == "Cours du soir"
    assert writes >= 3  # the action, its journal line, its list row at least
    entries = db.session.scalars(
        select(JournalEntry).where(JournalEntry.field == "title_complement")
    ).all()
    assert [(e.record_id, e.after) for e in entries] == [(action.id, "Cours du soir")]


def test_live_field_save_on_a_session(client, offer):
    session = offer["session"]
    url = f"/sessions/{session.id}/champ"
    response, _ = fail_at_every_write(
        lambda: live(client, url, session, "recruitment_state", "2"), refused_fragment()
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert session.recruitment_state == "2"


def test_annuaire_save_and_create(client, offer):
    site = offer["site"]
    prefix = f"site-{site.id}"
    data = {
        f"{prefix}-name": "Siège renommé",
        f"{prefix}-address_line1": "3 rue des Écoles",
        f"{prefix}-postcode": "44000",
        f"{prefix}-commune": "Nantes",
        f"{prefix}-version": site.version,
    }
    hx = {"HX-Request": "true"}
    response, _ = fail_at_every_write(
        lambda: client.post(f"/annuaire/sites/{site.id}", data=data, headers=hx),
        refused_fragment(),
    )
    assert response.status_code == 200, response.text
    db.session.expire_all()
    assert site.name == "Siège renommé"
    new = {"site-new-name": "Antenne", "site-new-postcode": "49000", "site-new-commune": "Angers"}
    response, _ = fail_at_every_write(
        lambda: client.post("/annuaire/sites", data=new, headers=hx), refused_fragment()
    )
    assert response.status_code == 200, response.text
    assert db.session.scalar(select(func.count()).where(Site.name == "Antenne")) == 1


def test_bulk_recruitment_change(client, offer):
    action = offer["action"]
    others = [factories.make_session(action, recruitment_state="1") for _ in range(2)]
    ids = [str(s.id) for s in (offer["session"], *others)]
    data = {"ids": ids, "operation": "etat", "etat": "3"}
    response, writes = fail_at_every_write(
        lambda: client.post("/sessions/selection", data=data, headers={"HX-Request": "true"}),
        refused_fragment(),
    )
    assert response.status_code == 200, response.text
    assert writes >= 3  # the sessions, their journal lines (one executemany), their list rows
    states = db.session.scalars(
        select(Session.recruitment_state).where(Session.action_id == action.id)
    )
    assert set(states) == {"3"}


def test_duplicate_a_session(client, offer):
    session = offer["session"]
    response, _ = fail_at_every_write(
        lambda: client.post(f"/sessions/{session.id}/dupliquer"), refused_page()
    )
    assert response.status_code == 302
    assert count(Session) == 2


def test_send_for_validation_then_validate_and_publish(client, auth, offer, carif_user):
    action = offer["action"]
    response, _ = fail_at_every_write(
        lambda: client.post(f"/actions/{action.id}/envoyer"), refused_page()
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert action.status == ActionStatus.SUBMITTED
    auth.logout()
    auth.login(carif_user)
    assert count(PublishedSession) == 0
    response, writes = fail_at_every_write(
        lambda: client.post(f"/validation/actions/{action.id}/valider"), refused_page()
    )
    assert response.status_code == 302
    assert writes >= 5
    db.session.expire_all()
    assert action.status == ActionStatus.VALIDATED
    assert count(PublishedSession) == 1


def test_a_decision_rolled_back_sends_no_mail(app, client, auth, offer, carif_user):
    action = offer["action"]
    assert client.post(f"/actions/{action.id}/envoyer").status_code == 302
    auth.logout()
    auth.login(carif_user)

    def no_mail(response) -> None:
        refused_page()(response)
        assert app.extensions.get("outbox", []) == [], "a mail announces what was not saved"

    app.extensions.pop("outbox", None)
    fail_at_every_write(lambda: client.post(f"/validation/actions/{action.id}/valider"), no_mail)


# Imports -------------------------------------------------------------------------------------


@pytest.fixture
def carif(client, auth, carif_user, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_UPLOAD_DIR", str(tmp_path / "uploads"))
    auth.login(carif_user)
    return carif_user


def upload(client, slug, files, **data):
    payload = {"files": [(io.BytesIO(content), name) for name, content in files], **data}
    response = client.post(
        f"/referentiels/imports/{slug}", data=payload, content_type="multipart/form-data"
    )
    assert response.status_code == 303, response.text
    token = response.location.rsplit("/", 1)[-1]
    preview = client.get(response.location)
    assert preview.status_code == 200, preview.text
    return token


def xlsx(sheets) -> bytes:
    buffer = io.BytesIO()
    region.write_xlsx(buffer, sheets)
    return buffer.getvalue()


CERTIFINFO = {
    "niveau9": {"parent": "#", "text": "Sans niveau spécifique"},
    "type999": {"parent": "niveau9", "text": "Autre certification sans niveau spécifique"},
    "93561": {"parent": "type999", "text": "Actions de formation (93561)"},
    "54913": {"parent": "type999", "text": "Ancienne certification (54913)"},
}


def _succession_data():
    old = factories.make_certification(code="54913")
    factories.make_certification(code="93561")
    establishment = factories.make_establishment()
    for _ in range(3):
        formation = factories.make_formation(
            establishment, has_certif_info=True, certification_id=old.id
        )
        factories.make_action(formation)


@pytest.mark.parametrize(
    ("slug", "files", "data", "prepare"),
    [
        ("region", [("region.xlsx", xlsx(good_sheets()))], {}, None),
        ("certifinfo", [("certifinfo.json", json.dumps(CERTIFINFO).encode())], {}, None),
        (
            "succession",
            [("chainage.csv", b"cer3_code;x;y;z;w;v\n54913;A;3;93561;B;3\n")],
            {},
            _succession_data,
        ),
        (
            "formacode",
            [
                (
                    "fc.csv",
                    "11001;Algèbre;théorie;DOM;110 MATHS\n11002;Analyse;x;DOM;110 MATHS\n".encode(),
                )
            ],
            {"version": "V14"},
            None,
        ),
    ],
    ids=["region", "certifinfo", "succession", "formacode"],
)
def test_import_commit(client, carif, slug, files, data, prepare):
    if prepare:
        prepare()
    token = upload(client, slug, files, **data)
    failed_runs = []

    def check(response) -> None:
        body = text_of(response)
        assert response.status_code == 503, body[:500]
        assert (
            "Import annulé : la base de données ne répond pas. Rien n'a été enregistré ; les "
            "données déjà en place sont conservées." in body
        )

    def recorded(at: int) -> None:
        # The failed attempt is kept in the history (its own transaction, after the rollback).
        runs = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
        failed_runs.append(at)
        assert [r.status for r in runs] == ["failed"] * len(failed_runs)
        assert "la base de données ne répond pas" in runs[-1].message

    response, writes = fail_at_every_write(
        lambda: client.post(f"/referentiels/imports/{slug}/confirmer", data={"token": token}),
        check,
        ignore=("import_runs",),
        after_fault=recorded,
    )
    assert response.status_code == 303, text_of(response)[:500]
    assert writes >= 2
    statuses = db.session.scalars(select(ImportRun.status).order_by(ImportRun.id)).all()
    assert statuses == ["failed"] * len(failed_runs) + ["committed"]


def test_lheo_import(client, auth, make_establishment, make_user):
    establishment = make_establishment(name="Organisme importateur", postcode="49100")
    auth.login(make_user(establishments=[establishment]))
    auth.switch(establishment)
    content = FOREIGN_22.format(certif="1").encode()

    def send():
        return client.post(
            "/exports/lheo/import",
            data={"file": (io.BytesIO(content), "offre.xml")},
            content_type="multipart/form-data",
        )

    def check(response) -> None:
        assert response.status_code == 503
        assert (
            "L'enregistrement a échoué (la base de données ne répond pas) : rien n'a été "
            "importé." in text_of(response)
        )

    response, writes = fail_at_every_write(send, check)
    assert response.status_code == 200
    assert writes >= 10
    assert count(Action) == 1 and count(Session) == 2


# An import killed in the middle of its commit ------------------------------------------------

CRASHING_IMPORT = """
import json, os, signal, sys
from sqlalchemy import event
from portal import create_app
from portal.extensions import db

config, kill_at, paths = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
app = create_app(config)
with app.app_context():
    writes = 0

    @event.listens_for(db.engine, "before_cursor_execute")
    def crash(conn, cursor, statement, *args):
        global writes
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes += 1
            if writes == kill_at:
                # What the open transaction already wrote, then a crash without any cleanup.
                written = conn.exec_driver_sql(
                    "SELECT (SELECT count(*) FROM organisations) + (SELECT count(*) FROM "
                    "establishments) + (SELECT count(*) FROM programmes) + (SELECT count(*) "
                    "FROM lots)"
                ).scalar()
                print(f"rows written before the crash: {written}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

    app.cli.main(["import-region", *paths, "--commit"], standalone_mode=False)
"""


def content_without_ids(ignore=("import_runs",)) -> dict[str, list[tuple]]:
    """The rows without their ids and timestamps, which differ from one run to the next."""
    from sqlalchemy import DateTime

    content = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in ignore:
                continue
            columns = [
                c
                for c in table.columns
                if c.name != "id"
                and not c.name.endswith("_id")
                and not isinstance(c.type, DateTime)
            ]
            if not columns:
                continue
            rows = conn.execute(select(*columns)).all()
            content[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return content


def wipe() -> None:
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def test_an_import_killed_mid_commit_leaves_nothing_and_runs_again(app, base_config, tmp_path):
    path = tmp_path / "region.xlsx"
    region.write_xlsx(path, good_sheets())
    empty = content_without_ids()
    runner = app.test_cli_runner()
    # One clean run: its result, and how many writes its transaction makes.
    with Fault(at=10**6) as counter:
        clean = runner.invoke(args=["import-region", str(path), "--commit"])
    assert clean.exit_code == 0, clean.output
    expected = content_without_ids()
    assert count(Lot) == 3 and count(Programme) == 2 and count(Organisation) >= 1
    wipe()
    assert content_without_ids() == empty

    config = dict(base_config)
    kill_at = counter.writes // 2
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_IMPORT, json.dumps(config), str(kill_at), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    written = int(crashed.stdout.rsplit(":", 1)[1])
    assert written > 0  # the crash came after rows were written in the transaction
    # Nothing of the killed transaction, not even its ImportRun, once the database recovered.
    db.session.remove()
    assert content_without_ids() == empty
    assert count(ImportRun) == 0

    again = runner.invoke(args=["import-region", str(path), "--commit"])
    assert again.exit_code == 0, again.output
    assert content_without_ids() == expected
    assert db.session.scalars(select(ImportRun.status)).all() == ["committed"]


def test_an_import_interrupted_by_an_error_runs_again_to_the_same_result(app, tmp_path):
    path = tmp_path / "region.xlsx"
    region.write_xlsx(path, good_sheets())
    runner = app.test_cli_runner()
    with Fault(at=10**6) as counter:
        assert runner.invoke(args=["import-region", str(path), "--commit"]).exit_code == 0
    expected = content_without_ids()
    wipe()
    empty = content_without_ids()
    with Fault(at=counter.writes - 2) as fault:
        failed = runner.invoke(args=["import-region", str(path), "--commit"])
    assert fault.fired and failed.exit_code == 1
    assert "Import annulé : la base de données ne répond pas." in failed.output
    assert content_without_ids() == empty
    again = runner.invoke(args=["import-region", str(path), "--commit"])
    assert again.exit_code == 0, again.output
    assert content_without_ids() == expected
    assert db.session.scalars(select(ImportRun.status).order_by(ImportRun.id)).all() == [
        "failed",
        "committed",
    ]


# A read-only, full or busy database ----------------------------------------------------------


def other_client(app_, client):
    """A client of another app on the same database, logged in as ``client`` is."""
    other = app_.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


@pytest.fixture
def read_only_app(make_app, base_config, tmp_path):
    """The same database, opened read-only: SQLite with mode=ro, PostgreSQL with every
    transaction read-only (as on a hot standby or after ALTER DATABASE … read_only)."""
    uploads = str(tmp_path / "uploads")
    if dialect() == "sqlite":
        path = make_url(base_config["SQLALCHEMY_DATABASE_URI"]).database
        return make_app(
            SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{path}?mode=ro&uri=true",
            IMPORT_UPLOAD_DIR=uploads,
        )
    return make_app(
        SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": "-c default_transaction_read_only=on"}
        },
        IMPORT_UPLOAD_DIR=uploads,
    )


READ_ONLY_REASON = "La base de données est en lecture seule"


def test_read_only_database(client, offer, read_only_app):
    action = offer["action"]
    url = f"/actions/{action.id}/champ"
    assert live(client, url, action, "title_complement", "Saisi avant").status_code == 200
    db.session.expire_all()
    saved = snapshot()
    ro = other_client(read_only_app, client)
    # Reading still works: the fiche shows what was saved.
    page = ro.get(f"/actions/{action.id}")
    assert page.status_code == 200 and 'value="Saisi avant"' in page.text
    # A live save: 503 and the reason in the fragment; the field keeps the typed value (htmx
    # swaps nothing on 5xx) and the toast shows the alert.
    response = live(ro, url, action, "title_complement", "Saisi pendant")
    refused_fragment(READ_ONLY_REASON)(response)
    assert "Base de données en lecture seule." in text_of(response)
    # A whole form without JavaScript: the French page.
    response = ro.post(
        "/annuaire/sites",
        data={
            "site-new-name": "Antenne",
            "site-new-postcode": "49000",
            "site-new-commune": "Angers",
        },
    )
    refused_page(READ_ONLY_REASON, "Base de données en lecture seule")(response)
    assert snapshot() == saved
    db.session.expire_all()
    assert action.title_complement == "Saisi avant"
    # Writable again: the same save goes through.
    assert live(client, url, action, "title_complement", "Saisi après").status_code == 200


def test_logging_in_works_on_a_read_only_database(of_user, read_only_app):
    """The login time is recorded when it can be: a read-only database still lets people in
    to read their offer."""
    user = of_user[0]
    ro = read_only_app.test_client()
    response = ro.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert ro.get("/").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is None


def test_read_only_database_import(client, carif, read_only_app):
    read_only_app.config["IMPORT_UPLOAD_DIR"] = client.application.config["IMPORT_UPLOAD_DIR"]
    token = upload(client, "region", [("region.xlsx", xlsx(good_sheets()))])
    saved = snapshot()
    ro = other_client(read_only_app, client)
    response = ro.post("/referentiels/imports/region/confirmer", data={"token": token})
    body = text_of(response)
    assert response.status_code == 503, body[:500]
    assert (
        "Import annulé : la base de données est en lecture seule. Rien n'a été enregistré" in body
    )
    assert snapshot() == saved  # not even the failed attempt could be recorded
    done = client.post("/referentiels/imports/region/confirmer", data={"token": token})
    assert done.status_code == 303  # the upload was kept for when the database is writable
    assert count(Lot) == 3


@pytest.fixture
def full_app(make_app, base_config):
    """SQLite: the database file may not grow by a single page (PRAGMA max_page_count)."""
    if dialect() != "sqlite":
        return None
    db.session.commit()  # no transaction of the test's own open during the VACUUM
    path = make_url(base_config["SQLALCHEMY_DATABASE_URI"]).database
    raw = sqlite3.connect(path, isolation_level=None, timeout=10)
    raw.execute("VACUUM")  # no free page left inside the file to grow into
    raw.close()
    app = make_app()
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def no_growth(dbapi_connection, record):
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    return app


FULL_REASON = "L'espace disque du serveur est plein"


def test_full_database(client, offer, full_app):
    action = offer["action"]
    url = f"/actions/{action.id}/champ"
    assert live(client, url, action, "title_complement", "Saisi avant").status_code == 200
    db.session.expire_all()
    saved = snapshot()
    # A text long enough to need new pages (the row, its journal line, its list row).
    long_text = "<p>" + " ".join(["Objectif détaillé de la formation."] * 80)[:2900] + "</p>"
    if full_app is None:  # PostgreSQL: DiskFull (53100) cannot be provoked without filling a disk
        import psycopg.errors

        disk_full = psycopg.errors.DiskFull('could not extend file "base/1/2": No space left')
        with Fault(at=1, error=disk_full):
            response = live(client, url, action, "objectives", long_text)
    else:
        response = live(other_client(full_app, client), url, action, "objectives", long_text)
    refused_fragment(FULL_REASON)(response)
    assert "Espace disque plein." in text_of(response)
    assert snapshot() == saved
    db.session.expire_all()
    assert action.title_complement == "Saisi avant"
    assert live(client, url, action, "objectives", long_text).status_code == 200


@contextmanager
def write_lock_held(engine, action_id: int):
    """Another connection holds a write lock the save needs, until the block ends: SQLite's
    database lock, PostgreSQL's row lock on the action."""
    if engine.dialect.name == "sqlite":
        raw = sqlite3.connect(engine.url.database, isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
    else:
        raw = engine.raw_connection()
        raw.cursor().execute("SELECT id FROM actions WHERE id = %s FOR UPDATE", (action_id,))
    try:
        yield
    finally:
        raw.rollback()
        raw.close()


@pytest.fixture
def impatient_app(make_app):
    """The same database with a short lock wait: 100 ms instead of SQLite's 5 s busy timeout."""
    if dialect() == "sqlite":
        app = make_app()
        with app.app_context():

            @event.listens_for(db.engine, "checkout")
            def short_wait(dbapi_connection, record, proxy):
                dbapi_connection.execute("PRAGMA busy_timeout=100")

        return app
    return make_app(SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": "-c lock_timeout=100"}})


def test_a_save_waits_for_a_short_write_lock_then_says_busy_for_a_long_one(
    client, offer, impatient_app
):
    action = offer["action"]
    url = f"/actions/{action.id}/champ"
    acquired = threading.Event()
    engine = db.engine

    def hold_briefly() -> None:
        with write_lock_held(engine, action.id):
            acquired.set()
            time.sleep(0.4)

    # A lock released after 0.4 s: the save waits for it (busy timeout) and goes through.
    holder = threading.Thread(target=hold_briefly)
    holder.start()
    assert acquired.wait(5)
    started = time.monotonic()
    response = live(client, url, action, "title_complement", "Après le verrou")
    waited = time.monotonic() - started
    holder.join()
    assert response.status_code == 200, response.text
    assert waited >= 0.25
    db.session.expire_all()
    assert action.title_complement == "Après le verrou"
    saved = snapshot()
    # A lock held longer than the app waits: 503 "occupée", nothing written.
    with write_lock_held(engine, action.id):
        started = time.monotonic()
        response = live(
            other_client(impatient_app, client), url, action, "title_complement", "Bloqué"
        )
        waited = time.monotonic() - started
    refused_fragment("La base de données est occupée par une autre écriture")(response)
    assert waited < 3
    assert snapshot() == saved


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-directory/portal.sqlite",
        "postgresql+psycopg://sofi@127.0.0.1:1/sofi",
    ],
    ids=["sqlite-file-missing", "postgresql-refused"],
)
def test_an_unreachable_database_still_gets_a_french_503(client, offer, make_app, url):
    gone = other_client(make_app(SQLALCHEMY_DATABASE_URI=url), client)
    # Even the signed-in user cannot be loaded: the French page, as a visitor would see it.
    page = gone.get(f"/actions/{offer['action'].id}")
    body = text_of(page)
    assert page.status_code == 503, body[:500]
    assert '<html lang="fr">' in body and "<h1>Base de données indisponible</h1>" in body
    assert "La base de données ne répond pas : la page ne peut pas être affichée." in body
    assert "Traceback" not in body
    action = offer["action"]
    save = live(gone, f"/actions/{action.id}/champ", action, "title_complement", "Perdu ?")
    refused_fragment()(save)
    public = gone.get("/catalogue/")
    assert public.status_code == 503 and '<html lang="fr">' in text_of(public)
