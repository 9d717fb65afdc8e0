"""Build a benchmark database: N sessions over 5,000 establishments, one of them with 10,000.

    .venv/bin/python bench/generate_sessions.py --sessions 1000000
    .venv/bin/python bench/generate_sessions.py --sessions 10000
    .venv/bin/python bench/generate_sessions.py --sessions 100000 \
        --url postgresql+psycopg://...        # inside pg_virtualenv, see bench/README.md

The schema comes from the migrations (as in production); the offer is inserted with Core bulk
inserts (no ORM, no journal), then the list rows are computed by ``portal.search.listing``
— the code the application runs — with their indexes built afterwards. The data are
deterministic (seeded): the same command gives the same database.

Establishment 1 (SIRET 10000000000018, the "big" one) holds ``--big`` sessions (10,000, or
all of them when N is smaller); the others share the rest with a skewed distribution, as real
organisations do. Accounts for the benchmark: ``bench.of@example.org`` (OF, attached to the
big establishment) and ``bench.carif@example.org`` (carif), password ``Bench-2024!``.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Index, delete, func, insert, select, text  # noqa: E402

PASSWORD = "Bench-2024!"
OUT = ROOT / "bench" / "out"
DEPARTMENTS = {"44", "49", "53", "72", "85"}  # Pays de la Loire
WORDS = (  # noqa: SIM905  (a sentence of words reads better than 52 quoted strings)
    "accompagnement accueil agent agricole aide animateur anglais assistant bâtiment bureautique "
    "commerce comptabilité conducteur conseiller création cuisine développement électricité "
    "encadrement énergie entreprise esthétique français gestion hôtellerie immobilier "
    "informatique logistique maintenance management marketing mécanique métiers numérique "
    "paysage préparation projet qualité réseaux restauration santé secrétariat sécurité "
    "services social soins sport technicien tourisme transport vente web"
).split()
COMPLEMENTS = (
    [f"Session {m}" for m in ("de printemps", "d'automne", "d'été", "d'hiver")]
    + [f"Groupe {n}" for n in range(1, 13)]
    + ["Parcours individualisé", "Formation en alternance", "Remise à niveau", "À distance"]
)


def _siret(n: int) -> str:
    from stdnum import luhn

    siren = f"{10000000 + n:08d}"
    siren += luhn.calc_check_digit(siren)
    base = f"{siren}{1:04d}"
    return base + luhn.calc_check_digit(base)


def _communes() -> list[tuple[str, str, str]]:
    with (ROOT / "portal" / "data" / "communes.csv").open(encoding="utf-8") as fh:
        return [
            (row["insee_code"], row["name"], row["postcodes"].split()[0][:5])
            for row in csv.DictReader(fh)
            if row["department"] in DEPARTMENTS
        ]


def _shares(total: int, count: int, rng: random.Random) -> list[int]:
    """Split ``total`` over ``count`` establishments, skewed like real organisations."""
    if count <= 0 or total <= 0:
        return [0] * max(count, 0)
    weights = [1 / (rank**0.7) for rank in range(1, count + 1)]
    rng.shuffle(weights)
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % count] += 1
    return shares


def generate(url: str, sessions: int, establishments: int, big: int, seed: int = 5) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.extensions import db
    from portal.imports.certifinfo import read_register
    from portal.models import (
        Action,
        ActionStatus,
        Certification,
        Establishment,
        Formation,
        Organisation,
        Programme,
        Session,
        Site,
        User,
    )
    from portal.models.directory import user_establishments
    from portal.search import listing
    from portal.search.models import ActionListing, SessionListing

    rng = random.Random(seed)
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    started = time.perf_counter()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            # List-row indexes are built once the rows are in: much faster than row by row.
            listing_indexes = [
                index
                for model in (SessionListing, ActionListing)
                for index in model.__table__.indexes
            ]
            for index in listing_indexes:
                index.drop(conn)

            communes = _communes()
            certs = [
                {
                    "code": e.code,
                    "title": e.title,
                    "type_code": e.type_code,
                    "type_label": e.type_label,
                    "exit_level": e.exit_level,
                    "formacodes": [],
                    "archived": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for e in read_register(ROOT / "portal" / "data" / "certifinfo-demo.json")
            ]
            conn.execute(insert(Certification), certs)
            cert_ids = conn.scalars(select(Certification.id)).all()
            programmes = [
                ("1E1F", "PROGRAMME REGION - 1 emploi = 1 formation", 5),
                ("PAS", "PROGRAMME REGION - PREPA Avenir Sup", 3),
                ("PCA", "PROGRAMME REGION - PREPA Clés Avenir", 4),
                ("PE", "PROGRAMME REGION - Formations Parcours entrepreneur", 8),
                ("PSS", "PROGRAMME REGION - PREPA Sanitaire et social", 6),
            ]
            conn.execute(
                insert(Programme),
                [
                    {
                        "code": c,
                        "name": n,
                        "dispositif_code": d,
                        "is_public": True,
                        "is_region": True,
                        "start_in_lot_year": c == "PE",
                        "funder_code": "2",
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for c, n, d in programmes
                ],
            )
            programme_ids = conn.scalars(select(Programme.id)).all()

            organisations = max(1, establishments * 2 // 3)
            conn.execute(
                insert(Organisation),
                [
                    {
                        "id": n,
                        "siren": _siret(n)[:9],
                        "name": f"Organisme {n}",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(1, organisations + 1)
                ],
            )
            est_rows, site_rows = [], []
            sites_of: dict[int, list[tuple[int, str]]] = {}
            site_id = 0
            for n in range(1, establishments + 1):
                insee, commune, postcode = rng.choice(communes)
                name = (
                    "CENTRE DE FORMATION DU GRAND OUEST"
                    if n == 1
                    else f"{rng.choice(['INSTITUT', 'CENTRE', 'ECOLE', 'ATELIER', 'GRETA'])} "
                    f"{rng.choice(WORDS).upper()} {commune.upper()} {n}"
                )
                est_rows.append(
                    {
                        "id": n,
                        "organisation_id": (n - 1) % organisations + 1,
                        "siret": _siret(n) if n > 1 else "10000000000018",
                        "sofi_number": 60000 + n,
                        "name": name,
                        "postcode": postcode,
                        "commune": commune,
                        "insee_code": insee,
                        "active": True,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                for k in range(rng.choice([1, 1, 2, 3]) + (4 if n == 1 else 0)):
                    site_id += 1
                    insee, commune, postcode = (
                        (insee, commune, postcode) if k == 0 else rng.choice(communes)
                    )
                    site_rows.append(
                        {
                            "id": site_id,
                            "establishment_id": n,
                            "name": "Principal" if k == 0 else f"Antenne {commune}",
                            "postcode": postcode,
                            "commune": commune,
                            "insee_code": insee,
                            "active": True,
                            "version": 1,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    sites_of.setdefault(n, []).append((site_id, commune))
            conn.execute(insert(Establishment), est_rows)
            conn.execute(insert(Site), site_rows)

            rest = _shares(sessions - min(big, sessions), establishments - 1, rng)
            shares = [min(big, sessions), *rest]
            formation_id = action_id = session_id = 0
            formations, actions, session_rows = [], [], []
            today = date.today()

            def flush_offer() -> None:
                if formations:
                    conn.execute(insert(Formation), formations)
                if actions:
                    conn.execute(insert(Action), actions)
                if session_rows:
                    conn.execute(insert(Session), session_rows)
                formations.clear()
                actions.clear()
                session_rows.clear()

            for est, count in enumerate(shares, start=1):
                remaining = count
                while remaining > 0:
                    formation_id += 1
                    with_cert = rng.random() < 0.7
                    programme = rng.choice(programme_ids) if rng.random() < 0.6 else None
                    formations.append(
                        {
                            "id": formation_id,
                            "establishment_id": est,
                            "programme_id": programme,
                            "has_certif_info": with_cert,
                            "certification_id": rng.choice(cert_ids) if with_cert else None,
                            "free_title": None
                            if with_cert
                            else " ".join(rng.sample(WORDS, rng.randint(2, 5))).capitalize(),
                            "certif_replaced_at": now if rng.random() < 0.01 else None,
                            "version": 1,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    for _ in range(rng.randint(1, 3)):
                        if remaining <= 0:
                            break
                        action_id += 1
                        site, _commune = rng.choice(sites_of[est])
                        actions.append(
                            {
                                "id": action_id,
                                "formation_id": formation_id,
                                "establishment_id": est,
                                "site_id": site,
                                "title_complement": rng.choice(COMPLEMENTS)
                                if rng.random() < 0.4
                                else None,
                                "prerequisites": [],
                                "public_targets": [],
                                "status": rng.choice(ActionStatus.ALL),
                                "version": 1,
                                "created_at": now,
                                "updated_at": now,
                            }
                        )
                        for _ in range(min(remaining, rng.randint(1, 6))):
                            session_id += 1
                            remaining -= 1
                            place, _ = rng.choice(sites_of[est])
                            dated = rng.random() > 0.03
                            start = today + timedelta(days=rng.randint(-900, 500))
                            end = start + timedelta(days=rng.randint(20, 400))
                            mode = rng.choices([0, 1, 2], [80, 12, 8])[0]
                            session_rows.append(
                                {
                                    "id": session_id,
                                    "action_id": action_id,
                                    "establishment_id": est,
                                    "site_id": place,
                                    "start_date": start if dated else None,
                                    "end_date": end if dated else None,
                                    "teaching_mode": mode,
                                    "recruitment_state": "1",
                                    "training_periods": [],
                                    "pedagogical_modes": [],
                                    "recruitment_modes": [],
                                    "active": rng.random() < 0.85,
                                    "is_initial_training": rng.random() < 0.03,
                                    "is_apprenticeship": rng.random() < 0.08,
                                    "is_professionalisation": rng.random() < 0.05,
                                    "version": 1,
                                    "created_at": now,
                                    "updated_at": now,
                                }
                            )
                if len(session_rows) >= 20000:
                    flush_offer()
            flush_offer()

            password = hash_password(PASSWORD)
            conn.execute(
                insert(User),
                [
                    {
                        "id": 1,
                        "email": "bench.of@example.org",
                        "password_hash": password,
                        "first_name": "Bench",
                        "last_name": "OF",
                        "role": "of",
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    },
                    {
                        "id": 2,
                        "email": "bench.carif@example.org",
                        "password_hash": password,
                        "first_name": "Bench",
                        "last_name": "Carif",
                        "role": "carif",
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    },
                ],
            )
            conn.execute(insert(user_establishments), [{"user_id": 1, "establishment_id": 1}])
            if db.engine.dialect.name == "postgresql":
                for table in (
                    "organisations",
                    "establishments",
                    "sites",
                    "formations",
                    "actions",
                    "sessions",
                    "users",
                ):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                        )
                    )
            print(
                f"offer: {session_id} sessions, {action_id} actions, {formation_id} "
                f"formations ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )

            conn.execute(delete(SessionListing))
            listing.rebuild(
                conn,
                chunk=10000,
                progress=lambda n: n % 100000 == 0 and print(f"  {n} list rows", flush=True),
            )
            print(f"list rows written ({time.perf_counter() - started:.0f} s)", flush=True)
            for index in listing_indexes:
                Index.create(index, conn)
            print(f"indexes built ({time.perf_counter() - started:.0f} s)", flush=True)
        if db.engine.dialect.name == "postgresql":
            # What autovacuum would do after such a load: the planner needs the statistics.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        with db.engine.connect() as conn:
            labels = conn.scalar(text("SELECT count(*) FROM search_labels"))
            rows = conn.scalar(select(func.count()).select_from(SessionListing))
        print(f"done: {rows} list rows, {labels} labels, {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--establishments", type=int, default=5000)
    parser.add_argument("--big", type=int, default=10_000, help="sessions of establishment 1")
    parser.add_argument("--url", help="database URL (default: bench/out/sessions-N.sqlite)")
    args = parser.parse_args()
    url = args.url
    if url is None:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"sessions-{args.sessions}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    generate(url, args.sessions, args.establishments, args.big)


if __name__ == "__main__":
    main()
