from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from ..errors import database_fault
from ..extensions import db, limiter
from ..models import User
from ..models._base import utcnow
from . import bp
from .forms import LoginForm
from .passwords import hash_password, needs_rehash, verify_password

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
TOO_MANY_ATTEMPTS = (
    "Trop de tentatives de connexion infructueuses. Patientez quelques minutes avant de "
    "réessayer, ou contactez le service Offre du Carif-Oref."
)


def safe_next(target: str | None) -> str | None:
    """Return ``target`` only when it is a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _login_failed(response) -> bool:
    return response.status_code == 422


def _email_key() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()


def _login_limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_login_failed)
@limiter.limit(_login_limit, key_func=_email_key, methods=["POST"], deduct_when=_login_failed)
def login():
    """Log in by e-mail and password; a wrong password and an unknown e-mail read the same."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        password_ok = verify_password(user.password_hash if user else None, form.password.data)
        if user is not None and password_ok and user.is_active:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            next_url = safe_next(request.args.get("next"))
            # A fresh session at login: nothing chosen before (or planted) survives.
            session.clear()
            login_user(user)
            _note_login(user)
            return redirect(next_url or url_for("dashboard.index"))
        error = BAD_CREDENTIALS
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


def _note_login(user: User) -> None:
    """Record the login time (and a rehashed password). Best effort: a database that refuses
    writes (read-only, full) must not turn a successful login into an error page."""
    user.last_login_at = utcnow()
    try:
        db.session.commit()
    except DBAPIError as error:
        if database_fault(error) is None:
            raise
        db.session.rollback()
        current_app.logger.warning("Login of user %s not recorded: %s", user.id, error)


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
@limiter.limit("20 per 10 minutes", methods=["POST"])
def set_password(token: str):
    """Choose a password from a Carif-Oref link (single use, expiring)."""
    from ..accounts.forms import SetPasswordForm
    from . import tokens

    try:
        record = tokens.find(token)
    except tokens.InvalidToken as error:
        return render_template("auth/token_invalid.html", message=error.message), 404
    form = SetPasswordForm()
    form.email_for_policy = record.user.email
    if form.validate_on_submit():
        record.user.password_hash = hash_password(form.password.data)
        tokens.consume(record)
        db.session.commit()
        session.clear()
        flash("Votre mot de passe est enregistré : connectez-vous.", "success")
        return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=record.user), status


@bp.route("/mon-compte/mot-de-passe", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_login_failed)
def change_password():
    from ..accounts.forms import ChangePasswordForm

    form = ChangePasswordForm()
    form.email_for_policy = current_user.email
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append("Mot de passe actuel incorrect.")
        else:
            current_user.password_hash = hash_password(form.password.data)
            db.session.commit()
            flash("Votre mot de passe est modifié.", "success")
            return redirect(url_for("dashboard.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status
