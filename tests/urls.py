"""Enumerate the app's URL map with concrete values, for tests that cover every route."""

from __future__ import annotations

import itertools

from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from portal import create_app


def url_map_app():
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def expand(rule: Rule, ids: dict[str, int] | None = None) -> list[tuple[str, dict]]:
    """Every concrete path of ``rule``: each item of an any() converter, ``ids`` (or 1) for
    integer arguments."""
    choices = []
    for name in sorted(rule.arguments):
        if name in (rule.defaults or {}):
            continue  # supplied by the rule itself (a URL variant without this part)
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            choices.append([(name, item) for item in sorted(converter.items)])
        elif isinstance(converter, IntegerConverter):
            choices.append([(name, (ids or {}).get(name, 1))])
        else:
            choices.append([(name, "x")])
    results = []
    for combination in itertools.product(*choices):
        values = dict(combination)
        _, path = rule.build(values, append_unknown=False)
        results.append((path, values))
    return results


def method_of(rule: Rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
