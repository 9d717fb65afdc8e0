"""The fiches' forms. Each field carries its procedure label and help text (description), so
that one macro renders any field and the live save can validate one field at a time."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from wtforms import (
    DateField,
    Field,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, StopValidation, ValidationError

from .. import codes
from ..forms import (
    BaseForm,
    MultiCheckboxField,
    VersionField,
    max_length,
    normalised_by,
    optional,
    required,
    select_choices,
    strip_filter,
)
from ..richtext import sanitize, visible_text
from ..validators import normalise_url

STRIP = [strip_filter]
NON_NEGATIVE = "La valeur doit être positive ou nulle."
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}


class YesNoField(RadioField):
    """Oui / Non radio buttons stored as True / False (None while unanswered, unless the
    column cannot be empty: then an answer is required)."""

    def __init__(self, label=None, validators=None, *, nullable: bool = True, **kwargs):
        super().__init__(
            label, validators, choices=select_choices([("1", "Oui"), ("0", "Non")]), **kwargs
        )
        self.nullable = nullable

    def process_data(self, value):
        self.data = None if value is None else ("1" if value else "0")

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = valuelist[0]

    def pre_validate(self, form):
        allowed = (None, "", "1", "0") if self.nullable else ("1", "0")
        if self.data not in allowed:
            raise StopValidation("Répondez par Oui ou par Non.")

    def populate_obj(self, obj, name):
        setattr(obj, name, None if self.data in (None, "") else self.data == "1")


class FrenchDecimalField(StringField):
    """A decimal typed the French way ("1 234,50") or the English way ("1234.50")."""

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places

    def process_data(self, value):
        self.data = value

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if not raw:
            self.data = None
            return
        try:
            self.data = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            self.data = None
            raise ValueError("Nombre invalide (exemple : 1 250,50).") from None
        if not self.data.is_finite() or self.data.as_tuple().exponent < -self.places:
            self.data = None
            raise ValueError(f"{self.places} décimales au maximum.")

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format(self.data, "f").replace(".", ",")


class WholeNumberField(StringField):
    """A whole number ≥ 0, with a French message for anything else."""

    def process_data(self, value):
        self.data = value

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip().replace(" ", "")
        if not raw:
            self.data = None
            return
        if not re.fullmatch(r"\d{1,7}", raw):
            self.data = None
            raise ValueError("Nombre entier positif attendu (exemple : 12).")
        self.data = int(raw)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class RichTextField(TextAreaField):
    """A rich field: sanitised to the safe subset; the limit counts the visible characters."""

    def __init__(self, label=None, validators=None, limit: int | None = None, **kwargs):
        render_kw = kwargs.pop("render_kw", {}) or {}
        if limit:
            render_kw["data-maxlength"] = limit
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.limit = limit

    def post_validate(self, form, validation_stopped):
        if validation_stopped:
            return
        self.data = sanitize(self.data)
        length = len(visible_text(self.data))
        if self.limit and length > self.limit:
            self.errors.append(
                f"{self.limit} caractères maximum ({length} saisis). Raccourcissez le texte."
            )


def plain_limit(n: int) -> dict:
    return {"data-maxlength": n}


def non_negative():
    return NumberRange(min=0, message=NON_NEGATIVE)


# Amounts are stored as NUMERIC(10, 2): a larger one would fail in the database (PostgreSQL).
MAX_AMOUNT = Decimal("99999999.99")


def amount() -> list:
    return [
        non_negative(),
        NumberRange(max=MAX_AMOUNT, message="Montant trop élevé : 99 999 999,99 € au plus."),
    ]


def check_video_url(form, field) -> None:
    """URL vidéo: YouTube or an .mp4 file."""
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.hostname in YOUTUBE_HOSTS or parts.path.lower().endswith(".mp4"):
        return
    raise ValidationError("L'URL vidéo doit être une vidéo YouTube ou un fichier .mp4.")


def url_field(label: str, description: str, extra=()) -> StringField:
    return StringField(
        label,
        [normalised_by(normalise_url), max_length(400), *extra],
        filters=STRIP,
        description=description,
        render_kw={"type": "url", "inputmode": "url"},
    )


# Steps of the creation path ------------------------------------------------------------------


class FicheForm(BaseForm):
    """A fiche's form, validated whole (Enregistrer without JavaScript) or one field at a time
    (live save): a cross-field check then compares with the other field's stored value."""

    live_field: str | None = None

    def other(self, name: str):
        field = self[name]
        return field.object_data if self.live_field else field.data


class CreateFormationForm(BaseForm):
    programme_id = SelectField("Programme", [required()], coerce=str)
    lot_id = SelectField("Intitulé du lot", [required()], coerce=str, validate_choice=False)
    realisation_site_id = SelectField("Site de réalisation", [required()], coerce=str)

    def __init__(self, *args, programmes=(), lots=(), sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.programme_id.choices = select_choices(
            ((str(p.id), p.name) for p in programmes), blank="Choisissez un programme"
        )
        self.lot_id.choices = select_choices(
            ((str(lot.id), lot.label) for lot in lots), blank="Choisissez un lot"
        )
        self.realisation_site_id.choices = select_choices(
            ((str(s.id), s.label) for s in sites), blank="Choisissez un site"
        )
        self.lots = {str(lot.id): lot for lot in lots}

    def validate_lot_id(self, field) -> None:
        lot = self.lots.get(field.data)
        if lot is None:
            raise ValidationError(
                "Choisissez un lot de ce programme dont votre établissement est mandataire "
                "ou formateur."
            )
        if str(lot.programme_id) != self.programme_id.data:
            raise ValidationError("Ce lot n'appartient pas au programme choisi.")


class CertifInfoForm(BaseForm):
    has_certif_info = YesNoField("Référence Certifinfo", [required()])
    certif_code = StringField("Code Certifinfo", filters=STRIP, render_kw={"inputmode": "numeric"})
    # No Optional() here: it would stop the chain before validate_free_title when empty.
    free_title = StringField("Intitulé", [max_length(255)], filters=STRIP)
    free_objective = TextAreaField(
        "Objectif général",
        [max_length(3000)],
        filters=STRIP,
        render_kw=plain_limit(3000),
    )
    version = VersionField()

    def validate_certif_code(self, field) -> None:
        if self.has_certif_info.data == "1" and not field.data:
            raise ValidationError("Saisissez le code Certifinfo.")

    def validate_free_title(self, field) -> None:
        if self.has_certif_info.data == "0" and not field.data:
            raise ValidationError("Saisissez l'intitulé de la formation.")

    def validate_free_objective(self, field) -> None:
        if self.has_certif_info.data == "0" and not field.data:
            raise ValidationError("Saisissez l'objectif de la formation.")


# The fiches ----------------------------------------------------------------------------------


class FormationForm(FicheForm):
    individualised_by_blocs = YesNoField(
        "Souhaitez-vous individualiser le parcours par bloc de compétences"
    )
    bloc_validation = RadioField(
        "Validation de la formation",
        choices=select_choices([("0", "Partielle"), ("1", "Totale")]),
        validate_choice=True,
    )
    version = VersionField()


class ActionForm(FicheForm):
    site_id = SelectField("Site dispensateur", coerce=str)
    title_complement = StringField(
        "Complément intitulé",
        [optional(), max_length(255)],
        filters=STRIP,
        description="À remplir uniquement si l'intitulé de la Fiche Formation n'est pas suffisant.",
        render_kw=plain_limit(255),
    )
    programme_complement = RichTextField(
        "Complément programme",
        limit=3000,
        description="Limité à 3000 caractères : intégrer les informations complémentaires liées "
        "au programme et qui ne seraient pas visibles sur la fiche Formation.",
    )
    objectives = RichTextField(
        "Objectifs",
        limit=3000,
        description="Limité à 3000 caractères – ne pas insérer de tableaux, caractères spéciaux, "
        "images, documents Pdf… À remplir uniquement si les objectifs et programme de la Fiche "
        "Formation ne sont pas suffisants.",
    )
    expected_results = RichTextField("Résultats attendus", limit=3000)
    plus_formation = TextAreaField(
        "Mon + formation",
        [optional(), max_length(250)],
        filters=STRIP,
        description="Limité à 250 caractères : à compléter pour mettre en avant les points forts "
        "de votre offre de formation.",
        render_kw=plain_limit(250) | {"rows": 2},
    )
    video_url = url_field(
        "URL Vidéo",
        "YouTube ou format MP4 : à renseigner si votre offre est présentée sous format vidéo.",
        extra=[check_video_url],
    )
    pdf_url = url_field(
        "URL PDF", "À renseigner si vous souhaitez communiquer une plaquette d'information."
    )
    action_url = url_field(
        "URL Action", "Lien vers la page de votre site Internet qui décrit cette action."
    )
    equipment_type = SelectField(
        "Type d'équipement",
        choices=select_choices(codes.EQUIPMENT_TYPES, blank="—"),
        description="Précisez les équipements nécessaires au suivi de la formation.",
    )
    equipment_cost = FrenchDecimalField(
        "Coût indicatif (€)", [optional(), *amount()], render_kw={"inputmode": "decimal"}
    )
    equipment_comment = RichTextField("Commentaire équipement", limit=3000)
    entry_level = SelectField(
        "Niveau d'entrée", choices=select_choices(codes.LEVELS, blank="Choisissez un niveau")
    )
    prerequisites = MultiCheckboxField(
        "Pré-requis",
        choices=select_choices(codes.PREREQUISITES),
        description="Sélectionnez un ou plusieurs items.",
    )
    prerequisites_comment = RichTextField("Commentaire Pré-requis", limit=3000)
    public_targets = MultiCheckboxField("Public visé", choices=select_choices(codes.PUBLIC_TARGETS))
    region_agreement_date = DateField(
        "Date de l'accord préalable de la Région",
        [optional()],
        format="%Y-%m-%d",
        description="Programme Région : la modification d'une action validée doit avoir été "
        "acceptée par la Région en amont.",
    )
    region_agreement_ref = StringField(
        "Référence de l'accord de la Région", [optional(), max_length(100)], filters=STRIP
    )
    public_comment = TextAreaField(
        "Précisions sur le public visé",
        [optional(), max_length(3000)],
        filters=STRIP,
        render_kw=plain_limit(3000) | {"rows": 2},
    )
    version = VersionField()

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.site_id.choices = select_choices(
            ((str(s.id), s.label) for s in sites), blank="Choisissez un site"
        )


def _empty_to_none(form: BaseForm, field: Field) -> None:
    if field.data in ("", "None"):
        field.data = None


class SessionForm(FicheForm):
    site_id = SelectField("Site lieu", coerce=str)
    start_date = DateField("Date début", [optional()], format="%Y-%m-%d")
    end_date = DateField("Date fin", [optional()], format="%Y-%m-%d")
    entry_exit_mode = SelectField(
        "ESP",
        choices=select_choices(codes.ENTRY_EXIT_MODES, blank="—"),
        description="Entrée/sortie cadencées ou séquencées OU entrée/sortie à dates fixes.",
    )
    rhythm = SelectField("Rythmes", choices=select_choices(codes.RHYTHMS, blank="—"))
    training_periods = MultiCheckboxField(
        "Périodes de formations", choices=select_choices(codes.TRAINING_PERIODS)
    )
    path_type = SelectField(
        "Type de parcours",
        choices=select_choices(codes.PATH_TYPES, blank="—"),
        description="Par exemple : collectif (en groupe).",
    )
    pedagogical_modes = MultiCheckboxField(
        "Modalités pédagogiques",
        choices=select_choices(codes.PEDAGOGICAL_MODES),
        description="En établissement de formation, en entreprise et éventuellement FOAD.",
    )
    teaching_mode = SelectField(
        "Modalités d'enseignement",
        choices=select_choices(codes.TEACHING_MODES, blank="—"),
        description="En présentiel / entièrement à distance / mixte.",
    )
    hours_centre = WholeNumberField("Durée en centre (en h)", render_kw={"inputmode": "numeric"})
    hours_company = WholeNumberField(
        "Durée en entreprise (en h)", render_kw={"inputmode": "numeric"}
    )
    hours_weekly = FrenchDecimalField(
        "Durée hebdo (en h)",
        [optional(), NumberRange(min=0, max=168, message="Entre 0 et 168 heures par semaine.")],
        render_kw={"inputmode": "decimal"},
    )
    duration_comment = TextAreaField(
        "Commentaire durée",
        [optional(), max_length(3000)],
        filters=STRIP,
        render_kw=plain_limit(3000) | {"rows": 2},
    )
    alternance_cycle = StringField(
        "Cycle de l'alternance", [optional(), max_length(250)], filters=STRIP
    )
    company_unit = SelectField(
        "Unité entreprise", choices=select_choices(codes.RHYTHM_UNITS, blank="—")
    )
    recruitment_state = SelectField(
        "Recrutement",
        choices=select_choices(codes.RECRUITMENT_STATES, blank="—"),
        description="État du recrutement : ouvert / suspendu / fermé.",
    )
    recruitment_modes = MultiCheckboxField(
        "Modalité de recrutement",
        choices=select_choices(codes.RECRUITMENT_MODES),
        description="Une ou plusieurs modalités à sélectionner.",
    )
    referent_pmr_id = SelectField("Référent PMR", coerce=str)
    referent_prf_id = SelectField("Référent PRF", coerce=str)
    liaison_contact_id = SelectField("Mail de liaison", coerce=str)
    referent_mobility_id = SelectField("Référent mobilité", coerce=str)
    # NOT NULL columns: a blank answer (only a forged form sends one) is refused, not stored.
    is_initial_training = YesNoField("Formation initiale", nullable=False)
    is_apprenticeship = YesNoField("En contrat d'apprentissage", nullable=False)
    is_professionalisation = YesNoField("En contrat de professionnalisation", nullable=False)
    version = VersionField()

    CONTACT_FIELDS = (
        "referent_pmr_id",
        "referent_prf_id",
        "liaison_contact_id",
        "referent_mobility_id",
    )

    def __init__(self, *args, sites=(), contacts=(), locked_start=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Forfait recrutement: once validated, the session starts on the planned date.
        self.locked_start = locked_start
        self.site_id.choices = select_choices(
            ((str(s.id), s.label) for s in sites), blank="Choisissez un site"
        )
        for name in self.CONTACT_FIELDS:
            self[name].choices = select_choices(((str(c.id), c.label) for c in contacts), blank="—")

    def validate_start_date(self, field) -> None:
        if self.locked_start and field.data != self.locked_start:
            raise ValidationError(
                "Lot soumis au forfait recrutement : la session validée doit démarrer, même à "
                f"effectif réduit, à la date prévue ({self.locked_start.strftime('%d/%m/%Y')})."
            )
        end = self.other("end_date")
        if field.data and end and field.data > end:
            raise ValidationError(
                f"La date de début doit précéder la date de fin ({end.strftime('%d/%m/%Y')})."
            )

    def validate_end_date(self, field) -> None:
        start = self.other("start_date")
        if field.data and start and field.data < start:
            raise ValidationError(
                "La date de fin doit être postérieure ou égale à la date de début "
                f"({start.strftime('%d/%m/%Y')})."
            )


class FundingForm(FicheForm):
    publics = StringField("Publics", [optional(), max_length(250)], filters=STRIP)
    places = WholeNumberField(
        "Nb places dispositif",
        description="À indiquer obligatoirement – cf. bon de commande Région et tableau de "
        "programmation annexé.",
        render_kw={"inputmode": "numeric"},
    )
    places_remaining = WholeNumberField("Nb places restantes", render_kw={"inputmode": "numeric"})
    min_headcount = WholeNumberField("Effectif minimal", render_kw={"inputmode": "numeric"})
    simultaneous_capacity = WholeNumberField(
        "Capacité simultanée", render_kw={"inputmode": "numeric"}
    )
    fee_ht = FrenchDecimalField(
        "Frais HT (€)", [optional(), *amount()], render_kw={"inputmode": "decimal"}
    )
    vat_rate = FrenchDecimalField(
        "Taux TVA (%)",
        [optional(), NumberRange(min=0, max=100, message="Un taux entre 0 et 100 %%.")],
        render_kw={"inputmode": "decimal"},
    )
    additional_fees = FrenchDecimalField(
        "Montant total des frais additionnels non pris en charge (€)",
        [optional(), *amount()],
        render_kw={"inputmode": "decimal"},
    )
    certification_fees_included = YesNoField("Frais afférents au passage de la certification")
    teaching_fees_covered = YesNoField(
        "Prise en charge des frais pédagogiques", description="Oui pour les programmes Région."
    )
    version = VersionField()

    def validate_places_remaining(self, field) -> None:
        places = self.other("places")
        if field.data is not None and places is not None and field.data > places:
            raise ValidationError(
                f"Le nombre de places restantes ne peut pas dépasser les places du dispositif "
                f"({places})."
            )
