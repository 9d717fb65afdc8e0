"""Argon2 password hashing."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so that both failures take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


MIN_LENGTH = 12


def policy_errors(password: str, email: str = "") -> list[str]:
    """French reasons why ``password`` is too weak (empty when it is acceptable)."""
    errors = []
    if len(password) < MIN_LENGTH:
        errors.append(f"Le mot de passe doit comporter au moins {MIN_LENGTH} caractères.")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 3:
        errors.append(
            "Utilisez au moins trois types de caractères parmi : minuscules, majuscules, "
            "chiffres et symboles."
        )
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in password.lower():
        errors.append("Le mot de passe ne doit pas contenir votre adresse e-mail.")
    return errors
