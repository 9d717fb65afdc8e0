"""Write the published offer as an LHEO 2.3 document, streamed with constant memory.

Input: the ``data`` of published rows (``portal.publication.session_data``), ordered by
formation, action and session, so that each formation and each action is a run of consecutive
rows. Only one action's rows are held at a time; elements are serialised as they are built by
lxml's incremental writer (``etree.xmlfile``), and the output is handed on in chunks.

Speed (the export must handle 100,000 sessions in seconds, see bench/lheo_bench.py): the
mapping builds light ``(name, attributes, content)`` tuples, and what repeats from session to
session — addresses, lieux, référents, fiches Dispositif, the sessions' extras — is built once
per distinct value as an lxml element (bounded caches) that lxml serialises in C. Such an
element carries its own declaration of the (same) default namespace, which changes nothing to
the document's meaning.

Where SOFI and LHEO put a field at different levels, LHEO's level wins for the element and the
session keeps its own value in its extras (see ``mapping``):

- formation level (from the formation's first row): intitulé (certification title or free
  title), objectif (certification's general objective or free objective), résultats attendus
  and contenu (the first action's), certifiante (1 with a Certif Info code), contact (mail de
  liaison, else another référent, else the establishment), parcours (first session), niveau
  d'entrée (first action), certification codes, niveau de sortie, and the organisme
  responsable: the mandataire (``responsible``: NDA, SIRET, names, address);
- action level (from the action's first session): rythme, modalités d'enseignement,
  entrées/sorties, hours, modalités pédagogiques and de recrutement, price; lieux de formation
  are the action's site and every session's site; organisme formateur is the establishment;
  organisme financeur is the programme's funder (2, Conseil régional, for Region programmes)
  with the places of every session of the action;
- session level: period, adresse d'inscription (its site), période d'inscription, état and
  modalités de recrutement (each information collective is a ``recrutement`` 9 with its date,
  hour and place), référents as ``contact-session``, blocs de compétences.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from typing import Any, BinaryIO

from lxml import etree

from .. import codes
from ..validators import format_phone
from . import NS
from .mapping import (
    DEFAULTED,
    EXTRAS_ACTION,
    EXTRAS_ENROLMENT,
    EXTRAS_FORMATION,
    EXTRAS_FUNDING,
    EXTRAS_REFERENT,
    EXTRAS_SESSION,
    FALLBACKS,
    REFERENT_ROLES,
    UNKNOWN_ADDRESS,
    Q,
    clean,
    clip,
    html_to_text,
    lheo_date,
    lheo_hour,
    one_line,
    plain_decimal,
)

# (name, attributes, text or children); None stands for an optional element left out.
Node = tuple[str, dict[str, str], "str | list[Node]"]
CHUNK_SIZE = 64 * 1024
MAX_FUNDERS = 8
CACHE_SIZE = 4096
NO_ATTRS: dict[str, str] = {}
V14, V10 = {"ref": "V14"}, {"ref": "V10"}
_INFO: dict[str, dict[str, str]] = {}


def node(name: str, content: Any, attrs: dict[str, str] | None = None) -> Node | None:
    """An element, or None when it has nothing to carry (optional elements)."""
    if not content:
        return None
    if content.__class__ is list:
        content = [child for child in content if child is not None]
        if not content:
            return None
    return (name, attrs or NO_ATTRS, content)


def required(name: str, content: Any, attrs: dict[str, str] | None = None) -> Node:
    """An element that must be written even when it has no children."""
    children = content if isinstance(content, str) else [c for c in content if c is not None]
    return (name, attrs or NO_ATTRS, children)


def freeze_required(name: str, content: Any) -> etree._Element:
    return freeze(required(name, content))


def attributes(**values: Any) -> dict[str, str]:
    return {key.replace("_", "-"): str(v) for key, v in values.items() if v is not None}


def _info(info: str) -> dict[str, str]:
    attrs = _INFO.get(info)
    if attrs is None:
        attrs = _INFO[info] = {"info": info}
    return attrs


def extra(info: str, value: Any) -> Node | None:
    """An ``extra`` of free text (cleaned for XML)."""
    if isinstance(value, bool):
        value = "1" if value else "0"
    text = clean(value)
    return ("extra", _info(info), text) if text is not None else None


def value_extra(info: str, value: Any) -> Node | None:
    """An ``extra`` of a number, a boolean or a code already checked against its table."""
    if value is None or value == "":
        return None
    if value is True or value is False:
        value = "1" if value else "0"
    return ("extra", _info(info), str(value))


def extras(info: str, children: list[Node | None], numero: str | None = None) -> Node | None:
    attrs = _info(info) if numero is None else {"info": info, "numero": numero}
    return node("extras", children, attrs)


# Children of these go one per line (ignorable whitespace in element-only content), so that a
# validator or our own reader can point at a line of the file; smaller elements stay on one.
LINED = frozenset({"formation", "action", "session"})


def emit(xf: Any, item: Node | etree._Element) -> None:
    if item.__class__ is not tuple:  # a frozen subtree (see freeze)
        xf.write(item)
        return
    name, attrs, content = item
    with xf.element(Q + name, attrs):
        if content.__class__ is str:
            xf.write(content)
        elif name in LINED:
            for child in content:
                xf.write("\n")
                emit(xf, child)
            xf.write("\n")
        else:
            for child in content:
                emit(xf, child)


def freeze_node(name: str, content: Any, attrs: dict[str, str] | None = None) -> Any:
    return freeze(node(name, content, attrs))


def freeze(item: Node | etree._Element | None) -> etree._Element | None:
    """The element of ``item``, built once to be written many times (lxml serialises it in C;
    it then carries its own, identical, default namespace declaration)."""
    if item is None or item.__class__ is not tuple:
        return item
    element = etree.Element(Q + item[0], item[1], nsmap={None: NS})
    _fill(element, item[2])
    return element


def _fill(element: etree._Element, content: Any) -> None:
    if content.__class__ is str:
        element.text = content
        return
    for child in content:
        if child.__class__ is tuple:
            _fill(etree.SubElement(element, Q + child[0], child[1]), child[2])
        else:
            element.append(copy.deepcopy(child))


# Shared pieces ------------------------------------------------------------------------------
# Sites, contacts and organisations repeat from session to session: their elements are built
# once per distinct value (bounded caches, so memory stays flat) and shared, never mutated.

ADDRESS_KEYS = ("name", "line1", "line2", "postcode", "commune", "department", "insee_code")
SITE_KEYS = (*ADDRESS_KEYS, "phone", "email")
CONTACT_KEYS = ("civility", "last_name", "first_name", "phone", "mobile", "email")


def _digits(value: Any, length: int) -> str | None:
    text = clean(value)
    return text if text and len(text) == length and text.isdigit() else None


def address(addr: dict | None, *, name: bool = True) -> Node | None:
    """``adresse`` of a published address; None when it lacks a postcode or a commune."""
    if not addr:
        return None
    return _address(*(addr.get(key) for key in ADDRESS_KEYS), name)


@lru_cache(maxsize=CACHE_SIZE)
def _address(
    name: Any,
    line1: Any,
    line2: Any,
    postcode: Any,
    commune: Any,
    department: Any,
    insee: Any,
    with_name: bool,
) -> Node | None:
    postcode = _digits(postcode, 5)
    commune = one_line(commune, 50)
    if postcode is None or commune is None:
        return None
    lines = [line for line in (one_line(line1, 50), one_line(line2, 50)) if line]
    department = clean(department)
    return freeze_node(
        "adresse",
        [
            node("denomination", one_line(name, 255)) if with_name else None,
            *(node("ligne", line) for line in lines or [one_line(name, 50) or commune]),
            node("codepostal", postcode),
            node("ville", commune),
            node("departement", department if department and 2 <= len(department) <= 3 else None),
            node("code-INSEE-commune", _insee(insee)),
        ],
    )


def _insee(value: Any) -> str | None:
    text = clean(value)
    if not text or len(text) != 5 or not text[2:].isdigit():
        return None
    return text if text[:2].isdigit() or text[:2] in ("2A", "2B") else None


@lru_cache(maxsize=CACHE_SIZE)
def _numtel(value: str) -> Node | None:
    return node("numtel", one_line(format_phone(value), 25))


def _email(value: Any) -> str | None:
    text = one_line(value, 160)
    return text if text and len(text) >= 3 else None


def coordonnees(
    *,
    civility: Any = None,
    last_name: Any = None,
    first_name: Any = None,
    addr: Node | None = None,
    phone: Any = None,
    mobile: Any = None,
    email: Any = None,
) -> Node:
    return required(
        "coordonnees",
        [
            node("civilite", one_line(civility, 50)),
            node("nom", one_line(last_name, 50)),
            node("prenom", one_line(first_name, 50)),
            addr,
            node("telfixe", [_numtel(phone)]) if phone else None,
            node("portable", [_numtel(mobile)]) if mobile else None,
            node("courriel", _email(email)),
        ],
    )


def contact_coordonnees(contact: dict) -> Node:
    return _contact_coordonnees(*(contact.get(key) for key in CONTACT_KEYS))


@lru_cache(maxsize=CACHE_SIZE)
def _contact_coordonnees(
    civility: Any, last_name: Any, first_name: Any, phone: Any, mobile: Any, email: Any
) -> Node:
    return coordonnees(
        civility=civility,
        last_name=last_name,
        first_name=first_name,
        phone=phone,
        mobile=mobile,
        email=email,
    )


def organisation_coordonnees(org: dict | None) -> Node:
    org = org or {}
    addr = org.get("address") or {}
    return coordonnees(
        last_name=org.get("name"),
        addr=address(addr, name=False),
        phone=addr.get("phone"),
        email=addr.get("email"),
    )


def _code(table: codes.CodeTable, value: Any) -> str | None:
    return str(value) if value is not None and value in table else None


def _labels(table: codes.CodeTable, values: Iterable[Any]) -> list[str]:
    return [table.label(v) for v in values or [] if v in table]


# Formation ----------------------------------------------------------------------------------


def formation_head(d: dict, defaulted: list[str]) -> list[Node]:
    """The formation's elements before its actions, from its first row."""
    f, a = d["formation"], d["action"]
    cert = f.get("certification")
    title = one_line(f.get("title"), 255)
    if title is None:
        title = f"Formation n° {f['id']}"
        defaulted.append("intitule-formation")
    formacodes = [c for c in (cert or {}).get("formacodes") or [] if _digits(c, 5)][:5]
    return [
        required(
            "domaine-formation",
            [
                node("code-FORMACODE", code, {"ref": "V14", "tag": "principal"} if i == 0 else V14)
                for i, code in enumerate(formacodes)
            ],
        ),
        node("intitule-formation", title),
        node("objectif-formation", _objective(d, title, defaulted)),
        node("resultats-attendus", _expected_results(d, defaulted)),
        node("contenu-formation", _content(d, title, defaulted)),
        node("certifiante", "1" if cert else "0"),
        _formation_contact(d, defaulted),
        node(
            "parcours-de-formation",
            _session_code(d, "path_type", codes.PATH_TYPES, "parcours-de-formation", defaulted),
        ),
        node("code-niveau-entree", _entry_level(a, defaulted)),
        node(
            "certification",
            [
                node("code-RNCP", one_line(cert.get("rncp_code"), 10)),
                node("code-CERTIFINFO", one_line(cert.get("code"), 10)),
                node("code-RS", _rs_code(cert.get("rs_code"))),
            ],
        )
        if cert
        else None,
        node("code-niveau-sortie", _code(codes.LEVELS, (cert or {}).get("exit_level"))),
    ]


def _objective(d: dict, title: str, defaulted: list[str]) -> str:
    objective = html_to_text(d["formation"].get("objective"), 3000)
    if objective:
        return objective
    defaulted.append("objectif-formation")
    return html_to_text(d["action"].get("objectives"), 3000) or title


def _expected_results(d: dict, defaulted: list[str]) -> str:
    results = html_to_text(d["action"].get("expected_results"), 3000)
    if results:
        return results
    defaulted.append("resultats-attendus")
    cert = d["formation"].get("certification")
    if cert and one_line(cert.get("title")):
        kind = one_line(cert.get("type_label"))
        return clip(f"{one_line(cert['title'])}" + (f" ({kind})" if kind else "") + ".", 3000)
    return FALLBACKS["resultats-attendus"]


def _content(d: dict, title: str, defaulted: list[str]) -> str:
    content = html_to_text(d["action"].get("programme_complement"), 3000)
    if content:
        return content
    defaulted.append("contenu-formation")
    cert = d["formation"].get("certification") or {}
    programme = one_line((d["formation"].get("programme") or {}).get("name"))
    return (
        html_to_text(cert.get("content"), 3000)
        or html_to_text(d["action"].get("objectives"), 3000)
        or (clip(f"{programme} : {title}", 3000) if programme else title)
    )


def _formation_contact(d: dict, defaulted: list[str]) -> Node:
    referents = d.get("referents") or {}
    for key in ("liaison", "pmr", "prf", "mobility"):
        contact = referents.get(key)
        if contact and one_line(contact.get("last_name")):
            role = next((r for r in contact.get("roles") or [] if r in codes.CONTACT_TYPES), None)
            return required(
                "contact-formation", [node("type-contact", role), contact_coordonnees(contact)]
            )
    defaulted.append("contact-formation")
    return required("contact-formation", [organisation_coordonnees(d.get("organisation"))])


def _session_code(
    d: dict, field: str, table: codes.CodeTable, element: str, defaulted: list[str]
) -> str:
    value = _code(table, d["session"].get(field))
    if value is None:
        defaulted.append(element)
        return FALLBACKS[element]
    return value


def _entry_level(a: dict, defaulted: list[str]) -> str:
    level = _code(codes.LEVELS, a.get("entry_level"))
    if level is None:
        defaulted.append("code-niveau-entree")
        return FALLBACKS["code-niveau-entree"]
    return level


def _rs_code(value: Any) -> str | None:
    text = one_line(value, 10)
    return text if text and len(text) >= 3 else None


def formation_tail(d: dict, defaulted: list[str]) -> list[Node]:
    """The formation's elements after its actions: organisme responsable and extras."""
    f = d["formation"]
    programme, lot = f.get("programme") or {}, f.get("lot") or {}
    responsible = d.get("responsible") or d.get("organisation") or {}
    nda = clean(responsible.get("nda"))
    if not nda or len(nda) != 11:
        defaulted.append("numero-activite")
        nda = FALLBACKS["numero-activite"]
    name = one_line(responsible.get("name"), 250) or "Organisme non communiqué"
    siret = _digits(responsible.get("siret"), 14) or "00000000000000"
    return [
        node(
            "organisme-formation-responsable",
            [
                node("numero-activite", nda),
                node("SIRET-organisme-formation", [node("SIRET", siret)]),
                node("nom-organisme", name),
                node("raison-sociale", one_line(responsible.get("legal_name"), 250) or name),
                node("coordonnees-organisme", [organisation_coordonnees(responsible)]),
                node("contact-organisme", [organisation_coordonnees(responsible)]),
            ],
            attributes(numero=responsible.get("sofi_number")),
        ),
        extras(
            EXTRAS_FORMATION,
            [
                extra("programme-code", programme.get("code")),
                extra("programme", programme.get("name")),
                extra("code-dispositif", programme.get("dispositif_code")),
                extra("lot-code", lot.get("code")),
                extra("lot", lot.get("title")),
                extra("reference-certifinfo", f.get("has_certif_info")),
                extra("individualisation-blocs", f.get("individualised_by_blocs")),
                extra(
                    "validation-blocs", _code(codes.BLOC_VALIDATION_TYPES, f.get("bloc_validation"))
                ),
                *(extra(DEFAULTED, name) for name in defaulted),
            ],
        ),
    ]


# Action -------------------------------------------------------------------------------------


def _site_key(site: dict) -> tuple:
    return tuple(site.get(k) for k in ("name", "line1", "line2", "postcode", "commune"))


def lieu(site: dict) -> Node:
    return _lieu(*(site.get(key) for key in SITE_KEYS))


@lru_cache(maxsize=CACHE_SIZE)
def _lieu(*values: Any) -> Node:
    site = dict(zip(SITE_KEYS, values, strict=True))
    return freeze_required(
        "lieu-de-formation",
        [
            coordonnees(
                last_name=site["name"],
                addr=address(site),
                phone=site["phone"],
                email=site["email"],
            )
        ],
    )


def _rhythm(s: dict) -> str | None:
    parts = _labels(codes.RHYTHMS, [s.get("rhythm")]) + _labels(
        codes.TRAINING_PERIODS, s.get("training_periods")
    )
    weekly = s.get("hours_weekly")
    if weekly not in (None, ""):
        parts.append(f"{Decimal(weekly).normalize():f} h par semaine")
    if not parts:
        return None
    text = ", ".join(parts)
    return text[0].upper() + text[1:]


def _alternance(s: dict) -> tuple[str, bool]:
    text = one_line(s.get("alternance_cycle"), 3000)
    if text:
        return text, False
    centre, company = s.get("hours_centre"), s.get("hours_company")
    if company:
        return f"{centre or 0} h en centre et {company} h en entreprise.", True
    return FALLBACKS["modalites-alternance"], True


def _conditions(a: dict) -> str | None:
    parts = _labels(codes.PREREQUISITES, a.get("prerequisites"))
    comment = html_to_text(a.get("prerequisites_comment"))
    if comment:
        parts.append(comment)
    return clean("\n".join(parts), 3000)


def _funders(rows: list[dict]) -> list[Node]:
    """One organisme-financeur per programme of the action's fiches Dispositif, with the places
    of all its sessions (code 2, Conseil régional, for a Region programme)."""
    programme = rows[0]["formation"].get("programme") or {}
    places: dict[Any, int | None] = {}
    for d in rows:
        for funding in d.get("fundings") or []:
            key = funding.get("programme_id")
            count = funding.get("places")
            if count is not None:
                places[key] = (places.get(key) or 0) + int(count)
            else:
                places.setdefault(key, None)
    result = []
    for programme_id, count in list(places.items())[:MAX_FUNDERS]:
        funder = programme.get("funder_code") if programme_id == programme.get("id") else None
        result.append(
            node(
                "organisme-financeur",
                [
                    node("code-financeur", _code(codes.FUNDERS, funder) or "0"),
                    node("nb-places-financees", str(count) if count is not None else None),
                ],
            )
        )
    return result


def _price(value: Any) -> str | None:
    text = plain_decimal(value)
    if text is None:
        return None
    if len(text) > 10:
        text = str(int(Decimal(text).quantize(Decimal(1))))
    return text if len(text) <= 10 else None


def _whole(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return str(int(Decimal(value).quantize(Decimal(1))))


def action_node(rows: list[dict], today: date, head: dict | None = None) -> Node:
    """One ``action`` with all its sessions (the rows of one action, in session order).

    ``head`` is the formation's first action, whose texts the formation elements carry: an
    action whose own differ keeps them in its extras.
    """
    d = rows[0]
    a, s = d["action"], d["session"]
    defaulted: list[str] = []
    fundings = d.get("fundings") or []
    funding = fundings[0] if fundings else {}
    programme = d["formation"].get("programme") or {}
    all_fundings = [f for r in rows for f in r.get("fundings") or []]

    rhythm = _rhythm(s)
    if rhythm is None:
        defaulted.append("rythme-formation")
    publics = [c for c in a.get("public_targets") or [] if c in codes.PUBLIC_TARGETS][:10]
    if not publics:
        defaulted.append("code-public-vise")
        publics = [FALLBACKS["code-public-vise"]]
    alternance, alternance_defaulted = _alternance(s)
    if alternance_defaulted:
        defaulted.append("modalites-alternance")
    conditions = _conditions(a)
    if conditions is None:
        defaulted.append("conditions-specifiques")
        conditions = FALLBACKS["conditions-specifiques"]
    defaulted.append("niveau-entree-obligatoire")

    sites, seen = [], set()
    for site in [d.get("action_site"), *(r.get("session_site") for r in rows)]:
        if site and _site_key(site) not in seen:
            seen.add(_site_key(site))
            sites.append(site)
    meetings = sorted(
        (m for r in rows for m in r.get("info_meetings") or []), key=lambda m: m.get("day") or ""
    )
    meeting_days = sorted({m["day"] for m in meetings if m.get("day")})[:3]
    meeting_address = next(
        (found for found in (address(m.get("site")) for m in meetings) if found is not None),
        None,
    )
    action_site = d.get("action_site") or {}
    organisation = d.get("organisation") or {}
    equipment = _code(codes.EQUIPMENT_TYPES, a.get("equipment_type"))
    fees = plain_decimal(funding.get("additional_fees"))
    centre, company = s.get("hours_centre"), s.get("hours_company")
    total = (centre or 0) + (company or 0) if centre is not None or company is not None else None
    teaching_fees = any(f.get("teaching_fees_covered") for f in all_fundings) or bool(
        all_fundings and programme.get("is_region")
    )
    financing = one_line(funding.get("programme_name"))
    if financing and funding.get("publics"):
        financing += f" – publics : {one_line(funding['publics'])}"

    children = [
        node("rythme-formation", rhythm or FALLBACKS["rythme-formation"]),
        *(node("code-public-vise", code, V14) for code in publics),
        node("info-public-vise", html_to_text(a.get("public_comment"), 250)),
        node("niveau-entree-obligatoire", FALLBACKS["niveau-entree-obligatoire"]),
        node("modalites-alternance", alternance),
        node(
            "modalites-enseignement",
            _session_code(
                d, "teaching_mode", codes.TEACHING_MODES, "modalites-enseignement", defaulted
            ),
        ),
        node("conditions-specifiques", conditions),
        node("prise-en-charge-frais-possible", "1" if teaching_fees else "0"),
        *(lieu(site) for site in sites),
        node(
            "modalites-entrees-sorties",
            _session_code(
                d, "entry_exit_mode", codes.ENTRY_EXIT_MODES, "modalites-entrees-sorties", defaulted
            ),
        ),
        node("url-action", [node("urlweb", _url(a.get("action_url")))]),
        *(session_node(r, today) for r in rows),
        node("adresse-information", [meeting_address]),
        *(node("date-information", [node("date", lheo_date(day))]) for day in meeting_days),
        node("acces-handicapes", one_line(action_site.get("accessibility"), 250)),
        node(
            "modalites-recrutement",
            clean(", ".join(_labels(codes.RECRUITMENT_MODES, s.get("recruitment_modes"))), 3000),
        ),
        node(
            "modalites-pedagogiques",
            clean(", ".join(_labels(codes.PEDAGOGICAL_MODES, s.get("pedagogical_modes"))), 200),
        ),
        *(
            node("code-modalite-pedagogique", code, V10)
            for code in [
                c for c in s.get("pedagogical_modes") or [] if c in codes.PEDAGOGICAL_MODES
            ][:5]
        ),
        node(
            "equipement",
            [
                node("type-equipement", equipment),
                node("cout-indicatif-equipement", _whole(a.get("equipment_cost"))),
                node("commentaire", html_to_text(a.get("equipment_comment"), 500)),
            ],
        )
        if equipment
        else None,
        node(
            "frais-restants", f"Frais additionnels non pris en charge : {fees} €" if fees else None
        ),
        node("prix-total-TTC", _price(funding.get("fee_ttc"))),
        node("duree-indicative", one_line(s.get("duration_comment"), 150)),
        node("nombre-heures-centre", str(centre) if centre is not None else None),
        node("nombre-heures-entreprise", str(company) if company is not None else None),
        node("nombre-heures-total", str(total) if total is not None else None),
        node("detail-conditions-prise-en-charge", clip(financing, 600)),
        node(
            "conventionnement",
            ("1" if programme.get("is_region") else "0") if all_fundings else None,
        ),
        node(
            "organisme-formateur",
            [
                node("SIRET-formateur", [node("SIRET", _digits(organisation.get("siret"), 14))]),
                node(
                    "raison-sociale-formateur",
                    one_line(organisation.get("legal_name") or organisation.get("name"), 250),
                ),
            ],
        )
        if _digits(organisation.get("siret"), 14)
        else None,
        *_funders(rows),
        extras(
            EXTRAS_ACTION,
            [
                extra("complement-intitule", one_line(a.get("title_complement"))),
                extra("objectifs", a.get("objectives")),
                extra("le-plus-formation", a.get("plus_formation")),
                extra("url-video", a.get("video_url")),
                extra("url-pdf", a.get("pdf_url")),
                *(extra("prerequis", code) for code in a.get("prerequisites") or []),
                extra("commentaire-prerequis", a.get("prerequisites_comment")),
                extra("cout-equipement", plain_decimal(a.get("equipment_cost"))),
                *_own_texts(a, head),
                *(extra(DEFAULTED, name) for name in defaulted),
            ],
        ),
    ]
    return required(
        "action", children, attributes(numero=a["id"], datemaj=_datemaj(a.get("validated_at")))
    )


# Action texts that LHEO keeps on the formation (taken there from the first action).
OWN_TEXTS = {
    "programme_complement": "contenu",
    "expected_results": "resultats-attendus",
    "entry_level": "niveau-entree",
}


def _own_texts(a: dict, head: dict | None) -> list[Node | None]:
    if head is None:
        return []
    return [
        extra(name, a.get(field) if a.get(field) is not None else "")
        if a.get(field) != head.get(field)
        else None
        for field, name in OWN_TEXTS.items()
    ]


def _url(value: Any) -> str | None:
    text = one_line(value, 400)
    return text if text and len(text) >= 3 else None


def _datemaj(value: Any) -> str | None:
    if not value:
        return None
    return lheo_date(datetime.fromisoformat(value).date())


# Session ------------------------------------------------------------------------------------


def _session_address(d: dict, defaulted: list[str]) -> Node:
    for site in (d.get("session_site"), d.get("action_site")):
        built = address(site)
        if built is not None:
            return built
    for org in (d.get("responsible"), d.get("organisation")):
        built = address((org or {}).get("address"), name=False)
        if built is not None:
            return built
    defaulted.append("adresse-inscription")
    return address(UNKNOWN_ADDRESS, name=False)


def _recruitments(s: dict, meetings: list[dict], place: Node) -> list[Node]:
    """Each information collective as a ``recrutement`` 9, its address left out when it is the
    session's own (``place``, the adresse d'inscription), then the other modalités."""
    result = []
    for meeting in meetings:
        day = lheo_date(meeting.get("day"))
        where = address(meeting.get("site"))
        result.append(
            node(
                "recrutement",
                [
                    node("modalite-recrutement", "9"),
                    where if where is not place else None,
                    node("periode", [node("debut", day), node("fin", day)]),
                    node("heure-debut", lheo_hour(meeting.get("start_time"))),
                    node("commentaire", one_line(meeting.get("comment"), 500)),
                ],
            )
        )
    for code in s.get("recruitment_modes") or []:
        if code in codes.RECRUITMENT_MODES and not (code == "9" and meetings):
            result.append(node("recrutement", [node("modalite-recrutement", code)]))
    return result


def _enrolment_period(periods: list[dict]) -> Node | None:
    if not periods:
        return None
    chosen = next((p for p in periods if p.get("kind") == "3"), periods[0])
    return node(
        "periode-inscription",
        [
            node(
                "periode",
                [
                    node("debut", lheo_date(chosen.get("start_date"))),
                    node("fin", lheo_date(chosen.get("end_date"), end=True)),
                ],
            )
        ],
    )


def _referents(d: dict) -> list[Node]:
    referents = d.get("referents") or {}
    return [
        _contact_session(field, *(contact.get(key) for key in CONTACT_KEYS))
        for field in REFERENT_ROLES
        if (contact := referents.get(field))
    ]


@lru_cache(maxsize=CACHE_SIZE)
def _contact_session(field: str, *values: Any) -> Node:
    role, contact_type = REFERENT_ROLES[field]
    return freeze_required(
        "contact-session",
        [
            node("type-contact", contact_type),
            _contact_coordonnees(*values),
            extras(EXTRAS_REFERENT, [value_extra("role", role)]),
        ],
    )


def _blocs(d: dict) -> Node | None:
    f = d["formation"]
    cert = f.get("certification")
    blocs = [b for b in f.get("blocs") or [] if 8 <= len(clean(b.get("code")) or "") <= 40]
    if not cert or not blocs:
        return None
    return node(
        "blocs-competences",
        [
            node(
                "validation-blocs",
                _code(codes.BLOC_VALIDATION_TYPES, f.get("bloc_validation")) or "1",
            ),
            node(
                "reference-certification",
                [node("reference-code-CERTIFINFO", one_line(cert.get("code"), 10))],
            ),
            *(
                node(
                    "bloc-competences",
                    [
                        node("libelle-bloc", one_line(b.get("title"), 500) or clean(b["code"])),
                        node("code-bloc", clean(b["code"])),
                    ],
                )
                for b in blocs
            ),
        ],
    )


FUNDING_KEYS = (
    "publics",
    "region_lot_number",
    "region_action_id",
    "region_mandataire_id",
    "places",
    "places_remaining",
    "min_headcount",
    "simultaneous_capacity",
    "fee_ht",
    "vat_rate",
    "fee_ttc",
    "additional_fees",
    "certification_fees_included",
    "teaching_fees_covered",
)


def _funding_extras(funding: dict, programme_code: Any) -> etree._Element | None:
    return _funding_element(programme_code, *(funding.get(key) for key in FUNDING_KEYS))


@lru_cache(maxsize=CACHE_SIZE)
def _funding_element(programme_code: Any, *values: Any) -> etree._Element | None:
    f = dict(zip(FUNDING_KEYS, values, strict=True))
    return freeze(
        extras(
            EXTRAS_FUNDING,
            [
                extra("publics", f["publics"]),
                extra("numero-lot-cr", f["region_lot_number"]),
                extra("id-action-cr", f["region_action_id"]),
                extra("of-mandataire-cr", f["region_mandataire_id"]),
                value_extra("places", f["places"]),
                value_extra("places-restantes", f["places_remaining"]),
                value_extra("effectif-minimal", f["min_headcount"]),
                value_extra("capacite-simultanee", f["simultaneous_capacity"]),
                value_extra("frais-ht", plain_decimal(f["fee_ht"])),
                value_extra("taux-tva", plain_decimal(f["vat_rate"])),
                value_extra("frais-ttc", plain_decimal(f["fee_ttc"])),
                value_extra("frais-additionnels", plain_decimal(f["additional_fees"])),
                value_extra("frais-certification-inclus", f["certification_fees_included"]),
                value_extra("prise-en-charge-frais-pedagogiques", f["teaching_fees_covered"]),
            ],
            numero=clean(programme_code),
        )
    )


SESSION_EXTRA_KEYS = (
    "teaching_mode",
    "entry_exit_mode",
    "path_type",
    "rhythm",
    "training_periods",
    "pedagogical_modes",
    "hours_centre",
    "hours_company",
    "hours_weekly",
    "duration_comment",
    "alternance_cycle",
    "company_unit",
    "is_initial_training",
    "is_apprenticeship",
    "is_professionalisation",
)


def session_node(d: dict, today: date | str) -> Node:
    s = d["session"]
    defaulted: list[str] = []
    programme = d["formation"].get("programme") or {}
    meetings = d.get("info_meetings") or []
    if len(meetings) > 1:
        meetings = sorted(meetings, key=lambda m: m.get("day") or "")
    periods = d.get("enrolment_periods") or []
    end = s.get("end_date")
    today_iso = today if isinstance(today, str) else today.isoformat()
    place = _session_address(d, defaulted)
    # Sessions of an action mostly share these values: the block is built once per variant.
    session_extras = _session_extras(
        tuple(tuple(v) if isinstance(v := s.get(key), list) else v for key in SESSION_EXTRA_KEYS),
        bool(end and end < today_iso),
        tuple((p.get("kind"), p.get("start_date"), p.get("end_date")) for p in periods),
        tuple(
            _funding_extras(
                f, programme.get("code") if f.get("programme_id") == programme.get("id") else None
            )
            for f in d.get("fundings") or []
        ),
        tuple(defaulted),
    )
    children = [
        node(
            "periode",
            [
                node("debut", lheo_date(s.get("start_date"))),
                node("fin", lheo_date(end, end=True)),
            ],
        ),
        node("adresse-inscription", [place]),
        _enrolment_period(periods),
        node("etat-recrutement", _code(codes.RECRUITMENT_STATES, s.get("recruitment_state"))),
        *_recruitments(s, meetings, place),
        *_referents(d),
        _blocs(d),
        session_extras,
    ]
    datemaj = _datemaj(d["action"].get("validated_at"))
    return required("session", children, attributes(numero=s["id"], datemaj=datemaj))


@lru_cache(maxsize=CACHE_SIZE)
def _session_extras(
    values: tuple,
    expired: bool,
    periods: tuple[tuple[Any, Any, Any], ...],
    fundings: tuple[etree._Element | None, ...],
    defaulted: tuple[str, ...],
) -> etree._Element | None:
    s = dict(zip(SESSION_EXTRA_KEYS, values, strict=True))
    return freeze(
        extras(
            EXTRAS_SESSION,
            [
                value_extra(
                    "modalites-enseignement", _code(codes.TEACHING_MODES, s["teaching_mode"])
                ),
                value_extra("entrees-sorties", _code(codes.ENTRY_EXIT_MODES, s["entry_exit_mode"])),
                value_extra("type-parcours", _code(codes.PATH_TYPES, s["path_type"])),
                value_extra("rythme", _code(codes.RHYTHMS, s["rhythm"])),
                *(
                    value_extra("periode-formation", c)
                    for c in s["training_periods"] or ()
                    if c in codes.TRAINING_PERIODS
                ),
                *(
                    value_extra("modalite-pedagogique", c)
                    for c in s["pedagogical_modes"] or ()
                    if c in codes.PEDAGOGICAL_MODES
                ),
                value_extra("heures-centre", s["hours_centre"]),
                value_extra("heures-entreprise", s["hours_company"]),
                value_extra("heures-hebdo", plain_decimal(s["hours_weekly"])),
                extra("commentaire-duree", s["duration_comment"]),
                extra("cycle-alternance", s["alternance_cycle"]),
                value_extra("unite-entreprise", _code(codes.RHYTHM_UNITS, s["company_unit"])),
                # Flags only when set: absent means no.
                value_extra("formation-initiale", s["is_initial_training"] or None),
                value_extra("contrat-apprentissage", s["is_apprenticeship"] or None),
                value_extra("contrat-professionnalisation", s["is_professionalisation"] or None),
                value_extra("session-perimee", "1" if expired else None),
                *(
                    extras(
                        EXTRAS_ENROLMENT,
                        [
                            value_extra("type", _code(codes.ENROLMENT_PERIOD_KINDS, kind)),
                            value_extra("debut", lheo_date(start)),
                            value_extra("fin", lheo_date(finish, end=True)),
                        ],
                    )
                    for kind, start, finish in periods
                ),
                *fundings,
                *(value_extra(DEFAULTED, name) for name in defaulted),
            ],
        )
    )


# The document -------------------------------------------------------------------------------


class _Buffer:
    """A write-only sink that the generator empties between chunks."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts, self.size = [], 0
        return data


def iter_lheo(
    rows: Iterable[dict],
    *,
    today: date,
    exported_at: datetime | None = None,
    description: dict[str, str] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield the LHEO document in chunks of about ``chunk_size`` bytes.

    ``rows`` must be ordered by formation, action and session and hold at least one row (an
    ``offres`` without ``formation`` is not valid LHEO). ``description`` (e.g. the filters)
    goes into the root's ``<extras info="sofi-export">``.
    """
    buffer = _Buffer()
    root_attrs = {}
    if exported_at is not None:
        stamp = exported_at.replace(microsecond=0)
        root_attrs["horodatage-export"] = stamp.isoformat()
    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(Q + "lheo", root_attrs, nsmap={None: NS}):
            with xf.element(Q + "offres"):
                for _, formation_rows in groupby(rows, key=lambda d: d["formation"]["id"]):
                    _write_formation(xf, formation_rows, today)
                    if buffer.size >= chunk_size:
                        xf.flush()
                        yield buffer.take()
                xf.write("\n")
            root_extras = extras(
                "sofi-export", [extra(key, value) for key, value in (description or {}).items()]
            )
            if root_extras:
                xf.write("\n")
                emit(xf, root_extras)
            xf.write("\n")
    yield buffer.take() + b"\n"


def _write_formation(xf: Any, rows: Iterator[dict], today: date) -> None:
    actions = groupby(rows, key=lambda d: d["action"]["id"])
    _, first_action = next(actions)
    first_rows = list(first_action)
    first = first_rows[0]
    head = first["action"]
    defaulted: list[str] = []
    xf.write("\n")
    with xf.element(Q + "formation", {"numero": str(first["formation"]["id"])}):
        for item in formation_head(first, defaulted):
            if item is not None:
                xf.write("\n")
                emit(xf, item)
        xf.write("\n")
        emit(xf, action_node(first_rows, today))
        for _, action_rows in actions:
            xf.write("\n")
            emit(xf, action_node(list(action_rows), today, head=head))
        for item in formation_tail(first, defaulted):
            if item is not None:
                xf.write("\n")
                emit(xf, item)
        xf.write("\n")


def write_lheo(rows: Iterable[dict], out: BinaryIO, *, today: date, **kw: Any) -> int:
    """Write the document to ``out``; return the number of bytes written."""
    written = 0
    for chunk in iter_lheo(rows, today=today, **kw):
        out.write(chunk)
        written += len(chunk)
    return written
