"""Benchmark of the imports: the Region's extraction file and the Certif Info register.

The numbers to prove: "a Region file with 5,000 lots and 20,000 organisations imports in
≤ 10 s; the 12,000-code Certif Info register in ≤ 5 s".

What it does:

1. generates a Region workbook (``--lots``, default 5,000; ``--organisations``, default 20,000):
   five programmes; lots spread over them; 20,000 organisations of one establishment each
   (distinct SIRENs, valid check digits), a tenth of them mandataires (one per lot) and the
   others formateurs (four per lot), written with ``portal.imports.region.write_xlsx`` into
   bench/out/ (its generation is not timed);
2. for each of ``--runs`` runs, empties a fresh SQLite database (bench/out/imports_bench.sqlite,
   schema from the Alembic migrations; ``--database-url`` for PostgreSQL) and times
   ``commit_import`` — reading the XLSX, checking every row, comparing with the database,
   writing everything in one transaction (journal lines included) and committing — then times
   the re-import of the same file (nothing to write) and the preview alone;
3. does the same with the real register JSON (../shared/reference/datasets/certifinfo/,
   12,429 codes; skipped with a message when absent, ``--register`` to give another one):
   first import into an empty table, re-import, preview;
4. prints the median (and each run) against the targets; exit status 1 when a median misses.

Run it (from the project root):

    .venv/bin/python bench/imports_bench.py
    .venv/bin/python bench/imports_bench.py --runs 5 --lots 5000 --organisations 20000
    .venv/bin/python bench/imports_bench.py --database-url postgresql+psycopg://localhost/bench

Times are wall-clock ``time.perf_counter()`` in-process (no HTTP): the upload page does the
same work between "Confirmer l'import" and the redirect.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select, text
from stdnum import luhn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.imports import region  # noqa: E402
from portal.imports.runner import KINDS, commit_import, plan_import  # noqa: E402
from portal.models import Certification, Establishment, JournalEntry, Lot  # noqa: E402

OUT = ROOT / "bench" / "out"
SHARED_REGISTER = ROOT.parent / "shared/reference/datasets/certifinfo/certifinfo-trefle-2020.json"
REGION_TARGET = 10.0
REGISTER_TARGET = 5.0
PROGRAMMES = [("1E1F", 5), ("PAS", 3), ("PCA", 4), ("PE", 8), ("PSS", 6)]
COMMUNES = [("44000", "Nantes"), ("49100", "Angers"), ("72000", "Le Mans"), ("85000", "La Roche")]


def siret(n: int) -> str:
    siren8 = f"{60000000 + n:08d}"
    siren = siren8 + luhn.calc_check_digit(siren8)
    base = siren + "0001"
    return base + luhn.calc_check_digit(base)


def region_sheets(lots: int, organisations: int, seed: int = 42) -> dict[str, list[dict]]:
    """The Region file's rows: one establishment per organisation, a tenth mandataires."""
    rng = random.Random(seed)
    mandataires = max(1, organisations // 10)
    formateurs = organisations - mandataires

    def establishment(n: int) -> dict:
        postcode, commune = COMMUNES[n % len(COMMUNES)]
        return {
            "siret": siret(n),
            "raison_sociale": f"ORGANISME DE FORMATION {n}",
            "adresse": f"{n % 200 + 1} rue de la Formation",
            "code_postal": postcode,
            "commune": commune,
            "nda": f"52{n:09d}",
        }

    sheets: dict[str, list[dict]] = {
        "programmes": [
            {
                "code_programme": code,
                "intitule": f"PROGRAMME REGION - Programme {code}",
                "code_dispositif": dispositif,
                "publics": "demandeur d'emploi",
                "sessions_annee_du_lot": "oui" if code == "PE" else "non",
            }
            for code, dispositif in PROGRAMMES
        ],
        "lots": [],
        "mandataires": [],
        "formateurs": [],
    }
    per_lot = max(1, round(formateurs / lots))
    for i in range(lots):
        programme, _ = PROGRAMMES[i % len(PROGRAMMES)]
        code = f"{programme}2025_{i + 1}"
        sheets["lots"].append(
            {
                "code_lot": code,
                "code_programme": programme,
                "intitule": f"Lot {i + 1} - Formations du territoire {i % 97}",
                "annee": 2025,
                "numero_lot_cr": code,
                "id_action_cr": str(3000 + i),
                "places_commandees": rng.randint(8, 60),
                "forfait_recrutement": "oui" if i % 4 == 0 else "non",
            }
        )
        sheets["mandataires"].append(
            {"code_lot": code, "of_mandataire_cr": str(i % mandataires + 1)}
            | establishment(i % mandataires)
        )
        for k in range(per_lot):
            n = mandataires + (i * per_lot + k) % formateurs
            sheets["formateurs"].append({"code_lot": code} | establishment(n))
    return sheets


class Timings(list):
    """Wall-clock seconds of each run; ``cpu`` keeps the process CPU seconds beside them."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: list[float] = []


def timed(function: Callable[[], object], into: Timings | None = None) -> tuple[float, object]:
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    elapsed = time.perf_counter() - start
    if into is not None:
        into.append(elapsed)
        into.cpu.append(time.process_time() - cpu)
    return elapsed, result


def reset_database() -> None:
    """Empty every table (schema kept), as a fresh database."""
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def report(title: str, times: Timings, target: float | None = None) -> bool:
    """Print the median wall time (the target's measure) and the median CPU time, which other
    processes on a busy machine cannot inflate."""
    median = statistics.median(times)
    runs = ", ".join(f"{t:.2f}" for t in times)
    verdict = ""
    ok = True
    if target is not None:
        ok = median <= target
        verdict = f"  {'OK' if ok else 'TROP LENT'} (objectif ≤ {target:.0f} s)"
    cpu = statistics.median(times.cpu)
    print(f"  {title:<42} médiane {median:6.2f} s (CPU {cpu:5.2f} s)  [{runs}]{verdict}")
    return ok


def bench_region(args, runs: int) -> bool:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"region_{args.lots}_{args.organisations}.xlsx"
    seconds, sheets = timed(lambda: region_sheets(args.lots, args.organisations))
    write_seconds, _ = timed(lambda: region.write_xlsx(path, sheets))
    rows = sum(len(v) for v in sheets.values())
    print(
        f"Fichier Région : {args.lots} lots, {args.organisations} organismes, {rows} lignes, "
        f"{path.stat().st_size / 1e6:.1f} Mo (généré en {seconds + write_seconds:.1f} s)"
    )
    kind = KINDS["region"]
    first, again, preview = Timings(), Timings(), Timings()
    for _ in range(runs):
        reset_database()
        _, result = timed(lambda: commit_import(kind, [path]), first)
        assert result.status == "committed", result.plan.errors[:5] or result.message
        _, result = timed(lambda: commit_import(kind, [path]), again)
        assert result.status == "committed" and not result.plan.has_changes
        timed(lambda: plan_import(kind, [path]), preview)
        db.session.rollback()
    counts = {
        m.__name__: db.session.scalar(select(func.count()).select_from(m))
        for m in (Lot, Establishment, JournalEntry)
    }
    print(f"  base après import : {counts}")
    ok = report("premier import (lecture → commit)", first, REGION_TARGET)
    ok &= report("ré-import du même fichier (0 changement)", again, REGION_TARGET)
    report("aperçu seul", preview)
    return ok


def bench_register(args, runs: int) -> bool:
    path = Path(args.register)
    if not path.exists():
        print(f"Registre Certif Info : {path} absent, mesure ignorée.")
        return True
    kind = KINDS["certifinfo"]
    first, again, preview = Timings(), Timings(), Timings()
    for _ in range(runs):
        reset_database()
        _, result = timed(lambda: commit_import(kind, [path]), first)
        assert result.status == "committed", result.plan.errors[:5] or result.message
        _, result = timed(lambda: commit_import(kind, [path]), again)
        assert not result.plan.has_changes
        timed(lambda: plan_import(kind, [path]), preview)
        db.session.rollback()
    total = db.session.scalar(select(func.count()).select_from(Certification))
    print(f"Registre Certif Info : {path.name}, {total} codes")
    ok = report("premier import", first, REGISTER_TARGET)
    ok &= report("ré-import (0 changement)", again, REGISTER_TARGET)
    report("aperçu seul", preview)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=5000)
    parser.add_argument("--organisations", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--register", default=str(SHARED_REGISTER))
    parser.add_argument("--database-url", help="default: a SQLite file in bench/out/")
    parser.add_argument("--only", choices=["region", "certifinfo"])
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    if url is None:
        database = OUT / "imports_bench.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{database}"
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    ok = True
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        print(f"Base : {db.engine.dialect.name} · {args.runs} exécution(s) par mesure")
        if args.only in (None, "region"):
            ok &= bench_region(args, args.runs)
        if args.only in (None, "certifinfo"):
            ok &= bench_register(args, args.runs)
        db.session.remove()
        db.engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Mémoire maximale du processus : {peak:.0f} Mo")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
