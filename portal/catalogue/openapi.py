"""The OpenAPI 3.1 description of /api/v1, served as /api/v1/openapi.json.

Written as data next to the code it describes, with the enumerations taken from the code
tables, so that the file and the API cannot drift apart on the values they accept.
"""

from __future__ import annotations

from typing import Any

from .. import codes
from . import departments, query

VERSION = "1.0.0"


def _parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _parameters() -> list[dict[str, Any]]:
    return [
        _parameter(
            "q",
            "Mots-clés (titre, objectifs, Formacode, commune…), sans accents requis ; tous les "
            "mots doivent être trouvés, chacun en début de mot (« compta » trouve "
            "« comptabilité »).",
            {"type": "string", "maxLength": 200},
        ),
        _parameter("programme", "Numéro du programme.", {"type": "integer", "minimum": 1}),
        _parameter(
            "departement",
            "Code du département du lieu de la session.",
            {"type": "string", "enum": sorted(departments.NAMES)},
        ),
        _parameter("commune", "Commune du lieu de la session.", {"type": "string"}),
        _parameter(
            "du",
            "Sessions commençant à partir de cette date.",
            {"type": "string", "format": "date"},
        ),
        _parameter(
            "au",
            "Sessions commençant au plus tard à cette date.",
            {"type": "string", "format": "date"},
        ),
        _parameter(
            "modalite",
            "Modalité d'enseignement (LHEO dict-modalites-enseignement) : "
            + "; ".join(f"{c} = {label}" for c, label in codes.TEACHING_MODES),
            {"type": "integer", "enum": [int(c) for c in codes.TEACHING_MODES.codes]},
        ),
        _parameter(
            "niveau",
            "Niveau de sortie (LHEO dict-niveaux).",
            {"type": "string", "enum": list(codes.LEVELS.codes)},
        ),
        _parameter(
            "public",
            "Public visé (Formacode V14).",
            {"type": "string", "enum": list(codes.PUBLIC_TARGETS.codes)},
        ),
        _parameter(
            "formacode",
            "Code Formacode de la certification.",
            {"type": "string", "pattern": "^[0-9]{5}$"},
        ),
        _parameter(
            "terminees",
            "1 : inclure les sessions terminées (elles sont exclues par défaut).",
            {"type": "string", "enum": ["0", "1"], "default": "0"},
        ),
        _parameter(
            "tri",
            "Ordre des résultats : date de début croissante (debut) ou décroissante (-debut).",
            {"type": "string", "enum": list(query.SORTS), "default": "debut"},
        ),
        _parameter(
            "page",
            f"Numéro de page. Seuls les {query.COUNT_LIMIT} premiers résultats sont paginés ; "
            "les fichiers de données ouvertes contiennent tout.",
            {"type": "integer", "minimum": 1, "default": 1},
        ),
        _parameter(
            "taille",
            "Résultats par page.",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": query.API_MAX_PAGE_SIZE,
                "default": query.DEFAULT_PAGE_SIZE,
            },
        ),
    ]


CODED = {
    "type": ["object", "null"],
    "properties": {"code": {"type": "string"}, "libelle": {"type": "string"}},
    "required": ["code", "libelle"],
}
DATE = {"type": ["string", "null"], "format": "date"}
TEXT = {"type": ["string", "null"]}

SUMMARY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "description": "Numéro de session (S)."},
        "code_fas": {
            "type": "string",
            "description": "Code F-A-S.",
            "example": "19482-89393-143842",
        },
        "formation_id": {"type": "integer"},
        "action_id": {"type": "integer"},
        "intitule": {"type": "string"},
        "organisme": {"description": "Nom de l'organisme (objet dans le détail)."},
        "lieu": {"description": "Nom du site (objet adresse dans le détail)."},
        "commune": TEXT,
        "code_postal": TEXT,
        "departement": TEXT,
        "date_debut": DATE,
        "date_fin": DATE,
        "modalite_enseignement": CODED,
        "niveau_sortie": CODED,
        "publics_vises": {"type": "array", "items": CODED},
        "formacodes": {"type": "array", "items": {"type": "string"}},
        "programme_id": {"type": ["integer", "null"]},
        "url": {"type": "string", "format": "uri", "description": "Page publique."},
    },
    "required": ["id", "code_fas", "intitule", "date_debut", "date_fin", "url"],
}
ADDRESS = {
    "type": ["object", "null"],
    "properties": {
        "nom": TEXT,
        "adresse": {"type": "array", "items": {"type": "string"}},
        "code_postal": TEXT,
        "commune": TEXT,
        "departement": TEXT,
        "telephone": TEXT,
        "courriel": TEXT,
        "accessibilite": {**TEXT, "description": "Conditions d'accès (handicap, transports)."},
    },
}
CONTACT = {
    "type": "object",
    "properties": {"nom": TEXT, "fonction": TEXT, "courriel": TEXT, "telephone": TEXT},
}
DETAIL = {
    "allOf": [{"$ref": "#/components/schemas/SessionResume"}],
    "type": "object",
    "properties": {
        "organisme": {
            "type": "object",
            "properties": {"nom": TEXT, "raison_sociale": TEXT, "siret": TEXT, "adresse": ADDRESS},
        },
        "lieu": ADDRESS,
        "programme": {"type": ["object", "null"]},
        "certification": {"type": ["object", "null"]},
        "objectifs": TEXT,
        "resultats_attendus": TEXT,
        "contenu": TEXT,
        "le_plus": TEXT,
        "niveau_entree": CODED,
        "prerequis": {"type": "array", "items": CODED},
        "places": {"type": ["integer", "null"]},
        "places_restantes": {"type": ["integer", "null"]},
        "etat_recrutement": CODED,
        "informations_collectives": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"date": DATE, "heure": TEXT, "commentaire": TEXT, "lieu": ADDRESS},
            },
        },
        "periodes_inscription": {"type": "array", "items": {"type": "object"}},
        "contacts": {
            "type": "object",
            "description": "pmr : référent handicap ; mobility : référent mobilité ; "
            "prf : référent PRF ; liaison : contact.",
            "additionalProperties": CONTACT,
        },
        "publie_le": {"type": ["string", "null"], "format": "date-time"},
    },
}
ERROR = {
    "type": "object",
    "properties": {
        "erreur": {
            "type": "object",
            "properties": {
                "statut": {"type": "integer"},
                "message": {"type": "string", "description": "Message en français."},
                "parametre": {"type": "string"},
            },
            "required": ["statut", "message"],
        }
    },
    "required": ["erreur"],
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}},
    }


def spec(server: str) -> dict[str, Any]:
    """The OpenAPI document, with ``server`` as the base URL (…/api/v1)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SOFI – catalogue public de l'offre de formation",
            "version": VERSION,
            "description": "Sessions de formation validées par le Carif-Oref et publiées. "
            "Lecture seule, sans authentification. Les sessions terminées sont exclues "
            "sauf avec terminees=1.",
            "license": {"name": "Licence Ouverte 2.0 (Etalab)", "identifier": "etalab-2.0"},
        },
        "servers": [{"url": server}],
        "paths": {
            "/sessions": {
                "get": {
                    "operationId": "listerSessions",
                    "summary": "Rechercher des sessions publiées",
                    "parameters": _parameters(),
                    "responses": {
                        "200": {
                            "description": "Une page de résultats, par date de début.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/PageDeSessions"}
                                }
                            },
                        },
                        "400": _error("Paramètre invalide ou inconnu."),
                        "404": _error("Page au-delà de la dernière."),
                    },
                }
            },
            "/sessions/{session_id}": {
                "get": {
                    "operationId": "lireSession",
                    "summary": "Lire une session publiée",
                    "parameters": [
                        {
                            "name": "session_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "La session.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Session"}
                                }
                            },
                        },
                        "404": _error("Session inconnue ou non publiée."),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "lireDescription",
                    "summary": "Cette description OpenAPI",
                    "responses": {"200": {"description": "Le document OpenAPI."}},
                }
            },
        },
        "components": {
            "schemas": {
                "SessionResume": SUMMARY,
                "Session": DETAIL,
                "PageDeSessions": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer", "maximum": query.COUNT_LIMIT},
                        "total_exact": {
                            "type": "boolean",
                            "description": f"Faux au-delà de {query.COUNT_LIMIT} résultats.",
                        },
                        "page": {"type": "integer"},
                        "taille": {"type": "integer"},
                        "pages": {"type": "integer"},
                        "resultats": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/SessionResume"},
                        },
                        "liens": {"type": "object"},
                    },
                    "required": ["total", "total_exact", "page", "pages", "resultats"],
                },
                "Erreur": ERROR,
            }
        },
    }
