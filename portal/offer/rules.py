"""Completeness rules of the procedure (DESIGN §4), checked at "Envoyer en validation".

Each rule is a named function with its French message; the live save does not enforce them (a
draft may be incomplete), the recap ("État de la saisie") lists them all, passed or failed,
and sending is refused while any fails. Plain functions over the models: no request, no
templates, tested one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from ..models import Action, Formation, Session, SessionFunding
from ..richtext import visible_text

SCOPES = ("formation", "action", "session", "funding")


@dataclass(frozen=True)
class Rule:
    code: str
    scope: str
    field: str | None
    label: str
    check: Callable[..., str | None]


RULES: dict[str, Rule] = {}


def rule(code: str, scope: str, label: str, field: str | None = None):
    """Register a check returning None when it passes, else the French message."""

    def register(check: Callable[..., str | None]) -> Callable[..., str | None]:
        RULES[code] = Rule(code, scope, field, label, check)
        return check

    return register


# Formation ----------------------------------------------------------------------------------


@rule("formation_certification", "formation", "Référence Certif Info ou intitulé libre")
def formation_certification(formation: Formation, today: date) -> str | None:
    if formation.has_certif_info is None:
        return "Indiquez si la formation a une référence Certif Info."
    if formation.has_certif_info:
        if formation.certification is None:
            return "Saisissez le code Certif Info de la formation."
        if formation.certification.archived:
            replacement = formation.certification.replaced_by_code
            hint = f" : il est remplacé par {replacement}" if replacement else ""
            return f"Le code Certif Info {formation.certification.code} est archivé{hint}."
        return None
    if not formation.free_title or not formation.free_objective:
        return "Sans référence Certif Info, l'intitulé et l'objectif sont obligatoires."
    return None


@rule("formation_lot", "formation", "Programme, lot et mandataire")
def formation_lot(formation: Formation, today: date) -> str | None:
    if formation.programme_id is None:
        return None  # the establishment's own offer has no programme
    if formation.lot is None:
        return "Choisissez l'intitulé du lot."
    if formation.lot.programme_id != formation.programme_id:
        return "Le lot n'appartient pas au programme de la formation."
    if formation.mandataire_id != formation.lot.mandataire_id:
        return "Le mandataire doit être celui du lot."
    return None


@rule(
    "formation_bloc_validation", "formation", "Validation de la formation", field="bloc_validation"
)
def formation_bloc_validation(formation: Formation, today: date) -> str | None:
    if formation.individualised_by_blocs is None:
        return "Indiquez si le parcours est individualisé par bloc de compétences."
    if formation.bloc_validation is None:
        return "Indiquez si la validation de la formation est partielle ou totale."
    if (
        formation.individualised_by_blocs
        and formation.certification
        and (formation.certification.blocs and not formation.blocs)
    ):
        return "Parcours individualisé : cochez les blocs de compétences proposés."
    return None


# Action ---------------------------------------------------------------------------------------


@rule("action_site", "action", "Site dispensateur", field="site_id")
def action_site(action: Action, today: date) -> str | None:
    if action.site is None:
        return "Choisissez le site dispensateur."
    if not action.site.active:
        return (
            f"Le site dispensateur « {action.site.name} » est désactivé : choisissez-en un autre."
        )
    return None


@rule("action_entry_level", "action", "Niveau d'entrée", field="entry_level")
def action_entry_level(action: Action, today: date) -> str | None:
    return None if action.entry_level else "Choisissez le niveau d'entrée."


def _too_long(value: str | None, limit: int, label: str) -> str | None:
    length = len(visible_text(value))
    return f"{label} : {limit} caractères maximum ({length} saisis)." if length > limit else None


@rule(
    "action_programme_length",
    "action",
    "Complément programme ≤ 3000 caractères",
    field="programme_complement",
)
def action_programme_length(action: Action, today: date) -> str | None:
    return _too_long(action.programme_complement, 3000, "Complément programme")


@rule("action_objectives_length", "action", "Objectifs ≤ 3000 caractères", field="objectives")
def action_objectives_length(action: Action, today: date) -> str | None:
    return _too_long(action.objectives, 3000, "Objectifs")


@rule(
    "action_plus_length", "action", "Le « plus » formation ≤ 250 caractères", field="plus_formation"
)
def action_plus_length(action: Action, today: date) -> str | None:
    return _too_long(action.plus_formation, 250, "Le « plus » formation")


@rule("action_video_url", "action", "URL vidéo YouTube ou MP4", field="video_url")
def action_video_url(action: Action, today: date) -> str | None:
    if not action.video_url:
        return None
    parts = urlsplit(action.video_url)
    if parts.scheme not in ("http", "https"):
        return "L'URL vidéo doit être une adresse web (https://…)."
    if (parts.hostname or "").removeprefix("www.").removeprefix("m.") in (
        "youtube.com",
        "youtu.be",
    ):
        return None
    if parts.path.lower().endswith(".mp4"):
        return None
    return "L'URL vidéo doit être une vidéo YouTube ou un fichier .mp4."


@rule(
    "action_region_agreement",
    "action",
    "Accord préalable de la Région",
    field="region_agreement_date",
)
def action_region_agreement(action: Action, today: date) -> str | None:
    programme = action.formation.programme
    if not (action.validated_at and programme and programme.is_region):
        return None
    if action.region_agreement_date and action.region_agreement_ref:
        return None
    return (
        "Programme Région : indiquez la date et la référence de l'accord préalable de la Région "
        "avant de renvoyer l'action modifiée en validation."
    )


# "Active" is the Etat A/I flag, not the dates: the procedure's sessions of a past lot year
# (PE2024 in 2026) are still entered and sent.
@rule("action_has_session", "action", "Au moins une session non désactivée")
def action_has_session(action: Action, today: date) -> str | None:
    if any(s.active for s in action.sessions):
        return None
    return "Ajoutez au moins une session active à l'action."


# Session --------------------------------------------------------------------------------------


@rule("session_site", "session", "Site lieu", field="site_id")
def session_site(session: Session, today: date) -> str | None:
    if session.site is None:
        return "Choisissez le site lieu de la session."
    if not session.site.active:
        return f"Le site « {session.site.name} » est désactivé : choisissez-en un autre."
    return None


@rule("session_dates", "session", "Dates de début et de fin", field="start_date")
def session_dates(session: Session, today: date) -> str | None:
    if session.start_date is None or session.end_date is None:
        return "Saisissez les dates de début et de fin de la session."
    if session.end_date < session.start_date:
        return "La date de fin doit être postérieure ou égale à la date de début."
    return None


@rule("session_lot_year", "session", "Début dans l'année du lot", field="start_date")
def session_lot_year(session: Session, today: date) -> str | None:
    formation = session.action.formation
    programme, lot = formation.programme, formation.lot
    if not (programme and programme.start_in_lot_year and lot and session.start_date):
        return None
    if session.start_date.year != lot.year:
        return (
            f"La session doit obligatoirement débuter en {lot.year} (lot {lot.code}) et la date "
            "de début doit intégrer le module de remise à niveau contextualisé."
        )
    return None


def _required(value, message: str) -> str | None:
    return message if value in (None, "", []) else None


_SESSION_REQUIRED = (
    (
        "session_esp",
        "entry_exit_mode",
        "ESP (entrées/sorties)",
        "Choisissez les entrées/sorties (ESP).",
    ),
    ("session_rhythm", "rhythm", "Rythmes", "Choisissez le rythme."),
    (
        "session_periods",
        "training_periods",
        "Périodes de formations",
        "Choisissez au moins une période de formation.",
    ),
    ("session_path_type", "path_type", "Type de parcours", "Choisissez le type de parcours."),
    (
        "session_pedagogical_modes",
        "pedagogical_modes",
        "Modalités pédagogiques",
        "Choisissez au moins une modalité pédagogique.",
    ),
    (
        "session_teaching_mode",
        "teaching_mode",
        "Modalités d'enseignement",
        "Choisissez les modalités d'enseignement.",
    ),
    (
        "session_hours_centre",
        "hours_centre",
        "Durée en centre",
        "Saisissez la durée en centre (en heures).",
    ),
    (
        "session_hours_company",
        "hours_company",
        "Durée en entreprise",
        "Saisissez la durée en entreprise (en heures, 0 s'il n'y en a pas).",
    ),
    ("session_company_unit", "company_unit", "Unité entreprise", "Choisissez l'unité entreprise."),
    (
        "session_recruitment_state",
        "recruitment_state",
        "Recrutement",
        "Indiquez l'état du recrutement.",
    ),
    (
        "session_recruitment_modes",
        "recruitment_modes",
        "Modalité de recrutement",
        "Choisissez au moins une modalité de recrutement.",
    ),
    ("session_referent_pmr", "referent_pmr_id", "Référent PMR", "Choisissez le référent PMR."),
    (
        "session_referent_mobility",
        "referent_mobility_id",
        "Référent mobilité",
        "Choisissez le référent mobilité.",
    ),
)


def _register_required(code: str, attr: str, label: str, message: str) -> None:
    @rule(code, "session", label, field=attr)
    def check(session: Session, today: date) -> str | None:
        return _required(getattr(session, attr), message)

    check.__name__ = code


for _code, _attr, _label, _message in _SESSION_REQUIRED:
    _register_required(_code, _attr, _label, _message)


@rule("session_responsible", "session", "Organisme responsable = mandataire du lot")
def session_responsible(session: Session, today: date) -> str | None:
    lot = session.action.formation.lot
    if lot and session.responsible_id != lot.mandataire_id:
        return "L'organisme responsable doit être le mandataire du lot."
    return None


@rule("session_info_meetings", "session", "Informations collectives")
def session_info_meetings(session: Session, today: date) -> str | None:
    if session.info_meetings:
        return None
    return (
        "Saisissez au moins une information collective : la saisie est obligatoire pour que "
        "l'offre puisse alimenter Kairos, OUIFORM et les sites régionaux."
    )


@rule("session_funding", "session", "Fiche Dispositif")
def session_funding(session: Session, today: date) -> str | None:
    programme_id = session.action.formation.programme_id
    if programme_id is None:
        return None
    if not any(f.programme_id == programme_id for f in session.fundings):
        return "Complétez la fiche Dispositif de la session."
    return None


# Dispositif -----------------------------------------------------------------------------------


@rule("funding_places", "funding", "Nb places dispositif", field="places")
def funding_places(funding: SessionFunding, today: date) -> str | None:
    return _required(funding.places, "Le nombre de places du dispositif est obligatoire.")


@rule(
    "funding_remaining",
    "funding",
    "Places restantes ≤ places du dispositif",
    field="places_remaining",
)
def funding_remaining(funding: SessionFunding, today: date) -> str | None:
    if (
        funding.places is not None
        and funding.places_remaining is not None
        and (funding.places_remaining > funding.places)
    ):
        return "Le nombre de places restantes dépasse celui du dispositif."
    return None


@rule("funding_fees", "funding", "Frais pédagogiques", field="fee_ht")
def funding_fees(funding: SessionFunding, today: date) -> str | None:
    if funding.fee_ht is not None and funding.fee_ht < 0:
        return "Les frais HT doivent être positifs."
    if funding.vat_rate is not None and not 0 <= funding.vat_rate <= 100:
        return "Le taux de TVA doit être compris entre 0 et 100 %."
    return None


# Running the rules ----------------------------------------------------------------------------


@dataclass
class Result:
    rule: Rule
    record: object
    message: str | None

    @property
    def passed(self) -> bool:
        return self.message is None


@dataclass
class Report:
    """Every rule's result for an action: its formation, itself, each session and dispositif."""

    formation: list[Result] = field(default_factory=list)
    action: list[Result] = field(default_factory=list)
    sessions: list[tuple[Session, list[Result]]] = field(default_factory=list)

    @property
    def all(self) -> list[Result]:
        results = [*self.formation, *self.action]
        for _, session_results in self.sessions:
            results.extend(session_results)
        return results

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.all if not r.passed]

    @property
    def complete(self) -> bool:
        return not self.failures


def _run(scope: str, record: object, today: date) -> list[Result]:
    return [Result(r, record, r.check(record, today)) for r in RULES.values() if r.scope == scope]


def check_action(action: Action, today: date) -> Report:
    """Run every rule over ``action``; inactive sessions are not checked (nor sent)."""
    report = Report(
        formation=_run("formation", action.formation, today),
        action=_run("action", action, today),
    )
    programme_id = action.formation.programme_id
    for session in action.sessions:
        if not session.active:
            continue
        results = _run("session", session, today)
        for funding in session.fundings:
            if funding.programme_id == programme_id:
                results.extend(_run("funding", funding, today))
        report.sessions.append((session, results))
    return report
