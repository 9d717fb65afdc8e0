"""Completeness rules (portal/offer/rules.py): every rule fails with its French message on a
record that breaks it and passes on one that satisfies it; check_action gathers them all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import (
    Action,
    Certification,
    CertificationBloc,
    Contact,
    Establishment,
    Formation,
    InfoMeeting,
    Lot,
    Programme,
    Session,
    SessionFunding,
    Site,
)
from portal.offer.rules import RULES, check_action

TODAY = date(2024, 1, 15)
COVERED: set[str] = set()


def covers(*codes: str):
    """Record that the decorated test proves ``codes``; the guard test compares with RULES."""
    COVERED.update(codes)
    return lambda test: test


def check(code: str, record) -> str | None:
    return RULES[code].check(record, TODAY)


def save() -> None:
    """Commit the changes: the rules then read what the database holds (commit expires all)."""
    db.session.commit()


# Builders -------------------------------------------------------------------------------------


@dataclass
class Offer:
    """A complete offer of a programme whose sessions must start in the lot's year."""

    establishment: Establishment
    mandataire: Establishment
    site: Site
    referent: Contact
    programme: Programme
    lot: Lot
    certification: Certification
    formation: Formation
    action: Action
    session: Session = field(init=False)
    funding: SessionFunding = field(init=False)


def add_info_meeting(session: Session, site: Site | None = None) -> InfoMeeting:
    meeting = InfoMeeting(
        session_id=session.id,
        establishment_id=session.establishment_id,
        site_id=site.id if site else session.site_id,
        day=date(2024, 1, 25),
        start_time=time(9, 30),
    )
    db.session.add(meeting)
    db.session.commit()
    return meeting


def add_funding(session: Session, programme: Programme, **kw) -> SessionFunding:
    defaults = dict(
        session_id=session.id,
        establishment_id=session.establishment_id,
        programme_id=programme.id,
        places=12,
        places_remaining=12,
        fee_ht=Decimal("3500.00"),
        vat_rate=Decimal("20.00"),
    )
    funding = SessionFunding(**(defaults | kw))
    db.session.add(funding)
    db.session.commit()
    return funding


def add_bloc(certification: Certification, code: str = "BC01") -> CertificationBloc:
    bloc = CertificationBloc(certification_id=certification.id, code=code, title=f"Bloc {code}")
    db.session.add(bloc)
    db.session.commit()
    return bloc


@pytest.fixture
def new_session(make_session):
    """Build a complete session of ``offer``'s action (info meeting and dispositif included)."""

    def build(offer: Offer, *, info_meeting=True, funding=True, **kw) -> Session:
        defaults = dict(
            site_id=offer.site.id,
            start_date=date(2024, 2, 10),
            end_date=date(2024, 6, 28),
            entry_exit_mode="0",
            rhythm="1",
            training_periods=["1"],
            path_type="1",
            pedagogical_modes=["96121"],
            teaching_mode=0,
            hours_centre=140,
            hours_company=35,
            company_unit="0",
            responsible_id=offer.mandataire.id,
            recruitment_state="1",
            recruitment_modes=["8", "9"],
            referent_pmr_id=offer.referent.id,
            referent_mobility_id=offer.referent.id,
        )
        session = make_session(offer.action, **(defaults | kw))
        if info_meeting:
            add_info_meeting(session)
        if funding:
            add_funding(session, offer.programme)
        return session

    return build


@pytest.fixture
def offer(
    make_establishment,
    make_site,
    make_contact,
    make_programme,
    make_lot,
    make_certification,
    make_formation,
    make_action,
    new_session,
) -> Offer:
    establishment = make_establishment(name="Organisme formateur")
    mandataire = make_establishment(name="Mandataire du lot")
    site = make_site(establishment, name="Principal")
    referent = make_contact(establishment, roles=["1", "3"])
    programme = make_programme(
        name="PROGRAMME REGION - Formations Parcours entrepreneur", start_in_lot_year=True
    )
    lot = make_lot(programme, mandataire, year=2024)
    certification = make_certification(code="93561")
    formation = make_formation(
        establishment,
        programme_id=programme.id,
        lot_id=lot.id,
        mandataire_id=mandataire.id,
        realisation_site_id=site.id,
        has_certif_info=True,
        certification_id=certification.id,
        free_title=None,
        individualised_by_blocs=False,
        bloc_validation="1",
    )
    action = make_action(
        formation,
        site_id=site.id,
        entry_level="11",
        objectives="<p>Créer ou reprendre une entreprise.</p>",
        plus_formation="Accompagnement individuel",
        video_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    )
    offer = Offer(
        establishment,
        mandataire,
        site,
        referent,
        programme,
        lot,
        certification,
        formation,
        action,
    )
    offer.session = new_session(offer)
    offer.funding = offer.session.fundings[0]
    return offer


def make_own_offer(offer: Offer) -> None:
    """Turn ``offer`` into the establishment's own offer: no programme, lot nor mandataire."""
    offer.formation.programme = None
    offer.formation.lot = None
    offer.formation.mandataire = None
    save()


def test_the_offer_fixture_is_complete(offer):
    records = {
        "formation": offer.formation,
        "action": offer.action,
        "session": offer.session,
        "funding": offer.funding,
    }
    failures = {code: r.check(records[r.scope], TODAY) for code, r in RULES.items()}
    assert {code: msg for code, msg in failures.items() if msg} == {}


def test_every_rule_has_a_test():
    assert set(RULES) - COVERED == set(), "rules without a test"
    assert COVERED - set(RULES) == set(), "tests of unknown rules"


# Formation ------------------------------------------------------------------------------------


@covers("formation_certification")
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"has_certif_info": None}, "Indiquez si la formation a une référence Certif Info."),
        ({"certification_id": None}, "Saisissez le code Certif Info de la formation."),
        (
            {"has_certif_info": False, "free_title": None, "free_objective": "Créer"},
            "Sans référence Certif Info, l'intitulé et l'objectif sont obligatoires.",
        ),
        (
            {"has_certif_info": False, "free_title": "Créer", "free_objective": None},
            "Sans référence Certif Info, l'intitulé et l'objectif sont obligatoires.",
        ),
        (
            {"has_certif_info": False, "free_title": "", "free_objective": ""},
            "Sans référence Certif Info, l'intitulé et l'objectif sont obligatoires.",
        ),
    ],
)
def test_formation_certification_fails_without_reference_or_free_title(offer, changes, message):
    assert check("formation_certification", offer.formation) is None
    for attr, value in changes.items():
        setattr(offer.formation, attr, value)
    save()
    assert check("formation_certification", offer.formation) == message


@covers("formation_certification")
@pytest.mark.parametrize(
    ("replaced_by", "hint"), [("93600", " : il est remplacé par 93600"), (None, "")]
)
def test_formation_certification_fails_on_archived_code_naming_its_replacement(
    offer, replaced_by, hint
):
    offer.certification.archived = True
    offer.certification.replaced_by_code = replaced_by
    save()
    message = check("formation_certification", offer.formation)
    assert message == f"Le code Certif Info 93561 est archivé{hint}."


@covers("formation_certification")
def test_formation_certification_passes_with_free_title_and_objective_under_non(offer):
    offer.formation.has_certif_info = False
    offer.formation.certification = None
    offer.formation.free_title = "Créer son entreprise"
    offer.formation.free_objective = "Construire et chiffrer son projet."
    save()
    assert check("formation_certification", offer.formation) is None


@covers("formation_lot")
def test_formation_lot_fails_without_lot(offer):
    assert check("formation_lot", offer.formation) is None
    offer.formation.lot = None
    save()
    assert check("formation_lot", offer.formation) == "Choisissez l'intitulé du lot."


@covers("formation_lot")
def test_formation_lot_fails_with_a_lot_of_another_programme(offer, make_programme, make_lot):
    other_lot = make_lot(make_programme(), offer.mandataire)
    offer.formation.lot = other_lot
    save()
    assert (
        check("formation_lot", offer.formation)
        == "Le lot n'appartient pas au programme de la formation."
    )


@covers("formation_lot")
@pytest.mark.parametrize("mandataire", ["other", None])
def test_formation_lot_fails_when_the_mandataire_is_not_the_lots(
    offer, make_establishment, mandataire
):
    offer.formation.mandataire = make_establishment() if mandataire == "other" else None
    save()
    assert check("formation_lot", offer.formation) == "Le mandataire doit être celui du lot."


@covers("formation_lot")
def test_formation_lot_passes_for_the_establishments_own_offer(offer):
    make_own_offer(offer)
    assert check("formation_lot", offer.formation) is None


@covers("formation_bloc_validation")
@pytest.mark.parametrize(
    ("attr", "message"),
    [
        (
            "individualised_by_blocs",
            "Indiquez si le parcours est individualisé par bloc de compétences.",
        ),
        ("bloc_validation", "Indiquez si la validation de la formation est partielle ou totale."),
    ],
)
def test_formation_bloc_validation_requires_both_answers(offer, attr, message):
    assert check("formation_bloc_validation", offer.formation) is None
    setattr(offer.formation, attr, None)
    save()
    assert check("formation_bloc_validation", offer.formation) == message


@covers("formation_bloc_validation")
def test_formation_bloc_validation_individualised_path_needs_chosen_blocs(offer):
    bloc = add_bloc(offer.certification)
    add_bloc(offer.certification, "BC02")
    assert check("formation_bloc_validation", offer.formation) is None  # not individualised
    offer.formation.individualised_by_blocs = True
    offer.formation.bloc_validation = "0"
    save()
    assert (
        check("formation_bloc_validation", offer.formation)
        == "Parcours individualisé : cochez les blocs de compétences proposés."
    )
    offer.formation.blocs.append(bloc)
    save()
    assert check("formation_bloc_validation", offer.formation) is None


@covers("formation_bloc_validation")
def test_formation_bloc_validation_individualised_without_blocs_to_choose_passes(offer):
    offer.formation.individualised_by_blocs = True
    save()
    assert not offer.certification.blocs
    assert check("formation_bloc_validation", offer.formation) is None


# Action ---------------------------------------------------------------------------------------


@covers("action_site")
def test_action_site_fails_without_site(offer):
    assert check("action_site", offer.action) is None
    offer.action.site = None
    save()
    assert check("action_site", offer.action) == "Choisissez le site dispensateur."


@covers("action_site")
def test_action_site_fails_on_a_deactivated_site(offer, make_site):
    offer.action.site = make_site(offer.establishment, name="Annexe de Cholet", active=False)
    save()
    assert check("action_site", offer.action) == (
        "Le site dispensateur « Annexe de Cholet » est désactivé : choisissez-en un autre."
    )
    offer.action.site.active = True
    save()
    assert check("action_site", offer.action) is None


@covers("action_entry_level")
@pytest.mark.parametrize("empty", [None, ""])
def test_action_entry_level_is_required(offer, empty):
    assert check("action_entry_level", offer.action) is None
    offer.action.entry_level = empty
    save()
    assert check("action_entry_level", offer.action) == "Choisissez le niveau d'entrée."


LENGTH_RULES = [
    pytest.param("action_programme_length", "programme_complement", 3000, "Complément programme"),
    pytest.param("action_objectives_length", "objectives", 3000, "Objectifs"),
    pytest.param("action_plus_length", "plus_formation", 250, "Le « plus » formation"),
]
covers(*(p.values[0] for p in LENGTH_RULES))


@pytest.mark.parametrize(("code", "attr", "limit", "label"), LENGTH_RULES)
def test_length_rules_fail_one_character_over_the_limit(offer, code, attr, limit, label):
    setattr(offer.action, attr, "a" * limit)
    save()
    assert check(code, offer.action) is None
    setattr(offer.action, attr, "a" * (limit + 1))
    save()
    assert check(code, offer.action) == (
        f"{label} : {limit} caractères maximum ({limit + 1} saisis)."
    )


@pytest.mark.parametrize(("code", "attr", "limit", "label"), LENGTH_RULES)
def test_length_rules_count_visible_text_not_html_tags(offer, code, attr, limit, label):
    setattr(offer.action, attr, "<p>" + "a" * limit + "</p>")
    save()
    assert check(code, offer.action) is None
    setattr(offer.action, attr, "<p><strong>" + "&amp;" * limit + "</strong></p>")
    save()
    assert check(code, offer.action) is None  # an entity is one visible character
    setattr(offer.action, attr, "<p>" + "a" * (limit + 1) + "</p>")
    save()
    assert check(code, offer.action) == (
        f"{label} : {limit} caractères maximum ({limit + 1} saisis)."
    )


@pytest.mark.parametrize(("code", "attr", "limit", "label"), LENGTH_RULES)
@pytest.mark.parametrize("empty", [None, ""])
def test_length_rules_pass_on_empty_fields(offer, code, attr, limit, label, empty):
    setattr(offer.action, attr, empty)
    save()
    assert check(code, offer.action) is None


def test_objectives_of_3001_characters_fail_but_3000_inside_a_paragraph_pass(offer):
    offer.action.objectives = "x" * 3001
    save()
    assert check("action_objectives_length", offer.action) == (
        "Objectifs : 3000 caractères maximum (3001 saisis)."
    )
    offer.action.objectives = "<p>" + "x" * 3000 + "</p>"
    save()
    assert check("action_objectives_length", offer.action) is None


@covers("action_video_url")
@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://cdn.example.org/videos/presentation.mp4",
        "https://cdn.example.org/videos/PRESENTATION.MP4?download=1",
    ],
)
def test_action_video_url_accepts_youtube_and_mp4(offer, url):
    offer.action.video_url = url
    save()
    assert check("action_video_url", offer.action) is None


@covers("action_video_url")
@pytest.mark.parametrize(
    "url",
    [
        "https://vimeo.com/76979871",
        "https://www.dailymotion.com/video/x8abcd",
        "https://cdn.example.org/videos/presentation.avi",
        "https://youtube.com.example.org/watch?v=dQw4w9WgXcQ",
        "https://example.org/mp4",
    ],
)
def test_action_video_url_refuses_other_videos(offer, url):
    offer.action.video_url = url
    save()
    assert (
        check("action_video_url", offer.action)
        == "L'URL vidéo doit être une vidéo YouTube ou un fichier .mp4."
    )


@covers("action_region_agreement")
@pytest.mark.parametrize(
    ("agreement_date", "agreement_ref", "passes"),
    [
        (None, None, False),
        (date(2024, 1, 10), None, False),
        (None, "CR-2024-118", False),
        (date(2024, 1, 10), "", False),
        (date(2024, 1, 10), "CR-2024-118", True),
    ],
)
def test_action_region_agreement_needed_to_resend_a_validated_region_action(
    offer, agreement_date, agreement_ref, passes
):
    assert offer.programme.is_region
    assert check("action_region_agreement", offer.action) is None  # never validated
    offer.action.validated_at = datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    offer.action.region_agreement_date = agreement_date
    offer.action.region_agreement_ref = agreement_ref
    save()
    message = (
        "Programme Région : indiquez la date et la référence de l'accord préalable de la "
        "Région avant de renvoyer l'action modifiée en validation."
    )
    expected = None if passes else message
    assert check("action_region_agreement", offer.action) == expected


@covers("action_region_agreement")
@pytest.mark.parametrize("own_offer", [False, True], ids=["not-region", "own-offer"])
def test_action_region_agreement_not_needed_outside_region_programmes(offer, own_offer):
    if own_offer:
        make_own_offer(offer)
    else:
        offer.programme.is_region = False
    offer.action.validated_at = datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    save()
    assert check("action_region_agreement", offer.action) is None


@covers("action_has_session")
def test_action_has_session_needs_an_active_session(offer, make_formation, make_action):
    assert check("action_has_session", offer.action) is None
    offer.session.active = False
    save()
    message = "Ajoutez au moins une session active à l'action."
    assert check("action_has_session", offer.action) == message
    empty = make_action(make_formation(offer.establishment))
    assert check("action_has_session", empty) == message


# Session --------------------------------------------------------------------------------------


@covers("session_site")
def test_session_site_fails_without_site(offer):
    assert check("session_site", offer.session) is None
    offer.session.site = None
    save()
    assert check("session_site", offer.session) == "Choisissez le site lieu de la session."


@covers("session_site")
def test_session_site_fails_on_a_deactivated_site(offer):
    offer.site.active = False
    save()
    assert check("session_site", offer.session) == (
        "Le site « Principal » est désactivé : choisissez-en un autre."
    )


@covers("session_dates")
@pytest.mark.parametrize("missing", ["start_date", "end_date"])
def test_session_dates_are_required(offer, missing):
    assert check("session_dates", offer.session) is None
    setattr(offer.session, missing, None)
    save()
    assert (
        check("session_dates", offer.session)
        == "Saisissez les dates de début et de fin de la session."
    )


@covers("session_dates")
def test_session_dates_end_may_equal_but_not_precede_the_start():
    # The database refuses end < start (CHECK constraint): a transient session shows the rule.
    one_day = Session(start_date=date(2024, 2, 10), end_date=date(2024, 2, 10))
    assert check("session_dates", one_day) is None
    backwards = Session(start_date=date(2024, 6, 28), end_date=date(2024, 2, 10))
    assert (
        check("session_dates", backwards)
        == "La date de fin doit être postérieure ou égale à la date de début."
    )


@covers("session_lot_year")
@pytest.mark.parametrize(
    ("start", "passes"),
    [
        (date(2024, 2, 10), True),
        (date(2024, 1, 1), True),
        (date(2024, 12, 31), True),
        (date(2022, 2, 10), False),
        (date(2023, 12, 31), False),
        (date(2025, 1, 1), False),
    ],
)
def test_session_lot_year_requires_a_start_in_the_lots_year(offer, start, passes):
    offer.session.start_date = start
    offer.session.end_date = start + timedelta(days=90)
    save()
    message = check("session_lot_year", offer.session)
    if passes:
        assert message is None
    else:
        assert message == (
            f"La session doit obligatoirement débuter en 2024 (lot {offer.lot.code}) et la date "
            "de début doit intégrer le module de remise à niveau contextualisé."
        )
        assert "La session doit obligatoirement débuter en 2024" in message


@covers("session_lot_year")
def test_session_lot_year_does_not_apply_without_the_programme_flag(offer):
    offer.session.start_date = date(2022, 2, 10)
    save()
    assert check("session_lot_year", offer.session) is not None
    offer.programme.start_in_lot_year = False
    save()
    assert check("session_lot_year", offer.session) is None


@covers("session_lot_year")
def test_session_lot_year_leaves_a_missing_start_to_session_dates(offer):
    offer.session.start_date = None
    save()
    assert check("session_lot_year", offer.session) is None


SESSION_REQUIRED = [
    ("session_esp", "entry_exit_mode", None, "Choisissez les entrées/sorties (ESP)."),
    ("session_rhythm", "rhythm", None, "Choisissez le rythme."),
    (
        "session_periods",
        "training_periods",
        [],
        "Choisissez au moins une période de formation.",
    ),
    ("session_path_type", "path_type", None, "Choisissez le type de parcours."),
    (
        "session_pedagogical_modes",
        "pedagogical_modes",
        [],
        "Choisissez au moins une modalité pédagogique.",
    ),
    ("session_teaching_mode", "teaching_mode", None, "Choisissez les modalités d'enseignement."),
    ("session_hours_centre", "hours_centre", None, "Saisissez la durée en centre (en heures)."),
    (
        "session_hours_company",
        "hours_company",
        None,
        "Saisissez la durée en entreprise (en heures, 0 s'il n'y en a pas).",
    ),
    ("session_company_unit", "company_unit", None, "Choisissez l'unité entreprise."),
    ("session_recruitment_state", "recruitment_state", None, "Indiquez l'état du recrutement."),
    (
        "session_recruitment_modes",
        "recruitment_modes",
        [],
        "Choisissez au moins une modalité de recrutement.",
    ),
    ("session_referent_pmr", "referent_pmr_id", None, "Choisissez le référent PMR."),
    (
        "session_referent_mobility",
        "referent_mobility_id",
        None,
        "Choisissez le référent mobilité.",
    ),
]
covers(*(code for code, *_ in SESSION_REQUIRED))


@pytest.mark.parametrize(
    ("code", "attr", "empty", "message"),
    [pytest.param(*case, id=case[0]) for case in SESSION_REQUIRED],
)
def test_session_required_field_fails_when_empty(offer, code, attr, empty, message):
    assert RULES[code].field == attr
    assert check(code, offer.session) is None
    setattr(offer.session, attr, empty)
    save()
    assert check(code, offer.session) == message


@pytest.mark.parametrize(
    ("code", "attr"),
    [
        ("session_esp", "entry_exit_mode"),
        ("session_rhythm", "rhythm"),
        ("session_path_type", "path_type"),
    ],
)
def test_session_required_code_fails_when_blank(offer, code, attr):
    setattr(offer.session, attr, "")
    save()
    assert check(code, offer.session) is not None


@pytest.mark.parametrize(
    ("code", "attr"),
    [
        ("session_teaching_mode", "teaching_mode"),
        ("session_hours_centre", "hours_centre"),
        ("session_hours_company", "hours_company"),
    ],
)
def test_session_required_number_passes_at_zero(offer, code, attr):
    setattr(offer.session, attr, 0)
    save()
    assert check(code, offer.session) is None


@covers("session_responsible")
@pytest.mark.parametrize("responsible", ["other", None])
def test_session_responsible_must_be_the_lots_mandataire(offer, make_establishment, responsible):
    assert check("session_responsible", offer.session) is None
    offer.session.responsible = make_establishment() if responsible == "other" else None
    save()
    assert (
        check("session_responsible", offer.session)
        == "L'organisme responsable doit être le mandataire du lot."
    )


@covers("session_responsible")
def test_session_responsible_is_free_without_a_lot(offer):
    make_own_offer(offer)
    offer.session.responsible = offer.establishment
    save()
    assert check("session_responsible", offer.session) is None


@covers("session_info_meetings")
def test_session_info_meetings_needs_at_least_one(offer, new_session):
    bare = new_session(offer, info_meeting=False)
    assert check("session_info_meetings", bare) == (
        "Saisissez au moins une information collective : la saisie est obligatoire pour que "
        "l'offre puisse alimenter Kairos, OUIFORM et les sites régionaux."
    )
    add_info_meeting(bare)
    save()
    assert check("session_info_meetings", bare) is None


@covers("session_funding")
def test_session_funding_needs_a_dispositif_of_the_formations_programme(
    offer, new_session, make_programme
):
    assert check("session_funding", offer.session) is None
    bare = new_session(offer, funding=False)
    message = "Complétez la fiche Dispositif de la session."
    assert check("session_funding", bare) == message
    add_funding(bare, make_programme())
    save()
    assert check("session_funding", bare) == message  # another programme's dispositif
    add_funding(bare, offer.programme)
    save()
    assert check("session_funding", bare) is None


@covers("session_funding")
def test_session_funding_is_not_required_for_the_own_offer(offer, new_session):
    make_own_offer(offer)
    assert check("session_funding", new_session(offer, funding=False)) is None


# Dispositif -----------------------------------------------------------------------------------


@covers("funding_places")
def test_funding_places_are_required(offer):
    assert check("funding_places", offer.funding) is None
    offer.funding.places = None
    save()
    assert (
        check("funding_places", offer.funding)
        == "Le nombre de places du dispositif est obligatoire."
    )


@covers("funding_remaining")
@pytest.mark.parametrize(
    ("places", "remaining", "passes"),
    [(12, 13, False), (12, 12, True), (12, 0, True), (12, None, True), (None, 13, True)],
)
def test_funding_remaining_cannot_exceed_places(offer, places, remaining, passes):
    offer.funding.places = places
    offer.funding.places_remaining = remaining
    save()
    expected = None if passes else "Le nombre de places restantes dépasse celui du dispositif."
    assert check("funding_remaining", offer.funding) == expected


@covers("funding_fees")
@pytest.mark.parametrize(
    ("fee_ht", "vat_rate", "message"),
    [
        ("3500.00", "20.00", None),
        ("0", "0", None),
        (None, None, None),
        ("1200.50", "100", None),
        ("-0.01", "20.00", "Les frais HT doivent être positifs."),
        ("3500.00", "-5", "Le taux de TVA doit être compris entre 0 et 100 %."),
        ("3500.00", "100.01", "Le taux de TVA doit être compris entre 0 et 100 %."),
    ],
)
def test_funding_fees_must_be_positive_with_a_vat_rate_in_percent(offer, fee_ht, vat_rate, message):
    offer.funding.fee_ht = None if fee_ht is None else Decimal(fee_ht)
    offer.funding.vat_rate = None if vat_rate is None else Decimal(vat_rate)
    save()
    assert check("funding_fees", offer.funding) == message


# check_action and Report ----------------------------------------------------------------------


def test_check_action_on_a_complete_offer_runs_every_rule_once(offer):
    report = check_action(offer.action, TODAY)
    assert report.complete
    assert report.failures == []
    assert sorted(r.rule.code for r in report.all) == sorted(RULES)
    assert all(r.passed for r in report.all)
    assert {r.record for r in report.formation} == {offer.formation}
    assert {r.record for r in report.action} == {offer.action}
    [(session, results)] = report.sessions
    assert session == offer.session
    assert {r.record for r in results if r.rule.scope == "session"} == {offer.session}
    assert {r.record for r in results if r.rule.scope == "funding"} == {offer.funding}


def test_check_action_lists_each_failure_with_its_record_and_message(offer):
    offer.formation.has_certif_info = None
    offer.action.entry_level = None
    offer.session.rhythm = None
    offer.funding.places = None
    save()
    report = check_action(offer.action, TODAY)
    assert not report.complete
    assert {(r.rule.code, r.record, r.message) for r in report.failures} == {
        (
            "formation_certification",
            offer.formation,
            "Indiquez si la formation a une référence Certif Info.",
        ),
        ("action_entry_level", offer.action, "Choisissez le niveau d'entrée."),
        ("session_rhythm", offer.session, "Choisissez le rythme."),
        ("funding_places", offer.funding, "Le nombre de places du dispositif est obligatoire."),
    }
    assert not any(r.passed for r in report.failures)
    assert len(report.all) == len(RULES)


def test_check_action_skips_inactive_sessions(offer, make_session):
    inactive = make_session(offer.action, active=False, teaching_mode=None)
    report = check_action(offer.action, TODAY)
    assert [session for session, _ in report.sessions] == [offer.session]
    assert report.complete
    offer.session.active = False
    save()
    report = check_action(offer.action, TODAY)
    assert report.sessions == []
    assert [r.rule.code for r in report.failures] == ["action_has_session"]
    assert inactive not in {r.record for r in report.all}


def test_check_action_checks_every_active_session(offer, new_session):
    second = new_session(offer, info_meeting=False)
    report = check_action(offer.action, TODAY)
    assert [session for session, _ in report.sessions] == [offer.session, second]
    assert [(r.rule.code, r.record) for r in report.failures] == [("session_info_meetings", second)]


def test_check_action_ignores_fundings_of_another_programme(offer, make_programme):
    stray = add_funding(
        offer.session, make_programme(), places=None, places_remaining=5, fee_ht=Decimal("-1")
    )
    report = check_action(offer.action, TODAY)
    assert report.complete
    assert stray not in {r.record for r in report.all}
    [(_, results)] = report.sessions
    assert sorted(r.rule.code for r in results if r.record is offer.funding) == [
        "funding_fees",
        "funding_places",
        "funding_remaining",
    ]


def test_check_action_on_the_own_offer_runs_no_dispositif_rule(offer):
    make_own_offer(offer)
    offer.funding.places = None  # a dispositif left over from a programme: not checked
    save()
    report = check_action(offer.action, TODAY)
    assert report.complete
    assert not [r for r in report.all if r.rule.scope == "funding"]
