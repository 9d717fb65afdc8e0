"""Time the public catalogue's search over N published sessions (target: p95 ≤ 50 ms at 1M).

    .venv/bin/python bench/catalogue_bench.py --sessions 1000000      # builds, then times
    .venv/bin/python bench/catalogue_bench.py --sessions 100000
    .venv/bin/python bench/catalogue_bench.py --sessions 1000000 --rebuild

The database is a fresh SQLite file under bench/out/ (kept, so that a second run only times):
schema from the migrations, then Core bulk inserts of the published copy only — establishments,
programmes, ``published_sessions`` and their ``published_terms`` rows computed by
``portal.catalogue.terms.session_terms``, the code publication runs. The data are
deterministic (seeded); about three sessions per action, starting from four years ago to a year
ahead, so that most sessions have ended, as they do in a published copy that grows for years.

Timing is in-process through the Flask test client (routing, parsing, SQL, templates), after
one warm-up pass: common words, prefixes, two words, each filter, words with filters, later
pages, the other sort order, ended sessions included, and the JSON API.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

OUT = ROOT / "bench" / "out"
DEPARTMENTS = {"44", "49", "53", "72", "85"}
_TRADES = (
    "accompagnement accueil agent agricole aide animateur anglais assistant bâtiment bureautique "
    "commerce comptabilité conducteur conseiller création cuisine développement électricité "
    "encadrement énergie entreprise esthétique français gestion hôtellerie immobilier "
    "informatique logistique maintenance management marketing mécanique métiers numérique "
    "paysage préparation projet qualité réseaux restauration santé secrétariat sécurité "
    "services social soins sport technicien tourisme transport vente web"
)
TRADES = _TRADES.split()
KINDS = (
    "Titre professionnel",
    "Certificat de qualification professionnelle",
    "Formation",
    "Préparation",
    "Initiation",
    "Perfectionnement",
    "Habilitation",
    "Parcours",
)
# Objectives: frequent words, then a long tail of rarer ones (Zipf-like).
_COMMON = (
    "acquérir compétences savoir maîtriser techniques professionnelles outils pratique "
    "connaissances métier entreprise clients équipe situation travail réaliser mettre oeuvre "
    "organiser activité projet développer communication sécurité qualité règles environnement"
)
COMMON = _COMMON.split()
_SYLLABLES = (
    "ba be bi bo cal cor da de di fa fi ga gi la le li ma me mi na ne no pa pe pi ra re ri sa se "
    "si ta te ti va ve vi"
)
SYLLABLES = _SYLLABLES.split()
TERM_COLUMNS = (
    "term, span, start_day, session_id, end_day, department, programme_id, teaching_mode, "
    "exit_level"
)
STAGE = "INSERT INTO staged_terms VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
COMPLEMENTS = ("", "", "", "Groupe 1", "Groupe 2", "À distance", "En alternance", "Soir")


def _communes() -> list[tuple[str, str]]:
    with (ROOT / "portal" / "data" / "communes.csv").open(encoding="utf-8") as fh:
        return [
            (row["name"], row["postcodes"].split()[0][:5])
            for row in csv.DictReader(fh)
            if row["department"] in DEPARTMENTS
        ]


def _tail_words(rng: random.Random, count: int) -> list[str]:
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4))))
    return sorted(words)


def _zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    return [1 / (rank**exponent) for rank in range(1, count + 1)]


def _duration(rng: random.Random) -> int | None:
    roll = rng.random()
    if roll < 0.2:
        return rng.randint(1, 31)
    if roll < 0.5:
        return rng.randint(32, 92)
    if roll < 0.75:
        return rng.randint(93, 183)
    if roll < 0.9:
        return rng.randint(184, 366)
    if roll < 0.98:
        return rng.randint(367, 731)
    return None if roll < 0.99 else rng.randint(732, 1100)


def generate(url: str, sessions: int, seed: int = 7) -> None:
    from flask_migrate import upgrade

    from portal import codes, create_app
    from portal.catalogue import terms
    from portal.catalogue.models import PublishedTerm
    from portal.extensions import db
    from portal.models import Establishment, Organisation, Programme, PublishedSession
    from portal.search.normalise import normalise

    rng = random.Random(seed)
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    started = time.perf_counter()
    today = date.today()

    @event.listens_for(Engine, "connect")
    def _bulk_load(dbapi_connection, connection_record) -> None:
        # A scratch file: no journal, the sort in memory (the app's hook sets WAL before).
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "temp_store=MEMORY",
            "cache_size=-2000000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        communes = _communes()
        commune_weights = _zipf_weights(len(communes), 0.8)
        tail = _tail_words(rng, 4000)
        tail_weights = _zipf_weights(len(tail), 0.9)
        publics = list(codes.PUBLIC_TARGETS.codes)
        levels = ["1", "13", "14", "15", "16", "17", "0"]
        establishments = 3000
        with db.engine.begin() as conn:
            conn.execute(
                insert(Organisation),
                [
                    {
                        "id": n,
                        "siren": f"{100000000 + n}",
                        "name": f"Organisme {n}",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(1, establishments + 1)
                ],
            )
            conn.execute(
                insert(Establishment),
                [
                    {
                        "id": n,
                        "organisation_id": n,
                        "siret": f"{100000000 + n}00011",
                        "sofi_number": 60000 + n,
                        "name": f"Centre {rng.choice(TRADES)} {n}",
                        "commune": "Nantes",
                        "postcode": "44000",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(1, establishments + 1)
                ],
            )
            programmes = [
                (1, "1E1F", "PROGRAMME REGION - 1 emploi = 1 formation", 5),
                (2, "PAS", "PROGRAMME REGION - PREPA Avenir Sup", 3),
                (3, "PCA", "PROGRAMME REGION - PREPA Clés Avenir", 4),
                (4, "PE", "PROGRAMME REGION - Formations Parcours entrepreneur", 8),
                (5, "PSS", "PROGRAMME REGION - PREPA Sanitaire et social", 6),
            ]
            conn.execute(
                insert(Programme),
                [
                    {
                        "id": i,
                        "code": c,
                        "name": n,
                        "dispositif_code": d,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, c, n, d in programmes
                ],
            )
            # Indexes are built once the rows are in: much faster than row by row.
            session_indexes = list(PublishedSession.__table__.indexes)
            term_indexes = list(PublishedTerm.__table__.indexes)
            for index in session_indexes + term_indexes:
                index.drop(conn)
            conn.exec_driver_sql(f"CREATE TEMP TABLE staged_terms ({TERM_COLUMNS})")

            session_id = 0
            action_id = 0
            batch: list[dict] = []
            staged: list[tuple] = []
            while session_id < sessions:
                action_id += 1
                formation_id = 100000 + action_id // 2
                trade = rng.choice(TRADES)
                other = rng.choice(TRADES)
                title = f"{rng.choice(KINDS)} {trade} {other}"
                complement = rng.choice(COMPLEMENTS)
                if complement:
                    title += f" - {complement}"
                objective = " ".join(
                    rng.sample(COMMON, rng.randint(6, 12))
                    + rng.choices(tail, tail_weights, k=rng.randint(8, 20))
                )
                establishment = rng.randint(1, establishments)
                programme = rng.choice((None, 1, 2, 3, 4, 5))
                action_publics = rng.sample(publics, rng.randint(1, 3))
                level = rng.choice(levels)
                formacodes = [f"{rng.randint(10000, 99999)}"]
                start_base = today - timedelta(days=rng.randint(-365, 4 * 365))
                for _ in range(rng.choice((1, 2, 3, 3, 4, 5))):
                    if session_id >= sessions:
                        break
                    session_id += 1
                    commune, postcode = rng.choices(communes, commune_weights)[0]
                    start = start_base + timedelta(days=rng.randint(0, 120))
                    days = _duration(rng)
                    end = start + timedelta(days=days) if days is not None else None
                    mode = rng.choice((0, 0, 0, 1, 2))
                    search_text = normalise(
                        f"{title} {objective} {commune} Centre {trade} {establishment} "
                        + " ".join(codes.PUBLIC_TARGETS.label(c) for c in action_publics)
                    )
                    department = postcode[:2]
                    batch.append(
                        {
                            "session_id": session_id,
                            "action_id": action_id,
                            "formation_id": formation_id,
                            "establishment_id": establishment,
                            "fas_code": f"{formation_id}-{action_id}-{session_id}",
                            "programme_id": programme,
                            "lot_id": None,
                            "title": title,
                            "establishment_name": f"Centre {trade} {establishment}",
                            "site_name": "Principal",
                            "commune": commune,
                            "postcode": postcode,
                            "department": department,
                            "start_date": start,
                            "end_date": end,
                            "teaching_mode": mode,
                            "exit_level": level,
                            "public_targets": action_publics,
                            "formacodes": formacodes,
                            "active": True,
                            "search_text": search_text,
                            "data": {
                                "formation": {"title": title, "objective": objective},
                                "action": {
                                    "objectives": objective,
                                    "public_targets": action_publics,
                                },
                                "session": {
                                    "start_date": start.isoformat(),
                                    "end_date": end.isoformat() if end else None,
                                    "teaching_mode": mode,
                                },
                                "session_site": {
                                    "name": "Principal",
                                    "commune": commune,
                                    "postcode": postcode,
                                },
                                "fundings": [{"places": 12, "places_remaining": 5}],
                            },
                            "published_at": now,
                        }
                    )
                    span = terms.span_class(start, end)
                    start_day = terms.day_number(start, terms.NO_START)
                    end_day = terms.day_number(end, terms.NO_END)
                    for term in terms.session_terms(
                        search_text=search_text,
                        department=department,
                        programme_id=programme,
                        commune=commune,
                        teaching_mode=mode,
                        exit_level=level,
                        public_targets=action_publics,
                        formacodes=formacodes,
                    ):
                        staged.append(
                            (
                                term,
                                span,
                                start_day,
                                session_id,
                                end_day,
                                department,
                                programme,
                                mode,
                                level,
                            )
                        )
                if len(batch) >= 5000:
                    conn.execute(insert(PublishedSession), batch)
                    conn.exec_driver_sql(STAGE, staged)
                    batch, staged = [], []
                    if session_id % 100000 < 5:
                        print(f"  {session_id:,} sessions", flush=True)
            if batch:
                conn.execute(insert(PublishedSession), batch)
                conn.exec_driver_sql(STAGE, staged)
            print(
                f"  rows in: {time.perf_counter() - started:.0f} s; sorting the terms", flush=True
            )
            # Inserted in key order, the WITHOUT ROWID table is written page after page.
            conn.exec_driver_sql(
                f"INSERT INTO published_terms ({TERM_COLUMNS}) SELECT {TERM_COLUMNS} "
                "FROM staged_terms ORDER BY term, span, start_day, session_id, end_day"
            )
            conn.exec_driver_sql("DROP TABLE staged_terms")
            print(f"  terms in: {time.perf_counter() - started:.0f} s; indexes", flush=True)
            for index in session_indexes + term_indexes:
                index.create(conn)
        event.remove(Engine, "connect", _bulk_load)
        db.engine.dispose()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("ANALYZE")
            term_rows = conn.scalar(text("SELECT count(*) FROM published_terms"))
    print(
        f"built {sessions:,} sessions, {term_rows:,} term rows "
        f"in {time.perf_counter() - started:.0f} s"
    )


def queries(programme_ids: list[int]) -> list[tuple[str, str]]:
    """(label, URL) of the timed requests."""
    today = date.today()
    soon = (today + timedelta(days=60)).isoformat()
    return [
        ("no words, first page", "/catalogue/"),
        ("common word", "/catalogue/?q=gestion"),
        ("common word", "/catalogue/?q=formation"),
        ("common word", "/catalogue/?q=commerce"),
        ("common word, accents", "/catalogue/?q=Électricité"),
        ("commune word", "/catalogue/?q=nantes"),
        ("objective word", "/catalogue/?q=competences"),
        ("prefix", "/catalogue/?q=compta"),
        ("prefix", "/catalogue/?q=numer"),
        ("prefix, short", "/catalogue/?q=ma"),
        ("two words", "/catalogue/?q=gestion+projet"),
        ("two words", "/catalogue/?q=vente+nantes"),
        ("three words", "/catalogue/?q=titre+professionnel+commerce"),
        ("département", "/catalogue/?departement=44"),
        ("programme", f"/catalogue/?programme={programme_ids[0]}"),
        ("modalité", "/catalogue/?modalite=2"),
        ("niveau", "/catalogue/?niveau=14"),
        ("public", "/catalogue/?public=80006"),
        ("commune", "/catalogue/?commune=Angers"),
        ("dates", f"/catalogue/?du={today.isoformat()}&au={soon}"),
        ("word + département", "/catalogue/?q=gestion&departement=49"),
        ("word + modalité + niveau", "/catalogue/?q=vente&modalite=0&niveau=13"),
        ("word + dates", f"/catalogue/?q=accueil&du={today.isoformat()}&au={soon}"),
        ("page 10", "/catalogue/?q=formation&page=10"),
        ("page 2, three filters", "/catalogue/?departement=85&modalite=0&niveau=15&page=2"),
        ("last page", "/catalogue/?page=25"),
        ("start date, latest first", "/catalogue/?q=gestion&tri=-debut"),
        ("ended included", "/catalogue/?q=gestion&terminees=1"),
        ("ended included, page 20", "/catalogue/?terminees=1&page=20"),
        ("API list", "/api/v1/sessions?q=gestion&departement=44"),
        ("API list, 100 per page", "/api/v1/sessions?q=commerce&taille=100"),
        ("htmx fragment", "/catalogue/?q=logistique"),
    ]


def time_requests(url: str, rounds: int) -> None:
    from portal import create_app
    from portal.extensions import db
    from portal.models import Programme

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    client = app.test_client()
    with app.app_context():
        programme_ids = list(
            db.session.scalars(Programme.__table__.select().with_only_columns(Programme.id))
        )
    plan = queries(programme_ids)
    headers = {"HX-Request": "true"}
    for _, path in plan:  # warm-up: the page cache, the compiled statements
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    timings: dict[str, list[float]] = {}
    cpu: list[float] = []
    for _ in range(rounds):
        for label, path in plan:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(path, headers=headers if label == "htmx fragment" else None)
            elapsed = (time.perf_counter() - started) * 1000
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200, path
            timings.setdefault(f"{label}: {path}", []).append(elapsed)
    every = sorted(t for values in timings.values() for t in values)
    print(f"{'request':<78} {'median':>8} {'max':>8}")
    for name, values in timings.items():
        print(f"{name[:78]:<78} {statistics.median(values):8.1f} {max(values):8.1f}")
    p95 = every[int(len(every) * 0.95) - 1]
    cpu.sort()
    cpu_p95 = cpu[int(len(cpu) * 0.95) - 1]
    print(
        f"\n{len(every)} requests, wall clock: median {statistics.median(every):.1f} ms, "
        f"p95 {p95:.1f} ms, max {every[-1]:.1f} ms"
    )
    # The process's own CPU time: what the request costs when other processes share the cores.
    print(f"CPU time: median {statistics.median(cpu):.1f} ms, p95 {cpu_p95:.1f} ms")
    print(
        json.dumps(
            {
                "median_ms": round(statistics.median(every), 1),
                "p95_ms": round(p95, 1),
                "cpu_p95_ms": round(cpu_p95, 1),
                "load_average": os.getloadavg()[0],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"catalogue_{args.sessions}.sqlite"
    url = f"sqlite:///{path}"
    if args.rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        generate(url, args.sessions)
    time_requests(url, args.rounds)


if __name__ == "__main__":
    main()
