"""Hypothesis settings and strategies shared by the property tests of forms and importers.

The settings are a ``settings`` object applied per test (never a globally loaded profile, so
other test modules keep Hypothesis' defaults): no deadline (a request on a shared 2-core
machine has no stable duration), the function-scoped-fixture and too-slow health checks off,
and ``derandomize`` under CI (``CI=true``) so that a CI run is reproducible. Locally the
examples vary from run to run and failures are replayed from ``.hypothesis/`` (git-ignored).

Each property test builds its world (users, establishments, an offer) once, then runs the
Hypothesis examples inside it: the ``app`` fixture empties the tables only between tests, so
records created by one example are still there for the next, and every property below is
stated so that it holds whatever earlier examples did.
"""

from __future__ import annotations

import os
import re
from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

CI = os.environ.get("CI", "").lower() == "true"
# What a user-facing input may answer; 500 never.
ALLOWED = frozenset({200, 204, 302, 303, 400, 403, 404, 409, 422})


def property_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
        derandomize=CI,
        print_blob=True,
    )


class Shown:
    """A generated value with a short repr: Hypothesis prints failing examples, and warns (an
    error under ``filterwarnings=error``) about reprs over 30 kB."""

    def __init__(self, value) -> None:
        self.value = value

    def __repr__(self) -> str:
        text = repr(self.value)
        return text if len(text) <= 400 else f"{text[:400]}… ({len(text)} characters)"

    def _repr_pretty_(self, printer, cycle) -> None:  # Hypothesis' printer asks this first
        printer.text(repr(self))


def shown(strategy: st.SearchStrategy) -> st.SearchStrategy[Shown]:
    return strategy.map(Shown)


# Text -----------------------------------------------------------------------------------------

# Every code point a form can carry: control characters and NUL included, surrogates excluded
# (they cannot be encoded in UTF-8, so no browser sends them).
ANY_CHAR = st.characters(exclude_categories=("Cs",))
SPECIALS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x0b\x0c\x1b",
    "\u202f\xa0",
    "\ufeff",
    "\uffff",
    "é" * 3,
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "=cmd|' /C calc'!A0",
    "+33 2 40 20 40 20",
    "-1",
    "0",
    "1e999",
    "NaN",
    "Infinity",
    "-0",
    "9" * 40,
    "1 234,56",
    "1,5",
    "0,001",
    "١٢٣",
    "²",
    "１２",
    "2024-02-30",
    "0001-01-01",
    "9999-12-31",
    "31/12/2024",
    "None",
    "null",
    "../../etc/passwd",
    "%00",
    "' OR 1=1 --",
)


def long_text(min_repeat: int = 100, max_repeat: int = 3000) -> st.SearchStrategy[str]:
    """A long string cheaply: a short random piece repeated."""
    return st.builds(
        lambda piece, n: piece * n,
        st.text(ANY_CHAR, min_size=1, max_size=4),
        st.integers(min_repeat, max_repeat),
    )


def french_number() -> st.SearchStrategy[str]:
    """Numbers as French users type them: decimal comma, spaces, signs, too many decimals."""
    return st.from_regex(r"\A[+-]?[0-9]{1,12}([ \u202f\xa0][0-9]{3})?([,.][0-9]{0,5})?\Z")


def odd_date() -> st.SearchStrategy[str]:
    """Dates in the formats people type, and impossible ones."""
    formats = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y%m%d", "%d.%m.%y", "%Y-%m-%dT00:00")
    real = st.builds(
        lambda d, fmt: d.strftime(fmt),
        st.dates(date(1, 1, 1), date(9999, 12, 31)),
        st.sampled_from(formats),
    )
    impossible = st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(0, 99999),
        st.integers(0, 99),
        st.integers(0, 99),
    )
    return st.one_of(real, impossible)


def big_int_text() -> st.SearchStrategy[str]:
    return st.integers(-(10**30), 10**30).map(str)


def nasty_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Anything a user (or a forged request) may put in a text input."""
    return st.one_of(
        st.text(ANY_CHAR, max_size=max_size),
        st.sampled_from(SPECIALS),
        french_number(),
        odd_date(),
        big_int_text(),
        long_text(),
    )


def id_text(known: list[int] | tuple[int, ...] = ()) -> st.SearchStrategy[str]:
    """An id field: known ids (own and other establishments'), junk, negative and huge ints."""
    strategies = [big_int_text(), st.sampled_from(SPECIALS), st.integers(-3, 50).map(str)]
    if known:
        strategies.insert(0, st.sampled_from([str(i) for i in known]))
    return st.one_of(strategies)


def altered(
    valid: dict[str, st.SearchStrategy], anything: dict[str, st.SearchStrategy]
) -> st.SearchStrategy[dict]:
    """A form: valid values with up to three fields replaced by anything or left out, or every
    field anything (present or not)."""

    @st.composite
    def mostly_valid(draw) -> dict:
        data = {name: draw(value) for name, value in valid.items()}
        for name in draw(st.sets(st.sampled_from(sorted(anything)), max_size=3)):
            if draw(st.integers(0, 4)) == 0:
                data.pop(name, None)
            else:
                data[name] = draw(anything[name])
        return data

    return st.one_of(mostly_valid(), st.fixed_dictionaries({}, optional=anything))


# Responses ------------------------------------------------------------------------------------

# WTForms' English defaults: one of these in a page means a message was never translated.
ENGLISH = re.compile(
    r"This field|Not a valid|\bInvalid\b|Field must|is required|must be between|Number must|"
    r"\bexpected\b|\bmust be\b",
)
_ERROR_XPATH = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' field__error ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' notice--error ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' notice--warning ')"
    " or @role='alert']"
)


def error_messages(body: str) -> list[str]:
    """The texts of the error elements of a page or fragment (inline errors, notices)."""
    if not body.strip():
        return []
    document = lxml_html.fromstring(body)
    texts = [" ".join(e.text_content().split()) for e in document.xpath(_ERROR_XPATH)]
    return [t for t in texts if t]


def assert_answer(response, *, allowed=ALLOWED) -> None:
    """The property every input shares: an expected status, never a 500, and a 422 that says
    what is wrong in French next to the field (or in a notice)."""
    status = response.status_code
    assert status in allowed, f"status {status}\n{response.get_data(as_text=True)[:2000]}"
    if status == 422:
        body = response.get_data(as_text=True)
        messages = error_messages(body)
        assert messages, f"422 without an error message:\n{body[:2000]}"
        english = [m for m in messages if ENGLISH.search(m)]
        assert not english, f"untranslated message(s): {english}"
