"""Offer entry: the creation path, then the four fiches Formation, Action, Session, Dispositif.

Every record is loaded through scoping.get_scoped_or_404; every change goes through
workflow.ensure_editable (the OF edits its drafts, a submitted action is read-only, the
Carif-Oref never silently changes OF content).
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from ..editing import STALE_MESSAGE, is_stale, with_trigger
from ..extensions import db
from ..htmx import wants_fragment
from ..models import (
    Action,
    ActionEvent,
    ActionStatus,
    Certification,
    CertificationBloc,
    Contact,
    Formation,
    Lot,
    Programme,
    PublishedSession,
    Session,
    SessionFunding,
    Site,
)
from ..models.reference import lot_formateurs
from ..review.decisions import DecisionRefused
from ..review.decisions import answer as answer_question
from ..scoping import get_scoped_or_404, require_establishment, scoped
from ..validators import parse_int
from . import bp
from .duplicate import duplicate_session as copy_session
from .forms import (
    ActionForm,
    CertifInfoForm,
    CreateFormationForm,
    FormationForm,
    FundingForm,
    SessionForm,
)
from .live import live_save, save_all
from .rules import check_action
from .workflow import (
    NotSendable,
    can_delete,
    can_edit,
    ensure_editable,
    mark_modified,
    send_for_validation,
)

BLOC_PAGE_SIZES = (10, 25, 50)


# Choices scoped to the current establishment --------------------------------------------------


def active_sites() -> list[Site]:
    stmt = scoped(select(Site), Site).where(Site.active.is_(True)).order_by(Site.name)
    return list(db.session.scalars(stmt))


def active_contacts() -> list[Contact]:
    stmt = (
        scoped(select(Contact), Contact)
        .where(Contact.active.is_(True))
        .order_by(Contact.last_name, Contact.first_name)
    )
    return list(db.session.scalars(stmt))


def lots_for(establishment_id: int, programme_id: int | None) -> list[Lot]:
    """Active lots of the programme where the establishment is mandataire or formateur."""
    if not programme_id:
        return []
    formateur = select(lot_formateurs.c.lot_id).where(
        lot_formateurs.c.establishment_id == establishment_id
    )
    stmt = (
        select(Lot)
        .where(
            Lot.programme_id == programme_id,
            Lot.active.is_(True),
            or_(Lot.mandataire_id == establishment_id, Lot.id.in_(formateur)),
        )
        .order_by(Lot.code)
    )
    return list(db.session.scalars(stmt))


def public_programmes() -> list[Programme]:
    stmt = select(Programme).where(Programme.active.is_(True), Programme.is_public.is_(True))
    return list(db.session.scalars(stmt.order_by(Programme.name)))


def _int_arg(name: str) -> int | None:
    return parse_int(request.values.get(name, ""))


def _editable_action_for(record) -> Action:
    action = record if isinstance(record, Action) else record.action
    ensure_editable(action)
    return action


# Creation path --------------------------------------------------------------------------------


@bp.route("/formations/publiques/creer", methods=["GET", "POST"])
def create_formation():
    """Step 1: organisme, programme, lot (mandataire from the lot), site de réalisation."""
    if current_user.is_carif:
        abort(403)
    establishment = require_establishment()
    programme_id = _int_arg("programme_id")
    form = CreateFormationForm(
        programmes=public_programmes(),
        lots=lots_for(establishment.id, programme_id),
        sites=active_sites(),
    )
    if form.validate_on_submit():
        lot = form.lots[form.lot_id.data]
        formation = Formation(
            establishment_id=establishment.id,
            programme_id=lot.programme_id,
            lot_id=lot.id,
            mandataire_id=lot.mandataire_id,
            realisation_site_id=int(form.realisation_site_id.data),
            created_by_id=current_user.id,
        )
        db.session.add(formation)
        db.session.commit()
        return redirect(url_for("offer.certifinfo", formation_id=formation.id))
    status = 422 if request.method == "POST" else 200
    return render_template("offer/create.html", form=form, establishment=establishment), status


@bp.route("/formations/lots")
def lot_options():
    """The lot <select> of a programme (htmx, on programme change)."""
    establishment = require_establishment()
    form = CreateFormationForm(
        formdata=None, lots=lots_for(establishment.id, _int_arg("programme_id"))
    )
    return render_template("offer/partials/lot_select.html", form=form)


@bp.route("/formations/mandataire")
def mandataire():
    """The read-only Mandataire of the chosen lot (htmx, on lot change)."""
    establishment = require_establishment()
    lot = db.session.get(Lot, _int_arg("lot_id") or 0)
    allowed = {lot_.id for lot_ in lots_for(establishment.id, lot.programme_id)} if lot else set()
    return render_template(
        "offer/partials/mandataire.html", lot=lot if lot and lot.id in allowed else None
    )


@bp.route("/formations/<int:formation_id>/certifinfo", methods=["GET", "POST"])
def certifinfo(formation_id: int):
    """Step 2: "Référence Certifinfo" Oui (code + loupe) or Non (free title and objective)."""
    formation = get_scoped_or_404(Formation, formation_id)
    if current_user.is_carif or any(not can_edit(a) for a in formation.actions):
        abort(403)
    form = CertifInfoForm(obj=None if request.method == "POST" else _certif_defaults(formation))
    if form.is_submitted() and is_stale(formation, form.version.data):
        return _stale_certifinfo(formation)
    lookup = None
    if form.validate_on_submit():
        if form.has_certif_info.data == "1":
            lookup = lookup_certification(form.certif_code.data)
            if lookup.usable:
                formation.has_certif_info = True
                formation.certification_id = lookup.certification.id
                formation.free_title = formation.free_objective = None
            else:
                form.certif_code.errors.append(lookup.message)
        else:
            formation.has_certif_info = False
            formation.certification_id = None
            formation.free_title = form.free_title.data
            formation.free_objective = form.free_objective.data
        if not form.certif_code.errors:
            for action in formation.actions:
                mark_modified(action)
            formation.blocs = [
                b
                for b in formation.blocs
                if formation.certification and b.certification_id == formation.certification_id
            ]
            formation.updated_by_id = current_user.id
            try:
                db.session.commit()
            except StaleDataError:  # saved by someone else between the check and the commit
                db.session.rollback()
                return _stale_certifinfo(formation)
            return redirect(url_for("offer.formation", formation_id=formation.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "offer/certifinfo.html", form=form, formation=formation, lookup=lookup
    ), status


def _stale_certifinfo(formation: Formation):
    """409: the step again with the formation as it is now."""
    form = CertifInfoForm(formdata=None, obj=_certif_defaults(formation))
    return render_template(
        "offer/certifinfo.html", form=form, formation=formation, lookup=None, stale=STALE_MESSAGE
    ), 409


def _certif_defaults(formation: Formation):
    class Defaults:
        version = formation.version
        has_certif_info = formation.has_certif_info
        certif_code = formation.certification.code if formation.certification else None
        free_title = formation.free_title
        free_objective = formation.free_objective

    return Defaults


class CertifLookup:
    def __init__(
        self,
        code: str,
        certification: Certification | None,
        replacement: Certification | None = None,
    ):
        self.code = code
        self.certification = certification
        self.replacement = replacement

    @property
    def usable(self) -> bool:
        return self.certification is not None and not self.certification.archived

    @property
    def message(self) -> str:
        if self.certification is None:
            return "Code Certif Info inconnu."
        if self.certification.archived:
            if self.replacement:
                return (
                    f"Ce code Certif Info est archivé : il est remplacé par "
                    f"{self.replacement.code} « {self.replacement.title} »."
                )
            return "Ce code Certif Info est archivé et n'a pas de remplaçant."
        return ""


def lookup_certification(code: str | None) -> CertifLookup:
    code = (code or "").strip()
    certification = None
    if code.isdigit() and len(code) <= 10:
        certification = db.session.scalar(select(Certification).where(Certification.code == code))
    replacement = None
    if certification and certification.archived and certification.replaced_by_code:
        replacement = db.session.scalar(
            select(Certification).where(Certification.code == certification.replaced_by_code)
        )
    return CertifLookup(code, certification, replacement)


@bp.route("/certifinfo/recherche")
def certifinfo_lookup():
    """The loupe: title and type of a Certif Info code, unknown, or archived and replaced."""
    require_establishment()
    lookup = lookup_certification(request.args.get("certif_code"))
    return render_template("offer/partials/certif_lookup.html", lookup=lookup)


# Fiche Formation ------------------------------------------------------------------------------


@bp.route("/formations/<int:formation_id>", methods=["GET", "POST"])
def formation(formation_id: int):
    """The fiche Formation; POST is "Enregistrer" (everything at once)."""
    formation = get_scoped_or_404(Formation, formation_id)
    form = FormationForm(obj=formation)
    status = 200
    if request.method == "POST":
        _ensure_formation_editable(formation)
        form = FormationForm(request.form, obj=formation)
        if save_all(formation, form, on_change=_mark_actions_modified(formation)):
            flash("Votre saisie est enregistrée.", "success")
            return redirect(url_for("dashboard.index"))
        status = 422
    return render_template(
        "offer/formation.html",
        formation=formation,
        form=form,
        editable=_formation_editable(formation),
        blocs=_bloc_page(formation),
    ), status


def _formation_editable(formation: Formation) -> bool:
    return not current_user.is_carif and all(can_edit(a) for a in formation.actions)


def _ensure_formation_editable(formation: Formation) -> None:
    if not _formation_editable(formation):
        abort(403)


def _mark_actions_modified(formation: Formation):
    def hook() -> None:
        for action in formation.actions:
            mark_modified(action)

    return hook


@bp.route("/formations/<int:formation_id>/champ", methods=["POST"])
def formation_field(formation_id: int):
    formation = get_scoped_or_404(Formation, formation_id)
    _ensure_formation_editable(formation)
    form = FormationForm(request.form, obj=formation)
    return live_save(
        formation,
        form,
        url_for("offer.formation_field", formation_id=formation.id),
        on_change=_mark_actions_modified(formation),
    )


def _bloc_page(formation: Formation) -> dict:
    """The blocs table: search, page size and page, from the query string."""
    q = (request.args.get("q") or "").strip().lower()
    size = request.args.get("taille", "10")
    page = request.args.get("page", "1")
    if parse_int(size) not in BLOC_PAGE_SIZES or parse_int(page, minimum=1) is None:
        abort(400)
    size, page = int(size), int(page)
    blocs = formation.certification.blocs if formation.certification else []
    if q:
        blocs = [b for b in blocs if q in f"{b.code} {b.title} {b.objective or ''}".lower()]
    total = len(blocs)
    start = (page - 1) * size
    return {
        "items": blocs[start : start + size],
        "total": total,
        "all": len(formation.certification.blocs) if formation.certification else 0,
        "first": start + 1 if total else 0,
        "last": min(start + size, total),
        "page": page,
        "size": size,
        "q": request.args.get("q", ""),
        "has_prev": page > 1,
        "has_next": start + size < total,
        "selected": {b.id for b in formation.blocs},
    }


@bp.route("/formations/<int:formation_id>/blocs")
def formation_blocs(formation_id: int):
    formation = get_scoped_or_404(Formation, formation_id)
    if not wants_fragment():
        return redirect(url_for("offer.formation", formation_id=formation.id, **request.args))
    return render_template(
        "offer/partials/blocs.html",
        formation=formation,
        blocs=_bloc_page(formation),
        editable=_formation_editable(formation),
    )


@bp.route("/formations/<int:formation_id>/blocs/<int:bloc_id>", methods=["POST"])
def toggle_bloc(formation_id: int, bloc_id: int):
    """Check or uncheck a bloc de compétences of the formation's certification."""
    formation = get_scoped_or_404(Formation, formation_id)
    _ensure_formation_editable(formation)
    bloc = db.session.get(CertificationBloc, bloc_id)
    if bloc is None or bloc.certification_id != formation.certification_id:
        abort(404)
    chosen = request.form.get("chosen") == "1"
    if chosen and bloc not in formation.blocs:
        formation.blocs.append(bloc)
    elif not chosen and bloc in formation.blocs:
        formation.blocs.remove(bloc)
    _mark_actions_modified(formation)()
    db.session.commit()
    return with_trigger("", "Blocs enregistrés")


@bp.route("/formations/<int:formation_id>/actions", methods=["POST"])
def add_action(formation_id: int):
    """ "+" at the bottom of the fiche Formation: a new action, then its fiche."""
    formation = get_scoped_or_404(Formation, formation_id)
    if current_user.is_carif:
        abort(403)
    action = Action(
        formation_id=formation.id,
        establishment_id=formation.establishment_id,
        site_id=formation.realisation_site_id,
        status=ActionStatus.DRAFT,
        created_by_id=current_user.id,
    )
    db.session.add(action)
    db.session.commit()
    return _redirect(url_for("offer.action", action_id=action.id))


def _redirect(url: str):
    """After a create or delete: HX-Redirect for htmx, a plain redirect otherwise."""
    if wants_fragment():
        response = redirect(url)
        response.status_code = 204
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


# Fiche Action ---------------------------------------------------------------------------------


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
def action(action_id: int):
    """The fiche Action; POST is "Enregistrer" (everything at once), back to the dashboard."""
    action = get_scoped_or_404(Action, action_id)
    form = ActionForm(obj=action, sites=active_sites())
    if request.method == "POST":
        ensure_editable(action)
        form = ActionForm(request.form, obj=action, sites=active_sites())
        if save_all(action, form, on_change=lambda: mark_modified(action)):
            flash(
                "Votre saisie est enregistrée dans « Actions de formation en cours de saisie ».",
                "success",
            )
            return redirect(url_for("dashboard.index"))
        return _render_action(action, form), 422
    return _render_action(action, form)


def _render_action(action: Action, form: ActionForm, *, answer_error: str | None = None):
    programme = action.formation.programme
    return render_template(
        "offer/action.html",
        action=action,
        form=form,
        editable=can_edit(action),
        deletable=can_delete(action),
        history=history_of(action),
        question=last_question(action),
        needs_agreement=bool(action.validated_at and programme and programme.is_region),
        answer_error=answer_error,
    )


def history_of(action: Action) -> list[ActionEvent]:
    stmt = (
        select(ActionEvent)
        .where(ActionEvent.action_id == action.id)
        .order_by(ActionEvent.at.desc(), ActionEvent.id.desc())
    )
    return list(db.session.scalars(stmt))


def last_question(action: Action) -> ActionEvent | None:
    if action.status != ActionStatus.QUESTIONED:
        return None
    return next((e for e in history_of(action) if e.kind == "question"), None)


@bp.route("/actions/<int:action_id>/repondre", methods=["POST"])
def answer(action_id: int):
    """The OF answers the Carif-Oref's question; the action returns to the queue."""
    action = get_scoped_or_404(Action, action_id)
    ensure_editable(action)
    try:
        answer_question(action, request.form.get("reponse"), date.today())
    except DecisionRefused as refusal:
        db.session.rollback()
        form = ActionForm(obj=action, sites=active_sites())
        return _render_action(action, form, answer_error=refusal.message), refusal.status
    db.session.commit()
    flash("Votre réponse est envoyée : l'action retourne en validation.", "success")
    return redirect(url_for("dashboard.index"))


@bp.route("/actions/<int:action_id>/champ", methods=["POST"])
def action_field(action_id: int):
    action = get_scoped_or_404(Action, action_id)
    ensure_editable(action)
    form = ActionForm(request.form, obj=action, sites=active_sites())
    return live_save(
        action,
        form,
        url_for("offer.action_field", action_id=action.id),
        on_change=lambda: mark_modified(action),
    )


@bp.route("/actions/<int:action_id>/sessions", methods=["POST"])
def add_session(action_id: int):
    """A new session of the action, then its fiche."""
    action = get_scoped_or_404(Action, action_id)
    ensure_editable(action)
    formation = action.formation
    session = Session(
        action_id=action.id,
        establishment_id=action.establishment_id,
        site_id=action.site_id,
        responsible_id=formation.mandataire_id or action.establishment_id,
        created_by_id=current_user.id,
    )
    db.session.add(session)
    mark_modified(action)
    db.session.commit()
    return _redirect(url_for("offer.session", session_id=session.id))


@bp.route("/actions/<int:action_id>/etat")
def recap(action_id: int):
    """ "État de la saisie": every rule of the action and its sessions, passed or failed."""
    action = get_scoped_or_404(Action, action_id)
    report = check_action(action, date.today())
    return render_template(
        "offer/recap.html",
        action=action,
        report=report,
        sendable=can_edit(action) and action.status in (ActionStatus.DRAFT, ActionStatus.REJECTED),
    )


@bp.route("/actions/<int:action_id>/envoyer", methods=["POST"])
def send(action_id: int):
    """ "Envoyer en validation": refused with the list of failures while any remain."""
    action = get_scoped_or_404(Action, action_id)
    ensure_editable(action)
    try:
        send_for_validation(action, date.today())
    except NotSendable as refusal:
        report = refusal.report or check_action(action, date.today())
        return render_template(
            "offer/recap.html",
            action=action,
            report=report,
            sendable=False,
            refusal=refusal.message,
        ), (422 if refusal.report else 409)
    db.session.commit()
    flash("L'action est envoyée en validation au Carif-Oref.", "success")
    return redirect(url_for("dashboard.index"))


@bp.route("/actions/<int:action_id>/supprimer", methods=["POST"])
def delete_action(action_id: int):
    """Delete a draft action (never a submitted or once-validated one) with its sessions."""
    action = get_scoped_or_404(Action, action_id)
    if not can_delete(action):
        abort(403)
    formation_id = action.formation_id
    db.session.delete(action)
    db.session.commit()
    flash("L'action a été supprimée.", "success")
    return _redirect(url_for("offer.formation", formation_id=formation_id))


# Fiche Session --------------------------------------------------------------------------------


def _session_form(session: Session, formdata=None) -> SessionForm:
    return SessionForm(
        formdata,
        obj=session,
        sites=active_sites(),
        contacts=active_contacts(),
        locked_start=locked_start_date(session),
    )


def locked_start_date(session: Session) -> date | None:
    """The validated start date of a session of a "forfait recrutement" lot, else None."""
    lot = session.action.formation.lot
    if not (lot and lot.fixed_recruitment_fee):
        return None
    return db.session.scalar(
        select(PublishedSession.start_date).where(PublishedSession.session_id == session.id)
    )


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
def session(session_id: int):
    session = get_scoped_or_404(Session, session_id)
    form = _session_form(session)
    if request.method == "POST":
        ensure_editable(session.action)
        form = _session_form(session, request.form)
        if save_all(session, form, on_change=lambda: mark_modified(session.action)):
            flash("Votre saisie est enregistrée.", "success")
            return redirect(url_for("dashboard.index"))
        return _render_session(session, form), 422
    return _render_session(session, form)


def _render_session(session: Session, form: SessionForm):
    return render_template(
        "offer/session.html",
        session=session,
        action=session.action,
        form=form,
        editable=can_edit(session.action),
        subkinds=subrows.SUBKINDS,
        info_rows=subrows.rows_of(subrows.SUBKINDS["informations-collectives"], session),
        period_rows=subrows.rows_of(subrows.SUBKINDS["periodes-inscription"], session),
    )


@bp.route("/sessions/<int:session_id>/champ", methods=["POST"])
def session_field(session_id: int):
    session = get_scoped_or_404(Session, session_id)
    action = _editable_action_for(session)
    return live_save(
        session,
        _session_form(session, request.form),
        url_for("offer.session_field", session_id=session.id),
        on_change=lambda: mark_modified(action),
    )


@bp.route("/sessions/<int:session_id>/dupliquer", methods=["POST"])
def duplicate_session(session_id: int):
    """Copy a session with its dispositifs and référents, but not its dates."""
    original = get_scoped_or_404(Session, session_id)
    action = _editable_action_for(original)
    copy = copy_session(original, current_user.id)
    mark_modified(action)
    db.session.commit()
    flash("La session a été dupliquée : saisissez ses dates.", "success")
    return _redirect(url_for("offer.session", session_id=copy.id))


@bp.route("/sessions/<int:session_id>/<any(activer, desactiver):change>", methods=["POST"])
def set_session_active(session_id: int, change: str):
    session = get_scoped_or_404(Session, session_id)
    action = _editable_action_for(session)
    session.active = change == "activer"
    session.updated_by_id = current_user.id
    mark_modified(action)
    db.session.commit()
    flash("Session réactivée." if session.active else "Session désactivée.", "success")
    return _redirect(url_for("offer.session", session_id=session.id))


# Fiche Dispositif -----------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/dispositif", methods=["GET", "POST"])
def funding(session_id: int):
    """The fiche Dispositif of the session's programme, created with the lot's codes externes."""
    session = get_scoped_or_404(Session, session_id)
    formation = session.action.formation
    if formation.programme_id is None:
        abort(404)
    record = next((f for f in session.fundings if f.programme_id == formation.programme_id), None)
    if record is None:
        if not can_edit(session.action):
            abort(404)
        record = _new_funding(session, formation)
        db.session.commit()
    form = FundingForm(obj=record)
    if request.method == "POST":
        ensure_editable(session.action)
        form = FundingForm(request.form, obj=record)
        if save_all(record, form, on_change=lambda: mark_modified(session.action)):
            flash(
                "Votre saisie est enregistrée dans « Actions de formation en cours de saisie ».",
                "success",
            )
            return redirect(url_for("dashboard.index"))
        return _render_funding(record, form), 422
    return _render_funding(record, form)


def _new_funding(session: Session, formation: Formation) -> SessionFunding:
    lot = formation.lot
    record = SessionFunding(
        session_id=session.id,
        establishment_id=session.establishment_id,
        programme_id=formation.programme_id,
        publics=formation.programme.publics,
        region_lot_number=lot.region_lot_number if lot else None,
        region_action_id=lot.region_action_id if lot else None,
        region_mandataire_id=lot.region_mandataire_id if lot else None,
        teaching_fees_covered=True if formation.programme.is_region else None,
        created_by_id=current_user.id,
    )
    db.session.add(record)
    db.session.flush()
    return record


def _render_funding(record: SessionFunding, form: FundingForm):
    return render_template(
        "offer/funding.html",
        funding=record,
        session=record.session,
        action=record.session.action,
        form=form,
        editable=can_edit(record.session.action),
    )


@bp.route("/dispositifs/<int:funding_id>/champ", methods=["POST"])
def funding_field(funding_id: int):
    record = get_scoped_or_404(SessionFunding, funding_id)
    action = _editable_action_for(record.session)
    return live_save(
        record,
        FundingForm(request.form, obj=record),
        url_for("offer.funding_field", funding_id=record.id),
        on_change=lambda: mark_modified(action),
    )


from . import subrows  # noqa: E402  (informations collectives, périodes d'inscription)
