"""Public catalogue views: search, detail pages, open-data files. No login; published copy only."""

from __future__ import annotations

import json
from datetime import date, timedelta

from flask import Response, redirect, render_template, request, stream_with_context, url_for
from sqlalchemy import or_, select

from .. import codes
from ..extensions import db
from ..htmx import render_page_or_fragment, wants_fragment
from ..models import PublishedSession
from ..search.csv_export import csv_chunks
from ..search.normalise import MAX_ID, normalise
from . import bp, departments, public, query
from . import terms as T

# Open data follows the Etoile rule: sessions that ended more than 30 days ago are left out.
OPEN_DATA_GRACE_DAYS = 30


def _choices() -> dict:
    """The values the filters offer: those that published sessions have."""
    present = {
        name: query.distinct_values(db.session, T.FILTER_PREFIXES[name])
        for name in ("departement", "niveau", "public")
    }
    return {
        "programmes": query.programme_choices(db.session),
        "departments": [(c, departments.label(c)) for c in sorted(present["departement"])],
        "levels": [(c, public.level_label(c)) for c, _ in codes.LEVELS if c in present["niveau"]],
        "teaching_modes": [(c, public.teaching_mode_label(c)) for c, _ in codes.TEACHING_MODES],
        "publics": sorted(
            ((c, codes.PUBLIC_TARGETS.label(c, c)) for c in present["public"]),
            key=lambda item: normalise(item[1]),
        ),
    }


def parse_search(args, *, for_api: bool = False) -> query.CatalogueQuery:
    """Read the search of the query string; ``query.BadQuery`` when it cannot be run."""
    return query.parse(
        args,
        # Checked only when asked for: most searches have no programme.
        programmes=query.programme_ids(db.session) if args.get("programme") else None,
        departments=departments.NAMES,
        api=for_api,
    )


def action_url(row, _external: bool = False) -> str:
    return url_for(
        "catalogue.action",
        formation_id=row.formation_id,
        action_id=row.action_id,
        slug=public.slug(row.title),
        _external=_external,
    )


@bp.app_template_global("catalogue_action_url")
def _action_url_global(row) -> str:
    return action_url(row)


def _render_search(search: query.CatalogueQuery | None, results, status: int, error=None):
    context = dict(
        search=search or query.CatalogueQuery(),
        results=results,
        error=error,
        count_limit=query.COUNT_LIMIT,
        oob=wants_fragment(),
        public=public,
    )
    if not wants_fragment():
        context["choices"] = _choices()
    html = render_page_or_fragment(
        "catalogue/index.html", "catalogue/partials/results.html", **context
    )
    headers = {}
    if search is not None and wants_fragment():
        # The address bar gets the search without the form's empty fields.
        headers["HX-Push-Url"] = url_for("catalogue.index", **search.params())
    return html, status, headers


@bp.route("/")
def index():
    """Search the published sessions: words, filters, start-date order, pages.

    A GET form, so every search is a bookmarkable URL; htmx swaps the results only. A search
    that cannot run answers 400 with the reason; a page past the last one 404.
    """
    try:
        search = parse_search(request.args)
    except query.BadQuery as error:
        return _render_search(None, None, 400, error.message)
    results = query.search(db.session, search, date.today())
    if search.page > results.pages:
        message = (
            f"Cette page n'existe pas : la recherche compte {results.pages} page(s) de résultats."
        )
        return _render_search(search, None, 404, message)
    return _render_search(search, results, 200)


def _published(action_id: int) -> list[PublishedSession]:
    stmt = (
        select(PublishedSession)
        .where(PublishedSession.action_id == action_id, PublishedSession.active.is_(True))
        .order_by(PublishedSession.start_date, PublishedSession.session_id)
    )
    return list(db.session.scalars(stmt))


@bp.route("/formations/<int:formation_id>-<int:action_id>", defaults={"slug": None})
@bp.route("/formations/<int:formation_id>-<int:action_id>/<slug>")
def action(formation_id: int, action_id: int, slug: str | None):
    """The public page of one validated action with its sessions.

    The URL is stable (F-A numbers); the slug only reads well, and a missing or outdated one
    is corrected by a permanent redirect. 404 for anything not published.
    """
    rows = _published(action_id) if action_id <= MAX_ID else []
    if not rows or rows[0].formation_id != formation_id:
        return render_template("catalogue/not_found.html"), 404
    first = rows[0]
    canonical = public.slug(first.title)
    if slug != canonical:
        return redirect(action_url(first), 301)
    today = date.today()
    upcoming = [r for r in rows if not public.is_ended(r, today)]
    ended = [r for r in rows if public.is_ended(r, today)]
    return render_template(
        "catalogue/action.html",
        first=first,
        sections=public.page_sections(first),
        upcoming=upcoming,
        ended=ended,
        public=public,
        codes=codes,
        back=_safe_back(request.args.get("retour")),
    )


def _safe_back(value: str | None) -> str:
    """The search the visitor came from (a query string of the catalogue, nothing else)."""
    if value and value.startswith("?") and len(value) <= 600 and "\\" not in value:
        return url_for("catalogue.index") + value
    return url_for("catalogue.index")


@bp.route("/donnees-ouvertes")
def open_data():
    """What the open-data files hold, their formats and the API."""
    return render_template("catalogue/open_data.html", grace_days=OPEN_DATA_GRACE_DAYS)


def _open_data_rows():
    """Every published session of the open-data files, by session number, a batch at a time."""
    cutoff = date.today() - timedelta(days=OPEN_DATA_GRACE_DAYS)
    stmt = (
        select(PublishedSession)
        .where(
            PublishedSession.active.is_(True),
            or_(PublishedSession.end_date.is_(None), PublishedSession.end_date >= cutoff),
        )
        .order_by(PublishedSession.session_id)
        .execution_options(yield_per=500)
    )
    yield from db.session.scalars(stmt)


CSV_HEADER = (
    "code_fas",
    "session_id",
    "action_id",
    "formation_id",
    "intitule",
    "organisme",
    "siret",
    "lieu",
    "adresse",
    "code_postal",
    "commune",
    "departement",
    "date_debut",
    "date_fin",
    "modalite_enseignement",
    "niveau_sortie",
    "publics_vises",
    "formacodes",
    "programme",
    "places",
    "places_restantes",
    "etat_recrutement",
    "url",
)


def _csv_cells(row: PublishedSession) -> list:
    data = row.data or {}
    site = data.get("session_site") or {}
    total, left = public.places(data)
    programme = (data.get("formation") or {}).get("programme") or {}
    recruitment = (data.get("session") or {}).get("recruitment_state")
    return [
        row.fas_code,
        row.session_id,
        row.action_id,
        row.formation_id,
        row.title,
        row.establishment_name,
        (data.get("organisation") or {}).get("siret"),
        row.site_name,
        " ".join(p for p in (site.get("line1"), site.get("line2")) if p),
        row.postcode,
        row.commune,
        row.department,
        row.start_date,
        row.end_date,
        public.teaching_mode_label(row.teaching_mode),
        public.level_label(row.exit_level),
        ", ".join(codes.PUBLIC_TARGETS.label(c, c) for c in row.public_targets or []),
        " ".join(row.formacodes or []),
        programme.get("name"),
        total,
        left,
        codes.RECRUITMENT_STATES.label(recruitment),
        action_url(row, _external=True) + f"#session-{row.session_id}",
    ]


def _attachment(body, mimetype: str, filename: str) -> Response:
    response = Response(stream_with_context(body), mimetype=mimetype)
    stamp = date.today().strftime("%Y%m%d")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}"'
    return response


@bp.route("/donnees-ouvertes/sessions.csv")
def open_data_csv():
    """Every published session as CSV for spreadsheets: UTF-8 with BOM, ``;``, no formulas."""
    body = csv_chunks(CSV_HEADER, (_csv_cells(row) for row in _open_data_rows()))
    response = _attachment(body, "text/csv", "sessions-catalogue.csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return response


@bp.route("/donnees-ouvertes/sessions.json")
def open_data_json():
    """Every published session as a JSON array, each as the API's detail gives it."""

    def body():
        yield "[\n"
        for number, row in enumerate(_open_data_rows()):
            item = public.detail(row) | {"url": action_url(row, _external=True)}
            yield ("" if number == 0 else ",\n") + json.dumps(item, ensure_ascii=False)
        yield "\n]\n"

    return _attachment(body(), "application/json", "sessions-catalogue.json")


from . import api  # noqa: E402, F401
