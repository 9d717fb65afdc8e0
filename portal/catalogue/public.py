"""What the public sees of a published session: labels, addresses, contacts, slugs.

Reads only the published copy (``PublishedSession`` and its ``data``), never the offer
tables, so a change the OF has not had validated cannot leak. The same representation feeds
the detail page, the JSON API and the open-data files.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .. import codes
from ..richtext import sanitize, visible_text
from ..search.normalise import normalise
from . import departments

SLUG_LENGTH = 80
# The LHEO labels of the 2019 levels are paragraphs: the catalogue shows their usual names.
LEVEL_NAMES = {
    "0": "Information non communiquée",
    "1": "Sans niveau spécifique",
    "11": "Niveau 1 (savoirs de base)",
    "12": "Niveau 2",
    "13": "Niveau 3 (CAP, BEP)",
    "14": "Niveau 4 (Bac)",
    "15": "Niveau 5 (Bac + 2)",
    "16": "Niveau 6 (Bac + 3 ou 4)",
    "17": "Niveau 7 (Bac + 5)",
    "18": "Niveau 8 (Doctorat)",
}
REFERENT_ROLES = (
    ("pmr", "Référent handicap"),
    ("mobility", "Référent mobilité"),
    ("prf", "Référent PRF"),
    ("liaison", "Contact"),
)


def slug(title: str | None) -> str:
    """``Titre professionnel : Électricien`` → ``titre-professionnel-electricien``."""
    text = "-".join(re.findall(r"[a-z0-9]+", normalise(title)))[:SLUG_LENGTH].strip("-")
    return text or "formation"


def level_label(code: str | None) -> str:
    if not code:
        return ""
    return LEVEL_NAMES.get(code) or codes.LEVELS.label(code, code)


def teaching_mode_label(code: int | None) -> str:
    label = codes.TEACHING_MODES.label(code)
    return label[:1].upper() + label[1:] if label else ""


def _coded(table: codes.CodeTable, code: Any, label: str | None = None) -> dict | None:
    if code is None or code == "":
        return None
    return {"code": str(code), "libelle": label or table.label(code, str(code))}


def address_lines(address: dict | None) -> list[str]:
    """The lines of a published address, as printed on an envelope."""
    if not address:
        return []
    lines = [address.get("line1"), address.get("line2")]
    town = " ".join(p for p in (address.get("postcode"), address.get("commune")) if p)
    return [line for line in (*lines, town) if line]


def _address(address: dict | None) -> dict | None:
    if not address:
        return None
    return {
        "nom": address.get("name"),
        "adresse": [line for line in (address.get("line1"), address.get("line2")) if line],
        "code_postal": address.get("postcode"),
        "commune": address.get("commune"),
        "departement": address.get("department"),
        "telephone": address.get("phone"),
        "courriel": address.get("email"),
        "accessibilite": address.get("accessibility"),
    }


def contact_name(contact: dict | None) -> str:
    if not contact:
        return ""
    parts = (contact.get("civility"), contact.get("first_name"), contact.get("last_name"))
    return " ".join(p for p in parts if p)


def _contact(contact: dict | None) -> dict | None:
    if not contact:
        return None
    return {
        "nom": contact_name(contact),
        "fonction": contact.get("function"),
        "courriel": contact.get("email"),
        "telephone": contact.get("phone") or contact.get("mobile"),
    }


def places(data: dict) -> tuple[int | None, int | None]:
    """Places and places left over the session's dispositifs (None when not given)."""
    fundings = data.get("fundings") or []
    total = [f["places"] for f in fundings if f.get("places") is not None]
    left = [f["places_remaining"] for f in fundings if f.get("places_remaining") is not None]
    return (sum(total) if total else None, sum(left) if left else None)


def is_ended(row: Any, today: date) -> bool:
    return row.end_date is not None and row.end_date < today


def summary(row: Any) -> dict[str, Any]:
    """A search result in the API: what the list shows, codes with their labels."""
    return {
        "id": row.session_id,
        "code_fas": row.fas_code,
        "formation_id": row.formation_id,
        "action_id": row.action_id,
        "intitule": row.title,
        "organisme": row.establishment_name,
        "lieu": row.site_name,
        "commune": row.commune,
        "code_postal": row.postcode,
        "departement": row.department,
        "date_debut": row.start_date.isoformat() if row.start_date else None,
        "date_fin": row.end_date.isoformat() if row.end_date else None,
        "modalite_enseignement": _coded(
            codes.TEACHING_MODES, row.teaching_mode, teaching_mode_label(row.teaching_mode)
        ),
        "niveau_sortie": _coded(codes.LEVELS, row.exit_level, level_label(row.exit_level)),
        "publics_vises": [_coded(codes.PUBLIC_TARGETS, c) for c in row.public_targets or []],
        "formacodes": list(row.formacodes or []),
        "programme_id": row.programme_id,
    }


def detail(row: Any) -> dict[str, Any]:
    """Everything public about one session: the summary plus the validated fiche."""
    data = row.data or {}
    formation = data.get("formation") or {}
    action = data.get("action") or {}
    session = data.get("session") or {}
    organisation = data.get("organisation") or {}
    certification = formation.get("certification") or {}
    programme = formation.get("programme") or {}
    total, left = places(data)
    referents = data.get("referents") or {}
    return summary(row) | {
        "organisme": {
            "nom": row.establishment_name,
            "raison_sociale": organisation.get("legal_name"),
            "siret": organisation.get("siret"),
            "adresse": _address(organisation.get("address")),
        },
        "programme": {"id": programme.get("id"), "nom": programme.get("name")}
        if programme
        else None,
        "certification": {
            "code_certif_info": certification.get("code"),
            "intitule": certification.get("title"),
            "rncp": certification.get("rncp_code"),
            "rs": certification.get("rs_code"),
        }
        if certification
        else None,
        "objectifs": visible_text(action.get("objectives")) or formation.get("objective"),
        "resultats_attendus": visible_text(action.get("expected_results")) or None,
        "contenu": visible_text(action.get("programme_complement")) or None,
        "le_plus": action.get("plus_formation"),
        "niveau_entree": _coded(
            codes.LEVELS, action.get("entry_level"), level_label(action.get("entry_level"))
        ),
        "prerequis": [_coded(codes.PREREQUISITES, c) for c in action.get("prerequisites") or []],
        "prerequis_commentaire": action.get("prerequisites_comment"),
        "public_commentaire": action.get("public_comment"),
        "url_formation": action.get("action_url"),
        "lieu": _address(data.get("session_site")),
        "entrees_sorties": _coded(codes.ENTRY_EXIT_MODES, session.get("entry_exit_mode")),
        "rythme": _coded(codes.RHYTHMS, session.get("rhythm")),
        "duree_centre_heures": session.get("hours_centre"),
        "duree_entreprise_heures": session.get("hours_company"),
        "etat_recrutement": _coded(codes.RECRUITMENT_STATES, session.get("recruitment_state")),
        "places": total,
        "places_restantes": left,
        "informations_collectives": [
            {
                "date": m.get("day"),
                "heure": (m.get("start_time") or "")[:5] or None,
                "commentaire": m.get("comment"),
                "lieu": _address(m.get("site")),
            }
            for m in data.get("info_meetings") or []
        ],
        "periodes_inscription": [
            {
                "type": _coded(codes.ENROLMENT_PERIOD_KINDS, p.get("kind")),
                "debut": p.get("start_date"),
                "fin": p.get("end_date"),
            }
            for p in data.get("enrolment_periods") or []
        ],
        "contacts": {
            key: _contact(referents.get(key))
            for key in ("pmr", "mobility", "prf", "liaison")
            if referents.get(key)
        },
        "publie_le": row.published_at.isoformat() if row.published_at else None,
    }


def page_sections(row: Any) -> dict[str, Any]:
    """The action-level parts of the detail page, from one of its published sessions."""
    data = row.data or {}
    formation = data.get("formation") or {}
    action = data.get("action") or {}
    certification = formation.get("certification") or {}
    return {
        "objectives": sanitize(action.get("objectives")) or sanitize(formation.get("objective")),
        "expected_results": sanitize(action.get("expected_results")),
        "content": sanitize(action.get("programme_complement")),
        "plus": action.get("plus_formation"),
        "certification": certification,
        "programme": (formation.get("programme") or {}).get("name"),
        "entry_level": level_label(action.get("entry_level")),
        "prerequisites": [
            codes.PREREQUISITES.label(c, c) for c in action.get("prerequisites") or []
        ],
        "prerequisites_comment": action.get("prerequisites_comment"),
        "publics": [codes.PUBLIC_TARGETS.label(c, c) for c in action.get("public_targets") or []],
        "public_comment": action.get("public_comment"),
        "action_url": action.get("action_url"),
        "organisation": data.get("organisation") or {},
    }


def department_label(code: str | None) -> str:
    return departments.label(code)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def session_view(row: Any) -> dict[str, Any]:
    """One session of the detail page: its place, access, places, meetings and contacts."""
    data = row.data or {}
    session = data.get("session") or {}
    site = data.get("session_site") or {}
    total, left = places(data)
    referents = data.get("referents") or {}
    return {
        "site_name": site.get("name") or row.site_name,
        "site_lines": address_lines(site) or [row.commune or ""],
        "site_phone": site.get("phone"),
        "accessibility": site.get("accessibility"),
        "teaching_mode": teaching_mode_label(row.teaching_mode),
        "entry_exit": codes.ENTRY_EXIT_MODES.label(session.get("entry_exit_mode")),
        "rhythm": codes.RHYTHMS.label(session.get("rhythm")),
        "hours_centre": session.get("hours_centre"),
        "hours_company": session.get("hours_company"),
        "recruitment": codes.RECRUITMENT_STATES.label(session.get("recruitment_state")),
        "places": total,
        "places_left": left,
        "info_meetings": [
            {
                "day": _day(m.get("day")),
                "time": (m.get("start_time") or "")[:5].replace(":", " h "),
                "comment": m.get("comment"),
                "site_lines": address_lines(m.get("site")),
                "site_name": (m.get("site") or {}).get("name"),
            }
            for m in data.get("info_meetings") or []
        ],
        "enrolment_periods": [
            {
                "kind": codes.ENROLMENT_PERIOD_KINDS.label(p.get("kind")),
                "start": _day(p.get("start_date")),
                "end": _day(p.get("end_date")),
            }
            for p in data.get("enrolment_periods") or []
        ],
        "contacts": [
            {
                "role": role,
                "name": contact_name(referents[key]),
                "email": referents[key].get("email"),
                "phone": referents[key].get("phone") or referents[key].get("mobile"),
            }
            for key, role in REFERENT_ROLES
            if referents.get(key)
        ],
    }


def safe_url(url: str | None) -> str | None:
    """A link typed by the OF, only if it is a web address (never javascript: and the like)."""
    return url if url and url.lower().startswith(("https://", "http://")) else None
