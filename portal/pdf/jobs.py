"""Catalogue jobs and their cache: plain files under the instance folder, shared by workers.

    <root>/<id>.json   the job's status (state, progress, message…), replaced atomically
    <root>/<id>.pdf    the catalogue, once built

A job id is a hash of the filters, the day and the fingerprint of the published rows they
select. The same catalogue asked twice — by anyone, in any gunicorn worker — is therefore the
same job and is built once; a validation or a withdrawal changes the fingerprint, hence the
id, so a stale PDF is never served (old entries are pruned by age). The status file is
created with an atomic link, so two workers cannot both start the same job.

A job runs in a background thread with its own app context (``thread_runner``); tests and
small catalogues run it inline. The runner is a plain callable taking the task, taken from
``app.config["PDF_JOB_RUNNER"]`` when set.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask

from .catalogue import Fingerprint, write_catalogue
from .filters import CatalogueFilters, parse_filters

# Bump when the layout changes, so that cached catalogues are built again.
BUILDER_VERSION = "1"
JOB_ID = re.compile(r"[0-9a-f]{32}")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATE_LABELS = {QUEUED: "En attente", RUNNING: "En préparation", DONE: "Prêt", FAILED: "Échec"}
FAILED_MESSAGE = (
    "La génération du catalogue a échoué. Relancez-la ; si le problème persiste, "
    "contactez le service Offre du Carif-Oref."
)
INTERRUPTED_MESSAGE = "La génération du catalogue a été interrompue. Relancez-la."
DEFAULT_STALE_SECONDS = 300
DEFAULT_MAX_AGE_SECONDS = 7 * 24 * 3600
PROGRESS_INTERVAL = 0.5  # seconds between two status writes while a job runs

_PARIS = ZoneInfo("Europe/Paris")

Runner = Callable[[Callable[[], None]], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    id: str
    state: str
    args: dict[str, str]  # the filters, as a query string
    criteria: list[list[str]]  # [label, value] pairs shown to the user
    today: str
    sessions: int = 0
    progress: int = 0
    pages: int | None = None
    size: int | None = None
    message: str | None = None
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)

    @property
    def pending(self) -> bool:
        return self.state in (QUEUED, RUNNING)

    @property
    def done(self) -> bool:
        return self.state == DONE

    @property
    def failed(self) -> bool:
        return self.state == FAILED

    def age(self) -> float:
        """Seconds since the job last reported progress."""
        return (datetime.now(UTC) - datetime.fromisoformat(self.updated_at)).total_seconds()

    @property
    def filters(self) -> CatalogueFilters:
        return parse_filters(self.args)

    @property
    def day(self) -> date:
        return date.fromisoformat(self.today)

    @property
    def state_label(self) -> str:
        if self.pending:
            return f"En préparation ({self.progress} %)"
        return STATE_LABELS[self.state]

    @property
    def created_label(self) -> str:
        local = datetime.fromisoformat(self.created_at).astimezone(_PARIS)
        return local.strftime("%d/%m/%Y à %H:%M")

    @property
    def size_label(self) -> str:
        size = self.size or 0
        if size < 1024 * 1024:
            return f"{max(1, round(size / 1024))} ko"
        return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def job_id_for(filters: CatalogueFilters, today: date, fp: Fingerprint) -> str:
    key = json.dumps(
        {
            "v": BUILDER_VERSION,
            "filters": filters.to_args(),
            "today": today.isoformat(),
            "rows": [fp.count, fp.token],
        },
        sort_keys=True,
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class JobStore:
    """The status and PDF files of the jobs under ``root``."""

    def __init__(
        self,
        root: Path,
        *,
        stale_after: float = DEFAULT_STALE_SECONDS,
        max_age: float = DEFAULT_MAX_AGE_SECONDS,
    ):
        self.root = root
        self.stale_after = stale_after
        self.max_age = max_age
        root.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_app(cls, app: Flask) -> JobStore:
        root = app.config.get("PDF_CACHE_DIR") or Path(app.instance_path) / "pdf-cache"
        return cls(
            Path(root),
            stale_after=app.config.get("PDF_JOB_STALE_SECONDS", DEFAULT_STALE_SECONDS),
            max_age=app.config.get("PDF_CACHE_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS),
        )

    def status_path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.json"

    def pdf_path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.pdf"

    def get(self, job_id: str) -> Job | None:
        """The job, or None for a malformed or unknown id (never a path outside ``root``)."""
        if not JOB_ID.fullmatch(job_id):
            return None
        try:
            data = json.loads(self.status_path(job_id).read_text(encoding="utf-8"))
            job = Job(**data)
        except (OSError, ValueError, TypeError):
            return None
        if job.pending and job.age() > self.stale_after:
            # Its worker died (restart, crash): say so, and let the next request start again.
            job.state, job.message = FAILED, INTERRUPTED_MESSAGE
        return job

    def is_ready(self, job: Job | None) -> bool:
        return job is not None and job.done and self.pdf_path(job.id).is_file()

    def _tmp(self, suffix: str) -> Path:
        return self.root / f".tmp-{uuid.uuid4().hex}{suffix}"

    def save(self, job: Job) -> None:
        job.updated_at = _now()
        tmp = self._tmp(".json")
        tmp.write_text(json.dumps(asdict(job), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.status_path(job.id))

    def create(self, job: Job) -> bool:
        """Write a new status file; False if the job exists (another request started it)."""
        tmp = self._tmp(".json")
        tmp.write_text(json.dumps(asdict(job), ensure_ascii=False), encoding="utf-8")
        try:
            os.link(tmp, self.status_path(job.id))  # atomic, and fails if the file exists
        except FileExistsError:
            return False
        finally:
            tmp.unlink()
        return True

    def retire(self, job_id: str) -> None:
        """Move a failed or interrupted job's status away so that it can be started again."""
        with contextlib.suppress(FileNotFoundError):  # another request retired it first
            os.replace(self.status_path(job_id), self._tmp(".retired"))

    def jobs(self) -> list[Job]:
        found = (self.get(p.stem) for p in self.root.glob("*.json"))
        return sorted((j for j in found if j), key=lambda j: j.created_at, reverse=True)

    def active_count(self) -> int:
        return sum(1 for job in self.jobs() if job.pending)

    def prune(self) -> None:
        """Delete catalogues and statuses older than ``max_age``, and leftover temp files."""
        limit = time.time() - self.max_age
        for path in self.root.iterdir():
            try:
                if path.stat().st_mtime < limit or (
                    path.name.startswith(".tmp-") and path.stat().st_mtime < time.time() - 3600
                ):
                    path.unlink()
            except FileNotFoundError:
                continue


class _Reporter:
    """Save the job's progress, at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, store: JobStore, job: Job):
        self.store = store
        self.job = job
        self.last = 0.0

    def __call__(self, percent: int) -> None:
        now = time.monotonic()
        if percent != self.job.progress and now - self.last >= PROGRESS_INTERVAL:
            self.job.progress = min(percent, 99)
            self.store.save(self.job)
            self.last = now


def run_job(app: Flask, store: JobStore, job_id: str) -> None:
    """Build the job's catalogue in an app context of its own; record success or failure."""
    job = store.get(job_id)
    if job is None or not job.pending:
        return
    tmp = store._tmp(".pdf")
    with app.app_context():
        try:
            job.state = RUNNING
            store.save(job)
            with tmp.open("wb") as out:
                result = write_catalogue(
                    job.filters,
                    out,
                    today=date.fromisoformat(job.today),
                    progress=_Reporter(store, job),
                )
            os.replace(tmp, store.pdf_path(job_id))
            job.state, job.progress = DONE, 100
            job.pages, job.size = result.pages, store.pdf_path(job_id).stat().st_size
            store.save(job)
        except Exception:
            # The app's logger: module loggers are disabled by Alembic's fileConfig.
            app.logger.exception("PDF catalogue job %s failed", job_id)
            tmp.unlink(missing_ok=True)
            job.state, job.message = FAILED, FAILED_MESSAGE
            store.save(job)


def thread_runner(task: Callable[[], None]) -> None:
    """Run ``task`` in a daemon thread (a job of a restarted worker is reported stale)."""
    threading.Thread(target=task, name="pdf-catalogue", daemon=True).start()


def inline_runner(task: Callable[[], None]) -> None:
    task()


def configured_runner(app: Flask) -> Runner:
    return app.config.get("PDF_JOB_RUNNER") or thread_runner


def start(
    app: Flask,
    store: JobStore,
    filters: CatalogueFilters,
    criteria: tuple[tuple[str, str], ...],
    today: date,
    fp: Fingerprint,
    runner: Runner,
) -> Job:
    """Return the job of this catalogue, starting it with ``runner`` unless it is done or
    already running (in this worker or another)."""
    job_id = job_id_for(filters, today, fp)
    for _ in range(3):
        job = store.get(job_id)
        if store.is_ready(job) or (job is not None and job.pending):
            return job
        if job is not None:  # failed, interrupted, or its PDF was pruned
            store.retire(job_id)
        new = Job(
            id=job_id,
            state=QUEUED,
            args=filters.to_args(),
            criteria=[list(c) for c in criteria],
            today=today.isoformat(),
            sessions=fp.count,
        )
        if store.create(new):
            store.prune()
            runner(lambda: run_job(app, store, job_id))
            return store.get(job_id) or new
    # Three lost races in a row: someone else is (re)starting it; report what is there.
    return store.get(job_id) or new
