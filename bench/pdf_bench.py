"""Time the PDF catalogue on about a thousand pages: pages, seconds, pages/s (median of runs).

    .venv/bin/python bench/pdf_bench.py                    # generate, then build 3 times
    .venv/bin/python bench/pdf_bench.py --formations 4200  # about 3,000 pages
    .venv/bin/python bench/pdf_bench.py --profile          # one run under cProfile

The published rows are generated here: a fresh SQLite file under bench/out/, filled with
SQLAlchemy Core bulk inserts (organisations, establishments, a programme and its lots, and
``published_sessions`` whose ``data`` has the shape ``portal.publication.session_data``
writes). The time measured is what a background job spends: ``write_catalogue`` — the query,
the grouping and the layout — into an in-memory file. Target: 100 pages/s or more.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"

TITLES = [
    "Titre professionnel assistant ressources humaines",
    "Titre professionnel comptable assistant",
    "Électricité générale : habilitation électrique",
    "Créer ou reprendre une entreprise",
    "CAP cuisine",
    "Français langue étrangère – niveau A2",
    "Préparation aux métiers du soin et de l'aide à la personne",
    "Titre professionnel agent de propreté et d'hygiène",
    "Développeur web et web mobile",
    "Conduite d'engins de chantier – CACES R482",
    "Remise à niveau : mathématiques et écrits professionnels",
    "Titre professionnel secrétaire assistant médico-social",
    "Soudage TIG – MIG/MAG",
    "Gestion de la paie et des déclarations sociales",
    "BTS négociation et digitalisation de la relation client",
]
COMMUNES = [
    ("44000", "Nantes", "44"),
    ("44600", "Saint-Nazaire", "44"),
    ("49000", "Angers", "49"),
    ("49300", "Cholet", "49"),
    ("53000", "Laval", "53"),
    ("72000", "Le Mans", "72"),
    ("85000", "La Roche-sur-Yon", "85"),
    ("44400", "Rezé", "44"),
    ("49400", "Saumur", "49"),
]
OBJECTIVE = (
    "acquérir les compétences nécessaires à l'exercice du métier ; maîtriser les outils "
    "numériques, la réglementation, la sécurité et l'hygiène ; préparer l'insertion "
    "professionnelle par des périodes en entreprise ; développer son projet et valider "
    "les blocs de compétences de la certification visée"
)
WORDS = OBJECTIVE.split()
FIRST = ["Léa", "Hélène", "Jérôme", "François", "Chloé", "Gaëlle", "Noël", "Agnès", "Rémi"]
LAST = ["Martin", "Bernard", "Lefèvre", "Garnier", "Müller", "Moreau", "Girard", "Faure"]


def _objective(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(40, 110))]
    return " ".join(words).capitalize() + "."


def _address(rng: random.Random, name: str) -> dict:
    postcode, commune, department = rng.choice(COMMUNES)
    return {
        "name": name,
        "line1": f"{rng.randint(1, 120)} rue de la Formation",
        "line2": None,
        "postcode": postcode,
        "commune": commune,
        "insee_code": None,
        "department": department,
        "phone": f"02 40 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        "email": f"contact{rng.randint(1, 999)}@organisme-formation.example.org",
        "accessibility": None,
    }


def _contact(rng: random.Random, n: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "id": n,
        "civility": None,
        "first_name": first,
        "last_name": last,
        "function": None,
        "email": f"{first.lower()}.{last.lower()}@organisme-formation.example.org",
        "phone": f"02 41 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        "mobile": None,
        "roles": ["1"],
    }


def generate(path: Path, formations: int, seed: int = 2024) -> int:
    """Create the database at ``path``; return the number of published sessions."""
    from sqlalchemy import insert

    from portal import create_app
    from portal.extensions import db
    from portal.models import Establishment, Lot, Organisation, Programme, PublishedSession

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    rng = random.Random(seed)
    today = date.today()
    now = datetime.now(UTC)
    with app.app_context():
        db.create_all()
        conn = db.session.connection()
        conn.execute(
            insert(Organisation),
            [
                {
                    "id": i,
                    "siren": f"{100000000 + i}",
                    "name": f"Organisme de formation {i}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, 41)
            ],
        )
        establishments = [
            {
                "id": i,
                "organisation_id": i,
                "siret": f"{100000000 + i}00012",
                "sofi_number": 30000 + i,
                "name": f"Centre de formation n° {i} – Pays de la Loire",
                "commune": "Nantes",
                "postcode": "44000",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(1, 41)
        ]
        conn.execute(insert(Establishment), establishments)
        conn.execute(
            insert(Programme),
            [
                {
                    "id": 1,
                    "code": "PRF",
                    "name": "PROGRAMME REGION - Formations qualifiantes",
                    "dispositif_code": 8,
                    "is_public": True,
                    "is_region": True,
                    "start_in_lot_year": False,
                    "funder_code": "2",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        conn.execute(
            insert(Lot),
            [
                {
                    "id": i,
                    "programme_id": 1,
                    "code": f"PRF_{i}",
                    "title": f"Lot {i} - Qualifiant",
                    "year": today.year,
                    "mandataire_id": i,
                    "fixed_recruitment_fee": False,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, 9)
            ],
        )
        rows, session_id, action_id = [], 0, 0
        for formation_id in range(1, formations + 1):
            title = rng.choice(TITLES)
            lot_id = rng.randint(1, 8)
            formation = {
                "id": formation_id,
                "title": title,
                "objective": _objective(rng),
                "certification": {
                    "code": str(90000 + formation_id % 5000),
                    "type_label": "Titre professionnel",
                    "exit_level": "14",
                    "rncp_code": f"RNCP{30000 + formation_id % 900}",
                },
                "blocs": [],
                "programme": {
                    "id": 1,
                    "code": "PRF",
                    "name": "PROGRAMME REGION - Formations qualifiantes",
                },
                "lot": {
                    "id": lot_id,
                    "code": f"PRF_{lot_id}",
                    "title": f"Lot {lot_id}",
                    "year": today.year,
                },
            }
            for _ in range(rng.choice((1, 1, 2, 3))):
                action_id += 1
                establishment = rng.choice(establishments)
                organisation = {
                    "id": establishment["id"],
                    "name": establishment["name"],
                    "address": _address(rng, establishment["name"]),
                }
                action_site = _address(rng, "Site principal")
                action = {
                    "id": action_id,
                    "title_complement": rng.choice(
                        ["", "", "Parcours individualisé", "Session de printemps"]
                    ),
                    "entry_level": "1",
                    "plus_formation": rng.choice(["", "Plateau technique équipé."]),
                    "action_url": None,
                }
                for _ in range(rng.randint(1, 5)):
                    session_id += 1
                    start = today + timedelta(days=rng.randint(10, 300))
                    end = start + timedelta(days=rng.randint(30, 240))
                    site = _address(rng, rng.choice(["Principal", "Antenne", "Plateau technique"]))
                    fee_ht = rng.choice((1500, 2500, 4200, 6800))
                    data = {
                        "fas_code": f"{formation_id}-{action_id}-{session_id}",
                        "formation": formation,
                        "action": action,
                        "session": {
                            "id": session_id,
                            "start_date": start.isoformat(),
                            "end_date": end.isoformat(),
                            "entry_exit_mode": "0",
                            "teaching_mode": rng.choice((0, 0, 1)),
                            "hours_centre": rng.choice((140, 350, 600)),
                            "hours_company": rng.choice((0, 70, 210)),
                            "hours_weekly": "35.00",
                        },
                        "organisation": organisation,
                        "action_site": action_site,
                        "session_site": site,
                        "info_meetings": [{"day": (start - timedelta(days=14)).isoformat()}],
                        "fundings": [
                            {
                                "places": rng.randint(8, 16),
                                "fee_ttc": f"{fee_ht * 1.2:.2f}",
                                "teaching_fees_covered": True,
                            }
                        ],
                        "referents": {
                            "liaison": _contact(rng, session_id),
                            "prf": None,
                            "pmr": None,
                            "mobility": None,
                        },
                    }
                    rows.append(
                        {
                            "session_id": session_id,
                            "action_id": action_id,
                            "formation_id": formation_id,
                            "establishment_id": establishment["id"],
                            "fas_code": data["fas_code"],
                            "programme_id": 1,
                            "lot_id": lot_id,
                            "title": title,
                            "establishment_name": establishment["name"],
                            "site_name": site["name"],
                            "commune": site["commune"],
                            "postcode": site["postcode"],
                            "department": site["department"],
                            "start_date": start,
                            "end_date": end,
                            "teaching_mode": 0,
                            "exit_level": "14",
                            "public_targets": [],
                            "formacodes": [],
                            "active": True,
                            "search_text": title.lower(),
                            "data": data,
                            "published_at": now,
                        }
                    )
        for i in range(0, len(rows), 2000):
            conn.execute(insert(PublishedSession), rows[i : i + 2000])
        db.session.commit()
        db.engine.dispose()
    return len(rows)


def build(path: Path, runs: int, profile: bool) -> None:
    from portal import create_app
    from portal.extensions import db
    from portal.pdf import write_catalogue

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    times, cpu_times, pages = [], [], 0
    with app.app_context():
        for run in range(runs):
            out = io.BytesIO()
            profiler = cProfile.Profile() if profile else None
            started, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            result = write_catalogue({}, out)
            if profiler:
                profiler.disable()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            pages = result.pages
            times.append(elapsed)
            cpu_times.append(cpu)
            print(
                f"run {run + 1}: {result.pages} pages, {result.formations} formations, "
                f"{result.sessions} sessions, {len(out.getvalue()) / 1e6:.1f} MB, "
                f"{elapsed:.2f} s ({cpu:.2f} s CPU), {result.pages / elapsed:.0f} pages/s"
            )
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            db.session.remove()
        db.engine.dispose()
    median, median_cpu = statistics.median(times), statistics.median(cpu_times)
    print(
        f"median of {runs}: {pages} pages in {median:.2f} s = {pages / median:.0f} pages/s "
        f"(CPU time {median_cpu:.2f} s = {pages / median_cpu:.0f} pages/s; the two differ when "
        "other processes compete for the CPU)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--formations", type=int, default=1400, help="formations to generate (1400 ≈ 1,000 pages)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="one run under cProfile")
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"pdf_bench_{args.formations}.sqlite"
    if not (args.reuse and path.exists()):
        started = time.perf_counter()
        sessions = generate(path, args.formations)
        print(
            f"generated {sessions} published sessions of {args.formations} formations "
            f"in {time.perf_counter() - started:.1f} s: {path}"
        )
    build(path, 1 if args.profile else args.runs, args.profile)


if __name__ == "__main__":
    main()
