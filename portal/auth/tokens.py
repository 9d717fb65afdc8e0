"""Set-password links: random, single use, expiring; the database keeps only their hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import PasswordToken, User
from ..models._base import utcnow

LIFETIME = timedelta(hours=48)


class InvalidToken(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue(user: User, created_by: User | None = None, *, lifetime: timedelta = LIFETIME) -> str:
    """Create a link token for ``user`` (earlier unused ones stop working); return it raw."""
    now = utcnow()
    db.session.execute(
        update(PasswordToken)
        .where(PasswordToken.user_id == user.id, PasswordToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    db.session.add(
        PasswordToken(
            user_id=user.id,
            token_hash=_hash(raw),
            created_at=now,
            expires_at=now + lifetime,
            created_by_id=created_by.id if created_by else None,
        )
    )
    return raw


def find(raw: str) -> PasswordToken:
    """The valid token for ``raw``, or InvalidToken with the French reason."""
    if not raw or len(raw) > 100:
        raise InvalidToken("Ce lien n'est pas valide.")
    token = db.session.scalar(select(PasswordToken).where(PasswordToken.token_hash == _hash(raw)))
    if token is None:
        raise InvalidToken("Ce lien n'est pas valide.")
    if token.used_at is not None:
        raise InvalidToken("Ce lien a déjà été utilisé ou remplacé par un lien plus récent.")
    expires = token.expires_at
    if expires.tzinfo is None:  # SQLite returns naive datetimes
        expires = expires.replace(tzinfo=utcnow().tzinfo)
    if expires < utcnow():
        raise InvalidToken(
            "Ce lien a expiré : demandez-en un nouveau avec « Mot de passe oublié » sur la page "
            "de connexion, ou au service Offre."
        )
    if not token.user.active:
        raise InvalidToken("Ce compte est désactivé.")
    return token


def consume(token: PasswordToken) -> None:
    token.used_at = utcnow()
