"""One place that decides between a full page and an htmx fragment."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, render_template

from .extensions import htmx


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page.

    Boosted navigation and history restores also send HX-Request but need the full page.
    """
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page_or_fragment(page: str, fragment: str, **context: Any) -> str:
    """Render ``fragment`` for an htmx swap, else the full ``page`` that includes it."""
    return render_template(fragment if wants_fragment() else page, **context)


def register(app: Flask) -> None:
    @app.after_request
    def vary_on_hx_request(response: Response) -> Response:
        # The same URL answers a page or a fragment: caches and the back button must know.
        if response.mimetype == "text/html":
            response.vary.add("HX-Request")
        return response
