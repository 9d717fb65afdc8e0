"""The words and filter values of a published session, as rows of the catalogue's word index.

The public search finds sessions through ``published_terms`` (see ``models.PublishedTerm``):
one row per (term, session), where a term is either a word of the session's ``search_text``
(normalised by ``portal.search.normalise``, so "Électricité" and "electricite" are one word)
or a filter value such as ``~dep:44`` (département 44). Words never start with ``~``, so a
word's prefix range never reaches a filter value.

Each row also carries the session's start and end dates as day numbers and its *span class*
(how long the session lasts, rounded up to one of ``SPANS``). The class is what makes "hide
the ended sessions" cheap in start-date order: a session of class ``c`` that has not ended
started at most ``SPANS[c]`` days ago, so a search reads each class from ``today - SPANS[c]``
on, instead of walking through every session that ended before today.

Plain functions of plain values: publication, the migration's backfill (with a frozen copy),
the search and the benchmark generator all build the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from ..geo import normalise_name
from ..search.normalise import normalise

TERM_LENGTH = 40
# Days; the last class (index len(SPANS)) is "longer, or dates unknown".
SPANS = (31, 92, 183, 366, 731)
UNBOUNDED_SPAN = len(SPANS)
NO_START = 0
NO_END = date(9999, 12, 31).toordinal()

# Words that say nothing on their own: not indexed, and dropped from a typed search.
STOPWORDS = frozenset(
    (
        *("a", "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "en", "et", "il"),
        *("la", "le", "les", "leur", "lors", "par", "pour", "qu", "que", "qui", "sa", "se"),
        *("ses", "son", "sur", "un", "une", "vos", "votre", "ou", "the", "and", "of", "for"),
        *("to", "l", "d", "s", "n", "c", "j", "m", "t", "y"),
    )
)
_WORD = re.compile(r"[a-z0-9]+")

ALL = "~tout"  # every session: the starting point of a search without words or filters
FILTER_PREFIXES = {
    "departement": "~dep:",
    "programme": "~prog:",
    "commune": "~com:",
    "modalite": "~mod:",
    "niveau": "~niv:",
    "public": "~pub:",
    "formacode": "~fc:",
}


def words(text: str | None) -> list[str]:
    """The distinct searchable words of ``text`` in order: normalised, no stopwords."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(normalise(text)):
        if len(word) > 1 and word not in STOPWORDS:
            seen.setdefault(word[:TERM_LENGTH], None)
    return list(seen)


def commune_key(commune: str | None) -> str:
    """Compare communes the way the directory does: "St-Herblain" is "Saint Herblain"."""
    return normalise_name(commune or "")


def filter_term(name: str, value: object) -> str:
    """The term of a filter value, e.g. ``filter_term("departement", "44") == "~dep:44"``."""
    if name == "commune":
        value = commune_key(str(value))
    return f"{FILTER_PREFIXES[name]}{value}"[:TERM_LENGTH]


def day_number(value: date | None, default: int) -> int:
    return value.toordinal() if value else default


def span_class(start: date | None, end: date | None) -> int:
    """The smallest class whose length covers the session; the last one without dates."""
    if start is None or end is None:
        return UNBOUNDED_SPAN
    days = (end - start).days
    for index, limit in enumerate(SPANS):
        if days <= limit:
            return index
    return UNBOUNDED_SPAN


def session_terms(
    *,
    search_text: str,
    department: str | None,
    programme_id: int | None,
    commune: str | None,
    teaching_mode: int | None,
    exit_level: str | None,
    public_targets: Iterable[str],
    formacodes: Iterable[str],
) -> list[str]:
    """Every term a published session is found by: its words, then its filter values."""
    terms = words(search_text)
    terms.append(ALL)
    values = [
        ("departement", department),
        ("programme", programme_id),
        ("commune", commune_key(commune) or None),
        ("modalite", teaching_mode),
        ("niveau", exit_level),
        *(("public", code) for code in public_targets or ()),
        *(("formacode", code) for code in formacodes or ()),
    ]
    for name, value in values:
        if value is not None and value != "":
            term = filter_term(name, value)
            if term not in terms:
                terms.append(term)
    return terms
