"""What the LHEO writer and reader share: dates, texts, hours, the SOFI extras, the fallbacks.

SOFI fields with no LHEO element travel in ``extras`` (LHEO's cercle 3), one ``extras`` per
level with ``info`` naming the level and one ``extra`` per field with ``info`` naming the field:

- ``<extras info="sofi-formation">`` in ``formation``: programme-code, programme,
  code-dispositif, lot-code, lot, reference-certifinfo (0/1), individualisation-blocs (0/1),
  validation-blocs;
- ``<extras info="sofi-action">`` in ``action``: complement-intitule, objectifs,
  le-plus-formation, url-video, url-pdf, prerequis (one per code), commentaire-prerequis,
  cout-equipement (the exact cost; LHEO's is a whole number), and contenu,
  resultats-attendus, niveau-entree when they differ from those of the formation's first
  action (which the formation's elements carry);
- ``<extras info="sofi-session">`` in ``session``: the session's own values of what LHEO keeps
  on the action or the formation (modalites-enseignement, entrees-sorties, type-parcours,
  heures-centre, heures-entreprise, modalite-pedagogique…), and rythme, periode-formation,
  heures-hebdo, commentaire-duree, cycle-alternance, unite-entreprise, and the flags
  formation-initiale, contrat-apprentissage, contrat-professionnalisation and session-perimee
  (the Intercarif flag of a session already ended), written only when set; nested
  ``<extras info="periode-inscription">`` (type, debut, fin) per enrolment period and
  ``<extras info="dispositif" numero="programme code">`` per fiche Dispositif (publics,
  numero-lot-cr, id-action-cr, of-mandataire-cr, places, places-restantes, effectif-minimal,
  capacite-simultanee, frais-ht, taux-tva, frais-ttc, frais-additionnels,
  frais-certification-inclus, prise-en-charge-frais-pedagogiques);
- ``<extras info="sofi-referent">`` in ``contact-session``: role (pmr, prf, mobilite, liaison).

The root's ``<extras info="sofi-export">`` describes the filters of a filtered export.

Required LHEO elements SOFI may have no data for get a fallback, built from other fields when
possible, else a fixed text (``FALLBACKS``):

- intitule-formation: "Formation n° F"; objectif-formation: the first action's objectifs, else
  the title; resultats-attendus: the certification's title and type, else "Attestation de fin
  de formation."; contenu-formation: the certification's programme, else the objectifs, else
  "programme : title"; contact-formation: the establishment's name, address, phone, e-mail;
  parcours-de-formation: 1 (en groupe); code-niveau-entree: 0 (non communiqué);
- rythme-formation: "Rythme non communiqué."; code-public-vise: 83056 (tout public);
  niveau-entree-obligatoire: always 0 (SOFI's level is indicative); modalites-alternance:
  "N h en centre et M h en entreprise.", else "Pas de période en entreprise.";
  modalites-enseignement and modalites-entrees-sorties: 0; conditions-specifiques: "Aucune."
  (the LHEO documentation's own advice);
- adresse-inscription: the session's site, else the action's, else the organisme
  responsable's or the establishment's address, else "Adresse non communiquée, 00000 Non
  communiquée"; numero-activite: 00000000000; a missing raison sociale is the name;
- dates: debut 00000000 and fin 99999999 when unknown (as the LHEO documentation says).

Each level lists the elements it filled that way in ``<extra info="valeur-par-defaut">``, so
that a consumer — and our own reader — can tell a placeholder from data.
"""

from __future__ import annotations

import html
import re
from calendar import monthrange
from datetime import date, time
from decimal import Decimal, InvalidOperation

from . import NS

Q = "{" + NS + "}"

EXTRAS_FORMATION = "sofi-formation"
EXTRAS_ACTION = "sofi-action"
EXTRAS_SESSION = "sofi-session"
EXTRAS_ENROLMENT = "periode-inscription"
EXTRAS_FUNDING = "dispositif"
EXTRAS_REFERENT = "sofi-referent"
DEFAULTED = "valeur-par-defaut"

# Referent roles of a session, their LHEO type-contact and the extras name of each.
REFERENT_ROLES = {
    # SOFI field: (extras role, dict-type-contact code)
    "pmr": ("pmr", "1"),  # référent handicap
    "mobility": ("mobilite", "2"),  # référent mobilité internationale
    "prf": ("prf", "0"),  # référent PRF (programme régional de formation): "autre"
    "liaison": ("liaison", "4"),  # mail de liaison: "accueil"
}

# Texts used when a required element has no SOFI data (and nothing better can be built).
FALLBACKS = {
    "resultats-attendus": "Attestation de fin de formation.",
    "rythme-formation": "Rythme non communiqué.",
    "modalites-alternance": "Pas de période en entreprise.",
    "conditions-specifiques": "Aucune.",
    "code-public-vise": "83056",  # Formacode V14 "Tout public"
    "code-niveau-entree": "0",  # information non communiquée
    "parcours-de-formation": "1",  # en groupe
    "modalites-enseignement": "0",  # entièrement présentielle
    "modalites-entrees-sorties": "0",  # dates fixes
    "niveau-entree-obligatoire": "0",  # SOFI's niveau d'entrée is indicative
    "numero-activite": "00000000000",
}
UNKNOWN_ADDRESS = {
    "line1": "Adresse non communiquée",
    "postcode": "00000",
    "commune": "Non communiquée",
}

UNKNOWN_START = "00000000"
UNKNOWN_END = "99999999"

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BREAK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/ul|/ol)\b[^>]*>", re.I)
_ITEM_TAG = re.compile(r"<\s*li\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_HOUR = re.compile(r"\s*([01]?[0-9]|2[0-3])\s*[hH:]\s*([0-5][0-9])?\s*")


def clip(text: str | None, max_len: int) -> str | None:
    """``text`` cut to ``max_len`` characters, an ellipsis marking the cut."""
    if text is None or len(text) <= max_len:
        return text
    return text[: max_len - 1].rstrip() + "…"


def clean(value: object, max_len: int | None = None) -> str | None:
    """Text safe for XML 1.0 (control characters dropped), stripped; None when empty."""
    if value is None:
        return None
    text = _INVALID_XML.sub("", str(value)).strip()
    if not text:
        return None
    return clip(text, max_len) if max_len else text


def one_line(value: object, max_len: int | None = None) -> str | None:
    """Like ``clean`` with every run of whitespace folded into one space (names, lines)."""
    text = clean(value)
    if text is None:
        return None
    text = " ".join(text.split())
    return clip(text, max_len) if max_len else text


def html_to_text(value: object, max_len: int | None = None) -> str | None:
    """Plain text of the fiches' small HTML subset, keeping paragraphs and list items."""
    text = clean(value)
    if text is None:
        return None
    text = _ITEM_TAG.sub("- ", _BREAK_TAGS.sub("\n", text))
    text = html.unescape(_TAG.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n", "\n".join(lines)).strip()
    return clean(text, max_len)


def text_to_html(text: str) -> str:
    """The fiches' HTML subset from LHEO text: "- " lines become a list, others paragraphs
    (the inverse of ``html_to_text``); text that already holds HTML tags is left as it is."""
    if _HTML_TAG.search(text):
        return text
    blocks: list[str] = []
    items: list[str] = []
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith(("- ", "• ")):
            items.append(f"<li>{html.escape(line[2:].strip())}</li>")
            continue
        if items:
            blocks.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line:
            blocks.append(f"<p>{html.escape(line)}</p>")
    if items:
        blocks.append("<ul>" + "".join(items) + "</ul>")
    return "".join(blocks)


def lheo_date(value: str | date | None, *, end: bool = False) -> str:
    """AAAAMMJJ from an ISO date; 00000000 (start) or 99999999 (end) when unknown."""
    if value is None or value == "":
        return UNKNOWN_END if end else UNKNOWN_START
    if isinstance(value, date):
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return value[:10].replace("-", "")


def parse_lheo_date(text: str | None, *, end: bool = False) -> date | None:
    """The date of an AAAAMMJJ value; None when unknown (00000000, 99999999).

    A month (AAAAMM00) or a year (AAAA0000) gives its first day, or its last for an end date.
    Raises ValueError with a French message for a date that does not exist.
    """
    text = (text or "").strip()
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError(f"date « {text} » invalide (format attendu AAAAMMJJ)")
    year, month, day = (int(part) for part in match.groups())
    if year == 0 or text == UNKNOWN_END:
        return None
    if month == 0:
        month, day = (12, 31) if end else (1, 1)
    if day == 0:
        if not 1 <= month <= 12:
            raise ValueError(f"date « {text} » invalide (mois {month:02d})")
        day = monthrange(year, month)[1] if end else 1
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"la date « {text} » n'existe pas") from None


def lheo_hour(value: str | time | None) -> str | None:
    """An LHEO hour (9h30, 14h) from an ISO time."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = time.fromisoformat(value)
    return f"{value.hour}h{value.minute:02d}" if value.minute else f"{value.hour}h"


def parse_lheo_hour(text: str | None) -> time | None:
    """The time of an LHEO hour (HHhMM, Hh, HH:MM); None when it cannot be read."""
    match = _HOUR.fullmatch(text or "")
    if not match:
        return None
    return time(int(match.group(1)), int(match.group(2) or 0))


def decimal_or_none(text: object) -> Decimal | None:
    """A decimal from "7560.00" or "7 560,00"; None when it is not a number."""
    if text is None:
        return None
    raw = re.sub(r"\s", "", str(text)).replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def plain_decimal(value: Decimal | str | None) -> str | None:
    if value is None or value == "":
        return None
    return format(Decimal(value), "f")
