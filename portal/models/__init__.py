"""Typed SQLAlchemy 2.0 models, one module per area; import them from here."""

from .directory import Contact, Establishment, OpenDay, Organisation, PasswordToken, Site, User
from .offer import (
    Action,
    ActionStatus,
    EnrolmentPeriod,
    Formation,
    InfoMeeting,
    Session,
    SessionFunding,
)
from .reference import Certification, CertificationBloc, Formacode, ImportRun, Lot, Programme
from .workflow import ActionEvent, JournalEntry, PublishedSession

__all__ = [
    "Action",
    "ActionEvent",
    "ActionStatus",
    "Certification",
    "CertificationBloc",
    "Contact",
    "EnrolmentPeriod",
    "Establishment",
    "Formacode",
    "Formation",
    "ImportRun",
    "InfoMeeting",
    "JournalEntry",
    "Lot",
    "OpenDay",
    "Organisation",
    "PasswordToken",
    "Programme",
    "PublishedSession",
    "Session",
    "SessionFunding",
    "Site",
    "User",
]
