"""E-mail notifications: logged in development, captured by tests, SMTP in production.

``MAIL_BACKEND`` chooses: "log" (default), "memory" (tests read app.extensions["outbox"]) or
"smtp" (MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS, from the
environment). A failure to send is logged and never undoes the decision it reports.

A mail that announces a change is sent with ``send_on_commit``: it leaves only once the
change is committed, and a rolled-back transaction sends nothing.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from .extensions import db

PENDING = "mails_on_commit"


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str


def outbox() -> list[Mail]:
    return current_app.extensions.setdefault("outbox", [])


def send(to: list[str] | tuple[str, ...], subject: str, body: str) -> Mail | None:
    """Send now."""
    mail = _mail(to, subject, body)
    if mail is not None:
        _deliver(mail)
    return mail


def send_on_commit(to: list[str] | tuple[str, ...], subject: str, body: str) -> None:
    """Send when the current database transaction commits; never if it rolls back."""
    mail = _mail(to, subject, body)
    if mail is not None:
        db.session.info.setdefault(PENDING, []).append(mail)


@event.listens_for(OrmSession, "after_commit")
def _send_pending(session: OrmSession) -> None:
    for mail in session.info.pop(PENDING, []):
        _deliver(mail)


@event.listens_for(OrmSession, "after_rollback")
def _drop_pending(session: OrmSession) -> None:
    session.info.pop(PENDING, None)


def _mail(to: list[str] | tuple[str, ...], subject: str, body: str) -> Mail | None:
    recipients = tuple(sorted({address for address in to if address}))
    return Mail(recipients, subject, body) if recipients else None


def _deliver(mail: Mail) -> None:
    recipients = mail.to
    backend = current_app.config.get("MAIL_BACKEND", "log")
    if backend == "memory":
        outbox().append(mail)
    elif backend == "smtp":
        try:
            _send_smtp(mail)
        except (OSError, smtplib.SMTPException):
            current_app.logger.exception("Mail to %s not sent: %s", recipients, mail.subject)
    else:
        current_app.logger.info(
            "Mail to %s: %s\n%s", ", ".join(recipients), mail.subject, mail.body
        )


def _send_smtp(mail: Mail) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_SENDER", "sofi@localhost")
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 587)), timeout=10) as s:
        if config.get("MAIL_USE_TLS", True):
            s.starttls()
        if config.get("MAIL_USERNAME"):
            s.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        s.send_message(message)
