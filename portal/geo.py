"""French communes by postcode: lookups and the check of a (postcode, commune, INSEE) triple.

Reads ``portal/data/communes.csv`` (built by ``scripts/refresh_communes.py`` from the Etalab
package, see ``portal/data/SOURCE.md``) once per process. Current communes plus the municipal
arrondissements of Paris, Lyon and Marseille; the five TAAF districts have no postcode and are
never returned. No Flask, no database: callers turn ``CommuneError`` into a form error on the
field it names.

Postcodes are read leniently: surrounding and inner whitespace is dropped ("44 000" is 44000),
then exactly five ASCII digits are required. A dropped leading zero ("1400") is not guessed.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("data") / "communes.csv"

MAX_LISTED = 5  # communes named in a "does not match" message before "…"

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’‘`´.,;/()]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
_QUALIFIER = re.compile(r"\s*\([^)]*\)")
_INSEE = re.compile(r"(?:\d{2}|2[AB])\d{3}")


@dataclass(frozen=True)
class Commune:
    """One row of communes.csv; ``postcodes`` sorted, ``department`` as in the COG (2A, 974)."""

    insee_code: str
    name: str
    postcodes: tuple[str, ...]
    department: str


class CommuneError(ValueError):
    """A French message for the user; ``field`` is "postcode", "commune" or "insee_code"."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_name(name: str) -> str:
    """Comparison key: no case, accents, ligatures (œ, æ) or separators; St/Ste → Saint/Sainte.

    Separators are spaces, hyphens and dashes, apostrophes, dots, commas and parentheses, so
    "Saint-Herblain", "ST HERBLAIN", "st. herblain" and "SaintHerblain" share one key. The
    abbreviations are expanded only as whole words ("Stenay" stays as it is).
    """
    text = name.casefold().replace("œ", "oe").replace("æ", "ae")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(_ABBREVIATIONS.get(word, word) for word in _SEPARATORS.split(text) if word)


def _clean_postcode(postcode: str | None) -> str | None:
    """The postcode without any whitespace if it is then five ASCII digits, else None."""
    code = "".join((postcode or "").split())
    return code if len(code) == 5 and code.isascii() and code.isdigit() else None


def _sort_key(commune: Commune) -> tuple[str, str]:
    return normalise_name(commune.name), commune.name


@dataclass(frozen=True)
class _Index:
    by_postcode: dict[str, tuple[Commune, ...]]
    department_by_postcode: dict[str, str]


@cache
def _index() -> _Index:
    """Load communes.csv once and index it by postcode."""
    by_postcode: defaultdict[str, list[Commune]] = defaultdict(list)
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            postcodes = tuple(row["postcodes"].split("|")) if row["postcodes"] else ()
            commune = Commune(row["insee_code"], row["name"], postcodes, row["department"])
            for postcode in postcodes:
                by_postcode[postcode].append(commune)
    communes = {code: tuple(sorted(found, key=_sort_key)) for code, found in by_postcode.items()}
    departments: dict[str, str] = {}
    for code, found in communes.items():
        candidates = {commune.department for commune in found}
        if len(candidates) > 1:  # a La Poste code that straddles departments (16 in 6.0.0)
            candidates = {dep for dep in candidates if code.startswith(dep)}
        if len(candidates) == 1:
            departments[code] = candidates.pop()
    return _Index(communes, departments)


def communes_for_postcode(postcode: str) -> list[Commune]:
    """The communes served by a postcode, sorted by name; [] if unknown or not 5 digits."""
    code = _clean_postcode(postcode)
    return list(_index().by_postcode.get(code, ())) if code else []


def department_of(postcode: str) -> str | None:
    """The department code ("44", "2A", "974") of a known postcode, else None.

    A few postcodes serve communes of two departments (13780: Cuges-les-Pins, 13, and Riboux,
    83); the one its first digits name is returned. ``check_commune(...).department`` gives
    the commune's own.
    """
    code = _clean_postcode(postcode)
    return _index().department_by_postcode.get(code) if code else None


def _names(communes: tuple[Commune, ...] | list[Commune]) -> str:
    names = [commune.name for commune in communes[:MAX_LISTED]]
    if len(communes) > MAX_LISTED:
        names.append("…")
    return ", ".join(names)


def check_commune(postcode: str, commune: str, insee_code: str | None = None) -> Commune:
    """The commune named at that postcode, consistent with the INSEE code if one is given.

    The name is compared with ``normalise_name``; a name typed without the parenthesised
    qualifier of the official one ("Bors" for "Bors (Canton de Tude-et-Lavalette)") matches if
    that leaves a single commune, or when the INSEE code picks one. An empty ``insee_code``
    counts as none. Raises ``CommuneError`` naming the first wrong input, in the order
    postcode, commune, INSEE code.
    """
    code = _clean_postcode(postcode)
    if code is None:
        raise CommuneError("Le code postal doit comporter 5 chiffres.", "postcode")
    candidates = _index().by_postcode.get(code, ())
    if not candidates:
        raise CommuneError(f"Code postal inconnu : {code}.", "postcode")

    typed = " ".join(commune.split()) if commune else ""
    key = normalise_name(typed)
    if not key:
        raise CommuneError("La commune doit être renseignée.", "commune")
    matches = [c for c in candidates if normalise_name(c.name) == key]
    if not matches:
        matches = [c for c in candidates if normalise_name(_QUALIFIER.sub(" ", c.name)) == key]
    if not matches:
        raise CommuneError(
            f"La commune « {typed} » ne correspond pas au code postal {code} "
            f"(communes possibles : {_names(candidates)}).",
            "commune",
        )

    insee = "".join((insee_code or "").split()).upper()
    if insee:
        if not _INSEE.fullmatch(insee):
            raise CommuneError(
                "Le code INSEE doit comporter 5 caractères : 5 chiffres, ou 2A/2B et 3 chiffres "
                "pour la Corse.",
                "insee_code",
            )
        for match in matches:
            if match.insee_code == insee:
                return match
        named = matches[0].name if len(matches) == 1 else typed
        raise CommuneError(
            f"Le code INSEE {insee} ne correspond pas à la commune « {named} ».", "insee_code"
        )
    if len(matches) > 1:
        raise CommuneError(
            f"Plusieurs communes « {typed} » ont le code postal {code} : "
            f"précisez laquelle ({_names(matches)}).",
            "commune",
        )
    return matches[0]
