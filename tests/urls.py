"""Enumerate the app's URL map with concrete values, for tests that cover every route."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from portal import create_app


def url_map_app():
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def expand(
    rule: Rule,
    ids: dict[str, int] | None = None,
    *,
    value: Callable[[str, dict], object] | None = None,
) -> list[tuple[str, dict]]:
    """Every concrete path of ``rule``: each item of an any() converter; for the other
    arguments ``value(name, chosen)`` (``chosen``: the any() items of this path) if given,
    else ``ids`` (or 1) for integer arguments and "x" for the rest."""
    results = []
    for chosen in any_combinations(rule):
        values = dict(chosen)
        for name, converter in other_arguments(rule):
            if value is not None:
                values[name] = value(name, chosen)
            elif isinstance(converter, IntegerConverter):
                values[name] = (ids or {}).get(name, 1)
            else:
                values[name] = "x"
        results.append((build_path(rule, values), values))
    return results


def any_combinations(rule: Rule) -> list[dict[str, str]]:
    """Every choice of the rule's any() converters (one empty choice when it has none)."""
    choices = [
        [(name, item) for item in sorted(converter.items)]
        for name, converter in sorted(rule._converters.items())
        if isinstance(converter, AnyConverter) and name not in (rule.defaults or {})
    ]
    return [dict(combination) for combination in itertools.product(*choices)]


def other_arguments(rule: Rule) -> list[tuple[str, object]]:
    """The rule's arguments that are not any() converters, with their converter."""
    return [
        (name, converter)
        for name, converter in sorted(rule._converters.items())
        if not isinstance(converter, AnyConverter) and name not in (rule.defaults or {})
    ]


def build_path(rule: Rule, values: dict) -> str:
    _, path = rule.build(values, append_unknown=False)
    return path


def methods_of(rule: Rule) -> list[str]:
    """The methods a rule answers, without the ones Werkzeug adds (HEAD, OPTIONS)."""
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def method_of(rule: Rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
