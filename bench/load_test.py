"""Load test: gunicorn (2 workers) under OF users saving fields live and public searchers.

    .venv/bin/python bench/load_test.py --db sqlite                  # 60 s, 50 OF + 200 public
    .venv/bin/python bench/load_test.py --db postgresql              # same on a throwaway cluster
    .venv/bin/python bench/load_test.py --db sqlite --smoke          # 10 s, 5 OF + 20 public

1. A fresh database: a SQLite file in bench/out/loadtest/, or, for PostgreSQL, a private
   cluster: the script re-runs itself under ``pg_virtualenv -t`` (server on localhost, deleted
   afterwards) unless ``--url`` names a database. Schema by the migrations, then the data of
   ``bench/loadtest/data.py``: the demo data, ``--sessions`` sessions over ``--establishments``
   establishments (the generator of ``bench/live_save_bench.py``), the validated actions
   published by ``portal.publication`` (about half the sessions), the list rows rebuilt.
2. ``gunicorn -c gunicorn.conf.py --bind 127.0.0.1:<free port> wsgi:app`` — the production
   settings (2 sync workers, ``gc.freeze`` after fork) with SECRET_KEY, DATABASE_URL and
   RATELIMIT_STORAGE_URI=memory:// in the environment; waits until it answers.
3. Locust, headless: ``bench/loadtest/locustfile.py`` with exactly ``--of-users`` OF users and
   ``--searchers`` public searchers (``fixed_count``) for ``--duration`` seconds; users finish
   the request they are in when time is up (``--stop-timeout``).
4. gunicorn is stopped, then the report: per request type and overall the requests,
   throughput, p50/p95/p99 (exact, from every request's time) and failures (anything but the
   expected status is one); the server log's errors (tracebacks, worker timeouts); then the
   write check: the last acknowledged value of every (record, field) must be the stored one,
   every record's version the last acknowledged one, and every acknowledged change must be in
   the journal with its value, in order (an extra journal line would be a commit nobody was
   told about). Printed, and written to bench/out/loadtest-<db>.json.

Exit status 0 when there were no failures, no server errors and no lost or unacknowledged
writes; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
VENV_BIN = Path(sys.executable).parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

SERVER_ERROR_RE = re.compile(r"Traceback|WORKER TIMEOUT|\[ERROR\]|\[CRITICAL\]|database is locked")
# How a live-saved field's value reads, posted, stored or journaled (others compare as text).
INT_FIELDS = {"hours_centre", "places", "hours_company", "places_remaining"}
DECIMAL_FIELDS = {"fee_ht", "vat_rate", "additional_fees", "equipment_cost"}
DATE_FIELDS = {"start_date", "end_date"}
LIST_FIELDS = {"prerequisites", "public_targets", "training_periods", "recruitment_modes"}


# Values ---------------------------------------------------------------------------------------


def canonical(field: str, value: Any) -> Any:
    """One comparable form of a value posted (str/list), stored (typed) or journaled (text)."""
    if value is None or value == "":
        return None
    if field in LIST_FIELDS:
        if isinstance(value, str):
            value = json.loads(value)
        return sorted(str(v) for v in value)
    if field in INT_FIELDS:
        return int(value)
    if field in DECIMAL_FIELDS:
        if isinstance(value, str):
            value = value.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
            value = value.replace(",", ".")
        return Decimal(value).normalize()
    if field in DATE_FIELDS:
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else date.fromisoformat(value)
    return str(value)


# Statistics -----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of the sorted ``values`` (rounded to 0.1 ms), None if empty."""
    if not values:
        return None
    return round(values[max(0, math.ceil(p / 100 * len(values)) - 1)], 1)


def ms(value: float | None, width: int = 7) -> str:
    return f"{value:>{width}.1f}" if value is not None else f"{'-':>{width}}"


def summarise(rows: list[tuple], window_s: float) -> dict[str, Any]:
    times = sorted(r[3] for r in rows)
    failures = [r for r in rows if r[5] is not None]
    return {
        "requests": len(rows),
        "throughput_rps": round(len(rows) / window_s, 2) if window_s else None,
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "p99_ms": percentile(times, 99),
        "max_ms": round(times[-1], 1) if times else None,
        "failures": len(failures),
    }


def request_stats(requests: list[tuple]) -> tuple[dict[str, Any], float]:
    """Per request name, per user class (``OF:`` / ``public:``) and overall."""
    if not requests:
        return {}, 0.0
    start = min(r[2] for r in requests)
    end = max(r[2] + r[3] / 1000 for r in requests)
    window = end - start
    by_name: dict[str, list[tuple]] = defaultdict(list)
    for r in requests:
        by_name[r[0]].append(r)
    stats = {name: summarise(rows, window) for name, rows in sorted(by_name.items())}
    saves = [r for r in requests if r[0].startswith("OF: live save")]
    stats["OF: all live saves"] = summarise(saves, window)
    stats["OF: all requests"] = summarise([r for r in requests if r[0].startswith("OF:")], window)
    stats["public: all requests"] = summarise(
        [r for r in requests if r[0].startswith("public:")], window
    )
    stats["overall"] = summarise(requests, window)
    return stats, window


def after_logins(requests: list[tuple], skip: float = 20.0) -> dict[str, Any]:
    """Overall and per class from ``skip`` s on: the steady state, once the logins' argon2
    burst (every OF user logs in during the first second) has drained."""
    if not requests:
        return {}
    start = min(r[2] for r in requests) + skip
    late = [r for r in requests if r[2] >= start]
    if not late:
        return {}
    window = max(r[2] + r[3] / 1000 for r in requests) - start
    return {
        "from_s": skip,
        "overall": summarise(late, window),
        "OF: all live saves": summarise(
            [r for r in late if r[0].startswith("OF: live save")], window
        ),
        "public: all requests": summarise([r for r in late if r[0].startswith("public:")], window),
    }


def timeline(requests: list[tuple], step: float = 10.0) -> list[dict[str, Any]]:
    """Overall and live-save latency per ``step`` seconds of the run (the ramp shows)."""
    if not requests:
        return []
    start = min(r[2] for r in requests)
    slices: dict[int, list[tuple]] = defaultdict(list)
    for r in requests:
        slices[int((r[2] - start) // step)].append(r)
    rows = []
    for index in sorted(slices):
        rows_all = slices[index]
        saves = [r for r in rows_all if r[0].startswith("OF: live save")]
        times = sorted(r[3] for r in rows_all)
        save_times = sorted(r[3] for r in saves)
        rows.append(
            {
                "from_s": index * step,
                "requests": len(rows_all),
                "rps": round(len(rows_all) / step, 1),
                "p50_ms": percentile(times, 50),
                "p95_ms": percentile(times, 95),
                "saves": len(saves),
                "save_p50_ms": percentile(save_times, 50),
                "save_p95_ms": percentile(save_times, 95),
                "failures": sum(1 for r in rows_all if r[5] is not None),
            }
        )
    return rows


# Write check ----------------------------------------------------------------------------------


def check_writes(url: str, acks: list[dict[str, Any]], journal_start: int) -> dict[str, Any]:
    """Every acknowledged save against the database and the journal.

    Per (record, field), the journal lines written during the run give the field's history:
    the value before the first, then each line's ``after``. An acknowledged save that changed
    the value (version + 1) is found when the next line of that history carries its value; one
    that re-posted the stored value (same version) when the value in force at that point is
    its value. The last acknowledged save must also be what the row holds now, and each
    record's version the last acknowledged one. Anything else is a lost write; a journal line
    no acknowledged save accounts for is a commit the user was never told about.
    """
    from loadtest.data import make_app
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Action, JournalEntry, Session, SessionFunding

    models = {"Action": Action, "Session": Session, "SessionFunding": SessionFunding}
    by_field: dict[tuple, list[dict]] = defaultdict(list)
    last_version: dict[tuple, int] = {}
    for ack in sorted(acks, key=lambda a: (a["t"], a["seq"])):
        record = (ack["record_type"], ack["record_id"])
        by_field[(*record, ack["field"])].append(ack)
        last_version[record] = max(last_version.get(record, 0), ack["new_version"])

    app = make_app(url)
    lost: list[dict] = []
    unexplained: list[dict] = []
    version_mismatch: list[dict] = []
    found = journaled = 0
    with app.app_context():
        history: dict[tuple, list[JournalEntry]] = defaultdict(list)
        stmt = (
            select(JournalEntry)
            .where(JournalEntry.id > journal_start, JournalEntry.operation == "update")
            .order_by(JournalEntry.id)
        )
        for line in db.session.scalars(stmt):
            history[(line.record_type, line.record_id, line.field)].append(line)
        for key, field_acks in by_field.items():
            record_type, record_id, field = key
            lines = history.pop(key, [])
            stored = canonical(
                field, getattr(db.session.get(models[record_type], record_id), field)
            )
            current = canonical(field, lines[0].before) if lines else stored
            position = 0
            for ack in field_acks:
                value = canonical(field, ack["value"])
                if ack["new_version"] == ack["old_version"]:
                    ok = value == current
                else:
                    # Lines before the matching one were commits nobody acknowledged.
                    while (
                        position < len(lines) and canonical(field, lines[position].after) != value
                    ):
                        unexplained.append(_line(lines[position]))
                        position += 1
                    ok = position < len(lines)
                    if ok:
                        journaled += 1
                        current = value
                        position += 1
                if ack is field_acks[-1] and stored != value:
                    ok = False
                if ok:
                    found += 1
                else:
                    lost.append(
                        {
                            "record": f"{record_type} {record_id}",
                            "field": field,
                            "acked": ack["value"],
                            "versions": [ack["old_version"], ack["new_version"]],
                            "stored": str(stored),
                        }
                    )
            unexplained += [_line(line) for line in lines[position:]]
        edited = set(last_version)
        for (record_type, record_id, _field), lines in history.items():
            if (record_type, record_id) in edited:
                unexplained += [_line(line) for line in lines]
        for (record_type, record_id), version in last_version.items():
            stored_version = db.session.get(models[record_type], record_id).version
            if stored_version != version:
                version_mismatch.append(
                    {
                        "record": f"{record_type} {record_id}",
                        "acked": version,
                        "stored": stored_version,
                    }
                )
        db.session.remove()
        db.engine.dispose()
    changes = sum(1 for a in acks if a["new_version"] == a["old_version"] + 1)
    return {
        "acknowledged_saves": len(acks),
        "found_in_db": found,
        "lost": len(lost),
        "lost_detail": lost[:20],
        "acknowledged_changes": changes,
        "unchanged_value_saves": len(acks) - changes,
        "journal_found": journaled,
        "journal_unacknowledged": len(unexplained),
        "journal_unacknowledged_detail": unexplained[:20],
        "records_fields": len(by_field),
        "records_checked": len(last_version),
        "version_mismatches": len(version_mismatch),
        "version_mismatch_detail": version_mismatch[:20],
    }


def _line(entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "record": f"{entry.record_type} {entry.record_id}",
        "field": entry.field,
        "after": entry.after,
    }


# Processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base: str, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode} before answering.")
        try:
            with urllib.request.urlopen(f"{base}/catalogue/", timeout=10) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            raise SystemExit(
                f"gunicorn answered {base}/catalogue/ with HTTP {error.code}."
            ) from error
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer {base}/catalogue/ within {timeout:.0f} s.")


def warm_up(base: str) -> None:
    """A few requests per worker: templates compiled, first connections opened."""
    for path in ("/catalogue/", "/catalogue/?q=gestion", "/connexion", "/api/v1/sessions"):
        for _ in range(4):
            with urllib.request.urlopen(f"{base}{path}", timeout=30) as response:
                response.read()


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and of its direct children still running."""
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for each in [pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICKS, sum(values[:8]) / TICKS


def postgres_pid(url: str) -> int | None:
    """The postmaster's pid (its children are the backends serving gunicorn), else None."""
    if not url.startswith("postgresql"):
        return None
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        directory = conn.scalar(text("SHOW data_directory"))
    engine.dispose()
    try:
        return int((Path(directory) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cpu_shares(before: dict[str, float], after: dict[str, float], wall: float) -> dict:
    """Cores used during the run: the machine, gunicorn, PostgreSQL, Locust, the rest."""
    used = {key: (after[key] - before[key]) / wall for key in before}
    return {
        "machine_cores_busy": round(used["machine"], 2),
        "gunicorn_cores": round(used["gunicorn"], 2),
        "postgresql_cores": round(used["postgresql"], 2),
        "locust_cores": round(used["locust"], 2),
        "other_processes_cores": round(
            used["machine"] - used["gunicorn"] - used["postgresql"] - used["locust"], 2
        ),
        "gunicorn_cpu_s": round(after["gunicorn"] - before["gunicorn"], 1),
        "postgresql_cpu_s": round(after["postgresql"] - before["postgresql"], 1),
    }


def cpu_snapshot(server: subprocess.Popen, database_pid: int | None) -> dict[str, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "machine": machine_cpu()[0],
        "gunicorn": process_cpu(server.pid),
        "postgresql": process_cpu(database_pid) if database_pid else 0.0,
        "locust": children.ru_utime + children.ru_stime,  # waited children: Locust
    }


def server_errors(log: Path) -> list[str]:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if SERVER_ERROR_RE.search(line)]


# Main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--of-users", type=int, default=50)
    parser.add_argument("--searchers", type=int, default=200)
    parser.add_argument(
        "--of-wait",
        default="1,3",
        help="seconds between two saves of an OF user, min,max (typing: 1,3; stress: 0,0.2)",
    )
    parser.add_argument("--spawn-rate", type=float, default=50, help="users started per second")
    parser.add_argument("--sessions", type=int, default=40_000, help="sessions generated")
    parser.add_argument("--establishments", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--url", help="an existing database to recreate (default: a fresh one)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="development run: 10 s, 5 OF users, 20 searchers, 4,000 sessions",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.of_users, args.searchers = 10, 5, 20
        args.sessions, args.establishments = 4_000, 100
    if args.of_users > args.establishments:
        parser.error("--of-users needs as many --establishments (one account each)")
    return args


def database_url(args: argparse.Namespace, run_dir: Path) -> str:
    if args.url:
        return args.url
    if args.db == "sqlite":
        path = run_dir / "loadtest.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return "postgresql+psycopg://"  # the libpq environment of pg_virtualenv


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.db == "postgresql" and not args.url and "PGHOST" not in os.environ:
        # A private throwaway cluster on localhost for the whole run, deleted afterwards.
        if shutil.which("pg_virtualenv") is None:
            raise SystemExit("pg_virtualenv not found: install postgresql-common or use --url.")
        command = ["pg_virtualenv", "-t", "--", sys.executable, *sys.argv]
        return subprocess.call(command, cwd=ROOT)

    from loadtest import data

    label = f"{args.db}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = OUT / "loadtest" / label
    run_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(args, run_dir)
    print(f"[1/4] Building the database ({args.db}): {args.sessions:,} sessions ...", flush=True)
    plan = data.build(
        url,
        sessions=args.sessions,
        establishments=args.establishments,
        of_users=args.of_users,
        seed=args.seed,
    )
    plan_path = run_dir / "plan.json"
    plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    print(f"      {plan['sizes']} in {plan['timings']['total_s']} s", flush=True)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "SECRET_KEY": "load-test-secret-key",
        "DATABASE_URL": url,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Plain HTTP on loopback: no redirect to https, no Secure cookies (portal/security.py).
        "SECURE_TRANSPORT": "0",
    }
    server_log = run_dir / "gunicorn.log"
    print(f"[2/4] gunicorn -c gunicorn.conf.py --bind 127.0.0.1:{port} wsgi:app", flush=True)
    with server_log.open("w") as log:
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(base, server)
        warm_up(base)
        users = args.of_users + args.searchers
        load_start = os.getloadavg()
        print(
            f"[3/4] Locust: {args.of_users} OF users + {args.searchers} searchers, "
            f"{args.duration} s (load average {load_start[0]:.2f})",
            flush=True,
        )
        locust_env = os.environ | {
            "LOADTEST_PLAN": str(plan_path),
            "LOADTEST_OUT": str(run_dir),
            "LOADTEST_OF_USERS": str(args.of_users),
            "LOADTEST_SEARCHERS": str(args.searchers),
            "LOADTEST_OF_WAIT": args.of_wait,
        }
        started = time.time()
        database_pid = postgres_pid(url)
        cpu_before = cpu_snapshot(server, database_pid)
        with (run_dir / "locust.log").open("w") as log:
            locust = subprocess.run(
                [
                    str(VENV_BIN / "locust"),
                    "-f",
                    str(BENCH / "loadtest" / "locustfile.py"),
                    "--headless",
                    "--host",
                    base,
                    "-u",
                    str(users),
                    "-r",
                    str(args.spawn_rate),
                    "-t",
                    f"{args.duration}s",
                    "--stop-timeout",
                    "60",
                    "--csv",
                    str(run_dir / "locust"),
                    "--only-summary",
                ],
                cwd=ROOT,
                env=locust_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        elapsed = time.time() - started
        cpu_after = cpu_snapshot(server, database_pid)
        load_end = os.getloadavg()
    finally:
        stop(server)

    print("[4/4] Checking the writes ...", flush=True)
    requests = []
    for path in run_dir.glob("requests-*.json"):
        requests += [tuple(r) for r in json.loads(path.read_text(encoding="utf-8"))]
    acks = [
        json.loads(line)
        for path in run_dir.glob("acks-*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line
    ]
    stats, window = request_stats(requests)
    writes = check_writes(url, acks, plan["journal_start_id"])
    errors = server_errors(server_log)
    failure_kinds: dict[str, int] = defaultdict(int)
    for r in requests:
        if r[5] is not None:
            failure_kinds[f"{r[0]}: {r[5][:120]}"] += 1
    report = {
        "database": args.db,
        "url": url if args.db == "sqlite" else "postgresql (pg_virtualenv -t, localhost)",
        "duration_s": args.duration,
        "measured_window_s": round(window, 1),
        "locust_wall_s": round(elapsed, 1),
        "locust_exit_status": locust.returncode,
        "of_users": args.of_users,
        "searchers": args.searchers,
        "of_wait_s": args.of_wait,
        "gunicorn": "gunicorn.conf.py: 2 sync workers, gc.freeze in post_fork",
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in load_end],
        "cpu_count": os.cpu_count(),
        "cpu_during_run": cpu_shares(cpu_before, cpu_after, elapsed),
        "data": plan["sizes"],
        "data_build_s": plan["timings"],
        "requests": stats,
        "timeline_10s": timeline(requests),
        "after_logins": after_logins(requests),
        "failures_by_kind": dict(sorted(failure_kinds.items(), key=lambda kv: -kv[1])),
        "server_error_lines": len(errors),
        "server_error_sample": errors[:20],
        "writes": writes,
        "run_dir": str(run_dir.relative_to(ROOT)),
    }
    ok = (
        stats.get("overall", {}).get("failures", 1) == 0
        and not errors
        and writes["lost"] == 0
        and writes["version_mismatches"] == 0
        and writes["journal_unacknowledged"] == 0
        and writes["acknowledged_saves"] > 0
    )
    report["verdict"] = "PASS" if ok else "FAIL"
    for target in (run_dir / "report.json", OUT / f"loadtest-{args.db}.json"):
        target.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print_report(report)
    return 0 if ok else 1


def print_report(report: dict[str, Any]) -> None:
    print("\n" + "=" * 100)
    print(
        f"Load test on {report['database']}: {report['of_users']} OF users + "
        f"{report['searchers']} public searchers, {report['duration_s']} s "
        f"(requests over {report['measured_window_s']} s), gunicorn 2 sync workers"
    )
    sizes = report["data"]
    print(
        f"Data: {sizes['sessions']:,} sessions ({sizes['actions']:,} actions, "
        f"{sizes['establishments']:,} establishments), {sizes['published_sessions']:,} "
        f"published sessions ({sizes['published_actions']:,} actions) — built in "
        f"{report['data_build_s']['total_s']} s"
    )
    print(
        f"Load average (1/5/15 min) at start {report['load_average_start']}, at end "
        f"{report['load_average_end']}, {report['cpu_count']} CPUs"
    )
    cpu = report["cpu_during_run"]
    overall = report["requests"].get("overall", {}).get("requests") or 1
    print(
        f"CPU during the run (cores of {report['cpu_count']}): machine {cpu['machine_cores_busy']}"
        f" = gunicorn {cpu['gunicorn_cores']} + PostgreSQL {cpu['postgresql_cores']} + Locust "
        f"{cpu['locust_cores']} + other processes {cpu['other_processes_cores']}; CPU per "
        f"request: gunicorn {cpu['gunicorn_cpu_s'] * 1000 / overall:.1f} ms, PostgreSQL "
        f"{cpu['postgresql_cpu_s'] * 1000 / overall:.1f} ms"
    )
    print("=" * 100)
    print(
        f"{'request':<32} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'fail':>6}"
    )
    for name, s in report["requests"].items():
        if not s["requests"]:
            continue
        if name == "OF: all live saves":
            print("-" * 100)
        print(
            f"{name:<32} {s['requests']:>9,} {s['throughput_rps']:>8.2f} {ms(s['p50_ms'], 8)} "
            f"{ms(s['p95_ms'], 8)} {ms(s['p99_ms'], 8)} {ms(s['max_ms'], 8)} {s['failures']:>6}"
        )
    print("=" * 100)
    steady = report["after_logins"]
    if steady:
        print(f"From {steady['from_s']:.0f} s on (logins done):")
        for name in ("OF: all live saves", "public: all requests", "overall"):
            row = steady[name]
            print(
                f"  {name:<22} {row['requests']:>6,} req  {row['throughput_rps']:>6.1f} req/s  "
                f"p50 {ms(row['p50_ms'], 6)}  p95 {ms(row['p95_ms'], 6)}  "
                f"p99 {ms(row['p99_ms'], 6)} ms  failures {row['failures']}"
            )
    print("Per 10 s of the run (start: users logging in):")
    for row in report["timeline_10s"]:
        print(
            f"  {row['from_s']:>4.0f} s  {row['rps']:>6.1f} req/s  p50 {ms(row['p50_ms'])}  "
            f"p95 {ms(row['p95_ms'])} ms | saves {row['saves']:>4}  p50 {ms(row['save_p50_ms'])}"
            f"  p95 {ms(row['save_p95_ms'])} ms | failures {row['failures']}"
        )
    for kind, n in report["failures_by_kind"].items():
        print(f"  failure x{n}: {kind}")
    print(f"Server log: {report['server_error_lines']} error lines")
    for line in report["server_error_sample"][:5]:
        print(f"  {line[:160]}")
    w = report["writes"]
    print(
        f"Acknowledged saves: {w['acknowledged_saves']:,}, found in DB: {w['found_in_db']:,}, "
        f"lost: {w['lost']}"
    )
    print(
        f"  journal: {w['journal_found']:,} of the {w['acknowledged_changes']:,} acknowledged "
        f"changes found with their value, in order ({w['unchanged_value_saves']} saves re-posted "
        f"the stored value); lines no acknowledgement explains: {w['journal_unacknowledged']}"
    )
    print(
        f"  rows: last acknowledged value of {w['records_fields']} (record, field) stored; "
        f"version of {w['records_checked']} records = last acknowledged: "
        f"{w['version_mismatches']} mismatches"
    )
    for key in ("lost_detail", "version_mismatch_detail", "journal_unacknowledged_detail"):
        for item in w[key][:5]:
            print(f"  {key}: {item}")
    print(f"Verdict: {report['verdict']} — report in {report['run_dir']}/report.json")


if __name__ == "__main__":
    raise SystemExit(main())
