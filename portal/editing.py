"""Helpers every editing view shares: optimistic locking and htmx success responses."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response

STALE_MESSAGE = (
    "Cette fiche a été modifiée entre-temps (dans un autre onglet ou par un collègue). "
    "Les valeurs actuelles sont affichées : vérifiez-les puis enregistrez à nouveau."
)


def is_stale(record: Any, submitted_version: int | None) -> bool:
    """True when the form was filled from an older version than the stored one."""
    return submitted_version is not None and submitted_version != record.version


def with_trigger(body: str, message: str, status: int = 200, **headers: str) -> Response:
    """Wrap a fragment with the HX-Trigger that shows the "Enregistré" toast."""
    response = make_response(body, status)
    # ASCII-escaped JSON: header values must be latin-1, htmx decodes the \u escapes.
    response.headers["HX-Trigger"] = json.dumps({"saved": message})
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response
