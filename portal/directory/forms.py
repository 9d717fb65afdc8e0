"""Forms of the annuaire: sites, contacts, portes ouvertes and the establishment record."""

from __future__ import annotations

from datetime import date

from wtforms import (
    DateField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import ValidationError

from .. import codes, geo
from ..forms import (
    BaseForm,
    MultiCheckboxField,
    PhoneField,
    VersionField,
    max_length,
    normalised_by,
    optional,
    required,
    select_choices,
    strip_filter,
)
from ..validators import (
    normalise_email,
    normalise_phone,
    normalise_siret,
    normalise_url,
)

STRIP = [strip_filter]


class AddressMixin:
    """Postcode, commune and INSEE code checked together against the official commune list."""

    address_line1 = StringField("Adresse", [optional(), max_length(50)], filters=STRIP)
    address_line2 = StringField("Complément d'adresse", [optional(), max_length(50)], filters=STRIP)
    postcode = StringField(
        "Code postal",
        [required()],
        filters=STRIP,
        render_kw={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5},
    )
    commune = StringField("Commune", [required(), max_length(50)], filters=STRIP)
    insee_code = StringField(
        "Code INSEE",
        [optional(), max_length(5)],
        filters=STRIP,
        render_kw={"readonly": True, "tabindex": "-1"},
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        fields = (self.postcode, self.commune, self.insee_code)
        if any(f.errors for f in fields) or not (self.postcode.data and self.commune.data):
            return valid
        try:
            commune = _match_commune(
                self.postcode.data, self.commune.data, self.insee_code.data or None
            )
        except geo.CommuneError as error:
            getattr(self, error.field).errors.append(str(error))
            return False
        # Store the official spelling and fill in the INSEE code the user did not type.
        self.postcode.data = commune_postcode(self.postcode.data)
        self.commune.data = commune.name
        self.insee_code.data = commune.insee_code
        return valid


def _match_commune(postcode: str, name: str, insee_code: str | None) -> geo.Commune:
    """The commune of (postcode, name); the INSEE code is derived from them, and only read to
    tell apart two communes of the same name at one postcode (a stale one is replaced)."""
    try:
        return geo.check_commune(postcode, name)
    except geo.CommuneError as error:
        if error.field != "commune" or not insee_code:
            raise
        return geo.check_commune(postcode, name, insee_code)


def commune_postcode(raw: str) -> str:
    return raw.replace(" ", "")


class SiteForm(AddressMixin, BaseForm):
    name = StringField("Nom du site", [required(), max_length(250)], filters=STRIP)
    phone = PhoneField("Téléphone", [normalised_by(normalise_phone)], filters=STRIP)
    email = EmailField("E-mail", [normalised_by(normalise_email), max_length(160)], filters=STRIP)
    accessibility_note = TextAreaField(
        "Accessibilité (PMR)", [optional(), max_length(1000)], filters=STRIP
    )
    version = VersionField()


class ContactForm(BaseForm):
    civility = SelectField("Civilité", choices=select_choices(codes.CIVILITIES, blank="—"))
    last_name = StringField("Nom", [required(), max_length(50)], filters=STRIP)
    first_name = StringField("Prénom", [optional(), max_length(50)], filters=STRIP)
    function = StringField("Fonction", [optional(), max_length(100)], filters=STRIP)
    email = EmailField("E-mail", [normalised_by(normalise_email), max_length(160)], filters=STRIP)
    phone = PhoneField("Téléphone", [normalised_by(normalise_phone)], filters=STRIP)
    mobile = PhoneField("Portable", [normalised_by(normalise_phone)], filters=STRIP)
    roles = MultiCheckboxField("Rôles", choices=select_choices(codes.CONTACT_TYPES))
    version = VersionField()

    def validate_civility(self, field) -> None:
        field.data = field.data or None

    def validate_roles(self, field) -> None:
        # Choices are already checked by WTForms; keep the table's order for display.
        field.data = [code for code in codes.CONTACT_TYPES.codes if code in (field.data or [])]


class OpenDayForm(BaseForm):
    site_id = SelectField("Site", coerce=int, validate_choice=True)
    day = DateField("Date", [required()], format="%Y-%m-%d")
    start_time = TimeField("Heure de début", [required()], format="%H:%M")
    end_time = TimeField("Heure de fin", [required()], format="%H:%M")
    description = TextAreaField("Description", [optional(), max_length(1000)], filters=STRIP)
    registration_url = URLField(
        "Lien d'inscription", [normalised_by(normalise_url), max_length(400)], filters=STRIP
    )
    version = VersionField()

    def __init__(self, *args, sites=(), creating: bool = False, today: date | None = None, **kw):
        super().__init__(*args, **kw)
        self.site_id.choices = select_choices((s.id, s.name) for s in sites)
        self.creating = creating
        self.today = today or date.today()

    def validate_site_id(self, field) -> None:
        if not self.site_id.choices:
            raise ValidationError("Ajoutez d'abord un site à votre annuaire.")

    def validate_day(self, field) -> None:
        if self.creating and field.data and field.data < self.today:
            raise ValidationError("La date d'une porte ouverte ne peut pas être passée.")

    def validate_end_time(self, field) -> None:
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError("L'heure de fin doit être après l'heure de début.")


class EstablishmentForm(AddressMixin, BaseForm):
    """The establishment's own record, editable by the Carif-Oref only."""

    name = StringField("Raison sociale", [required(), max_length(250)], filters=STRIP)
    siret = StringField("SIRET", [required(), normalised_by(normalise_siret)], filters=STRIP)
    nda = StringField("Numéro de déclaration d'activité (NDA)", [optional()], filters=STRIP)
    phone = PhoneField("Téléphone", [normalised_by(normalise_phone)], filters=STRIP)
    email = EmailField("E-mail", [normalised_by(normalise_email), max_length(160)], filters=STRIP)
    version = VersionField()

    def __init__(self, *args, siren: str, **kw):
        super().__init__(*args, **kw)
        self.siren = siren

    def validate_siret(self, field) -> None:
        if field.data and not field.data.startswith(self.siren):
            raise ValidationError(
                f"Le SIRET doit commencer par le SIREN de l'organisme ({self.siren})."
            )

    def validate_nda(self, field) -> None:
        if field.data:
            field.data = field.data.replace(" ", "")
            if len(field.data) != 11 or not field.data.isalnum():
                raise ValidationError("Le NDA comporte exactement 11 caractères.")
