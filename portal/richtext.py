"""The small safe HTML subset of the fiches' rich fields (objectifs, programme…).

Paragraphs, line breaks, lists, bold, italic and http(s)/mailto links are kept; every other
tag is dropped with its attributes (scripts and styles with their content).
"""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "a", "div"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
_TAG = re.compile(r"<[^>]+>")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_SPACE = re.compile(r"\s+")


def sanitize(raw: str | None) -> str | None:
    """Return safe HTML, or None when nothing visible is left.

    Plain text typed without tags keeps its line breaks as <br>.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if not _HTML_TAG.search(text):
        text = "<br>".join(html.escape(line) for line in text.splitlines())
    cleaned = nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer nofollow",
    ).strip()
    return cleaned if visible_text(cleaned) else None


def visible_text(value: str | None) -> str:
    """The text a reader sees, for length limits and exports (tags dropped, spaces folded)."""
    if not value:
        return ""
    text = _TAG.sub(" ", value.replace("<br>", "\n"))
    return _SPACE.sub(" ", html.unescape(text)).strip()
