"""Checks and normalisations shared by every form: phone numbers, SIRET/SIREN, e-mail, URLs.

Each function takes raw text and returns the value to store, or raises ``ValueError`` with the
French message shown next to the field.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret


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


def normalise_siret(raw: str) -> str:
    compact = stdnum_siret.compact(raw)
    if not compact.isdigit() or len(compact) != 14:
        raise ValueError("Le SIRET doit comporter 14 chiffres.")
    if not stdnum_siret.is_valid(compact):
        raise ValueError("SIRET invalide : la clé de contrôle ne correspond pas.")
    return compact


def normalise_siren(raw: str) -> str:
    compact = stdnum_siren.compact(raw)
    if not compact.isdigit() or len(compact) != 9:
        raise ValueError("Le SIREN doit comporter 9 chiffres.")
    if not stdnum_siren.is_valid(compact):
        raise ValueError("SIREN invalide : la clé de contrôle ne correspond pas.")
    return compact


def normalise_url(raw: str) -> str:
    """Accept only absolute http(s) URLs (no javascript:, no relative paths)."""
    value = raw.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError("Adresse web invalide : elle doit commencer par https:// ou http://.")
    return value
