"""E-mail notifications: logged in development, captured by tests, SMTP in production.

``MAIL_BACKEND`` chooses: "log" (default), "memory" (tests read app.extensions["outbox"]) or
"smtp" (MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS, from the
environment). A failure to send is logged and never undoes the decision it reports.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str


def outbox() -> list[Mail]:
    return current_app.extensions.setdefault("outbox", [])


def send(to: list[str] | tuple[str, ...], subject: str, body: str) -> Mail | None:
    recipients = tuple(sorted({address for address in to if address}))
    if not recipients:
        return None
    mail = Mail(recipients, subject, body)
    backend = current_app.config.get("MAIL_BACKEND", "log")
    if backend == "memory":
        outbox().append(mail)
    elif backend == "smtp":
        try:
            _send_smtp(mail)
        except (OSError, smtplib.SMTPException):
            current_app.logger.exception("Mail to %s not sent: %s", recipients, subject)
    else:
        current_app.logger.info("Mail to %s: %s\n%s", ", ".join(recipients), subject, body)
    return mail


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
