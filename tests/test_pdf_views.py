"""PDF catalogues over HTTP: public download, cache, background jobs and their polling,
Carif-Oref generation, and the refusals (bad filters, bad job ids, roles)."""

from __future__ import annotations

import html
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import portal.pdf.jobs as jobs_module
from portal.extensions import db
from portal.models import ActionStatus
from portal.review.decisions import validate

from .test_pdf_catalogue import pdf_file, pdf_text, publish_offer

URL = "/exports/catalogue.pdf"


class DeferredRunner:
    """A job runner that keeps the tasks until the test runs them."""

    def __init__(self):
        self.tasks = []

    def __call__(self, task):
        self.tasks.append(task)

    def run_all(self):
        while self.tasks:
            self.tasks.pop(0)()


@pytest.fixture
def cache_dir(app, tmp_path, monkeypatch) -> Path:
    """Catalogues and job statuses in a temporary folder, never the real instance folder."""
    path = tmp_path / "pdf-cache"
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(path))
    return path


@pytest.fixture
def runner(app, cache_dir, monkeypatch) -> DeferredRunner:
    deferred = DeferredRunner()
    monkeypatch.setitem(app.config, "PDF_JOB_RUNNER", deferred)
    return deferred


@pytest.fixture
def background(app, monkeypatch):
    """Every catalogue, however small, goes through a background job."""
    monkeypatch.setitem(app.config, "PDF_SYNC_MAX_SESSIONS", 0)


@pytest.fixture
def builds(monkeypatch) -> list:
    """Record each catalogue actually built (cache misses)."""
    calls = []
    real = jobs_module.write_catalogue

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs_module, "write_catalogue", counting)
    return calls


@pytest.fixture
def offer(app, make_establishment):
    return publish_offer(
        app,
        make_establishment(name="Organisme Nantais"),
        "Titre professionnel assistant ressources humaines",
    )


@pytest.fixture
def client(client):
    """The test client, closing each response: a PDF is streamed from its cache file."""

    class Closing(type(client)):
        def open(self, *args, **kwargs):
            response = super().open(*args, **kwargs)
            response.get_data()
            response.close()
            return response

    client.__class__ = Closing
    return client


def job_id_of(html: str) -> str:
    import re

    return re.search(r"/exports/catalogues/([0-9a-f]{32})", html).group(1)


def test_small_public_catalogue_is_downloaded_directly_without_login(
    client, runner, offer, tmp_path
):
    response = client.get(URL, query_string={"departement": "44"})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(pdf_file(response.data, tmp_path))
    assert "Titre professionnel assistant ressources humaines" in text
    assert "Département : 44" in text
    assert not runner.tasks  # built inline, no background job


def test_second_request_is_served_from_the_cache(client, runner, offer, builds):
    first = client.get(URL)
    second = client.get(URL)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert len(builds) == 1


def test_cache_is_invalidated_when_the_published_data_changes(
    app, client, runner, offer, builds, make_establishment, tmp_path
):
    client.get(URL)
    publish_offer(app, make_establishment(), "Boulangerie pâtisserie")
    response = client.get(URL)
    assert len(builds) == 2
    assert "Boulangerie pâtisserie" in pdf_text(pdf_file(response.data, tmp_path))
    # Withdrawing an action also changes what the catalogue lists.
    from portal.publication import unpublish  # (imported here: portal.publication is cyclic)

    unpublish(offer["action"])
    db.session.commit()
    response = client.get(URL)
    assert len(builds) == 3
    assert "ressources humaines" not in pdf_text(pdf_file(response.data, tmp_path))
    # Validating again a new version (same rows, new publication time) rebuilds too.
    action = offer["action"]
    action.status = ActionStatus.SUBMITTED
    db.session.commit()
    with app.test_request_context():
        validate(action)
        db.session.commit()
    client.get(URL)
    assert len(builds) == 4


def test_large_catalogue_is_built_in_the_background_with_a_polled_progress_bar(
    client, runner, background, offer, hx, tmp_path
):
    response = client.get(URL)
    assert response.status_code == 202
    assert response.mimetype == "text/html"
    page = response.text
    job_id = job_id_of(page)
    assert "<html" in page and "<progress" in page
    assert f'hx-get="/exports/catalogues/{job_id}"' in page and 'hx-trigger="every 1s"' in page
    assert len(runner.tasks) == 1

    # Asking again while it waits does not start a second job.
    assert job_id_of(client.get(URL).text) == job_id and len(runner.tasks) == 1

    status = client.get(f"/exports/catalogues/{job_id}", headers=hx)
    assert status.status_code == 200
    assert "<html" not in status.text and 'value="0"' in status.text
    assert "HX-Request" in status.headers["Vary"]
    assert client.get(f"/exports/catalogues/{job_id}.pdf").status_code == 404  # not ready

    runner.run_all()
    done = client.get(f"/exports/catalogues/{job_id}", headers=hx)
    assert "hx-trigger" not in done.text  # polling stops
    assert "Le catalogue est prêt" in done.text
    assert f'href="/exports/catalogues/{job_id}.pdf"' in done.text
    download = client.get(f"/exports/catalogues/{job_id}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "ressources humaines" in pdf_text(pdf_file(download.data, tmp_path))
    # Once built, the same search downloads the PDF at once.
    assert client.get(URL).mimetype == "application/pdf"
    # The full page (no htmx) shows the same state.
    assert "Télécharger le catalogue" in client.get(f"/exports/catalogues/{job_id}").text


def test_progress_is_polled_while_a_thread_builds_the_catalogue(
    app, client, cache_dir, background, offer, hx, monkeypatch
):
    threads, halfway, release = [], threading.Event(), threading.Event()

    def thread_runner(task):
        thread = threading.Thread(target=task)
        threads.append(thread)
        thread.start()

    real = jobs_module.write_catalogue

    def slow(filters, out, *, today, progress):
        def report(percent):
            progress(percent)
            if percent >= 40 and not halfway.is_set():
                halfway.set()
                release.wait(10)

        return real(filters, out, today=today, progress=report)

    monkeypatch.setitem(app.config, "PDF_JOB_RUNNER", thread_runner)
    monkeypatch.setattr(jobs_module, "write_catalogue", slow)
    monkeypatch.setattr(jobs_module, "PROGRESS_INTERVAL", 0)
    job_id = job_id_of(client.get(URL).text)
    try:
        assert halfway.wait(10)
        running = client.get(f"/exports/catalogues/{job_id}", headers=hx).text
        assert "Préparation du catalogue" in running
        assert 'hx-trigger="every 1s"' in running
        assert 0 < int(running.split('value="')[1].split('"')[0]) < 100
    finally:
        release.set()
        for thread in threads:
            thread.join(10)
    done = client.get(f"/exports/catalogues/{job_id}", headers=hx).text
    assert "Le catalogue est prêt" in done


def test_a_crashed_job_reports_a_french_error_and_can_be_restarted(
    client, runner, background, offer, hx, monkeypatch, caplog
):
    real, broken = jobs_module.write_catalogue, [True]

    def crash_once(*args, **kwargs):
        if broken:
            broken.pop()
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs_module, "write_catalogue", crash_once)
    job_id = job_id_of(client.get(URL).text)
    runner.run_all()
    failed = client.get(f"/exports/catalogues/{job_id}", headers=hx)
    assert failed.status_code == 200  # swapped in, and the polling stops
    assert "hx-trigger" not in failed.text
    assert 'role="alert"' in failed.text and "La génération du catalogue a échoué" in failed.text
    assert "disk full" not in failed.text
    assert "PDF catalogue job" in caplog.text
    assert f'href="{URL}"' in failed.text  # "Relancer la génération"
    assert client.get(f"/exports/catalogues/{job_id}.pdf").status_code == 404

    assert job_id_of(client.get(URL).text) == job_id  # the same job, started again
    runner.run_all()
    assert "Le catalogue est prêt" in client.get(f"/exports/catalogues/{job_id}", headers=hx).text


def test_an_interrupted_job_is_reported_then_started_again(
    client, runner, background, offer, cache_dir, hx
):
    job_id = job_id_of(client.get(URL).text)
    runner.tasks.clear()  # the worker "died" before running it
    status_file = cache_dir / f"{job_id}.json"
    status = json.loads(status_file.read_text())
    status["updated_at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    status_file.write_text(json.dumps(status))
    polled = client.get(f"/exports/catalogues/{job_id}", headers=hx).text
    assert "La génération du catalogue a été interrompue" in polled
    client.get(URL)
    assert len(runner.tasks) == 1
    runner.run_all()
    assert "Le catalogue est prêt" in client.get(f"/exports/catalogues/{job_id}", headers=hx).text


def test_too_many_jobs_at_once_answers_429(app, client, runner, background, offer, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_MAX_ACTIVE_JOBS", 1)
    assert client.get(URL).status_code == 202
    response = client.get(URL, query_string={"departement": "44"})
    assert response.status_code == 429
    assert "Trop de catalogues sont en cours de préparation" in response.text


@pytest.mark.parametrize(
    "query",
    [
        {"programme": "abc"},
        {"programme": "999999"},
        {"lot": "1e3"},
        {"departement": "100"},
        {"du": "2024-13-01"},
        {"du": "2024-03-01", "au": "2024-02-01"},
        {"q": "x" * 300},
    ],
)
def test_junk_filters_answer_400_in_french(client, runner, query):
    response = client.get(URL, query_string=query)
    assert response.status_code == 400
    assert "invalide" in response.text or "inconnu" in response.text or "trop" in response.text
    assert not runner.tasks


@pytest.mark.parametrize(
    "job_id",
    [
        "x",
        "0" * 31,
        "0" * 33,
        "A" * 32,
        "g" * 32,
        "..%2F..%2F..%2Fconfig",
        "%2e%2e",
        "0123456789abcdef0123456789abcdef",  # well formed, unknown
    ],
)
@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_bad_or_unknown_job_ids_answer_404(client, cache_dir, job_id, suffix):
    response = client.get(f"/exports/catalogues/{job_id}{suffix}")
    assert response.status_code == 404
    assert "Page introuvable" in response.text or "n'existe pas" in response.text


def test_job_ids_cannot_reach_files_outside_the_cache(client, cache_dir, app):
    secret = cache_dir.parent / "secret.json"
    secret.write_text("{}")
    for job_id in ("..%2Fsecret", "../secret"):
        assert client.get(f"/exports/catalogues/{job_id}").status_code == 404


# Carif-Oref generation ------------------------------------------------------------------------


def test_generation_is_for_the_carif_role_only(client, auth, of_user, runner):
    for method, path in (("GET", "/exports/catalogues"), ("POST", "/exports/catalogues")):
        anonymous = client.open(path, method=method)
        assert anonymous.status_code == 302
        assert anonymous.location.startswith("/connexion?next=")
    auth.login(of_user[0])
    assert client.get("/exports/catalogues").status_code == 403
    response = client.post("/exports/catalogues", data={"departement": "44"})
    assert response.status_code == 403 and "Accès refusé" in response.text
    assert not runner.tasks


def test_carif_generates_a_catalogue_by_programme_in_the_background(
    client, auth, carif_user, runner, offer, hx, tmp_path
):
    auth.login(carif_user)
    page = client.get("/exports/catalogues")
    assert page.status_code == 200
    assert "Générer le catalogue" in page.text and offer["programme"].name in page.text
    response = client.post("/exports/catalogues", data={"programme": offer["programme"].id})
    assert response.status_code == 303
    job_page = client.get(response.location)
    assert "<progress" in job_page.text and offer["programme"].name in job_page.text
    assert len(runner.tasks) == 1  # even a small one: generation always runs in the background
    runner.run_all()
    job_id = response.location.rsplit("/", 1)[1]
    download = client.get(f"/exports/catalogues/{job_id}.pdf")
    text = pdf_text(pdf_file(download.data, tmp_path))
    assert f"Programme : {offer['programme'].name}" in text
    # The latest catalogues are listed with their state.
    listing = client.get("/exports/catalogues").text
    assert f"/exports/catalogues/{job_id}" in listing and "Prêt" in listing


def test_carif_generation_with_htmx_redirects_to_the_job(
    client, auth, carif_user, runner, offer, hx
):
    auth.login(carif_user)
    response = client.post(
        "/exports/catalogues", data={"lot": offer["lot"].id, "departement": "44"}, headers=hx
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/exports/catalogues/")


def test_carif_generation_rejects_a_lot_of_another_programme_inline(
    client, auth, carif_user, runner, offer, make_programme, hx
):
    auth.login(carif_user)
    other = make_programme()
    response = client.post(
        "/exports/catalogues", data={"programme": other.id, "lot": offer["lot"].id}, headers=hx
    )
    assert response.status_code == 422
    assert "<html" not in response.text and 'id="pdf-form"' in response.text
    assert "Ce lot n'appartient pas au programme choisi." in html.unescape(response.text)
    unknown = client.post("/exports/catalogues", data={"departement": "99"}, headers=hx)
    assert unknown.status_code == 422
    assert not runner.tasks
