""" "Mot de passe oublié": a set-password link sent to the account's own address.

The answer is the same whether or not an active account has that address, so the form tells
nobody which addresses have an account; requests are limited per address and per e-mail.
"""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from .. import notify
from ..extensions import db, limiter
from ..forms import BaseForm
from ..models import User
from . import bp, tokens

RESET_LIFETIME = timedelta(hours=2)
REQUEST_LIMIT_PER_ADDRESS = "10 per hour"
REQUEST_LIMIT_PER_EMAIL = "3 per hour"
SENT = (
    "Si un compte actif existe pour cette adresse, un lien pour choisir un nouveau mot de passe "
    "vient de lui être envoyé (valable 2 heures, une seule fois). Pensez à vérifier les "
    "courriers indésirables."
)


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Saisissez votre adresse e-mail."), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )


def _email_key() -> str:
    return "reset:" + (request.form.get("email") or "").strip().lower()


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(REQUEST_LIMIT_PER_ADDRESS, methods=["POST"])
@limiter.limit(REQUEST_LIMIT_PER_EMAIL, key_func=_email_key, methods=["POST"])
def forgot_password():
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and user.active:
            raw = tokens.issue(user, lifetime=RESET_LIFETIME)
            link = url_for("auth.set_password", token=raw, _external=True)
            notify.send_on_commit(
                [user.email],
                "Nouveau mot de passe pour le portail SOFI",
                "Bonjour,\n\nVous avez demandé à choisir un nouveau mot de passe. Ouvrez ce lien "
                f"(valable 2 heures, une seule fois) :\n{link}\n\nSi vous n'êtes pas à "
                "l'origine de cette demande, ignorez ce message : votre mot de passe actuel "
                "reste valable.\n\nLe service Offre du Carif-Oref",
            )
            db.session.commit()
        flash(SENT, "success")
        return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status
