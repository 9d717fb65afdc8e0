from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..forms import BaseForm


class LoginForm(BaseForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Saisissez votre adresse e-mail."), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired("Saisissez votre mot de passe."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
