"""Checks and normalisations shared by every form: phone numbers, SIRET/SIREN, e-mail, URLs.

Each function takes raw text and returns the value to store, or raises ``ValueError`` with the
French message shown next to the field.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

# Control characters but tab and line breaks: invisible when pasted (from a PDF, a word
# processor), refused by PostgreSQL (NUL) and by XML 1.0 (the LHEO export).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control(value: Any) -> bool:
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


def without_controls(value: str) -> str:
    return CONTROL_CHARACTERS.sub("", value)


def normalise_phone(raw: str) -> str:
    """Return a French phone number in E.164 (+33240204020)."""
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        raise ValueError("Numéro de téléphone invalide (exemple : 02 40 20 40 20).") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Numéro de téléphone invalide (exemple : 02 40 20 40 20).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """Show a stored number as French users write it: 02 40 20 40 20 (international abroad)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_email(raw: str) -> str:
    """Check the syntax (no DNS look-up) and return the normalised address."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("Adresse e-mail invalide (exemple : prenom.nom@organisme.fr).") from None


# The largest id or page any table takes (PostgreSQL's integer; SQLite's is larger).
DB_INT_MAX = 2**31 - 1


def parse_int(value: object, *, minimum: int = 0, maximum: int = DB_INT_MAX) -> int | None:
    """An integer from a request (query string, form, JSON): ASCII digits within
    [minimum, maximum], else None — never "²", never a number the database cannot hold."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= 10 and _ascii_digits(value):
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


def _ascii_digits(text: str) -> bool:
    """str.isdigit() also accepts "²" and other scripts' digits, which no SIRET has."""
    return text.isascii() and text.isdigit()


def normalise_siret(raw: str) -> str:
    compact = stdnum_siret.compact(raw)
    if not _ascii_digits(compact) or len(compact) != 14:
        raise ValueError("Le SIRET doit comporter 14 chiffres.")
    if not stdnum_siret.is_valid(compact):
        raise ValueError("SIRET invalide : la clé de contrôle ne correspond pas.")
    return compact


def normalise_siren(raw: str) -> str:
    compact = stdnum_siren.compact(raw)
    if not _ascii_digits(compact) or len(compact) != 9:
        raise ValueError("Le SIREN doit comporter 9 chiffres.")
    if not stdnum_siren.is_valid(compact):
        raise ValueError("SIREN invalide : la clé de contrôle ne correspond pas.")
    return compact


URL_MESSAGE = "Adresse web invalide : elle doit commencer par https:// ou http://."


def normalise_url(raw: str) -> str:
    """Accept only absolute http(s) URLs (no javascript:, no relative paths)."""
    value = raw.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port that is not one)
    except ValueError:  # "http://[::1" (an unclosed IPv6 address), "http://x:99999"
        raise ValueError(URL_MESSAGE) from None
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError(URL_MESSAGE)
    return value
