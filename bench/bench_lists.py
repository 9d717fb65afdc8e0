"""Time the session lists in-process (Flask test client): median and p95 per case.

    .venv/bin/python bench/bench_lists.py bench/out/sessions-10000.sqlite --json bench/out/10k.json
    .venv/bin/python bench/bench_lists.py bench/out/sessions-1000000.sqlite --json bench/out/1m.json
    .venv/bin/python bench/bench_lists.py --compare bench/out/10k.json bench/out/1m.json

The database is one built by ``generate_sessions.py`` (a path, or ``--url`` for PostgreSQL).
Every case is requested ``--iterations`` times, round robin after five warm-up rounds; the time
is the whole request through the app (routing, login, queries, template), wall-clock and CPU
(the CPU time leaves out the moments other processes had the core on a shared machine).
List requests carry ``HX-Request`` (what active search and paging send: the results fragment);
one case times the full page.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Bench-2024!"
HX = {"HX-Request": "true"}
COMMON_WORD = "commerce"
BIG_ESTABLISHMENT = 1
BIG_SIRET = "10000000000018"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _timed(call) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds of one call. CPU time leaves out the moments another
    process had the core: on a shared machine it shows what the request itself costs."""
    wall, cpu = time.perf_counter(), time.thread_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


def _count(html: str) -> str:
    match = re.search(r'data-testid="result-count"[^>]*>([^<]+)<', html)
    return match.group(1).replace("\u202f", " ") if match else "?"


def run(url: str, iterations: int) -> dict:
    from sqlalchemy import select

    from portal import create_app
    from portal.extensions import db
    from portal.search.filters import dashboard_counts
    from portal.search.models import SearchLabel, SessionListing

    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    clients = {}
    for role in ("of", "carif"):
        client = app.test_client()
        response = client.post(
            "/connexion", data={"email": f"bench.{role}@example.org", "password": PASSWORD}
        )
        assert response.status_code == 302, f"login {role}: {response.status_code}"
        clients[role] = client

    with app.app_context():
        total = db.session.scalar(select(db.func.count()).select_from(SessionListing))
        middle = db.session.scalars(
            select(SessionListing.session_id)
            .where(SessionListing.establishment_id == BIG_ESTABLISHMENT)
            .order_by(SessionListing.start_date.desc(), SessionListing.session_id.desc())
            .offset(5000)
            .limit(1)
        ).first()
        # A rare word: the label used by the fewest list rows (a commune or a site name).
        rare = db.session.execute(
            select(SearchLabel.text, db.func.count())
            .join(SessionListing, SessionListing.commune_label_id == SearchLabel.id)
            .group_by(SearchLabel.text)
            .order_by(db.func.count(), SearchLabel.text)
            .limit(1)
        ).first()

    cases = [
        ("OF list, page 1", "of", "/sessions", HX),
        ("OF list, last page", "of", "/sessions?page=derniere", HX),
        ("OF list, middle page (apres=)", "of", f"/sessions?apres={middle}", HX),
        ("OF list, full page (no htmx)", "of", "/sessions", {}),
        ("OF list, filter actives", "of", "/sessions?filtre=actives", HX),
        ("OF list, sort intitule, last page", "of", "/sessions?tri=intitule&page=derniere", HX),
        ("OF list, sort etat, page 1", "of", "/sessions?tri=etat", HX),
        (f"OF search '{COMMON_WORD}'", "of", f"/sessions?q={COMMON_WORD}", HX),
        (f"carif search '{COMMON_WORD}', page 1", "carif", f"/sessions?q={COMMON_WORD}", HX),
        (
            f"carif search '{COMMON_WORD}', last page",
            "carif",
            f"/sessions?q={COMMON_WORD}&page=derniere",
            HX,
        ),
        (
            f"carif search '{COMMON_WORD}' sorted by title",
            "carif",
            f"/sessions?q={COMMON_WORD}&tri=intitule",
            HX,
        ),
        (f"carif search rare '{rare[0]}'", "carif", f"/sessions?q={rare[0]}", HX),
        ("carif search two words 'commerce nantes'", "carif", "/sessions?q=commerce+nantes", HX),
        (
            "carif filter initiales-actives, no SIRET",
            "carif",
            "/sessions?filtre=initiales-actives",
            HX,
        ),
        ("carif all sessions, page 1", "carif", "/sessions", HX),
        ("carif all sessions, last page", "carif", "/sessions?page=derniere", HX),
        ("carif SIRET filter (10,000 sessions)", "carif", f"/sessions?siret={BIG_SIRET}", HX),
        ("dashboard page (OF)", "of", "/", {}),
    ]
    calls = []
    for name, role, path, headers in cases:
        client = clients[role]
        response = client.get(path, headers=headers)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        found = _count(response.text) if headers else ""
        calls.append((name, found, lambda c=client, p=path, h=headers: c.get(p, headers=h)))
    today = date.today()

    def counters() -> None:
        # Its own app context, as a request has: no session or ``g`` left from another call.
        with app.app_context():
            dashboard_counts(BIG_ESTABLISHMENT, today)
            db.session.remove()

    calls.append(("dashboard_counts() (10,000 sessions)", "", counters))
    # Round robin: a burst of load on the machine spreads over every case alike.
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in calls}
    for round_ in range(iterations + 5):
        for name, _, call in calls:
            timing = _timed(call)
            if round_ >= 5:  # the first rounds warm the caches
                samples[name].append(timing)
    results = {"url": url.split("@")[-1], "sessions": total, "cases": {}}
    print(f"{total} sessions; rare word '{rare[0]}' ({rare[1]} sessions)")
    print(f"{'case':48} {'median':>8} {'p95':>8} {'cpu p95':>8}   result")
    for name, found, _ in calls:
        wall = [w for w, _ in samples[name]]
        cpu = [c for _, c in samples[name]]
        figures = {
            "median": statistics.median(wall),
            "p95": _percentile(wall, 0.95),
            "cpu_median": statistics.median(cpu),
            "cpu_p95": _percentile(cpu, 0.95),
            "result": found,
        }
        results["cases"][name] = figures
        print(
            f"{name:48} {figures['median']:8.2f} {figures['p95']:8.2f} "
            f"{figures['cpu_p95']:8.2f}   {found}"
        )
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return results


def compare(small_path: str, large_path: str) -> None:
    small = json.loads(Path(small_path).read_text())
    large = json.loads(Path(large_path).read_text())
    n_small, n_large = small["sessions"], large["sessions"]
    print(f"{'p95 (ms)':48} {n_small:>9} {n_large:>9} {'ratio':>6} {'cpu ratio':>9}")
    for name, big in large["cases"].items():
        little = small["cases"].get(name)
        if little is None:
            continue
        ratio = big["p95"] / little["p95"]
        cpu_ratio = big["cpu_p95"] / little["cpu_p95"]
        print(f"{name:48} {little['p95']:9.2f} {big['p95']:9.2f} {ratio:6.2f} {cpu_ratio:9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database", nargs="?", help="SQLite file built by generate_sessions.py")
    parser.add_argument("--url", help="database URL instead of a SQLite file")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--compare", nargs=2, metavar=("SMALL", "LARGE"))
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    url = args.url or f"sqlite:///{Path(args.database).resolve()}"
    results = run(url, args.iterations)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
