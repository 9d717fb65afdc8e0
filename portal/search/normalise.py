"""Search normalisation: one function for the stored labels and the typed words alike.

"Électricité", "ELECTRICITE" and "électricité" compare equal because both sides go through
``normalise``; nothing else (no SQL collation, no unaccent extension) takes part, so SQLite and
PostgreSQL find exactly the same rows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# After NFKD and casefold: what is left to fold into plain letters, apostrophes and hyphens.
_FOLD = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "−": "-",
        "œ": "oe",
        "æ": "ae",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)
# Punctuation around a typed word is not part of it ("Nantes," → "nantes").
_WORD_EDGES = " ,;:!?.()[]{}\"«»'"
_CODE = re.compile(r"[1-9]\d{0,9}(?:-[1-9]\d{0,9}){0,2}")
# Ids are 32-bit integers on PostgreSQL: a longer number cannot be one.
MAX_ID = 2**31 - 1
MAX_QUERY_LENGTH = 200
MAX_TERMS = 10


def normalise(text: str | None) -> str:
    """Lower-case, drop accents, fold ligatures, apostrophes and dashes, squeeze spaces."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.translate(_FOLD).split())


@dataclass(frozen=True)
class Term:
    """One typed word: found as a substring of a label, or as whole numbers of the code."""

    text: str
    # "19482-89393" → (19482, 89393): consecutive numbers of a FAS (or FA) code.
    numbers: tuple[int, ...] | None = None

    @property
    def like_pattern(self) -> str:
        """``%text%`` with LIKE's wildcards escaped (use with ``escape="\\\\"``)."""
        escaped = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"


class QueryTooLong(ValueError):
    """The search text is longer than MAX_QUERY_LENGTH or has more than MAX_TERMS words."""


def parse_query(q: str | None) -> list[Term]:
    """Split the search box into the words that must all be found.

    Words are normalised; a word contained in another one is dropped (it adds no condition);
    codes such as ``143842`` or ``19482-89393-143842`` also match the records' own numbers.
    """
    q = q or ""
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryTooLong(q)
    words: list[str] = []
    for raw in normalise(q).split(" "):
        word = raw.strip(_WORD_EDGES)
        if word and word not in words:
            words.append(word)
    words = [w for w in words if not any(w != other and w in other for other in words)]
    if len(words) > MAX_TERMS:
        raise QueryTooLong(q)
    terms = []
    for word in words:
        numbers = None
        if _CODE.fullmatch(word):
            parts = tuple(int(p) for p in word.split("-"))
            if all(p <= MAX_ID for p in parts):
                numbers = parts
        terms.append(Term(word, numbers))
    return terms


def sort_key(text: str | None, length: int) -> str:
    """The normalised text cut to ``length``: orders "Électricité" with the other E's."""
    return normalise(text)[:length]
