"""PDF catalogue views: the public "PDF" of a search, Carif-Oref generation, job polling.

Public (no login: a catalogue holds published data only, whoever asked for it):
``catalogue_pdf``, ``pdf_job``, ``pdf_download``. Carif-Oref only: ``pdf_catalogues`` (the
form and the latest catalogues) and ``pdf_generate``. Jobs and cache: ``portal.pdf.jobs``.

Settings (all optional): PDF_CACHE_DIR (default instance/pdf-cache), PDF_SYNC_MAX_SESSIONS
(public catalogues up to this many sessions are built in the request, default 200),
PDF_MAX_ACTIVE_JOBS (default 4), PDF_BUILD_RATE_LIMIT (builds per visitor, default
"30 per 10 minutes"), PDF_JOB_STALE_SECONDS, PDF_CACHE_MAX_AGE_SECONDS, PDF_JOB_RUNNER.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import ValidationError

from ..access import carif_required
from ..errors import render_error
from ..extensions import db, limiter
from ..forms import BaseForm
from ..htmx import render_page_or_fragment, wants_fragment
from ..models import Lot, Programme, PublishedSession
from ..pdf import jobs
from ..pdf.catalogue import describe, fingerprint
from ..pdf.filters import CatalogueFilters, FilterError, parse_filters
from . import bp

UNKNOWN_JOB = "Ce catalogue n'existe pas ou n'est plus disponible."
NOT_READY = "Ce catalogue n'est pas encore prêt : patientez puis réessayez."
TOO_MANY = "Trop de catalogues sont en cours de préparation. Réessayez dans quelques minutes."
DEFAULT_SYNC_MAX_SESSIONS = 200
DEFAULT_MAX_ACTIVE_JOBS = 4


def _store() -> jobs.JobStore:
    return jobs.JobStore.for_app(current_app)


def _send(store: jobs.JobStore, job: jobs.Job):
    name = f"catalogue-offre-formation-{job.today}-{job.id[:8]}.pdf"
    return send_file(
        store.pdf_path(job.id),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=name,
        max_age=0,
    )


def _find_job(job_id: str) -> tuple[jobs.JobStore, jobs.Job | None]:
    store = _store()
    # get() accepts only 32 hex digits: anything else (../, dots, slashes) is unknown.
    return store, store.get(job_id)


def _build_limit() -> str:
    return current_app.config.get("PDF_BUILD_RATE_LIMIT", "30 per 10 minutes")


def _started(response: Any) -> bool:
    # Count only requests that had to build: downloads from the cache stay unlimited.
    return bool(g.get("pdf_build_started"))


def _start(
    filters: CatalogueFilters, criteria: tuple[tuple[str, str], ...], *, inline_up_to: int
) -> jobs.Job | None:
    """The job of this catalogue, started if needed; None when too many are running."""
    today = date.today()
    store = _store()
    fp = fingerprint(filters, today)
    existing = store.get(jobs.job_id_for(filters, today, fp))
    if store.is_ready(existing) or (existing is not None and existing.pending):
        return existing
    inline = fp.count <= inline_up_to
    max_active = current_app.config.get("PDF_MAX_ACTIVE_JOBS", DEFAULT_MAX_ACTIVE_JOBS)
    if not inline and store.active_count() >= max_active:
        return None
    g.pdf_build_started = True
    runner = jobs.inline_runner if inline else jobs.configured_runner(current_app)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return jobs.start(app, store, filters, criteria, today, fp, runner)


@bp.get("/catalogue.pdf")
@limiter.limit(_build_limit, deduct_when=_started)
def catalogue_pdf():
    """The catalogue of a public search: the PDF itself when it is small or already built,
    else a page that follows its preparation."""
    try:
        filters = parse_filters(request.args)
        criteria = describe(filters)
    except FilterError as error:
        return render_error(400, error.message)
    inline_up_to = current_app.config.get("PDF_SYNC_MAX_SESSIONS", DEFAULT_SYNC_MAX_SESSIONS)
    job = _start(filters, criteria, inline_up_to=inline_up_to)
    if job is None:
        return render_error(429, TOO_MANY)
    store = _store()
    if store.is_ready(job):
        return _send(store, job)
    status = 500 if job.failed else 202
    return render_template("exports/pdf_job.html", job=job, ready=False), status


class CatalogueForm(BaseForm):
    """A Carif-Oref catalogue: by programme, lot and/or department (all optional)."""

    # default="": a select left out of the POST means "all", not an invalid choice.
    programme = SelectField("Programme", coerce=str, default="")
    lot = SelectField("Lot", coerce=str, default="")
    departement = SelectField("Département", coerce=str, default="")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
        lots = db.session.scalars(select(Lot).order_by(Lot.code)).all()
        departments = db.session.scalars(
            select(PublishedSession.department)
            .where(PublishedSession.department.is_not(None))
            .distinct()
            .order_by(PublishedSession.department)
        ).all()
        self.lot_programmes = {str(lot.id): lot.programme_id for lot in lots}
        self.programme.choices = [("", "Tous les programmes")] + [
            (str(p.id), p.name) for p in programmes
        ]
        self.lot.choices = [("", "Tous les lots")] + [(str(lot.id), lot.label) for lot in lots]
        self.departement.choices = [("", "Tous les départements")] + [(d, d) for d in departments]

    def validate_lot(self, field: SelectField) -> None:
        if (
            field.data
            and self.programme.data
            and (str(self.lot_programmes.get(field.data)) != self.programme.data)
        ):
            raise ValidationError("Ce lot n'appartient pas au programme choisi.")


def _catalogues_page(form: CatalogueForm, status: int = 200, error: str | None = None):
    recent = _store().jobs()[:10]
    return render_page_or_fragment(
        "exports/pdf_catalogues.html",
        "exports/partials/pdf_form.html",
        form=form,
        recent=recent,
        error=error,
    ), status


@bp.get("/catalogues")
@carif_required
def pdf_catalogues():
    """The Carif-Oref's catalogue generation: the form and the latest catalogues."""
    return _catalogues_page(CatalogueForm(formdata=None))


@bp.post("/catalogues")
@carif_required
def pdf_generate():
    """Start a catalogue in the background; 422 with the errors inline when invalid."""
    form = CatalogueForm()
    if not form.validate():
        return _catalogues_page(form, 422)
    filters = parse_filters(
        {
            "programme": form.programme.data,
            "lot": form.lot.data,
            "departement": form.departement.data,
        }
    )
    try:
        criteria = describe(filters)
    except FilterError as error:
        form.lot.errors = [error.message]
        return _catalogues_page(form, 422)
    job = _start(filters, criteria, inline_up_to=-1)
    if job is None:
        return _catalogues_page(form, 429, error=TOO_MANY)
    url = url_for("exports.pdf_job", job_id=job.id)
    if wants_fragment():
        response = current_app.response_class(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


@bp.get("/catalogues/<job_id>")
def pdf_job(job_id: str):
    """A job's progress: the page, or the fragment htmx polls every second until done."""
    store, job = _find_job(job_id)
    if job is None:
        return render_error(404, UNKNOWN_JOB)
    return render_page_or_fragment(
        "exports/pdf_job.html",
        "exports/partials/pdf_job.html",
        job=job,
        ready=store.is_ready(job),
    )


@bp.get("/catalogues/<job_id>.pdf")
def pdf_download(job_id: str):
    store, job = _find_job(job_id)
    if job is None:
        return render_error(404, UNKNOWN_JOB)
    if not store.is_ready(job):
        return render_error(404, NOT_READY)
    return _send(store, job)
