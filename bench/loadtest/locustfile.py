"""Locust users of the load test: OF users saving fields live, public catalogue searchers.

Run by ``bench/load_test.py``, which builds the database and the plan and passes through the
environment:

- ``LOADTEST_PLAN``: the plan (JSON, ``bench/loadtest/data.py``): accounts and their records,
  the words and filter values the searchers pick from;
- ``LOADTEST_OUT``: the directory of this process's logs: ``acks-<pid>.jsonl`` (one line per
  acknowledged live save, written as it is acknowledged) and ``requests-<pid>.json`` (every
  request: name, start, duration, status, error), read by the report;
- ``LOADTEST_OF_USERS`` / ``LOADTEST_SEARCHERS``: how many users of each class (Locust's
  ``fixed_count``, so that exactly that many run whatever ``-u`` rounds);
- ``LOADTEST_OF_WAIT``: the OF users' pause between two saves, "min,max" seconds ("1,3").

**OF user** (one account each, its own records, so no 409 is expected): logs in as the browser
does (the login form's CSRF token), opens its fiches Action, Session and Dispositif and reads
their versions and the ``X-CSRFToken`` htmx sends, then saves one field at a time as htmx does
(``champ``, the field, ``version``; ``HX-Request``), 1–3 s apart like someone typing, over the
eight fields of ``bench/live_save_bench.py``. A save is acknowledged when it answers 200 with
the record's version in ``#fiche-version`` (one more, or the same when the value was already
stored). Every 15 saves a fiche is opened again and must show the version last acknowledged.

**Public searcher**: the catalogue page with random words and filters, the htmx requests of
typing in the search box and changing a filter, the next page, a result's detail page, and
sometimes the JSON API; 1–5 s between actions.

Any status other than the expected one (200; 302 for the login) is a failure: a 409 or 422
here means something went wrong.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, between, events, task

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))

# The live-save fields and values of the in-process benchmark (no app import needed by them
# beyond the code tables; importing it pulls in the app, which is fine in this process).
from live_save_bench import Step, make_steps  # noqa: E402

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text(encoding="utf-8"))
OUT = Path(os.environ["LOADTEST_OUT"])
OUT.mkdir(parents=True, exist_ok=True)
PID = os.getpid()
HX = {"HX-Request": "true"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
VERSION_RE = re.compile(r'id="fiche-version" value="(\d+)"')
HTMX_CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')
FORM_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RESULT_RE = re.compile(r'<h3 class="result-card__title"><a href="([^"]+)"')
NEXT_RE = re.compile(r'<a href="([^"]+)" hx-get="[^"]+" hx-push-url="true"[^>]*rel="next"')
RECORD_TYPES = {"Action": "Action", "Session": "Session", "Dispositif": "SessionFunding"}

_accounts = iter(PLAN["accounts"])
_ack_file = (OUT / f"acks-{PID}.jsonl").open("a", encoding="utf-8")
_requests: list[tuple] = []
_seq = count()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response, exception, **kw):
    status = getattr(response, "status_code", None) if response is not None else None
    _requests.append(
        (
            name,
            request_type,
            kw.get("start_time"),
            round(response_time, 3),
            status,
            None if exception is None else f"{type(exception).__name__}: {exception}"[:300],
        )
    )


def _dump_requests(**_kw) -> None:
    path = OUT / f"requests-{PID}.json"
    path.write_text(json.dumps(_requests), encoding="utf-8")


events.test_stop.add_listener(_dump_requests)
atexit.register(_dump_requests)


def _html(response) -> str:
    return response.text or ""


# OF users -------------------------------------------------------------------------------------


@dataclass
class Record:
    fiche: str  # Action, Session, Dispositif
    page: str  # the fiche's URL
    save_url: str
    record_id: int
    version: int = 0


class OfUser(FastHttpUser):
    """Edits its own draft action, session and Dispositif, one field at a time."""

    fixed_count = int(os.environ.get("LOADTEST_OF_USERS", "50"))
    wait_time = between(*map(float, os.environ.get("LOADTEST_OF_WAIT", "1,3").split(",")))
    network_timeout = 120.0
    connection_timeout = 120.0

    def on_start(self) -> None:
        self.account = next(_accounts, None)
        if self.account is None:
            raise RuntimeError("More OF users than accounts in the plan.")
        a = self.account
        self.records = {
            "Action": Record(
                "Action",
                f"/actions/{a['action_id']}",
                f"/actions/{a['action_id']}/champ",
                a["action_id"],
            ),
            "Session": Record(
                "Session",
                f"/sessions/{a['session_id']}",
                f"/sessions/{a['session_id']}/champ",
                a["session_id"],
            ),
            "Dispositif": Record(
                "Dispositif",
                f"/sessions/{a['session_id']}/dispositif",
                f"/dispositifs/{a['funding_id']}/champ",
                a["funding_id"],
            ),
        }
        self.steps: list[Step] = make_steps(date.fromisoformat(a["session_end"]))
        self.turn = random.randrange(len(self.steps))
        self.saves = 0
        self.csrf = ""
        self.ready = self._start()

    def _start(self) -> bool:
        """Log in and open the three fiches (their versions, the htmx CSRF token)."""
        return self._login() and all(self._open(r, check=False) for r in self.records.values())

    def _login(self) -> bool:
        with self.client.get("/connexion", name="OF: login form", catch_response=True) as r:
            match = FORM_CSRF_RE.search(_html(r))
            if r.status_code != 200 or match is None:
                found = "found" if match else "missing"
                r.failure(f"login form: HTTP {r.status_code}, token {found}")
                return False
        body = urlencode(
            {
                "csrf_token": match.group(1),
                "email": self.account["email"],
                "password": self.account["password"],
            }
        )
        with self.client.post(
            "/connexion",
            data=body,
            headers=FORM,
            name="OF: login",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                r.failure(f"login: HTTP {r.status_code}")
                return False
        return True

    def _open(self, record: Record, *, check: bool) -> bool:
        """GET the fiche: its version (and the htmx CSRF token); ``check`` compares versions."""
        with self.client.get(record.page, name="OF: open fiche", catch_response=True) as r:
            body = _html(r)
            version = VERSION_RE.search(body)
            token = HTMX_CSRF_RE.search(body)
            if r.status_code != 200 or version is None or token is None:
                r.failure(f"fiche {record.page}: HTTP {r.status_code}, no version or token")
                return False
            self.csrf = token.group(1)
            stored = int(version.group(1))
            if check and stored != record.version:
                r.failure(
                    f"fiche {record.page} shows version {stored}, "
                    f"last acknowledged {record.version}"
                )
                record.version = stored
                return False
            record.version = stored
        return True

    @task
    def edit(self) -> None:
        if not self.ready:
            # A failed start is already a failure; retry it rather than idling silently.
            self.ready = self._start()
            return
        step = self.steps[self.turn % len(self.steps)]
        self.turn += 1
        record = self.records[step.fiche]
        value = step.next_value()
        pairs: list[tuple[str, Any]] = [("champ", step.field)]
        pairs += (
            [(step.field, v) for v in value] if isinstance(value, list) else [(step.field, value)]
        )
        pairs.append(("version", record.version))
        headers = {**HX, **FORM, "X-CSRFToken": self.csrf}
        with self.client.post(
            record.save_url,
            data=urlencode(pairs),
            headers=headers,
            name=f"OF: live save ({step.fiche})",
            catch_response=True,
        ) as r:
            match = VERSION_RE.search(_html(r))
            if r.status_code != 200 or match is None:
                r.failure(
                    f"save {record.save_url} {step.field}: HTTP {r.status_code} {_html(r)[:200]!r}"
                )
                return
            new_version = int(match.group(1))
            if new_version not in (record.version, record.version + 1):
                r.failure(f"save {record.save_url}: version {record.version} -> {new_version}")
            _ack_file.write(
                json.dumps(
                    {
                        "seq": next(_seq),
                        "t": time.time(),
                        "user": self.account["email"],
                        "fiche": step.fiche,
                        "record_type": RECORD_TYPES[step.fiche],
                        "record_id": record.record_id,
                        "field": step.field,
                        "value": value,
                        "old_version": record.version,
                        "new_version": new_version,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            _ack_file.flush()
            record.version = new_version
        self.saves += 1
        if self.saves % 15 == 0:
            self._open(random.choice(list(self.records.values())), check=True)


# Public searchers -----------------------------------------------------------------------------

CAT = PLAN["catalogue"]


def _random_search(rng: random.Random) -> dict[str, Any]:
    """Words and filters as visitors combine them: mostly one or two words, a filter or two."""
    params: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.45:
        params["q"] = rng.choice(CAT["words"])
    elif roll < 0.6:
        params["q"] = " ".join(rng.sample(CAT["words"], 2))
    elif roll < 0.7:
        params["q"] = rng.choice(CAT["prefixes"])
    if rng.random() < 0.35 and CAT["departments"]:
        params["departement"] = rng.choice(CAT["departments"])
    if rng.random() < 0.15 and CAT["modes"]:
        params["modalite"] = rng.choice(CAT["modes"])
    if rng.random() < 0.12 and CAT["levels"]:
        params["niveau"] = rng.choice(CAT["levels"])
    if rng.random() < 0.1 and CAT["programmes"]:
        params["programme"] = rng.choice(CAT["programmes"])
    if rng.random() < 0.08 and CAT["publics"]:
        params["public"] = rng.choice(CAT["publics"])
    if rng.random() < 0.08 and CAT["communes"]:
        params["commune"] = rng.choice(CAT["communes"])
    if rng.random() < 0.1:
        params["terminees"] = "1"
    if rng.random() < 0.1:
        params["tri"] = "-debut"
    return params


class PublicSearcher(FastHttpUser):
    """A visitor of the public catalogue (no login) and, now and then, an API client."""

    fixed_count = int(os.environ.get("LOADTEST_SEARCHERS", "200"))
    wait_time = between(1, 5)
    network_timeout = 120.0
    connection_timeout = 120.0

    def on_start(self) -> None:
        self.rng = random.Random()
        self.results: list[str] = []
        self.next_page: str | None = None

    def _keep(self, body: str) -> None:
        links = [link.replace("&amp;", "&") for link in RESULT_RE.findall(body)]
        if links:
            self.results = links
        match = NEXT_RE.search(body)
        self.next_page = match.group(1).replace("&amp;", "&") if match else None

    def _get(self, url: str, name: str, headers: dict | None = None) -> str:
        with self.client.get(url, name=name, headers=headers, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{url}: HTTP {r.status_code}")
                return ""
            return _html(r)

    @task(30)
    def search_page(self) -> None:
        """The catalogue page itself (a bookmarked or shared search)."""
        query = urlencode(_random_search(self.rng))
        self._keep(self._get(f"/catalogue/?{query}", "public: search page"))

    @task(25)
    def type_words(self) -> None:
        """Typing in the search box: htmx asks for the results as the word grows."""
        params = _random_search(self.rng)
        word = self.rng.choice(CAT["words"])
        for end in sorted({min(len(word), 3), min(len(word), 5), len(word)}):
            params["q"] = word[:end]
            body = self._get(f"/catalogue/?{urlencode(params)}", "public: search htmx", HX)
            self._keep(body)
            gevent.sleep(self.rng.uniform(0.3, 0.8))

    @task(10)
    def change_filter(self) -> None:
        """A filter changed in the form: one htmx request."""
        params = _random_search(self.rng)
        params["departement"] = self.rng.choice(CAT["departments"])
        self._keep(self._get(f"/catalogue/?{urlencode(params)}", "public: search htmx", HX))

    @task(8)
    def next_page_htmx(self) -> None:
        if self.next_page is None:
            self.search_page()
            return
        self._keep(self._get(self.next_page, "public: next page htmx", HX))

    @task(20)
    def detail(self) -> None:
        """A result opened: the public page of the action with its sessions."""
        if not self.results:
            self.search_page()
            return
        self._get(self.rng.choice(self.results), "public: detail page")

    @task(5)
    def api_search(self) -> None:
        params = _random_search(self.rng)
        params["taille"] = self.rng.choice((20, 50, 100))
        self._get(f"/api/v1/sessions?{urlencode(params)}", "public: API search")

    @task(4)
    def api_session(self) -> None:
        session_id = self.rng.choice(CAT["session_ids"])
        self._get(f"/api/v1/sessions/{session_id}", "public: API session")
