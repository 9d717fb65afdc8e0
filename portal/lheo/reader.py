"""Read an LHEO 2.2 or 2.3 file into plain records and a report, touching no database.

The file is parsed with lxml's ``iterparse`` and a hardened configuration: no DTD (a DOCTYPE
is refused outright, so no entity can be declared, let alone expanded), no network, no
``huge_tree``, and a byte limit enforced while reading. Each ``formation`` is handled when its
end tag is read and then dropped, so memory follows the largest formation, not the file.

Every formation is validated against the LHEO 2.3 XSD (a 2.2 formation is moved to the 2.3
namespace first: 2.3 only added optional elements), then mapped to ``FormationIn`` records
whose ``fields`` are the SOFI columns. Problems become ``Issue``s with the line of the file:
errors (invalid against the XSD, impossible dates or numbers) make the whole import refused;
warnings (an unknown code left out, a text shortened, data SOFI has no field for) do not.

Values come from the standard LHEO elements, except where a SOFI export left its own values in
``extras`` (see ``mapping``): those win, and elements a SOFI export marked as filled by
default (``valeur-par-defaut``) are not read as data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO

from lxml import etree

from .. import codes
from ..validators import normalise_email, normalise_phone, normalise_url
from . import NAMESPACES, NS, NS_22, schema
from .mapping import (
    DEFAULTED,
    EXTRAS_ACTION,
    EXTRAS_ENROLMENT,
    EXTRAS_FORMATION,
    EXTRAS_FUNDING,
    EXTRAS_REFERENT,
    EXTRAS_SESSION,
    REFERENT_ROLES,
    Q,
    clip,
    decimal_or_none,
    one_line,
    parse_lheo_date,
    parse_lheo_hour,
    text_to_html,
)

MAX_BYTES = 15 * 1024 * 1024
MAX_ISSUES = 200
MAX_INT = 2**31 - 1
ERROR, WARNING = "error", "warning"
ROLE_FIELDS = {role: field for field, (role, _) in REFERENT_ROLES.items()}
CONTACT_TYPE_FIELDS = {"1": "pmr", "2": "mobility"}
CIVILITIES = {
    "m": "M.",
    "m.": "M.",
    "mr": "M.",
    "monsieur": "M.",
    "mme": "Mme",
    "mme.": "Mme",
    "madame": "Mme",
}
RHYTHM_WORDS = [(code, label.casefold()) for code, label in codes.RHYTHMS]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Elements the mapping reads (with their containers); others are listed once as ignored.
READ = _words(
    """
    lheo offres formation intitule-formation objectif-formation resultats-attendus
    contenu-formation certification code-CERTIFINFO parcours-de-formation code-niveau-entree
    action rythme-formation code-public-vise info-public-vise modalites-alternance
    modalites-enseignement conditions-specifiques lieu-de-formation coordonnees adresse
    denomination ligne codepostal ville code-INSEE-commune telfixe portable numtel courriel
    nom prenom civilite modalites-entrees-sorties url-action urlweb session periode debut
    fin adresse-inscription periode-inscription etat-recrutement recrutement
    modalite-recrutement heure-debut commentaire contact-session type-contact
    blocs-competences validation-blocs bloc-competences code-bloc libelle-bloc
    reference-certification reference-code-CERTIFINFO adresse-information date-information
    date code-modalite-pedagogique equipement type-equipement cout-indicatif-equipement
    duree-indicative nombre-heures-centre nombre-heures-entreprise nombre-heures-total
    organisme-financeur code-financeur nb-places-financees organisme-formation-responsable
    SIRET-organisme-formation SIRET extras extra certifiante niveau-entree-obligatoire
    prise-en-charge-frais-possible contact-formation numero-activite nom-organisme
    raison-sociale coordonnees-organisme contact-organisme departement region pays
    geolocalisation latitude longitude code-niveau-sortie
    """
)
# Elements SOFI derives from other data (the certification's Formacodes, the fiche Dispositif,
# the establishment): not data to import, so not reported as ignored either.
DERIVED = _words(
    """
    domaine-formation code-FORMACODE organisme-formateur SIRET-formateur raison-sociale-formateur
    conventionnement detail-conditions-prise-en-charge prix-total-TTC modalites-recrutement
    modalites-pedagogiques acces-handicapes frais-restants
    """
)


class TooLarge(Exception):
    """The file is bigger than the import accepts."""


@dataclass
class Issue:
    message: str
    line: int | None = None
    where: str | None = None  # "formation 19482", "session 143842"
    level: str = ERROR

    def __str__(self) -> str:
        parts = []
        if self.line:
            parts.append(f"Ligne {self.line}")
        if self.where:
            parts.append(self.where)
        prefix = ", ".join(parts)
        return f"{prefix} : {self.message}" if prefix else self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "where": self.where,
            "level": self.level,
            "message": self.message,
            "text": str(self),
        }


@dataclass
class Place:
    """An address read from the file (a lieu de formation, an information collective…)."""

    name: str | None
    line1: str | None
    line2: str | None
    postcode: str
    commune: str
    insee_code: str | None = None
    phone: str | None = None
    email: str | None = None
    line: int | None = None

    @property
    def label(self) -> str:
        """The site name: the denomination, else the first line, else the commune."""
        return self.name or self.line1 or self.commune

    def key(self) -> tuple[str, str, str]:
        """What makes two places the same site: postcode, commune and name, folded."""
        return site_key(self.postcode, self.commune, self.label)


def site_key(postcode: str | None, commune: str | None, name: str | None) -> tuple[str, str, str]:
    from ..geo import normalise_name

    return (postcode or "", normalise_name(commune or ""), normalise_name(name or ""))


@dataclass
class ContactIn:
    last_name: str
    first_name: str | None = None
    civility: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    roles: list[str] = field(default_factory=list)


@dataclass
class SessionIn:
    line: int | None
    numero: str | None
    fields: dict[str, Any]
    place: Place | None = None  # the adresse d'inscription, matched against the lieux
    info_meetings: list[dict[str, Any]] = field(default_factory=list)
    enrolment_periods: list[dict[str, Any]] = field(default_factory=list)
    fundings: list[dict[str, Any]] = field(default_factory=list)
    referents: dict[str, ContactIn] = field(default_factory=dict)


@dataclass
class ActionIn:
    line: int | None
    numero: str | None
    fields: dict[str, Any]
    places: list[Place] = field(default_factory=list)
    sessions: list[SessionIn] = field(default_factory=list)


@dataclass
class FormationIn:
    line: int | None
    numero: str | None
    title: str
    fields: dict[str, Any]
    certif_code: str | None = None
    programme_code: str | None = None
    lot_code: str | None = None
    bloc_codes: list[str] = field(default_factory=list)
    responsible_siret: str | None = None
    actions: list[ActionIn] = field(default_factory=list)


@dataclass
class ReadResult:
    version: str | None = None
    formations: list[FormationIn] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    ignored: set[str] = field(default_factory=set)
    truncated: bool = False
    too_large: bool = False

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        actions = [a for f in self.formations for a in f.actions]
        return {
            "formations": len(self.formations),
            "actions": len(actions),
            "sessions": sum(len(a.sessions) for a in actions),
        }

    def add(
        self, message: str, *, line: int | None = None, where: str | None = None, level: str = ERROR
    ) -> None:
        if len(self.issues) >= MAX_ISSUES:
            self.truncated = True
            return
        self.issues.append(Issue(message, line, where, level))


class _Limited:
    """A file wrapper that raises TooLarge once more than ``limit`` bytes were read."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        self._source = source
        self._limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size if size and size > 0 else 64 * 1024)
        self.count += len(data)
        if self.count > self._limit:
            raise TooLarge
        return data


def size_label(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} Mo" if n >= 1024 * 1024 else f"{n // 1024} ko"


def read_lheo(source: BinaryIO, *, max_bytes: int = MAX_BYTES) -> ReadResult:
    """Parse ``source`` (a binary file) into records and issues; never raises on bad input."""
    result = ReadResult()
    try:
        _parse(_Limited(source, max_bytes), result)
    except TooLarge:
        result.too_large = True
        result.formations.clear()
        result.issues = [
            Issue(
                f"Le fichier dépasse la taille autorisée ({size_label(max_bytes)}) : "
                "découpez-le (par exemple par formation) et importez chaque partie."
            )
        ]
    except etree.XMLSyntaxError as error:
        line = error.lineno or None
        detail = _syntax_message(error)
        result.add(f"Le fichier n'est pas un document XML valide : {detail}.", line=line)
    if result.truncated:
        result.issues.append(
            Issue(
                f"Plus de {MAX_ISSUES} problèmes : la lecture a été arrêtée. Corrigez ceux-ci "
                "puis importez à nouveau le fichier."
            )
        )
    if result.ignored and result.ok:
        result.issues.append(
            Issue(
                "Éléments LHEO sans équivalent dans SOFI, non importés : "
                + ", ".join(sorted(result.ignored))
                + ".",
                level=WARNING,
            )
        )
    return result


_SYNTAX = [
    (
        re.compile(r"Premature end of data in tag (\S+) line (\d+)"),
        lambda m: (
            f"le fichier s'arrête avant la fermeture de la balise <{m[1]}> (ouverte ligne {m[2]})"
        ),
    ),
    (
        re.compile(r"Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)"),
        lambda m: f"balise </{m[3]}> rencontrée alors que <{m[1]}> (ligne {m[2]}) n'est pas fermée",
    ),
    (
        re.compile(r"Extra content at the end of the document"),
        lambda m: "du contenu suit la fin du document",
    ),
    (
        re.compile(r"EntityRef: expecting ';'|xmlParseEntityRef: no name"),
        lambda m: "caractère & non échappé (écrivez &amp;)",
    ),
    (re.compile(r"Entity '(.+)' not defined"), lambda m: f"entité « {m[1]} » inconnue"),
    (
        re.compile(r"not proper UTF-8|Input is not proper|invalid character|Char 0x"),
        lambda m: "caractère ou encodage invalide (UTF-8 attendu)",
    ),
    (re.compile(r"Start tag expected"), lambda m: "il ne commence pas par une balise"),
    (re.compile(r"Document is empty|no element found"), lambda m: "le fichier est vide"),
]


def _syntax_message(error: etree.XMLSyntaxError) -> str:
    message = str(error.msg or error).split(", line ")[0].strip()
    if error.lineno == 0:
        return "le fichier est vide"
    for pattern, render in _SYNTAX:
        found = pattern.search(message)
        if found:
            return render(found)
    return f"XML mal formé ({message})"


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _namespace(tag: Any) -> str | None:
    return etree.QName(tag).namespace if isinstance(tag, str) else None


def _parse(stream: _Limited, result: ReadResult) -> None:
    context = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    depth = 0
    namespace = None
    seen_offres = False
    formations = 0
    for event, element in context:
        if event == "start":
            depth += 1
            if depth == 1:
                namespace = _check_root(element, result)
                if namespace is None:
                    return
            continue
        depth -= 1
        if depth == 1:  # a child of lheo
            name = _local(element.tag)
            if name == "offres" and _namespace(element.tag) == namespace:
                seen_offres = True
            elif name != "extras":
                result.add(
                    f"élément <{name}> inattendu sous <lheo> (<offres> attendu).",
                    line=element.sourceline,
                )
            _drop(element)
        elif depth == 2 and _local(element.getparent().tag) == "offres":
            name = _local(element.tag)
            if name == "formation" and _namespace(element.tag) == namespace:
                formations += 1
                _formation(element, namespace, formations, result)
            elif name != "extras":
                result.add(
                    f"élément <{name}> inattendu sous <offres> (<formation> attendu).",
                    line=element.sourceline,
                )
            _drop(element)
            if result.truncated:
                return
    if not seen_offres:
        result.add("Le fichier ne contient pas d'élément <offres>.")
    elif not formations:
        result.add("Le fichier ne contient aucune formation.")


def _drop(element: etree._Element) -> None:
    """Free a handled element and the siblings before it (constant memory)."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _check_root(root: etree._Element, result: ReadResult) -> str | None:
    if root.getroottree().docinfo.doctype:
        result.add(
            "Le fichier contient une déclaration DOCTYPE : refusée pour des raisons de sécurité "
            "(un fichier LHEO n'en a pas besoin). Retirez-la puis importez à nouveau.",
            line=1,
        )
        return None
    name, namespace = _local(root.tag), _namespace(root.tag)
    if name != "lheo":
        result.add(
            f"Ce n'est pas un fichier LHEO : l'élément racine est <{name}>, <lheo> attendu.",
            line=root.sourceline,
        )
        return None
    if namespace not in NAMESPACES:
        found = f"« {namespace} »" if namespace else "absent"
        result.add(
            f"Espace de noms {found} non pris en charge : LHEO 2.3 ({NS}) ou LHEO 2.2 "
            f"({NS_22}) attendu.",
            line=root.sourceline,
        )
        return None
    result.version = NAMESPACES[namespace]
    return namespace


# XSD validation ------------------------------------------------------------------------------

_XSD_PATTERNS = [
    (
        re.compile(
            r"\[facet 'enumeration'\] The value '(.*)' is not an element of the set "
            r"\{(.*)\}"
        ),
        lambda m: (
            f"valeur « {m[1]} » non autorisée (valeurs possibles : {m[2].replace(chr(39), '')})"
        ),
    ),
    (
        re.compile(
            r"\[facet 'maxLength'\] The value has a length of '(\d+)'; this exceeds the "
            r"allowed maximum length of '(\d+)'"
        ),
        lambda m: f"texte trop long ({m[1]} caractères, {m[2]} au maximum)",
    ),
    (
        re.compile(
            r"\[facet 'minLength'\] The value has a length of '(\d+)'; this underruns the "
            r"allowed minimum length of '(\d+)'"
        ),
        lambda m: (
            f"valeur trop courte ({m[1]} caractère(s), {m[2]} au minimum)"
            if m[1] != "0"
            else "valeur vide"
        ),
    ),
    (
        re.compile(
            r"\[facet 'length'\] The value '(.*)' has a length of '(\d+)'; this differs "
            r"from the allowed length of '(\d+)'"
        ),
        lambda m: f"« {m[1]} » doit comporter exactement {m[3]} caractères",
    ),
    (
        re.compile(r"\[facet 'pattern'\] The value '(.*)' is not accepted by the pattern"),
        lambda m: f"« {m[1]} » n'a pas le format attendu (date AAAAMMJJ)",
    ),
    (
        re.compile(r"'(.*)' is not a valid value of the atomic type 'xs:long'"),
        lambda m: f"« {m[1]} » n'est pas un nombre entier",
    ),
    (
        re.compile(r"'(.*)' is not a valid value of the atomic type 'xs:dateTime'"),
        lambda m: f"« {m[1]} » n'est pas une date-heure valide",
    ),
    (
        re.compile(r"'(.*)' is not a valid value of the atomic type '(.*)'"),
        lambda m: f"« {m[1]} » n'est pas une valeur valide",
    ),
    (
        re.compile(r"This element is not expected\. Expected is one of \( (.*) \)"),
        lambda m: f"élément inattendu ici (attendu : l'un de {_names(m[1])})",
    ),
    (
        re.compile(r"This element is not expected\. Expected is \( (.*) \)"),
        lambda m: f"élément inattendu ici (attendu : {_names(m[1])})",
    ),
    (
        re.compile(r"This element is not expected"),
        lambda m: "élément inattendu ici (absent de LHEO ou mal placé)",
    ),
    (
        re.compile(r"Missing child element\(s\)\. Expected is one of \( (.*) \)"),
        lambda m: f"élément obligatoire manquant (l'un de {_names(m[1])})",
    ),
    (
        re.compile(r"Missing child element\(s\)\. Expected is \( (.*) \)"),
        lambda m: f"élément obligatoire manquant : {_names(m[1])}",
    ),
    (
        re.compile(r"The attribute '(.*)' is not allowed"),
        lambda m: f"attribut « {m[1]} » non autorisé",
    ),
    (
        re.compile(r"Character content other than whitespace is not allowed"),
        lambda m: "du texte est placé où seuls des éléments sont permis",
    ),
    (
        re.compile(r"Element content is not allowed, because the content type is a simple type"),
        lambda m: "cet élément ne doit contenir que du texte",
    ),
]
_ELEMENT = re.compile(r"^Element '([^']+)'(?:, attribute '([^']+)')?: ")


def _names(text: str) -> str:
    names = [f"<{_local(n.strip())}>" for n in text.split(",")]
    return ", ".join(names)


def translate_xsd_error(message: str) -> tuple[str | None, str]:
    """(element name, French message) of a libxml2 schema error."""
    match = _ELEMENT.match(message)
    element = _local(match.group(1)) if match else None
    rest = message[match.end() :] if match else message
    for pattern, render in _XSD_PATTERNS:
        found = pattern.search(rest)
        if found:
            return element, render(found)
    return element, f"non conforme au schéma LHEO ({re.sub(r'{[^}]*}', '', rest).strip()})"


def _to_23(element: etree._Element) -> None:
    """Move a 2.2 subtree to the 2.3 namespace (2.3 only added optional elements)."""
    prefix = "{" + NS_22 + "}"
    for item in element.iter():
        if isinstance(item.tag, str) and item.tag.startswith(prefix):
            item.tag = Q + item.tag[len(prefix) :]


def _formation(element: etree._Element, namespace: str, index: int, result: ReadResult) -> None:
    numero = element.get("numero")
    where = f"formation {numero}" if numero else f"formation n° {index} du fichier"
    if namespace == NS_22:
        _to_23(element)
    validator = schema()
    if not validator.validate(element):
        for entry in validator.error_log:
            name, message = translate_xsd_error(entry.message)
            label = f"{where}, élément <{name}>" if name else where
            result.add(message + ".", line=entry.line or None, where=label)
        return
    for item in element.iter():
        name = _local(item.tag)
        if name and name not in READ and name not in DERIVED and _namespace(item.tag) == NS:
            ancestors = {_local(a.tag) for a in item.iterancestors()}
            if "extras" not in ancestors:
                result.ignored.add(name)
    _Mapper(result, where).formation(element)


# Mapping ---------------------------------------------------------------------------------------


def _text(element: etree._Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path if path.startswith("{") else _path(path))
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def _path(path: str) -> str:
    return "/".join(Q + part for part in path.split("/"))


def _all(element: etree._Element, path: str) -> list[etree._Element]:
    return element.findall(_path(path))


class Extras:
    """The ``extra`` values of one level's ``<extras info="…">`` (absent: empty)."""

    def __init__(self, containers: list[etree._Element]) -> None:
        self.present = bool(containers)
        self.numero = containers[0].get("numero") if containers else None
        self.values: dict[str, list[str]] = {}
        self.nested: list[etree._Element] = []
        for container in containers:
            for child in container:
                if _local(child.tag) == "extra":
                    text = (child.text or "").strip()
                    self.values.setdefault(child.get("info") or "", []).append(text)
                elif _local(child.tag) == "extras":
                    self.nested.append(child)
        self.defaulted = set(self.values.get(DEFAULTED, []))

    @classmethod
    def of(cls, parent: etree._Element, info: str) -> Extras:
        return cls([c for c in parent.findall(Q + "extras") if c.get("info") == info])

    def get(self, name: str) -> str | None:
        values = self.values.get(name)
        return values[0] if values and values[0] != "" else None

    def has(self, name: str) -> bool:
        return name in self.values

    def all(self, name: str) -> list[str]:
        return [v for v in self.values.get(name, []) if v]

    def children(self, info: str) -> list[Extras]:
        return [Extras([c]) for c in self.nested if c.get("info") == info]


class _Mapper:
    """Maps one valid ``formation`` element; records its issues in the result."""

    def __init__(self, result: ReadResult, where: str) -> None:
        self.result = result
        self.where = where

    def warn(
        self, message: str, element: etree._Element | None = None, where: str | None = None
    ) -> None:
        self.result.add(
            message,
            line=element.sourceline if element is not None else None,
            where=where or self.where,
            level=WARNING,
        )

    def error(
        self, message: str, element: etree._Element | None = None, where: str | None = None
    ) -> None:
        self.result.add(
            message,
            line=element.sourceline if element is not None else None,
            where=where or self.where,
        )

    # Values ---------------------------------------------------------------------------------

    def code(
        self,
        value: str | None,
        table: codes.CodeTable,
        label: str,
        element: etree._Element | None,
        where: str | None = None,
    ) -> str | None:
        if value is None:
            return None
        if value in table:
            return value
        self.warn(f"{label} « {value} » inconnu(e) : non repris.", element, where)
        return None

    def integer(
        self,
        value: str | None,
        label: str,
        element: etree._Element | None,
        where: str | None = None,
        *,
        error: bool = True,
    ) -> int | None:
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            (self.error if error else self.warn)(
                f"{label} « {value} » n'est pas un nombre entier.", element, where
            )
            return None
        if not 0 <= number <= MAX_INT:
            (self.error if error else self.warn)(
                f"{label} « {value} » hors limites (0 à {MAX_INT}).", element, where
            )
            return None
        return number

    def decimal(
        self,
        value: str | None,
        label: str,
        element: etree._Element | None,
        where: str | None,
        maximum: Decimal,
    ) -> Decimal | None:
        if value is None:
            return None
        number = decimal_or_none(value)
        if number is None or number < 0 or number > maximum:
            self.warn(f"{label} « {value} » invalide : non repris.", element, where)
            return None
        return number.quantize(Decimal("0.01"))

    def text(
        self,
        value: str | None,
        max_len: int,
        label: str,
        element: etree._Element | None,
        where: str | None = None,
    ) -> str | None:
        if value is None:
            return None
        if len(value) > max_len:
            self.warn(f"{label} raccourci(e) à {max_len} caractères.", element, where)
            return clip(value, max_len)
        return value

    def rich(
        self,
        value: str | None,
        max_len: int,
        label: str,
        element: etree._Element | None,
        where: str | None = None,
    ) -> str | None:
        from ..richtext import sanitize, visible_text

        cleaned = sanitize(text_to_html(value)) if value else None
        if cleaned is None:
            return None
        if len(visible_text(cleaned)) > max_len:
            self.warn(f"{label} raccourci(e) à {max_len} caractères.", element, where)
            cleaned = sanitize(clip(visible_text(cleaned), max_len))
        return cleaned

    def url(
        self,
        value: str | None,
        label: str,
        element: etree._Element | None,
        where: str | None = None,
    ) -> str | None:
        if value is None:
            return None
        try:
            return normalise_url(value)[:400]
        except ValueError:
            self.warn(
                f"{label} « {value[:80]} » invalide (http:// ou https:// attendu) : non reprise.",
                element,
                where,
            )
            return None

    def date(
        self,
        value: str | None,
        label: str,
        element: etree._Element | None,
        where: str | None,
        *,
        end: bool = False,
    ) -> tuple[bool, date | None]:
        """(ok, date): ok is False when the value is not a real date."""
        if value is None:
            return True, None
        try:
            return True, parse_lheo_date(value, end=end)
        except ValueError as error:
            self.error(f"{label} : {error}.", element, where)
            return False, None

    def place(
        self, coordonnees: etree._Element | None, where: str | None = None, name: str | None = None
    ) -> Place | None:
        """A Place from ``coordonnees`` (or a bare ``adresse``); None without an address."""
        if coordonnees is None:
            return None
        adresse = (
            coordonnees if _local(coordonnees.tag) == "adresse" else coordonnees.find(Q + "adresse")
        )
        if adresse is None:
            return None
        lines = [one_line(e.text, 50) for e in adresse.findall(Q + "ligne") if one_line(e.text)]
        line2 = one_line(" ".join(lines[1:]), 50) if len(lines) > 1 else None
        insee = _text(adresse, "code-INSEE-commune")
        phone = email = None
        if _local(coordonnees.tag) == "coordonnees":
            name = name or one_line(_text(coordonnees, "nom"))
            phone = self.phone(_text(coordonnees, "telfixe/numtel"), coordonnees, where)
            email = self.email(_text(coordonnees, "courriel"), coordonnees, where)
        name = one_line(_text(adresse, "denomination"), 250) or name
        commune = one_line(_text(adresse, "ville"), 50) or ""
        line1 = lines[0] if lines else None
        if line2 is None and line1 in (one_line(name, 50), commune):
            line1 = None  # a lone line repeating the name or town: the writer's "no street"
        return Place(
            name=name,
            line1=line1,
            line2=line2,
            postcode=_text(adresse, "codepostal") or "",
            commune=commune,
            insee_code=insee,
            phone=phone,
            email=email,
            line=adresse.sourceline,
        )

    def phone(
        self, value: str | None, element: etree._Element | None, where: str | None
    ) -> str | None:
        if value is None:
            return None
        try:
            return normalise_phone(value)
        except ValueError:
            self.warn(f"numéro de téléphone « {value} » invalide : non repris.", element, where)
            return None

    def email(
        self, value: str | None, element: etree._Element | None, where: str | None
    ) -> str | None:
        if value is None:
            return None
        try:
            return normalise_email(value)[:160]
        except ValueError:
            self.warn(f"adresse e-mail « {value} » invalide : non reprise.", element, where)
            return None

    # Levels -----------------------------------------------------------------------------------

    def formation(self, el: etree._Element) -> None:
        ex = Extras.of(el, EXTRAS_FORMATION)
        errors_before = len(self.result.errors)
        title = one_line(_text(el, "intitule-formation"), 255) or ""
        certifs = _all(el, "certification")
        certif_code = None
        for certification in certifs:
            certif_code = _text(certification, "code-CERTIFINFO")
            if certif_code:
                break
        if len(certifs) > 1:
            self.warn(
                "plusieurs certifications : seule la première avec un code Certif Info "
                "est reprise.",
                certifs[1],
            )
        fields: dict[str, Any] = {
            "free_title": title if "intitule-formation" not in ex.defaulted else None,
            "free_objective": self.text(
                None if "objectif-formation" in ex.defaulted else _text(el, "objectif-formation"),
                3000,
                "objectif",
                el,
            ),
            "individualised_by_blocs": _flag(ex.get("individualisation-blocs")),
            "bloc_validation": self.code(
                ex.get("validation-blocs"), codes.BLOC_VALIDATION_TYPES, "validation des blocs", el
            ),
        }
        if ex.present and ex.get("reference-certifinfo") == "0":
            certif_code = None
        formation = FormationIn(
            line=el.sourceline,
            numero=el.get("numero"),
            title=title,
            fields=fields,
            certif_code=certif_code,
            programme_code=ex.get("programme-code"),
            lot_code=ex.get("lot-code"),
            responsible_siret=_text(
                el, "organisme-formation-responsable/SIRET-organisme-formation/SIRET"
            ),
        )

        def data(name: str) -> str | None:
            """The element's text, unless the export marked it as a placeholder."""
            return None if name in ex.defaulted else _text(el, name)

        # Formation elements that SOFI keeps on the action or the session.
        shared = {
            "path_type": data("parcours-de-formation"),
            "entry_level": data("code-niveau-entree"),
            "expected_results": data("resultats-attendus"),
            "programme_complement": data("contenu-formation"),
            "objective": data("objectif-formation"),
        }
        for action in _all(el, "action"):
            formation.actions.append(self.action(action, shared))
        blocs = [
            b
            for a in _all(el, "action")
            for s in _all(a, "session")
            for b in _all(s, "blocs-competences")
        ]
        if fields["bloc_validation"] is None and blocs:
            fields["bloc_validation"] = _text(blocs[0], "validation-blocs")
        for bloc in blocs:
            for code in (_text(b, "code-bloc") for b in _all(bloc, "bloc-competences")):
                if code and code not in formation.bloc_codes:
                    formation.bloc_codes.append(code)
        if len(self.result.errors) == errors_before:
            self.result.formations.append(formation)

    def action(self, el: etree._Element, shared: dict) -> ActionIn:
        numero = el.get("numero")
        where = f"{self.where}, action {numero}" if numero else self.where
        ex = Extras.of(el, EXTRAS_ACTION)

        def own(field: str, name: str) -> str | None:
            return ex.get(name) if ex.has(name) else shared[field]

        publics = []
        if "code-public-vise" not in ex.defaulted:
            for item in _all(el, "code-public-vise"):
                code = self.code(
                    (item.text or "").strip(),
                    codes.PUBLIC_TARGETS,
                    "public visé (Formacode V14)",
                    item,
                    where,
                )
                if code and code not in publics:
                    publics.append(code)
        prerequisites = [
            c
            for c in (
                self.code(v, codes.PREREQUISITES, "pré-requis", el, where)
                for v in ex.all("prerequis")
            )
            if c
        ]
        conditions = (
            None
            if "conditions-specifiques" in ex.defaulted
            else _text(el, "conditions-specifiques")
        )
        equipment = el.find(Q + "equipement")
        if len(_all(el, "equipement")) > 1:
            self.warn("plusieurs équipements : seul le premier est repris.", el, where)
        fields: dict[str, Any] = {
            "title_complement": self.text(
                one_line(ex.get("complement-intitule")), 255, "complément d'intitulé", el, where
            ),
            "programme_complement": self.rich(
                own("programme_complement", "contenu"), 3000, "complément programme", el, where
            ),
            "objectives": self.rich(
                ex.get("objectifs") if ex.present else shared["objective"],
                3000,
                "objectifs",
                el,
                where,
            ),
            "expected_results": self.rich(
                own("expected_results", "resultats-attendus"), 3000, "résultats attendus", el, where
            ),
            "plus_formation": self.text(
                ex.get("le-plus-formation"), 250, "le plus formation", el, where
            ),
            "video_url": self.url(ex.get("url-video"), "URL vidéo", el, where),
            "pdf_url": self.url(ex.get("url-pdf"), "URL PDF", el, where),
            "action_url": self.url(_text(el, "url-action/urlweb"), "URL de l'action", el, where),
            "entry_level": self.code(
                own("entry_level", "niveau-entree"), codes.LEVELS, "niveau d'entrée", el, where
            ),
            "prerequisites": prerequisites,
            "prerequisites_comment": self.rich(
                ex.get("commentaire-prerequis") if ex.present else conditions,
                3000,
                "commentaire pré-requis",
                el,
                where,
            ),
            "public_targets": publics,
            "public_comment": self.text(
                _text(el, "info-public-vise"), 3000, "informations sur le public", el, where
            ),
        }
        if equipment is not None:
            fields["equipment_type"] = _text(equipment, "type-equipement")
            cost = ex.get("cout-equipement") or _text(equipment, "cout-indicatif-equipement")
            fields["equipment_cost"] = self.decimal(
                cost, "coût de l'équipement", equipment, where, Decimal("99999999.99")
            )
            fields["equipment_comment"] = self.rich(
                _text(equipment, "commentaire"), 3000, "commentaire équipement", equipment, where
            )
        action = ActionIn(line=el.sourceline, numero=numero, fields=fields)
        for lieu in _all(el, "lieu-de-formation"):
            place = self.place(lieu.find(Q + "coordonnees"), where)
            if place is None:
                self.warn(
                    "lieu de formation sans adresse (code postal et ville) : non repris.",
                    lieu,
                    where,
                )
            else:
                action.places.append(place)
        defaults = self.action_defaults(el, ex, shared, where)
        meetings = self.action_meetings(el, where)
        for session in _all(el, "session"):
            action.sessions.append(self.session(session, defaults, meetings, where))
        has_dispositifs = any(s.fundings for s in action.sessions)
        if not has_dispositifs:
            for funder in _all(el, "organisme-financeur"):
                places = _text(funder, "nb-places-financees")
                code = _text(funder, "code-financeur")
                self.warn(
                    f"financeur « {codes.FUNDERS.label(code, code or '?')} »"
                    + (f" ({places} places)" if places else "")
                    + " non repris : les places se saisissent dans la fiche Dispositif d'un "
                    "programme SOFI.",
                    funder,
                    where,
                )
        return action

    def action_defaults(
        self, el: etree._Element, ex: Extras, shared: dict, where: str
    ) -> dict[str, Any]:
        """Session values LHEO gives at the action (or formation) level."""
        rhythm_text = None if "rythme-formation" in ex.defaulted else _text(el, "rythme-formation")
        alternance = (
            None
            if "modalites-alternance" in ex.defaulted
            else one_line(_text(el, "modalites-alternance"))
        )
        return {
            "teaching_mode": None
            if "modalites-enseignement" in ex.defaulted
            else _text(el, "modalites-enseignement"),
            "entry_exit_mode": None
            if "modalites-entrees-sorties" in ex.defaulted
            else _text(el, "modalites-entrees-sorties"),
            "path_type": shared["path_type"],
            "rhythm": _guess_rhythm(rhythm_text),
            "pedagogical_modes": [
                c
                for c in (
                    self.code(
                        (e.text or "").strip(),
                        codes.PEDAGOGICAL_MODES,
                        "modalité pédagogique",
                        e,
                        where,
                    )
                    for e in _all(el, "code-modalite-pedagogique")
                )
                if c
            ],
            "hours_centre": self.integer(
                _text(el, "nombre-heures-centre"), "nombre d'heures en centre", el, where
            ),
            "hours_company": self.integer(
                _text(el, "nombre-heures-entreprise"), "nombre d'heures en entreprise", el, where
            ),
            "duration_comment": _text(el, "duree-indicative"),
            "alternance_cycle": self.text(alternance, 250, "modalités de l'alternance", el, where),
        }

    def action_meetings(self, el: etree._Element, where: str) -> list[dict[str, Any]]:
        """Information sessions of a 2.2-style action (date-information, adresse-information)."""
        place = self.place(el.find(Q + "adresse-information/" + Q + "adresse"), where)
        meetings = []
        for item in _all(el, "date-information"):
            ok, day = self.date(_text(item, "date"), "date d'information collective", item, where)
            if ok and day is not None:
                meetings.append({"day": day, "start_time": None, "comment": None, "place": place})
        return meetings

    def session(
        self, el: etree._Element, defaults: dict, action_meetings: list[dict], action_where: str
    ) -> SessionIn:
        numero = el.get("numero")
        where = f"{action_where}, session {numero}" if numero else action_where
        ex = Extras.of(el, EXTRAS_SESSION)
        period = el.find(Q + "periode")
        ok_start, start = self.date(_text(period, "debut"), "date de début", period, where)
        ok_end, end = self.date(_text(period, "fin"), "date de fin", period, where, end=True)
        if ok_start and ok_end and start and end and end < start:
            self.error(
                f"la date de fin ({end:%d/%m/%Y}) précède la date de début ({start:%d/%m/%Y}).",
                period,
                where,
            )
        if ok_start and start is None:
            self.warn(
                "date de début inconnue (00000000) : à compléter dans la fiche Session.",
                period,
                where,
            )
        sofi = ex.present

        def pick(name: str, field: str) -> Any:
            return ex.get(name) if sofi else defaults[field]

        fields: dict[str, Any] = {
            "start_date": start,
            "end_date": end,
            "teaching_mode": _int_code(
                self.code(
                    pick("modalites-enseignement", "teaching_mode"),
                    codes.TEACHING_MODES,
                    "modalité d'enseignement",
                    el,
                    where,
                )
            ),
            "entry_exit_mode": self.code(
                pick("entrees-sorties", "entry_exit_mode"),
                codes.ENTRY_EXIT_MODES,
                "modalité d'entrées/sorties",
                el,
                where,
            ),
            "path_type": self.code(
                pick("type-parcours", "path_type"), codes.PATH_TYPES, "type de parcours", el, where
            ),
            "rhythm": self.code(pick("rythme", "rhythm"), codes.RHYTHMS, "rythme", el, where),
            "training_periods": [
                c
                for c in (
                    self.code(v, codes.TRAINING_PERIODS, "période de formation", el, where)
                    for v in ex.all("periode-formation")
                )
                if c
            ],
            "pedagogical_modes": [
                c
                for c in (
                    self.code(v, codes.PEDAGOGICAL_MODES, "modalité pédagogique", el, where)
                    for v in ex.all("modalite-pedagogique")
                )
                if c
            ]
            if sofi
            else list(defaults["pedagogical_modes"]),
            "hours_centre": self.integer(ex.get("heures-centre"), "heures en centre", el, where)
            if sofi
            else defaults["hours_centre"],
            "hours_company": self.integer(
                ex.get("heures-entreprise"), "heures en entreprise", el, where
            )
            if sofi
            else defaults["hours_company"],
            "hours_weekly": self.decimal(
                ex.get("heures-hebdo"), "durée hebdomadaire", el, where, Decimal("999.99")
            ),
            "duration_comment": pick("commentaire-duree", "duration_comment"),
            "alternance_cycle": self.text(
                ex.get("cycle-alternance"), 250, "cycle de l'alternance", el, where
            )
            if sofi
            else defaults["alternance_cycle"],
            "company_unit": self.code(
                ex.get("unite-entreprise"), codes.RHYTHM_UNITS, "unité entreprise", el, where
            ),
            "recruitment_state": _text(el, "etat-recrutement"),
            "is_initial_training": _flag(ex.get("formation-initiale")) or False,
            "is_apprenticeship": _flag(ex.get("contrat-apprentissage")) or False,
            "is_professionalisation": _flag(ex.get("contrat-professionnalisation")) or False,
        }
        session = SessionIn(line=el.sourceline, numero=numero, fields=fields)
        session.place = self.place(el.find(Q + "adresse-inscription/" + Q + "adresse"), where)
        modes: list[str] = []
        for recruitment in _all(el, "recrutement"):
            code = _text(recruitment, "modalite-recrutement")
            if code and code not in modes:
                modes.append(code)
            day_text = _text(recruitment, "periode/debut")
            if code == "9" and day_text:
                ok, day = self.date(day_text, "date d'information collective", recruitment, where)
                if ok and day is None:
                    self.warn("information collective sans date : non reprise.", recruitment, where)
                if ok and day is not None:
                    session.info_meetings.append(
                        {
                            "day": day,
                            "start_time": parse_lheo_hour(_text(recruitment, "heure-debut")),
                            "comment": self.text(
                                one_line(_text(recruitment, "commentaire")),
                                250,
                                "commentaire d'information collective",
                                recruitment,
                                where,
                            ),
                            "place": self.place(recruitment.find(Q + "adresse"), where),
                        }
                    )
        fields["recruitment_modes"] = modes
        if not session.info_meetings and action_meetings:
            session.info_meetings = [dict(m) for m in action_meetings]
            if "9" not in modes:
                modes.append("9")
        self.enrolment(el, ex, session, where)
        self.fundings(ex, session, el, where)
        self.referents(el, session, where)
        return session

    def enrolment(self, el: etree._Element, ex: Extras, session: SessionIn, where: str) -> None:
        items = [
            (e.get("type"), e.get("debut"), e.get("fin"), el) for e in ex.children(EXTRAS_ENROLMENT)
        ]
        if not items:
            period = el.find(Q + "periode-inscription/" + Q + "periode")
            if period is not None:
                items = [("3", _text(period, "debut"), _text(period, "fin"), period)]
        for kind, start_text, end_text, element in items:
            kind = self.code(
                kind, codes.ENROLMENT_PERIOD_KINDS, "type de période d'inscription", element, where
            )
            ok_start, start = self.date(
                start_text, "début de la période d'inscription", element, where
            )
            ok_end, end = self.date(
                end_text, "fin de la période d'inscription", element, where, end=True
            )
            if not (ok_start and ok_end) or kind is None:
                continue
            if start is None:
                self.warn("période d'inscription sans date de début : non reprise.", element, where)
                continue
            if end is not None and end < start:
                self.warn(
                    "période d'inscription dont la fin précède le début : non reprise.",
                    element,
                    where,
                )
                continue
            session.enrolment_periods.append({"kind": kind, "start_date": start, "end_date": end})

    def fundings(self, ex: Extras, session: SessionIn, el: etree._Element, where: str) -> None:
        for item in ex.children(EXTRAS_FUNDING):
            money = Decimal("99999999.99")
            session.fundings.append(
                {
                    "programme_code": item.get("programme-code") or item.numero,
                    "publics": self.text(item.get("publics"), 250, "publics", el, where),
                    "region_lot_number": self.text(
                        item.get("numero-lot-cr"), 30, "numéro lot CR", el, where
                    ),
                    "region_action_id": self.text(
                        item.get("id-action-cr"), 30, "ID action CR", el, where
                    ),
                    "region_mandataire_id": self.text(
                        item.get("of-mandataire-cr"), 30, "OF mandataire CR", el, where
                    ),
                    "places": self.integer(item.get("places"), "nombre de places", el, where),
                    "places_remaining": self.integer(
                        item.get("places-restantes"), "places restantes", el, where
                    ),
                    "min_headcount": self.integer(
                        item.get("effectif-minimal"), "effectif minimal", el, where
                    ),
                    "simultaneous_capacity": self.integer(
                        item.get("capacite-simultanee"), "capacité simultanée", el, where
                    ),
                    "fee_ht": self.decimal(item.get("frais-ht"), "frais HT", el, where, money),
                    "vat_rate": self.decimal(
                        item.get("taux-tva"), "taux de TVA", el, where, Decimal("100")
                    ),
                    "additional_fees": self.decimal(
                        item.get("frais-additionnels"), "frais additionnels", el, where, money
                    ),
                    "certification_fees_included": _flag(item.get("frais-certification-inclus")),
                    "teaching_fees_covered": _flag(item.get("prise-en-charge-frais-pedagogiques")),
                }
            )

    def referents(self, el: etree._Element, session: SessionIn, where: str) -> None:
        for item in _all(el, "contact-session"):
            role = Extras.of(item, EXTRAS_REFERENT).get("role")
            contact_type = _text(item, "type-contact")
            field = ROLE_FIELDS.get(role or "") or CONTACT_TYPE_FIELDS.get(contact_type or "")
            coordonnees = item.find(Q + "coordonnees")
            last_name = one_line(_text(coordonnees, "nom"), 50)
            if field is None:
                continue
            if field in session.referents:
                continue
            if last_name is None:
                self.warn("contact de session sans nom : non repris.", item, where)
                continue
            civility = _text(coordonnees, "civilite")
            session.referents[field] = ContactIn(
                last_name=last_name,
                first_name=one_line(_text(coordonnees, "prenom"), 50),
                civility=CIVILITIES.get((civility or "").casefold()),
                email=self.email(_text(coordonnees, "courriel"), coordonnees, where),
                phone=self.phone(_text(coordonnees, "telfixe/numtel"), coordonnees, where),
                mobile=self.phone(_text(coordonnees, "portable/numtel"), coordonnees, where),
                roles=[contact_type] if contact_type in codes.CONTACT_TYPES else [],
            )


def _flag(value: str | None) -> bool | None:
    if value in ("1", "oui", "true"):
        return True
    if value in ("0", "non", "false"):
        return False
    return None


def _int_code(value: str | None) -> int | None:
    return int(value) if value is not None else None


def _guess_rhythm(text: str | None) -> str | None:
    """SOFI's rythme from LHEO's free text ("Temps plein, 35 h…" → temps plein)."""
    if not text:
        return None
    folded = text.casefold()
    return next((code for code, label in RHYTHM_WORDS if label in folded), None)
