"""LHEO 2.3 export of the published offer (public, open data) and LHEO import (OF users).

Export: ``GET /exports/lheo.xml?programme=&lot=&departement=`` streams the document (no login:
the published offer is public). An unknown parameter or a malformed value answers 400, an
unknown programme or lot 404, and so does a selection without any published session (an LHEO
document must hold at least one formation). ``GET /exports/lheo`` is the page that builds that
URL.

Import: ``/exports/lheo/import`` is for OF users, into the establishment selected in the header
(scoping). Carif-Oref staff get 403: they do not enter an establishment's offer, the same rule
as on the fiches (``offer.workflow.can_edit``). The file is imported as drafts all or nothing:
422 with the report when it has errors, 413 when it is too large, 200 with the report
otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import chain

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.utils import secure_filename

from ..errors import render_error
from ..extensions import db, login_manager
from ..forms import BaseForm
from ..lheo import export, writer
from ..lheo.importer import run_import
from ..lheo.reader import MAX_BYTES, size_label
from ..models import Lot, Programme
from ..models._base import utcnow
from ..scoping import require_establishment
from . import bp

NOTHING_PUBLISHED = (
    "Aucune session publiée ne correspond à ces critères : il n'y a rien à exporter "
    "(un fichier LHEO contient au moins une formation)."
)


class LheoImportForm(BaseForm):
    file = FileField("Fichier LHEO (XML)", validators=[FileRequired("Choisissez un fichier.")])


def _import_limit() -> int:
    return int(current_app.config.get("LHEO_IMPORT_MAX_BYTES", MAX_BYTES))


@bp.route("/lheo")
def lheo_page():
    """The export's page: what the file holds and a form that builds its URL."""
    programmes = db.session.scalars(
        select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
    ).all()
    lots = db.session.scalars(select(Lot).where(Lot.active.is_(True)).order_by(Lot.code)).all()
    return render_template("exports/lheo.html", programmes=programmes, lots=lots)


@bp.route("/lheo.xml")
def lheo_export():
    """Stream the published offer as LHEO 2.3, whole or filtered."""
    try:
        filters = export.parse_filters(request.args.to_dict(flat=False))
    except export.FilterError as error:
        return render_error(error.status, error.message)
    rows = export.published_rows(filters)
    first = next(rows, None)
    if first is None:
        rows.close()
        return render_error(404, NOTHING_PUBLISHED)
    today = date.today()

    def body() -> Iterator[bytes]:
        try:
            yield from writer.iter_lheo(
                chain([first], rows),
                today=today,
                exported_at=utcnow(),
                description=filters.description(),
            )
        finally:
            rows.close()  # releases the cursor even if the client went away

    response = Response(stream_with_context(body()), mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{filters.filename(today)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/lheo/import", methods=["GET", "POST"])
def lheo_import():
    """Import an LHEO 2.2/2.3 file into the current establishment's offer, as drafts."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.is_carif:
        abort(403)
    establishment = require_establishment()
    form = LheoImportForm()
    report, status = None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            report = run_import(
                upload.stream,
                establishment,
                user_id=current_user.id,
                filename=secure_filename(upload.filename or "") or upload.filename,
                max_bytes=_import_limit(),
            )
            status = report.status
        else:
            status = 422
    return render_template(
        "exports/lheo_import.html",
        form=form,
        report=report,
        establishment=establishment,
        limit=size_label(_import_limit()),
    ), status
