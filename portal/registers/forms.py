"""Forms of the Référentiels pages: file upload, Certif Info code replacement."""

from __future__ import annotations

from wtforms import IntegerField, MultipleFileField, StringField
from wtforms.validators import NumberRange

from ..forms import BaseForm, max_length, optional, required, strip_filter


class UploadForm(BaseForm):
    files = MultipleFileField("Fichier")
    version = StringField(
        "Version du Formacode", default="V14", filters=[strip_filter], validators=[optional()]
    )


class ReplacementForm(BaseForm):
    """Replace the code of the formation given by its number (F)."""

    formation_id = IntegerField(
        "N° de formation (F)",
        # Bounded like the column: a larger number would reach the database and fail there.
        validators=[
            required(),
            NumberRange(min=1, max=2**31 - 1, message="Numéro de formation inconnu."),
        ],
        render_kw={"inputmode": "numeric"},
    )
    code = StringField(
        "Nouveau code Certif Info",
        filters=[strip_filter],
        validators=[required(), max_length(10)],
        render_kw={"inputmode": "numeric"},
    )


class RowReplacementForm(BaseForm):
    """The inline form of one row of the formations to recode (prefixed by the formation)."""

    code = StringField(
        "Nouveau code Certif Info",
        filters=[strip_filter],
        validators=[required(), max_length(10)],
        render_kw={"inputmode": "numeric"},
    )
