"""The annuaire: sites, contacts and portes ouvertes edited inline, and the establishment record.

The three kinds of record share one set of views, parametrised by a ``Kind``; their templates
differ only in their columns and fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import geo
from ..access import carif_required
from ..editing import STALE_MESSAGE, is_stale, with_trigger
from ..extensions import db
from ..htmx import wants_fragment
from ..models import Contact, OpenDay, Site
from ..scoping import get_scoped_or_404, require_establishment, scoped
from . import bp
from .forms import ContactForm, EstablishmentForm, OpenDayForm, SiteForm
from .usage import contact_usages, site_usages


@dataclass(frozen=True)
class Kind:
    slug: str
    name: str  # template and element-id prefix
    model: type
    form: type
    title: str
    added: str
    updated: str
    deleted: str
    in_use: str
    used_by: str
    usages: Callable[[Any], list[str]] | None
    order_by: tuple

    def form_for(self, record=None, *, formdata=None, creating=False) -> Any:
        prefix = f"{self.name}-{record.id if record is not None else 'new'}"
        # formdata=None explicitly: Flask-WTF would otherwise read request.form by itself.
        kwargs: dict[str, Any] = {"prefix": prefix, "obj": record, "formdata": formdata}
        if self.model is OpenDay:
            kwargs["sites"] = active_sites()
            kwargs["creating"] = creating
        return self.form(**kwargs)


KINDS = {
    k.slug: k
    for k in (
        Kind(
            "sites",
            "site",
            Site,
            SiteForm,
            "Sites",
            "Site ajouté",
            "Site enregistré",
            "Site supprimé",
            "Ce site ne peut pas être supprimé",
            "il est utilisé par",
            site_usages,
            (Site.active.desc(), Site.name),
        ),
        Kind(
            "contacts",
            "contact",
            Contact,
            ContactForm,
            "Contacts et référents",
            "Contact ajouté",
            "Contact enregistré",
            "Contact supprimé",
            "Ce contact ne peut pas être supprimé",
            "il est référent ou contact de",
            contact_usages,
            (Contact.active.desc(), Contact.last_name, Contact.first_name),
        ),
        Kind(
            "portes-ouvertes",
            "open_day",
            OpenDay,
            OpenDayForm,
            "Portes ouvertes",
            "Porte ouverte ajoutée",
            "Porte ouverte enregistrée",
            "Porte ouverte supprimée",
            "",
            "",
            None,
            (OpenDay.day, OpenDay.start_time),
        ),
    )
}
KIND_SLUGS = "any(" + ", ".join(f'"{slug}"' for slug in KINDS) + ")"


def kind_or_404(slug: str) -> Kind:
    return KINDS[slug]


def active_sites() -> list[Site]:
    stmt = scoped(select(Site), Site).where(Site.active.is_(True)).order_by(Site.name)
    return list(db.session.scalars(stmt))


def section_context(kind: Kind, **extra: Any) -> dict[str, Any]:
    records = list(
        db.session.scalars(scoped(select(kind.model), kind.model).order_by(*kind.order_by))
    )
    context: dict[str, Any] = {"kind": kind, "records": records, "today": date.today()}
    if kind.model is OpenDay:
        context["upcoming"] = [r for r in records if r.day >= context["today"]]
        context["past"] = [r for r in records if r.day < context["today"]]
        context["has_sites"] = bool(active_sites())
    return context | extra


def render_section(kind: Kind, **extra: Any) -> str:
    return render_template(
        f"directory/partials/{kind.name}_section.html", **section_context(kind, **extra)
    )


def render_row(kind: Kind, record: Any) -> str:
    return render_template(
        f"directory/partials/{kind.name}_row.html", kind=kind, record=record, today=date.today()
    )


def render_edit(kind: Kind, record: Any, form: Any, *, message: str | None = None) -> str:
    template = "directory/partials/edit_row.html" if wants_fragment() else "directory/edit.html"
    return render_template(template, kind=kind, record=record, form=form, message=message)


def back_to_section(kind: Kind):
    return redirect(url_for("directory.index", _anchor=kind.slug))


@bp.route("/")
def index():
    """The annuaire of the current establishment: its record, sites, contacts, portes ouvertes."""
    establishment = require_establishment()
    sections = {slug: section_context(kind) for slug, kind in KINDS.items()}
    return render_template("directory/index.html", establishment=establishment, sections=sections)


@bp.route(f"/<{KIND_SLUGS}:slug>/nouveau")
def new(slug: str):
    """The empty form to add a record (a fragment under the section, or a page without JS)."""
    kind = kind_or_404(slug)
    form = kind.form_for(creating=True)
    return render_edit(kind, None, form)


@bp.route(f"/<{KIND_SLUGS}:slug>", methods=["POST"])
def create(slug: str):
    """Add a record; 422 with the inline errors, else the refreshed section."""
    kind = kind_or_404(slug)
    establishment = require_establishment()
    form = kind.form_for(formdata=request.form, creating=True)
    if not form.validate():
        return render_edit(kind, None, form), 422
    record = kind.model(establishment_id=establishment.id, created_by_id=current_user.id)
    form.populate_obj(record)
    db.session.add(record)
    db.session.commit()
    if not wants_fragment():
        return back_to_section(kind)
    # The form swapped itself; widen the target to the whole section to show the new row.
    return with_trigger(
        render_section(kind), kind.added, HX_Retarget=f"#{kind.slug}", HX_Reswap="outerHTML"
    )


@bp.route(f"/<{KIND_SLUGS}:slug>/<int:record_id>")
def row(slug: str, record_id: int):
    """One row, read-only (also what "Annuler" swaps back in)."""
    kind = kind_or_404(slug)
    record = get_scoped_or_404(kind.model, record_id)
    if not wants_fragment():
        return back_to_section(kind)
    return render_row(kind, record)


@bp.route(f"/<{KIND_SLUGS}:slug>/<int:record_id>/modifier")
def edit(slug: str, record_id: int):
    """Click-to-edit: the row becomes its form."""
    kind = kind_or_404(slug)
    record = get_scoped_or_404(kind.model, record_id)
    return render_edit(kind, record, kind.form_for(record))


@bp.route(f"/<{KIND_SLUGS}:slug>/<int:record_id>", methods=["POST"])
def update(slug: str, record_id: int):
    """Save a row: 422 with inline errors, 409 when another tab saved first, else the row."""
    kind = kind_or_404(slug)
    record = get_scoped_or_404(kind.model, record_id)
    form = kind.form_for(record, formdata=request.form)
    if is_stale(record, form.version.data):
        fresh = kind.form_for(record)
        return render_edit(kind, record, fresh, message=STALE_MESSAGE), 409
    if not form.validate():
        return render_edit(kind, record, form), 422
    form.populate_obj(record)
    record.updated_by_id = current_user.id
    try:
        db.session.commit()
    except StaleDataError:  # saved by someone else between the check and the commit
        db.session.rollback()
        return render_edit(kind, record, kind.form_for(record), message=STALE_MESSAGE), 409
    if not wants_fragment():
        return back_to_section(kind)
    return with_trigger(render_row(kind, record), kind.updated)


@bp.route(f"/<{KIND_SLUGS}:slug>/<int:record_id>/supprimer", methods=["POST"])
def delete(slug: str, record_id: int):
    """Delete a record unused elsewhere; a used one stays, and the answer names its uses."""
    kind = kind_or_404(slug)
    record = get_scoped_or_404(kind.model, record_id)
    uses = kind.usages(record) if kind.usages else []
    if uses:
        message = f"{kind.in_use} : {kind.used_by} {', '.join(uses)}. Vous pouvez le désactiver."
        return render_section(kind, notice=message, notice_kind="error"), 409
    db.session.delete(record)
    db.session.commit()
    if not wants_fragment():
        return back_to_section(kind)
    return with_trigger(render_section(kind), kind.deleted)


@bp.route(
    f"/<{KIND_SLUGS}:slug>/<int:record_id>/<any(activer, desactiver):action>", methods=["POST"]
)
def set_active(slug: str, record_id: int, action: str):
    """Deactivate (or reactivate) a site or contact: kept for history, no longer offered."""
    kind = kind_or_404(slug)
    if not hasattr(kind.model, "active"):
        abort(404)
    record = get_scoped_or_404(kind.model, record_id)
    record.active = action == "activer"
    record.updated_by_id = current_user.id
    db.session.commit()
    if not wants_fragment():
        return back_to_section(kind)
    return with_trigger(render_row(kind, record), "Réactivé" if record.active else "Désactivé")


@bp.route("/communes")
def communes():
    """The communes of a typed postcode, as <option>s of the commune field's datalist."""
    field = request.args.get("champ", "postcode")
    postcode = (request.args.get(field) or "").strip()
    list_id = request.args.get("liste", "communes")
    return render_template(
        "directory/partials/communes.html",
        communes=geo.communes_for_postcode(postcode),
        list_id=list_id,
    )


@bp.route("/etablissement")
def establishment_card():
    establishment = require_establishment()
    if not wants_fragment():
        return redirect(url_for("directory.index"))
    return render_template("directory/partials/establishment.html", establishment=establishment)


@bp.route("/etablissement/modifier")
@carif_required
def establishment_edit():
    establishment = require_establishment()
    form = EstablishmentForm(
        None, obj=establishment, siren=establishment.organisation.siren, prefix="establishment"
    )
    form.nda.data = establishment.organisation.nda
    return render_establishment_form(establishment, form)


def render_establishment_form(establishment, form, message=None):
    template = (
        "directory/partials/establishment_form.html"
        if wants_fragment()
        else "directory/establishment_edit.html"
    )
    return render_template(template, establishment=establishment, form=form, message=message)


def _stale_establishment(establishment):
    """409: the form again with the record as it is now (formdata=None: not the posted one)."""
    organisation = establishment.organisation
    fresh = EstablishmentForm(
        formdata=None, obj=establishment, siren=organisation.siren, prefix="establishment"
    )
    fresh.nda.data = organisation.nda
    return render_establishment_form(establishment, fresh, STALE_MESSAGE), 409


@bp.route("/etablissement", methods=["POST"])
@carif_required
def establishment_update():
    """The Carif-Oref corrects an establishment's record (SIRET checked, unique)."""
    establishment = require_establishment()
    organisation = establishment.organisation
    form = EstablishmentForm(request.form, siren=organisation.siren, prefix="establishment")
    if is_stale(establishment, form.version.data):
        return _stale_establishment(establishment)
    if not form.validate():
        return render_establishment_form(establishment, form), 422
    from ..models import Establishment

    clash = db.session.scalar(
        select(Establishment.id).where(
            Establishment.siret == form.siret.data, Establishment.id != establishment.id
        )
    )
    if clash:
        form.siret.errors.append("Ce SIRET est déjà celui d'un autre établissement.")
        return render_establishment_form(establishment, form), 422
    nda = form.nda.data
    del form.nda
    form.populate_obj(establishment)
    organisation.nda = nda
    try:
        db.session.commit()
    except StaleDataError:  # saved by someone else between the check and the commit
        db.session.rollback()
        return _stale_establishment(establishment)
    if not wants_fragment():
        return redirect(url_for("directory.index"))
    response = make_response(
        render_template("directory/partials/establishment.html", establishment=establishment)
    )
    return with_trigger(response.get_data(as_text=True), "Établissement enregistré")
