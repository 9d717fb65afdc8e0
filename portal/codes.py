"""LHEO 2.3 code tables: the single source of truth for every coded field.

The database and the exports keep the codes; forms and templates show the labels. The tables
were extracted from ``shared/reference/lheo`` (``lheo-tables-2.3.md``, the Formacode V14 "public
visé" list and the V10 "modalités pédagogiques" dictionary). A few SOFI lists that LHEO leaves
as free text (rhythms, prerequisites, enrolment period kinds) live at the end of this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CodeTable:
    """An ordered code → label table, with the helpers forms and templates need."""

    name: str
    title: str
    entries: tuple[tuple[str, str], ...]
    version: str | None = None
    _labels: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_labels", dict(self.entries))

    def __contains__(self, code: object) -> bool:
        return str(code) in self._labels

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.entries)

    def label(self, code: object, default: str = "") -> str:
        """Return the label of ``code`` (int or str); ``default`` for None or an unknown code."""
        if code is None:
            return default
        return self._labels.get(str(code), default)

    def choices(self, *, blank: str | None = None) -> list[tuple[str, str]]:
        """Return WTForms choices, optionally preceded by an empty "choose" entry."""
        items = list(self.entries)
        return [("", blank), *items] if blank is not None else items


BOOLEAN = CodeTable(
    "dict-boolean",
    "Valeurs booléennes",
    (
        ("0", "non"),
        ("1", "oui"),
    ),
)


TEACHING_MODES = CodeTable(
    "dict-modalites-enseignement",
    "Formation présentielle ou a distance",
    (
        ("0", "formation entièrement présentielle"),
        ("1", "formation mixte"),
        ("2", "formation entièrement à distance"),
    ),
)


ENTRY_EXIT_MODES = CodeTable(
    "dict-modalites-es",
    "Modalités d'entrées/sorties",
    (
        ("0", "entrées/sorties à dates fixes"),
        ("1", "entrées/sorties permanentes"),
    ),
)


RECRUITMENT_STATES = CodeTable(
    "dict-etat-recrutement",
    "Etat du recrutement",
    (
        ("1", "ouvert"),
        ("2", "fermé"),
        ("3", "suspendu"),
    ),
)


GENERAL_OBJECTIVES = CodeTable(
    "dict-AIS",
    "Objectif général de formation",
    (
        ("1", "Code(s) obsolète(s)"),
        ("6", "Certification"),
        ("7", "Professionnalisation"),
        ("8", "Préparation à la qualification"),
        ("5", "Remise à niveau, maîtrise des savoirs de base, initiation"),
        ("9", "(Re)mobilisation, aide à l'élaboration de projet professionnel"),
        ("2", "Perfectionnement, élargissement des compétences"),
        ("3", "Perfectionnement, élargissement des compétences"),
        ("4", "Création d'entreprise"),
    ),
)


RECRUITMENT_SCOPES = CodeTable(
    "dict-perimetre-recrutement",
    "Périmètre de recrutement",
    (
        ("0", "Autres"),
        ("1", "Commune"),
        ("2", "Département"),
        ("3", "Région"),
        ("4", "Interrégion"),
        ("5", "Pays"),
        ("6", "International"),
    ),
)


FUNDERS = CodeTable(
    "dict-financeurs",
    "Financeurs",
    (
        ("11", "Etat - Ministère chargé de l'emploi"),
        ("12", "Etat - Ministère de l'éducation nationale"),
        ("13", "Etat - Autre"),
        ("2", "Collectivité territoriale - Conseil régional"),
        ("3", "Fonds européens - FSE"),
        ("4", "Pôle emploi"),
        ("5", "Entreprise"),
        ("6", "ACSÉ (anciennement FASILD)"),
        ("7", "AGEFIPH"),
        ("8", "Collectivité territoriale - Conseil général"),
        ("9", "Collectivité territoriale - Commune"),
        ("15", "Collectivité territoriale - Autre"),
        ("10", "Bénéficiaire de l'action"),
        ("0", "Autre"),
        ("14", "Fonds européens - Autre"),
        ("16", "OPCO"),
        ("17", "Transition Pro"),
        ("18", "LADOM"),
        ("19", "État - Ministère de l’intérieur"),
        ("20", "OFII - Office français de l’immigration et de l'intégration"),
        ("1", "Code(s) obsolète(s)"),
    ),
)


CONTACT_TYPES = CodeTable(
    "dict-type-contact",
    "Type de contact",
    (
        ("0", "Autre"),
        ("1", "Référent handicap"),
        ("2", "Référent mobilité internationale"),
        ("3", "Référent pédagogique"),
        ("4", "Accueil"),
        ("5", "Direction"),
        ("6", "Référent qualité"),
        ("7", "Référent entreprise"),
        ("8", "Référent commercial"),
        ("9", "Gestionnaire financier"),
        ("10", "Direction Déléguée aux Formations Professionnelles et Techniques (DDFPT)"),
        ("11", "Communication"),
        ("12", "Référent FOAD"),
        ("13", "Référent VAE"),
        ("14", "Référent Apprentissage"),
    ),
)


PATH_TYPES = CodeTable(
    "dict-type-parcours",
    "Type de parcours de formation",
    (
        ("1", "en groupe (non personnalisable)"),
        ("2", "individualisé"),
        ("3", "modularisé"),
        ("4", "mixte"),
    ),
)


POSITIONING_TYPES = CodeTable(
    "dict-type-positionnement",
    "Type de positionnement",
    (
        ("1", "réglementaire"),
        ("2", "pédagogique"),
    ),
)


MODULE_TYPES = CodeTable(
    "dict-type-module",
    "Type de module",
    (
        ("0", "information inconnue"),
        ("1", "obligatoire"),
        ("2", "personnalisable"),
    ),
)


RECRUITMENT_MODES = CodeTable(
    "dict-modalite-recrutement",
    "Modalité de recrutement",
    (
        ("0", "information inconnue"),
        ("1", "méthode de recrutement par simulation"),
        ("2", "concours"),
        ("3", "dossier"),
        ("4", "tests pratiques"),
        ("5", "épreuves écrites"),
        ("6", "épreuves orales"),
        ("7", "inscription sur candidature"),
        ("8", "entretien ou RDV individuel"),
        ("9", "information collective"),
    ),
)


TEACHING_TYPES = CodeTable(
    "dict-type-enseignement",
    "Type d'enseignement",
    (
        ("1", "art"),
        ("2", "enseignement de spécialité"),
        ("3", "enseignement optionnel"),
        ("4", "langue"),
        ("5", "langue vivante 1"),
        ("6", "langue vivante 2"),
        ("7", "langue vivante 3"),
        ("8", "sport"),
        ("9", "enseignement général"),
        ("10", "enseignement professionnel"),
    ),
)


EQUIPMENT_TYPES = CodeTable(
    "dict-type-equipement",
    "Type d'équipement",
    (
        ("0", "Autre"),
        ("1", "Protection de la tête"),
        ("2", "Protection des yeux"),
        ("3", "Protection des mains"),
        ("4", "Protection de l'ouïe"),
        ("5", "Protection du corps"),
        ("6", "Protection des pieds"),
        ("7", "Protection des voies respiratoires"),
        ("8", "Protection chutes"),
        ("9", "Outillage professionnel"),
        ("10", "Tenue professionnelle"),
        ("11", "Équipement numérique"),
    ),
)


BLOC_VALIDATION_TYPES = CodeTable(
    "dict-type-validation-blocs",
    "Type de validation d'un bloc de compétences",
    (
        ("0", "Partielle: certains blocs mais pas la totalité de date à date"),
        ("1", "Totale: tous les blocs"),
        (
            "2",
            "Mixte: une validation totale mais proposée également en individualisation de parcours avec des blocs accessibles dans cette session",
        ),
    ),
)


ALTERNANCE_TYPES = CodeTable(
    "dict-type-alternance",
    "Type de contrat d'alternance",
    (
        ("0", "Tout type de contrat d'alternance"),
        ("1", "Contrat d'apprentissage (CA)"),
        ("2", "Contrat de professionalisation (CP)"),
    ),
)


RHYTHM_UNITS = CodeTable(
    "dict-unite-rythme",
    "Unité de rythme",
    (
        ("0", "Heure"),
        ("1", "Demi-journée"),
        ("2", "Journée"),
        ("3", "Semaine"),
        ("4", "Mois"),
    ),
)


CYCLE_TYPES = CodeTable(
    "dict-type-cycle",
    "Type de cycle",
    (
        ("0", "Formation initiale"),
        ("1", "Contrat d'apprentissage"),
    ),
)


LEVELS = CodeTable(
    "dict-niveaux",
    "Niveaux",
    (
        ("0", "information non communiquée"),
        ("1", "sans niveau spécifique"),
        ("2", "niveau VI (illettrisme, analphabétisme)"),
        ("3", "niveau V bis (préqualification)"),
        ("4", "niveau V (CAP, BEP, CFPA du premier degré)"),
        ("5", "niveau IV (BP, BT, baccalauréat professionnel ou technologique)"),
        ("6", "niveau III (BTS, DUT)"),
        ("7", "niveau II (licence ou maîtrise universitaire)"),
        ("8", "niveau I (supérieur à la maîtrise)"),
        ("11", "Niveau 1. Maîtrise des savoirs de base"),
        (
            "12",
            "Niveau 2. Capacité à effectuer des activités simples et résoudre des problèmes courants à l'aide de règles et d'outils simples en mobilisant des savoir-faire professionnels dans un contexte structuré",
        ),
        (
            "13",
            "Niveau 3. Capacité à effectuer des activités et résoudre des problèmes en sélectionnant et appliquant des méthodes, des outils, des matériels et des informations de base, dans un contexte connu, ainsi que la capacité à adapter les moyens d'exécution et son comportement aux circonstances",
        ),
        (
            "14",
            "Niveau 4. Capacité à effectuer des activités nécessitant de mobiliser un éventail large d'aptitudes, d'adapter des solutions existantes pour résoudre des problèmes précis, à organiser son travail de manière autonome dans des contextes généralement prévisibles mais susceptibles de changer, ainsi qu'à participer à l'évaluation des activités. Exemple: diplôme national du baccalauréat",
        ),
        (
            "15",
            "Niveau 5. Capacité à maitriser des savoir-faire dans un champ d'activité, à élaborer des solutions à des problèmes nouveaux, à analyser et interpréter des informations, en mobilisant des concepts, à transmettre le savoir-faire et des méthodes",
        ),
        (
            "16",
            "Niveau 6. Capacité à analyser et résoudre des problèmes complexes imprévus dans un domaine spécifique, à formaliser des savoir-faire et des méthodes et à les capitaliser. Exemple: grade de licence",
        ),
        (
            "17",
            "Niveau 7. Capacité à élaborer et mettre en œuvre des stratégies alternatives pour le développement de l'activité professionnelle dans des contextes professionnels complexes, ainsi qu'à évaluer les risques et les conséquences de son activité. Exemple: grade de master",
        ),
        (
            "18",
            "Niveau 8. Capacité à identifier et résoudre des problèmes complexes et nouveaux impliquant une pluralité de domaines, en mobilisant les connaissances et les savoir-faire les plus avancés, à concevoir et piloter des projets et des processus de recherche et d'innovation. Exemple: diplôme national de doctorat",
        ),
    ),
)


PUBLIC_TARGETS = CodeTable(
    "formacode-v14-public-vise",
    "Public visé (Formacode V14)",
    (
        ("80001", "Public sans emploi"),
        ("80003", "Demandeur d’emploi plus de 26 ans"),
        ("80004", "Cadre demandeur d’emploi"),
        ("80006", "Demandeur d’emploi"),
        ("80007", "Demandeur d’emploi longue durée"),
        ("80008", "Licencié pour motif économique"),
        ("80009", "Demandeur d’emploi moins de 26 ans"),
        ("80010", "Bénéficiaire du RSA"),
        ("81013", "Public sous main de justice"),
        ("81014", "Élu"),
        ("81018", "Femme"),
        ("81019", "Public en situation d’illettrisme"),
        ("81020", "Handicapé"),
        ("81021", "Public analphabète"),
        ("81022", "Public immigré"),
        ("81023", "Primo-arrivant"),
        ("81024", "Jeune 16-25 ans"),
        ("81025", "Handicapé moteur"),
        ("81026", "Handicapé sensoriel"),
        ("81027", "Handicapé mental"),
        ("81028", "Handicapé cognitif"),
        ("81029", "Handicapé psychique"),
        ("81030", "Etudiant"),
        ("81031", "Public plan investissement compétences"),
        ("81032", "Jeune"),
        ("81033", "Jeune 16-29 ans"),
        ("81042", "Public réfugié"),
        ("81043", "Public en situation d’illectronisme"),
        ("81050", "Particulier, individuel"),
        ("81058", "Sportif haut niveau"),
        ("81059", "Stagiaire formation professionnelle"),
        ("81060", "Conjoint collaborateur d’artisan"),
        ("81061", "Public de la formation initiale"),
        ("81062", "Conjoint collaborateur d’exploitant agricole"),
        ("81069", "Bénévole"),
        ("81099", "Autre public"),
        ("82004", "Artisan"),
        ("82009", "Commerçant"),
        ("82010", "Créateur entreprise"),
        ("82011", "Auto-entrepreneur"),
        ("82012", "Chef d’entreprise"),
        ("82015", "Enseignant"),
        ("82016", "Formateur"),
        ("82017", "Exploitant agricole, salarié agricole"),
        ("82018", "Maître d’apprentissage"),
        ("82019", "Tuteur"),
        ("82020", "Apprenti"),
        ("82038", "Profession libérale"),
        ("82044", "Salarié"),
        ("82045", "Cadre"),
        ("82046", "Salarié de l’artisanat"),
        ("82047", "Employé"),
        ("82048", "Ingénieur"),
        ("82049", "Expatrié"),
        ("82055", "Agent de la fonction publique"),
        ("82057", "Repreneur entreprise"),
        ("82058", "Public en emploi"),
        ("82060", "Travailleur étranger"),
        ("82061", "Travailleur handicapé"),
        ("82062", "Travailleur intermittent"),
        ("82063", "Travailleur saisonnier"),
        ("82064", "Élu local"),
        ("82066", "Membre élu du CSE"),
        ("82067", "Représentant section syndicale"),
        ("82068", "Conseiller salarié"),
        ("82069", "Délégué syndical"),
        ("82070", "Agent de la fonction publique de l’État"),
        ("82071", "Agent de la fonction publique hospitalière"),
        ("82074", "Agent de la fonction publique territoriale"),
        ("82075", "Agent de la fonction publique européenne"),
        ("82076", "Agent contractuel de la fonction publique"),
        ("82080", "Travailleur social"),
        ("83056", "Tout public"),
    ),
    version="V14",
)


PEDAGOGICAL_MODES = CodeTable(
    "dict-modalites-pedagogiques-formacodes-V10",
    "Modalités pédagogiques (Formacode V10)",
    (
        ("96121", "Modalités pédagogiques"),
        ("96124", "Autoformation"),
        ("96125", "Autoformation avec tutorat"),
        ("96126", "Autoformation sans tutorat"),
        ("96127", "Chantier école"),
        ("96142", "En alternance"),
        ("96129", "FOAD"),
        ("96133", "FOAD avec tutorat asynchrone"),
        ("96130", "FOAD avec tutorat synchrone"),
        ("96131", "FOAD sans tutorat"),
        ("96128", "Formation à distance"),
        ("96134", "Formation action"),
        ("96147", "Formation en situation de travail"),
        ("96132", "Pédagogie adaptée aux handicapés"),
        ("96149", "Séjour à l'étranger"),
        ("96410", "Périodes de formation"),
        ("96414", "Cours de jour"),
        ("96411", "Cours du soir"),
        ("96412", "Cours le week end"),
        ("96413", "Hors temps de travail"),
    ),
    version="V10",
)


# SOFI lists with no LHEO table (LHEO carries them as free text, e.g. rythme-formation).
RHYTHMS = CodeTable(
    "sofi-rythmes",
    "Rythmes",
    (
        ("1", "temps plein"),
        ("2", "temps partiel"),
        ("3", "cours du soir"),
        ("4", "cours du week-end"),
        ("5", "à la carte"),
    ),
)

TRAINING_PERIODS = CodeTable(
    "sofi-periodes-formation",
    "Périodes de formation",
    (
        ("1", "en journée"),
        ("2", "en soirée"),
        ("3", "le week-end"),
        ("4", "pendant les vacances scolaires"),
    ),
)

PREREQUISITES = CodeTable(
    "sofi-prerequis",
    "Pré-requis",
    (
        ("1", "Aucun pré-requis"),
        ("2", "Maîtriser les savoirs de base (lire, écrire, compter)"),
        ("3", "Maîtriser les compétences générales et professionnelles"),
        ("4", "Posséder la qualification professionnelle nécessaire à la future activité"),
        ("5", "Avoir un projet professionnel validé"),
        ("6", "Avoir un projet de création ou de reprise d'entreprise"),
        ("7", "Expérience professionnelle dans le domaine"),
        ("8", "Maîtriser les outils bureautiques"),
        ("9", "Permis B"),
        ("10", "Aptitude médicale"),
    ),
)

ENROLMENT_PERIOD_KINDS = CodeTable(
    "sofi-periodes-inscription",
    "Type de période d'inscription",
    (
        ("1", "candidature individuelle"),
        ("2", "recrutement"),
        ("3", "inscription"),
    ),
)

CIVILITIES = CodeTable(
    "sofi-civilites",
    "Civilité",
    (
        ("M.", "Monsieur"),
        ("Mme", "Madame"),
    ),
)

# Modalités d'enseignement that make a session "ouverte à distance" on the dashboard.
DISTANCE_TEACHING_MODES = (1, 2)
