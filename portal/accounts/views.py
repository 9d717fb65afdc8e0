"""Accounts, managed by the Carif-Oref: create, attach to establishments, deactivate, and
send a set-password link (the portal never sends or shows a password)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import notify
from ..auth import tokens
from ..editing import STALE_MESSAGE, is_stale
from ..extensions import db
from ..models import User
from ..validators import parse_int
from . import bp
from .forms import AccountForm

PAGE_SIZE = 50


def send_link(user: User) -> None:
    raw = tokens.issue(user, created_by=current_user)
    link = url_for("auth.set_password", token=raw, _external=True)
    notify.send_on_commit(
        [user.email],
        "Votre accès au portail SOFI",
        f"Bonjour,\n\nPour choisir votre mot de passe, ouvrez ce lien (valable "
        f"{int(tokens.LIFETIME.total_seconds() // 3600)} heures, une seule fois) :\n{link}\n\n"
        "Le service Offre du Carif-Oref",
    )


@bp.route("/")
def index():
    q = (request.args.get("q") or "").strip()
    page = parse_int(request.args.get("page", "1"), minimum=1)
    if page is None:
        abort(400)
    stmt = select(User).options(selectinload(User.establishments)).order_by(User.email)
    if q:
        stmt = stmt.where(or_(User.email.ilike(f"%{q}%"), User.last_name.ilike(f"%{q}%")))
    pagination = db.paginate(stmt, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("accounts/index.html", pagination=pagination, q=q)


@bp.route("/nouveau", methods=["GET", "POST"])
def create():
    form = AccountForm()
    if form.validate_on_submit():
        user = User(
            email=form.email.data,
            first_name=form.first_name.data or "",
            last_name=form.last_name.data or "",
            role=form.role.data,
        )
        user.establishments = form.establishments if user.role == "of" else []
        db.session.add(user)
        db.session.flush()
        send_link(user)
        db.session.commit()
        flash(
            f"Compte créé ; un lien pour choisir le mot de passe est envoyé à {user.email}.",
            "success",
        )
        return redirect(url_for("accounts.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/form.html", form=form, user=None), status


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def edit(user_id: int):
    user = _user(user_id)
    form = AccountForm(obj=user, user=user)
    if request.method == "GET":
        form.sirets.data = _sirets(user)
    elif form.is_submitted() and is_stale(user, form.version.data):
        return _stale(user)
    if form.validate_on_submit():
        user.email = form.email.data
        user.first_name = form.first_name.data or ""
        user.last_name = form.last_name.data or ""
        if user.id != current_user.id:  # nobody removes their own Carif-Oref role
            user.role = form.role.data
        user.establishments = form.establishments if user.role == "of" else []
        try:
            db.session.commit()
        except StaleDataError:  # another save landed between the check and the commit
            db.session.rollback()
            return _stale(db.session.get(User, user_id))
        flash("Compte enregistré.", "success")
        return redirect(url_for("accounts.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/form.html", form=form, user=user), status


def _sirets(user: User) -> str:
    return "\n".join(e.siret for e in user.establishments)


def _stale(user: User) -> tuple[str, int]:
    """409: the form again, filled with the account as it is now, and why."""
    form = AccountForm(formdata=None, obj=user, user=user)
    form.sirets.data = _sirets(user)
    return render_template("accounts/form.html", form=form, user=user, stale=STALE_MESSAGE), 409


@bp.route("/<int:user_id>/<any(activer, desactiver):change>", methods=["POST"])
def set_active(user_id: int, change: str):
    user = _user(user_id)
    if user.id == current_user.id:
        abort(409)
    user.active = change == "activer"
    db.session.commit()
    flash(("Compte réactivé : " if user.active else "Compte désactivé : ") + user.email, "success")
    return redirect(url_for("accounts.index"))


@bp.route("/<int:user_id>/lien", methods=["POST"])
def link(user_id: int):
    user = _user(user_id)
    if not user.active:
        abort(409)
    send_link(user)
    db.session.commit()
    flash(f"Lien envoyé à {user.email}.", "success")
    return redirect(url_for("accounts.index"))
