"""The authorization matrix: every rule of ``app.url_map``, with every method it answers and
every item of its any() converters, is requested by four roles with the ids of establishment
A's records, and each answer is checked against the table below.

Roles: ``anon`` (no account), ``of_a`` (OF user of establishment A), ``of_b`` (OF user of
establishment B only), ``carif`` (Carif-Oref staff who chose establishment A in the switcher).

A refusal (login redirect, 403, 404) must also leave the database exactly as it was: every row
of every table is compared before and after, so a view that writes before it checks access
fails here even when it answers the right status. And no protected page that B's user or a
visitor gets may show A's data: A's records carry a marker (``authz_fixtures.MARKER``) and
A's SIRET, looked for in every such body (lists, CSV exports, fragments, error pages).

A route without an entry in ``MATRIX`` fails (``test_every_route_has_an_entry…`` and its own
case): decide who may use it before adding it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from werkzeug.routing import Rule

from portal.extensions import db, limiter
from portal.models import Establishment
from portal.pdf import jobs
from portal.scoping import SESSION_KEY

from . import authz_fixtures as world_
from .urls import any_combinations, build_path, methods_of, other_arguments, url_map_app

LOGIN = "login"  # 302 to /connexion?next=…
WRITE = "write"  # accepted: any answer of WRITE_ANSWERS, never a refusal or a crash
REFUSALS = {LOGIN, 403, 404}
WRITE_ANSWERS = {200, 201, 202, 204, 302, 303, 400, 409, 422}

Outcome = int | str | frozenset[int]  # a status, LOGIN, WRITE, or one of a few statuses


@dataclass(frozen=True)
class Expect:
    anon: Outcome
    of_a: Outcome
    of_b: Outcome
    carif: Outcome

    def of(self, role: str) -> Outcome:
        return getattr(self, role)


# Categories ------------------------------------------------------------------------------------

PUBLIC = Expect(200, 200, 200, 200)
# Any account, in its own context (its establishment; the carif user in A).
SIGNED_IN = Expect(LOGIN, 200, 200, 200)
SIGNED_IN_WRITE = Expect(LOGIN, WRITE, WRITE, WRITE)
# A record of A by id: B does not learn it exists; the carif user acting as A reads it.
A_READ = Expect(LOGIN, 200, 404, 200)
# A's offer content: the OF edits it, the Carif-Oref never changes OF content (403).
A_WRITE_OF = Expect(LOGIN, WRITE, 404, 403)
A_FORM_OF = Expect(LOGIN, 200, 404, 403)  # the empty form of such a change
# A's annuaire rows: the Carif-Oref acting as A may correct them.
A_WRITE = Expect(LOGIN, WRITE, 404, WRITE)
# Entering an offer (no record id): OF users only.
OF_ONLY = Expect(LOGIN, 200, 200, 403)
OF_ONLY_WRITE = Expect(LOGIN, WRITE, WRITE, 403)
CARIF_ONLY = Expect(LOGIN, 403, 403, 200)
CARIF_ONLY_WRITE = Expect(LOGIN, 403, 403, WRITE)
NOT_FOUND_FOR_ALL = Expect(404, 404, 404, 404)

# The matrix ------------------------------------------------------------------------------------
# endpoint → Expect, or a dict of selector → Expect. A selector is "*" (default), a method
# ("POST"), a rule ("/catalogue/…"), an any() item ("slug=portes-ouvertes") or several of
# them separated by spaces; the matching selector with the most parts wins. A rule that
# answers several methods needs one selector per method.

MATRIX: dict[str, Expect | dict[str, Expect]] = {
    # Accounts: the Carif-Oref manages them.
    "accounts.create": {"GET": CARIF_ONLY, "POST": CARIF_ONLY_WRITE},
    "accounts.edit": {"GET": CARIF_ONLY, "POST": CARIF_ONLY_WRITE},
    "accounts.index": CARIF_ONLY,
    "accounts.link": CARIF_ONLY_WRITE,
    "accounts.set_active": CARIF_ONLY_WRITE,
    # The public API.
    "api.index": PUBLIC,
    "api.openapi_file": PUBLIC,
    "api.session": PUBLIC,
    "api.sessions": PUBLIC,
    "api.unknown": NOT_FOUND_FOR_ALL,
    # Authentication.
    "auth.change_password": {"GET": SIGNED_IN, "POST": SIGNED_IN_WRITE},
    "auth.forgot_password": {
        "GET": Expect(200, 302, 302, 302),  # signed in: to the change of password
        "POST": Expect(422, 302, 302, 302),
    },
    "auth.login": {
        "GET": Expect(200, 302, 302, 302),  # signed in: to the dashboard
        "POST": Expect(422, 302, 302, 302),
    },
    "auth.logout": SIGNED_IN_WRITE,
    "auth.set_password": {"GET": PUBLIC, "POST": Expect(422, 422, 422, 422)},
    # The public catalogue.
    "catalogue.action": {
        "*": PUBLIC,
        "/catalogue/formations/<int:formation_id>-<int:action_id>": Expect(301, 301, 301, 301),
    },
    "catalogue.index": PUBLIC,
    "catalogue.open_data": PUBLIC,
    "catalogue.open_data_csv": PUBLIC,
    "catalogue.open_data_json": PUBLIC,
    # Tableau de bord.
    "dashboard.index": SIGNED_IN,
    # Annuaire.
    "directory.communes": SIGNED_IN,
    "directory.create": SIGNED_IN_WRITE,
    "directory.delete": A_WRITE,
    "directory.edit": A_READ,
    "directory.establishment_card": SIGNED_IN,
    "directory.establishment_edit": CARIF_ONLY,
    "directory.establishment_update": CARIF_ONLY_WRITE,
    "directory.index": SIGNED_IN,
    "directory.new": SIGNED_IN,
    "directory.row": A_READ,
    "directory.set_active": {
        "*": A_WRITE,
        "slug=portes-ouvertes": Expect(LOGIN, 404, 404, 404),  # has no active flag
    },
    "directory.update": A_WRITE,
    # Establishment switcher.
    "establishments.none_attached": SIGNED_IN,
    "establishments.picker": CARIF_ONLY,
    "establishments.switch": Expect(LOGIN, WRITE, 403, WRITE),  # B's user may not pick A
    # Exports.
    "exports.catalogue_pdf": PUBLIC,
    "exports.lheo_export": PUBLIC,
    "exports.lheo_import": {"GET": OF_ONLY, "POST": OF_ONLY_WRITE},
    "exports.lheo_page": PUBLIC,
    "exports.pdf_catalogues": CARIF_ONLY,
    "exports.pdf_download": PUBLIC,
    "exports.pdf_generate": CARIF_ONLY_WRITE,
    "exports.pdf_job": PUBLIC,
    # Record histories (the journal): read like the record itself; accounts' for the carif.
    "history.record": {"*": A_READ, "kind=compte": CARIF_ONLY},
    # Offer entry (fiches Formation, Action, Session, Dispositif).
    "offer.action": {"GET": A_READ, "POST": A_WRITE_OF},
    "offer.action_field": A_WRITE_OF,
    "offer.add_action": A_WRITE_OF,
    "offer.add_session": A_WRITE_OF,
    "offer.answer": A_WRITE_OF,
    "offer.certifinfo": {"GET": A_FORM_OF, "POST": A_WRITE_OF},
    "offer.certifinfo_lookup": SIGNED_IN,
    "offer.create_formation": {"GET": OF_ONLY, "POST": OF_ONLY_WRITE},
    "offer.delete_action": A_WRITE_OF,
    "offer.duplicate_session": A_WRITE_OF,
    "offer.formation": {"GET": A_READ, "POST": A_WRITE_OF},
    "offer.formation_blocs": A_READ,
    "offer.formation_field": A_WRITE_OF,
    "offer.funding": {"GET": A_READ, "POST": A_WRITE_OF},
    "offer.funding_field": A_WRITE_OF,
    "offer.lot_options": SIGNED_IN,
    "offer.mandataire": SIGNED_IN,
    "offer.recap": A_READ,
    "offer.send": A_WRITE_OF,
    "offer.session": {"GET": A_READ, "POST": A_WRITE_OF},
    "offer.session_field": A_WRITE_OF,
    "offer.set_session_active": A_WRITE_OF,
    "offer.subrow": A_READ,
    "offer.subrow_create": A_WRITE_OF,
    "offer.subrow_delete": A_WRITE_OF,
    "offer.subrow_edit": A_FORM_OF,
    "offer.subrow_new": A_FORM_OF,
    "offer.subrow_update": A_WRITE_OF,
    "offer.toggle_bloc": A_WRITE_OF,
    # Référentiels (imports), Carif-Oref only.
    "registers.commit": CARIF_ONLY_WRITE,
    "registers.index": CARIF_ONLY,
    # 200 or, when the stored file has errors, 422 with them.
    "registers.preview": Expect(LOGIN, 403, 403, frozenset({200, 422})),
    "registers.region_template": CARIF_ONLY,
    "registers.replace_formation": CARIF_ONLY_WRITE,
    "registers.replacements": {"GET": CARIF_ONLY, "POST": CARIF_ONLY_WRITE},
    "registers.run": CARIF_ONLY,
    "registers.upload": {"GET": CARIF_ONLY, "POST": CARIF_ONLY_WRITE},
    # Validation, Carif-Oref only.
    "review.action": CARIF_ONLY,
    "review.ask_question": CARIF_ONLY_WRITE,
    "review.index": CARIF_ONLY,
    "review.queue": CARIF_ONLY,
    "review.reject_action": CARIF_ONLY_WRITE,
    "review.validate_action": CARIF_ONLY_WRITE,
    # Lists (an OF user sees its establishment, the carif user every establishment).
    "search.actions": SIGNED_IN,
    "search.actions_csv": SIGNED_IN,
    "search.public_formations": SIGNED_IN,
    "search.sessions": SIGNED_IN,
    "search.sessions_bulk": A_WRITE_OF,
    "search.sessions_csv": SIGNED_IN,
    "static": PUBLIC,
}

# How to call a route ---------------------------------------------------------------------------

# Views that answer a plain request with a redirect to the full page: ask for the fragment.
HTMX_ENDPOINTS = {
    "directory.establishment_card",
    "directory.row",
    "offer.formation_blocs",
    "offer.subrow",
}

# Form data that gets a write past its input checks to the access check (the other writes
# check access before reading the form).
FORMS = {
    "establishments.switch": lambda w, chosen: {"establishment_id": w.establishment_a},
    "offer.answer": lambda w, chosen: {"reponse": "Voici les précisions."},
    "offer.toggle_bloc": lambda w, chosen: {"chosen": "1"},
    "registers.commit": lambda w, chosen: {"token": w.uploads[chosen["slug"]]},
    "review.ask_question": lambda w, chosen: {"question": "Quel public visez-vous ?"},
    "review.reject_action": lambda w, chosen: {"motif": "Saisie incomplète."},
    "search.sessions_bulk": lambda w, chosen: {"ids": [w.session], "operation": "desactiver"},
}

DIRECTORY_AND_SUBROWS = {
    "sites": "site",
    "contacts": "contact",
    "portes-ouvertes": "open_day",
    "informations-collectives": "info_meeting",
    "periodes-inscription": "enrolment_period",
}
HISTORY_KINDS = {
    "formation": "formation",
    "action": "action",
    "session": "session",
    "dispositif": "funding",
    "site": "site",
    "contact": "contact",
    "porte-ouverte": "open_day",
    "etablissement": "establishment_a",
}
STATIC_FILE = "css/portal.css"


class MatrixError(LookupError):
    pass


def url_value(world: world_.World, endpoint: str, name: str, chosen: dict) -> object:
    """The value of URL argument ``name``: the id (or token) of A's record it names."""
    if name == "record_id" and "kind" in chosen:
        if chosen["kind"] == "compte":
            return world.users["of_a"]
        return getattr(world, HISTORY_KINDS[chosen["kind"]])
    if name == "record_id":
        return getattr(world, DIRECTORY_AND_SUBROWS[chosen["slug"]])
    if name == "action_id":
        if endpoint == "offer.delete_action":
            return world.draft_action  # only a never-validated draft may be deleted
        if endpoint.startswith("review."):
            return world.submitted_action
        return world.action
    if name == "token":
        if endpoint == "auth.set_password":
            return world.password_token
        return world.uploads[chosen["slug"]]
    values = {
        "bloc_id": world.bloc,
        "filename": STATIC_FILE,
        "formation_id": world.formation,
        "funding_id": world.funding,
        "job_id": world.pdf_job,
        "path": "x",
        "run_id": world.import_run,
        "session_id": world.session,
        "slug": world.catalogue_slug,
        "user_id": world.users["of_a"],
    }
    if name not in values:
        raise MatrixError(
            f"URL argument {name!r} of route {endpoint} has no value in the authorization "
            "world: add the record to tests/authz_fixtures.py and map it in url_value()"
        )
    return values[name]


def expectation(rule: Rule, method: str, chosen: dict) -> Expect:
    """The matrix entry for one method and any() choice of ``rule``; MatrixError if none."""
    entry = MATRIX.get(rule.endpoint)
    if entry is None:
        raise MatrixError(
            f"route {rule.endpoint} ({rule.rule}) has no entry in the authorization matrix"
        )
    methods = methods_of(rule)
    if isinstance(entry, Expect):
        if len(methods) > 1:
            raise MatrixError(
                f"route {rule.endpoint} answers {', '.join(methods)}: give the authorization "
                "matrix one entry per method"
            )
        return entry
    facts = {method, rule.rule} | {f"{name}={item}" for name, item in chosen.items()}
    candidates = [s for s in entry if s == "*" or set(s.split()) <= facts]
    if len(methods) > 1:  # each method named: a GET entry never covers a POST by accident
        candidates = [s for s in candidates if method in s.split()]
    if not candidates:
        raise MatrixError(
            f"route {rule.endpoint} ({method} {rule.rule} {chosen or ''}) has no entry in the "
            "authorization matrix"
        )
    size = {s: 0 if s == "*" else len(s.split()) for s in candidates}
    winners = [s for s in candidates if size[s] == max(size.values())]
    if len(winners) > 1:
        raise MatrixError(f"route {rule.endpoint}: ambiguous matrix selectors {winners}")
    return entry[winners[0]]


# Cases -----------------------------------------------------------------------------------------


def _cases() -> list:
    app = url_map_app()
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))
    per_endpoint: dict[str, int] = {}
    for rule in rules:
        per_endpoint[rule.endpoint] = per_endpoint.get(rule.endpoint, 0) + 1
    cases = []
    for rule in rules:
        for method in methods_of(rule):
            case_id = f"{rule.endpoint}-{method}"
            if per_endpoint[rule.endpoint] > 1:
                case_id += f"-{rule.rule}"
            cases.append(pytest.param(rule.endpoint, method, rule.rule, id=case_id))
    return cases


CASES = _cases()


def _rule(app, endpoint: str, rule_path: str) -> Rule:
    return next(
        r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_path
    )


@pytest.fixture
def isolated_files(app, tmp_path, monkeypatch):
    """PDF catalogues and register uploads in a folder of this test; PDFs built inline."""
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "pdf"))
    monkeypatch.setitem(app.config, "IMPORT_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "PDF_JOB_RUNNER", jobs.inline_runner)


def _problem(expected: Outcome, response) -> str | None:
    """Why ``response`` is not ``expected``, or None."""
    status = response.status_code
    location = response.headers.get("Location", "")
    to_login = status == 302 and location.startswith("/connexion?next=")
    if expected == LOGIN:
        ok = to_login
    elif expected == WRITE:
        ok = status in WRITE_ANSWERS and not to_login
    elif isinstance(expected, frozenset):
        ok = status in expected
    else:
        ok = status == expected and not to_login
    if ok:
        return None
    got = f"{status} → {location}" if location else str(status)
    return f"expected {expected}, got {got}"


def _run(app, role: str, world, method: str, path: str, data, headers):
    """One request as ``role``, in an application context of its own (like production)."""
    client = world_.client_for(app, role, world)
    limiter.reset()  # each role is another visitor: no rate limit shared between them
    with (
        app.app_context(),
        client.open(path, method=method, data=data, headers=headers) as response,
    ):
        response.get_data()
        return response


@pytest.mark.parametrize(("endpoint", "method", "rule_path"), CASES)
def test_route_answers_every_role_as_the_matrix_says(
    app, isolated_files, endpoint, method, rule_path
):
    rule = _rule(app, endpoint, rule_path)
    variants = [(chosen, expectation(rule, method, chosen)) for chosen in any_combinations(rule)]
    needs = {
        "pdf_job": "job_id" in rule.arguments,
        "uploads": endpoint in ("registers.preview", "registers.commit"),
    }
    world = world_.fresh_world(app, **needs)
    baseline = world_.snapshot()
    failures = []
    accepted_since_baseline = False
    for chosen, expect in variants:
        # Refusals first, on the untouched world; after an accepted write, a fresh world.
        roles = sorted(
            world_.ROLES, key=lambda r: (expect.of(r) not in REFUSALS, world_.ROLES.index(r))
        )
        for role in roles:
            if accepted_since_baseline and world_.snapshot() != baseline:
                world = world_.fresh_world(app, **needs)
                baseline = world_.snapshot()
            accepted_since_baseline = False
            values = dict(chosen)
            for name, _ in other_arguments(rule):
                values[name] = url_value(world, endpoint, name, chosen)
            path = build_path(rule, values)
            data = FORMS[endpoint](world, chosen) if endpoint in FORMS else None
            headers = {"HX-Request": "true"} if endpoint in HTMX_ENDPOINTS else {}
            response = _run(app, role, world, method, path, data, headers)
            expected = expect.of(role)
            problem = _problem(expected, response)
            if problem:
                failures.append(f"{role:5} {method} {path}: {problem}")
            if role in ("anon", "of_b") and expect.anon in REFUSALS:
                body = response.get_data(as_text=True)
                leaked = [m for m in (world_.MARKER, world.siret_a) if m in body]
                if leaked:
                    failures.append(f"{role:5} {method} {path}: shows A's data ({leaked})")
            if expected in REFUSALS:
                changed = world_.changed_tables(baseline, world_.snapshot())
                if changed:
                    failures.append(
                        f"{role:5} {method} {path}: refused, yet changed {', '.join(changed)}"
                    )
                    accepted_since_baseline = True  # rebuild: the next role needs A intact
            else:
                accepted_since_baseline = True
    assert not failures, "\n".join(failures)


def test_every_route_has_an_entry_in_the_authorization_matrix():
    app = url_map_app()
    problems = []
    for rule in app.url_map.iter_rules():
        for method in methods_of(rule):
            for chosen in any_combinations(rule):
                try:
                    expectation(rule, method, chosen)
                except MatrixError as error:
                    problems.append(str(error))
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    problems += [f"matrix entry {e} names no route" for e in sorted(set(MATRIX) - endpoints)]
    assert not problems, "\n".join(sorted(set(problems)))


def test_a_route_missing_from_the_matrix_is_reported():
    rule = Rule("/nouvelle-page", endpoint="nouveau.page", methods=["GET"])
    with pytest.raises(MatrixError, match=r"route nouveau\.page .* has no entry"):
        expectation(rule, "GET", {})


def test_an_of_user_cannot_act_for_a_deactivated_establishment(app, isolated_files):
    """The switcher offers active establishments only (scoping.attached_establishments): a
    deactivated one can be neither picked by a forged form nor kept from an earlier choice."""
    world = world_.fresh_world(app)
    with app.app_context():
        db.session.get(Establishment, world.establishment_b).active = False
        db.session.commit()
    baseline = world_.snapshot()
    client = world_.client_for(app, "of_b", world)

    def get(path: str):
        with app.app_context(), client.get(path) as response:
            return response.status_code, response.location

    assert get("/annuaire/") == (302, "/etablissements/aucun")
    data = {"establishment_id": world.establishment_b}
    with app.app_context(), client.post("/etablissement/courant", data=data) as response:
        assert response.status_code == 403
    assert get("/annuaire/") == (302, "/etablissements/aucun")
    with client.session_transaction() as sess:
        sess[SESSION_KEY] = world.establishment_b  # chosen before the deactivation
    assert get("/annuaire/") == (302, "/etablissements/aucun")
    assert world_.snapshot() == baseline
