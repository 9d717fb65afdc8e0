from __future__ import annotations

from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import EqualTo, ValidationError

from ..auth.passwords import policy_errors
from ..extensions import db
from ..forms import (
    BaseForm,
    VersionField,
    max_length,
    normalised_by,
    optional,
    required,
    select_choices,
)
from ..models import Establishment, User
from ..validators import normalise_email, normalise_siret


class AccountForm(BaseForm):
    email = EmailField("E-mail", [required(), normalised_by(normalise_email), max_length(254)])
    first_name = StringField("Prénom", [optional(), max_length(100)])
    last_name = StringField("Nom", [optional(), max_length(100)])
    role = SelectField(
        "Rôle",
        choices=select_choices([("of", "Organisme de formation"), ("carif", "Carif-Oref")]),
    )
    sirets = TextAreaField(
        "Établissements rattachés (SIRET)",
        description="Un SIRET par ligne. Obligatoire pour un compte d'organisme de formation.",
        render_kw={"rows": 4},
    )
    version = VersionField()

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.establishments: list[Establishment] = []

    def validate_email(self, field) -> None:
        email = (field.data or "").lower()
        field.data = email
        clash = db.session.scalar(select(User.id).where(User.email == email))
        if clash and (self.user is None or clash != self.user.id):
            raise ValidationError("Un compte existe déjà avec cette adresse e-mail.")

    def validate_sirets(self, field) -> None:
        problems = []
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                siret = normalise_siret(line)
            except ValueError as error:
                problems.append(f"ligne {number} : {error}")
                continue
            establishment = db.session.scalar(
                select(Establishment).where(Establishment.siret == siret)
            )
            if establishment is None:
                problems.append(f"ligne {number} : SIRET {siret} inconnu.")
            elif establishment not in self.establishments:
                self.establishments.append(establishment)
        if problems:
            raise ValidationError(" ; ".join(problems))
        if self.role.data == "of" and not self.establishments:
            raise ValidationError("Un compte d'organisme doit être rattaché à au moins un SIRET.")


class NewPasswordMixin:
    password = PasswordField(
        "Nouveau mot de passe",
        [required()],
        render_kw={"autocomplete": "new-password"},
        description="Au moins 12 caractères, avec trois types parmi minuscules, majuscules, "
        "chiffres et symboles.",
    )
    confirm = PasswordField(
        "Confirmez le mot de passe",
        [required(), EqualTo("password", "Les deux mots de passe ne sont pas identiques.")],
        render_kw={"autocomplete": "new-password"},
    )
    email_for_policy = ""

    def validate_password(self, field) -> None:
        errors = policy_errors(field.data or "", self.email_for_policy)
        if errors:
            raise ValidationError(" ".join(errors))


class SetPasswordForm(NewPasswordMixin, BaseForm):
    pass


class ChangePasswordForm(NewPasswordMixin, BaseForm):
    current = PasswordField(
        "Mot de passe actuel", [required()], render_kw={"autocomplete": "current-password"}
    )
