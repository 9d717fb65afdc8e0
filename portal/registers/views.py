"""Référentiels: upload → preview → confirm for every import, the runs' reports, and the
replacement of formations' Certif Info codes. Carif-Oref staff only.

Statuses: 422 for a refused upload or a file with errors (nothing can be committed); 409 when
the upload no longer exists (already imported, expired, another user's), when the database
changed since the preview (the new preview is shown; confirming again applies it) or when a
concurrent write made the commit roll back; 400 for a malformed token; 413 (Flask) above
MAX_CONTENT_LENGTH.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..editing import with_trigger
from ..errors import render_error
from ..extensions import db
from ..htmx import wants_fragment
from ..imports import region
from ..imports.common import ACTION_LABELS, ENTITY_LABELS
from ..imports.formacode import normalise_version
from ..imports.replacement import ReplacementError, find_replacement, replace_certification
from ..imports.runner import KINDS, commit_import, plan_import
from ..models import Certification, Formation, ImportRun, User
from ..validators import parse_int
from . import bp
from .forms import ReplacementForm, RowReplacementForm, UploadForm
from .uploads import (
    UploadRefused,
    claim,
    discard,
    load_upload,
    release,
    save_upload,
    valid_token,
)

KIND_SLUGS = "any(" + ", ".join(f'"{slug}"' for slug in KINDS) + ")"
GONE_MESSAGE = (
    "Ce dépôt n'existe plus : il a déjà été importé ou a expiré. Déposez le fichier à nouveau."
)
CHANGED_MESSAGE = (
    "Les données ont changé depuis l'aperçu (autre import ou saisie) : voici l'aperçu à jour. "
    "Vérifiez-le puis confirmez à nouveau."
)
PARIS = ZoneInfo("Europe/Paris")
PREVIEW_ROWS = 200
RECENT_RUNS = 20
REPLACEMENTS_PER_PAGE = 50


@bp.context_processor
def _labels() -> dict:
    return {
        "action_labels": ACTION_LABELS,
        "entity_labels": ENTITY_LABELS,
        "kinds": KINDS,
        "local_time": local_time,
    }


def local_time(value: datetime | None) -> str:
    """A stored UTC time as read in the Pays de la Loire (SQLite gives it back naive)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


@bp.route("/")
def index():
    """The imports, the last runs and the formations waiting for a new Certif Info code."""
    runs = list(
        db.session.scalars(
            select(ImportRun)
            .order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
            .limit(RECENT_RUNS)
        )
    )
    return render_template(
        "registers/index.html",
        runs=runs,
        users=_users_of(runs),
        to_recode=db.session.scalar(_to_recode_count()),
    )


# Upload, preview, commit --------------------------------------------------------------------


@bp.route(f"/imports/<{KIND_SLUGS}:slug>", methods=["GET", "POST"])
def upload(slug: str):
    """The upload form; a valid upload is stored and answered by a redirect to its preview."""
    kind = KINDS[slug]
    form = UploadForm()
    if request.method == "POST" and form.validate_on_submit():
        options, ok = {}, True
        if slug == "formacode":
            try:
                options["version"] = normalise_version(form.version.data)
            except ValueError as error:
                form.version.errors.append(str(error))
                ok = False
        if ok:
            try:
                stored = save_upload(kind, request.files.getlist(form.files.name), options, _me())
            except UploadRefused as refused:
                form.files.errors.append(str(refused))
            else:
                return redirect(url_for(".preview", slug=slug, token=stored.token), 303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "registers/upload.html", kind=kind, form=form, sheets=region.SHEETS
    ), status


@bp.route(f"/imports/<{KIND_SLUGS}:slug>/apercu/<token>")
def preview(slug: str, token: str):
    """What the stored file would change, with its row-numbered errors (422 if any)."""
    kind = KINDS[slug]
    if not valid_token(token):
        abort(404)
    stored = load_upload(token, kind, _me())
    if stored is None:
        return render_error(409, GONE_MESSAGE)
    plan = plan_import(kind, stored.paths, stored.meta["options"])
    db.session.rollback()  # planning only reads; release what it loaded
    stored.meta["digest"] = plan.digest() if plan.ok else None
    stored.save_meta()
    return _render_preview(kind, stored, plan, 200 if plan.ok else 422)


@bp.route(f"/imports/<{KIND_SLUGS}:slug>/confirmer", methods=["POST"])
def commit(slug: str):
    """Apply the stored file all-or-nothing, if it still gives the previewed plan."""
    kind = KINDS[slug]
    token = request.form.get("token", "")
    if not valid_token(token):
        abort(400)
    stored = load_upload(token, kind, _me())
    if stored is None:
        return render_error(409, GONE_MESSAGE)
    try:
        stored = claim(stored)
    except OSError:  # a concurrent confirmation took it first
        return render_error(409, GONE_MESSAGE)
    result = commit_import(
        kind,
        stored.paths,
        stored.meta["options"],
        filename=stored.filename,
        user_id=_me(),
        # A plan never previewed has no digest and is never applied.
        expected_digest=stored.meta.get("digest") or "",
    )
    if result.status == "committed":
        discard(stored)
        flash(f"Import enregistré : {result.plan.summary()}.", "success")
        return redirect(url_for(".run", run_id=result.run.id), 303)
    stored = release(stored)
    if result.status == "changed":
        stored.meta["digest"] = result.plan.digest()
        stored.save_meta()
        return _render_preview(kind, stored, result.plan, 409, notice=CHANGED_MESSAGE)
    if result.status == "invalid":
        stored.meta["digest"] = None
        stored.save_meta()
        return _render_preview(kind, stored, result.plan, 422)
    # A concurrent write: 409; a database that refused to write (read-only, full, down): 503.
    status = {"conflict": 409, "unavailable": 503}.get(result.status, 500)
    return _render_preview(kind, stored, result.plan, status, notice=result.message)


def _render_preview(kind, stored, plan, status: int, notice: str | None = None):
    return render_template(
        "registers/preview.html",
        kind=kind,
        upload=stored,
        plan=plan,
        notice=notice,
        limit=PREVIEW_ROWS,
    ), status


@bp.route("/imports/historique/<int:run_id>")
def run(run_id: int):
    """The report of one import run."""
    record = db.get_or_404(ImportRun, run_id)
    return render_template(
        "registers/run.html",
        run=record,
        changes=_grouped((record.report or {}).get("changes", [])),
        kind=KINDS.get(record.kind),
        user=db.session.get(User, record.user_id) if record.user_id else None,
    )


@bp.route("/imports/region/modele.xlsx")
def region_template():
    """An empty Region workbook with every sheet and column, and a "Lisez-moi" sheet."""
    buffer = io.BytesIO()
    region.write_xlsx(buffer, {})
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="modele-extraction-region.xlsx",
    )


# Certif Info code replacement ---------------------------------------------------------------


def _to_recode():
    return (
        select(Formation)
        .join(Formation.certification)
        .where(Formation.has_certif_info.is_(True), Certification.archived.is_(True))
    )


def _to_recode_count():
    return _to_recode().with_only_columns(func.count(Formation.id)).order_by(None)


def _replacements_context(form: ReplacementForm | None = None) -> dict:
    page = parse_int(request.args.get("page", "1"), minimum=1)
    if page is None:
        abort(400)
    stmt = _to_recode().options(
        joinedload(Formation.certification), joinedload(Formation.establishment)
    )
    pagination = db.paginate(
        stmt.order_by(Formation.id), page=page, per_page=REPLACEMENTS_PER_PAGE, error_out=False
    )
    recent = db.session.scalars(
        select(Formation)
        .where(Formation.certif_replaced_at.is_not(None))
        .options(joinedload(Formation.certification), joinedload(Formation.establishment))
        .order_by(Formation.certif_replaced_at.desc(), Formation.id.desc())
        .limit(RECENT_RUNS)
    )
    return {
        "form": form or ReplacementForm(formdata=None),
        "pagination": pagination,
        "row_forms": {
            f.id: RowReplacementForm(
                formdata=None, prefix=f"f{f.id}", code=f.certification.replaced_by_code
            )
            for f in pagination.items
        },
        "recent": list(recent),
    }


@bp.route("/certifinfo/remplacements", methods=["GET", "POST"])
def replacements():
    """Formations whose Certif Info code is archived, and a form to replace any formation's
    code by its number."""
    form = ReplacementForm() if request.method == "POST" else None
    if form is not None and form.validate_on_submit():
        formation = db.session.get(Formation, form.formation_id.data)
        if formation is None:
            form.formation_id.errors.append(f"Formation {form.formation_id.data} introuvable.")
        else:
            done = _replace(formation, form.code)
            if done:
                flash(done, "success")
                return redirect(url_for(".replacements"), 303)
    status = 422 if form is not None else 200
    return render_template("registers/replacements.html", **_replacements_context(form)), status


@bp.route("/formations/<int:formation_id>/certifinfo", methods=["POST"])
def replace_formation(formation_id: int):
    """Replace one formation's code from its row; htmx gets the row back (422 with the error)."""
    formation = db.get_or_404(Formation, formation_id)
    form = RowReplacementForm(prefix=f"f{formation.id}")
    done = _replace(formation, form.code) if form.validate_on_submit() else None
    if wants_fragment():
        body = render_template(
            "registers/partials/replacement_row.html", formation=formation, form=form, done=done
        )
        return with_trigger(body, done) if done else (body, 422)
    if done:
        flash(done, "success")
        return redirect(url_for(".replacements"), 303)
    context = _replacements_context()
    context["row_forms"][formation.id] = form
    context["row_error"] = f"Formation {formation.id} : {' '.join(form.code.errors)}"
    return render_template("registers/replacements.html", **context), 422


def _replace(formation: Formation, field) -> str | None:
    """Replace and commit; the success message, or None with the error on ``field``."""
    try:
        certification = find_replacement(formation, field.data)
    except ReplacementError as error:
        field.errors.append(str(error))
        return None
    old = replace_certification(formation, certification)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        field.errors.append("La formation a été modifiée entre-temps : rechargez la page.")
        return None
    return f"Formation {formation.id} : code Certif Info {old} remplacé par {certification.code}."


def _grouped(changes: list[dict]) -> list[tuple[str, list[tuple[str, list[dict]]]]]:
    """A report's changes as the preview shows them: by kind of record, then by action."""
    groups: dict[str, dict[str, list[dict]]] = {}
    for change in changes:
        groups.setdefault(change["entity"], {}).setdefault(change["action"], []).append(change)
    entities = sorted(
        groups, key=lambda e: list(ENTITY_LABELS).index(e) if e in ENTITY_LABELS else 99
    )
    return [(e, [(a, groups[e][a]) for a in ACTION_LABELS if a in groups[e]]) for e in entities]


def _me() -> int:
    return current_user.id


def _users_of(runs: list[ImportRun]) -> dict[int, User]:
    ids = {r.user_id for r in runs if r.user_id}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
