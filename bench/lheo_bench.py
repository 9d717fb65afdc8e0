"""LHEO export benchmark: wall time and peak memory of the export at 10,000 and 100,000 sessions.

    .venv/bin/python bench/lheo_bench.py                        # 10k and 100k, then the table
    .venv/bin/python bench/lheo_bench.py --sizes 10000 50000    # other sizes
    .venv/bin/python bench/lheo_bench.py --reuse                # keep existing databases

For each size, a fresh SQLite file ``bench/out/lheo-<n>.sqlite`` is filled with published rows
by Core bulk inserts: one real offer is built with the models and its ``session_data()`` is the
mould of every row (5 sessions per action, 4 actions per formation, dates, sites, codes, hours,
places and texts varied). Then each measure runs in its own subprocess, so that one size's
allocations never count in another's:

- ``time``: the export written to ``bench/out/lheo-<n>.xml`` (the same code path as the view:
  ``export.published_rows`` streamed with ``yield_per`` into ``writer.iter_lheo``); wall and
  CPU time, and the process's peak RSS (VmHWM, which includes the interpreter, the libraries
  and the compiled XSD);
- ``memory``: the same export under ``tracemalloc``; its peak is what the export itself
  allocated in Python (slower, so it is not the timed run).

The 10k document is also validated against the XSD. Targets: 100k in ≤ 20 s, and peak
memory at 100k ≤ 1.5 × the peak at 10k.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

SESSIONS_PER_ACTION = 5
ACTIONS_PER_FORMATION = 4
BATCH = 5000
TODAY = date(2025, 1, 6)


def _app(db_path: Path):
    from portal import create_app

    return create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "MAIL_BACKEND": "memory",
        }
    )


# Data -----------------------------------------------------------------------------------------


def _mould() -> tuple[int, dict]:
    """One complete offer built with the models; its session's published ``data``."""
    from datetime import time as clock

    from portal.extensions import db
    from portal.models import (
        Action,
        Certification,
        Contact,
        Establishment,
        Formation,
        InfoMeeting,
        Lot,
        Organisation,
        Programme,
        Session,
        SessionFunding,
        Site,
    )
    from portal.publication import session_data

    organisation = Organisation(siren="130005119", name="ORGANISME DE BANC", nda="52440000044")
    establishment = Establishment(
        organisation=organisation,
        siret="13000511900032",
        sofi_number=36364,
        name="ORGANISME DE BANC",
        address_line1="12 rue du Président Édouard Herriot",
        postcode="44000",
        commune="Nantes",
        insee_code="44109",
        phone="+33240204020",
        email="offre@example.org",
    )
    db.session.add(establishment)
    db.session.flush()
    site = Site(
        establishment_id=establishment.id,
        name="Principal",
        address_line1="12 rue du Président Édouard Herriot",
        postcode="44000",
        commune="Nantes",
        insee_code="44109",
        phone="+33240204020",
        accessibility_note="Locaux accessibles.",
    )
    contact = Contact(
        establishment_id=establishment.id,
        first_name="Léa",
        last_name="Martin",
        email="lea.martin@example.org",
        phone="+33240204021",
        roles=["1", "2"],
    )
    programme = Programme(
        code="PE",
        name="PROGRAMME REGION - Formations Parcours entrepreneur",
        dispositif_code=8,
        funder_code="2",
        publics="demandeur d'emploi",
    )
    certification = Certification(
        code="93561",
        title="Actions de formation dispensées aux créateurs et repreneurs",
        general_objective="Certification",
        type_label="Autre certification",
        exit_level="1",
        formacodes=["32047", "32032"],
        content="Étude de marché, statuts.",
    )
    db.session.add_all([site, contact, programme, certification])
    db.session.flush()
    lot = Lot(
        programme_id=programme.id,
        code="PE2024_8",
        title="Lot 8 - Maine-et-Loire",
        year=2024,
        region_lot_number="PE2024_8",
        region_action_id="2872",
        region_mandataire_id="75",
        mandataire_id=establishment.id,
    )
    db.session.add(lot)
    db.session.flush()
    formation = Formation(
        establishment_id=establishment.id,
        programme_id=programme.id,
        lot_id=lot.id,
        mandataire_id=establishment.id,
        realisation_site_id=site.id,
        has_certif_info=True,
        certification_id=certification.id,
        individualised_by_blocs=False,
        bloc_validation="1",
    )
    db.session.add(formation)
    db.session.flush()
    action = Action(
        formation_id=formation.id,
        establishment_id=establishment.id,
        site_id=site.id,
        programme_complement="<p>Accompagnement individuel et ateliers collectifs.</p>",
        objectives="<p>Construire et valider son projet.</p>",
        entry_level="1",
        prerequisites=["6"],
        public_targets=["80006", "82010"],
        status="validated",
        public_comment="Demandeurs d'emploi ayant un projet de création.",
    )
    db.session.add(action)
    db.session.flush()
    session = Session(
        action_id=action.id,
        establishment_id=establishment.id,
        site_id=site.id,
        start_date=date(2025, 2, 10),
        end_date=date(2025, 6, 28),
        entry_exit_mode="0",
        rhythm="1",
        training_periods=["1"],
        path_type="1",
        pedagogical_modes=["96142"],
        teaching_mode=0,
        hours_centre=200,
        hours_company=35,
        hours_weekly=Decimal("35"),
        responsible_id=establishment.id,
        recruitment_state="1",
        recruitment_modes=["8", "9"],
        referent_pmr_id=contact.id,
        liaison_contact_id=contact.id,
    )
    db.session.add(session)
    db.session.flush()
    db.session.add_all(
        [
            InfoMeeting(
                session_id=session.id,
                establishment_id=establishment.id,
                site_id=site.id,
                day=date(2025, 1, 25),
                start_time=clock(9, 30),
            ),
            SessionFunding(
                session_id=session.id,
                establishment_id=establishment.id,
                programme_id=programme.id,
                publics="demandeur d'emploi",
                places=12,
                places_remaining=5,
                fee_ht=Decimal("2500"),
                vat_rate=Decimal("20"),
                region_lot_number="PE2024_8",
                region_action_id="2872",
                region_mandataire_id="75",
                teaching_fees_covered=True,
            ),
        ]
    )
    db.session.commit()
    db.session.refresh(session)
    return establishment.id, session_data(session)


SITES = [
    ("Principal", "12 rue du Président Édouard Herriot", "44000", "Nantes", "44109"),
    ("Angers", "2 boulevard Foch", "49100", "Angers", "49007"),
    ("Le Mans", "5 place de la République", "72000", "Le Mans", "72181"),
    ("La Roche", "10 rue Clemenceau", "85000", "La Roche-sur-Yon", "85191"),
    ("Laval", "3 quai Béatrice de Gavre", "53000", "Laval", "53130"),
]
PUBLICS = ["80006", "82010", "81024", "82044", "83056"]


def _rows(mould: dict, establishment_id: int, start: int, count: int) -> list[dict]:
    rows = []
    for i in range(start, start + count):
        d = copy.deepcopy(mould)
        f, a, s = d["formation"], d["action"], d["session"]
        action_no = i // SESSIONS_PER_ACTION
        f["id"] = 1 + action_no // ACTIONS_PER_FORMATION
        a["id"], s["id"] = 1 + action_no, 1 + i
        d["fas_code"] = f"{f['id']}-{a['id']}-{s['id']}"
        # An action's sessions mostly share a site; the sites rotate from action to action.
        name, line, postcode, commune, insee = SITES[(action_no + (i % 7 == 6)) % len(SITES)]
        d["session_site"] = dict(
            d["session_site"],
            name=name,
            line1=line,
            postcode=postcode,
            commune=commune,
            insee_code=insee,
            department=postcode[:2],
        )
        begin = TODAY + timedelta(days=i % 365)
        s["start_date"], s["end_date"] = (
            begin.isoformat(),
            (begin + timedelta(days=60 + i % 240)).isoformat(),
        )
        s["hours_centre"], s["hours_company"] = 100 + i % 500, (i % 5) * 35
        s["teaching_mode"] = i % 3
        # Action-level values are the same for all the sessions of an action (publish() writes
        # an action's rows together), so they vary by action.
        a["public_targets"] = PUBLICS[: 1 + action_no % len(PUBLICS)]
        a["title_complement"] = f"Groupe {action_no % 17}"
        d["info_meetings"][0]["day"] = (begin - timedelta(days=14)).isoformat()
        d["fundings"][0]["places"] = 8 + i % 10
        rows.append(
            {
                "session_id": s["id"],
                "action_id": a["id"],
                "formation_id": f["id"],
                "establishment_id": establishment_id,
                "fas_code": d["fas_code"],
                "programme_id": f["programme"]["id"],
                "lot_id": f["lot"]["id"],
                "title": f["title"],
                "establishment_name": "ORGANISME DE BANC",
                "site_name": name,
                "commune": commune,
                "postcode": postcode,
                "department": postcode[:2],
                "start_date": begin,
                "active": True,
                "search_text": "",
                "data": d,
            }
        )
    return rows


def generate(db_path: Path, size: int) -> float:
    """Create and fill the database; return the seconds it took."""
    from sqlalchemy import insert

    from portal.extensions import db
    from portal.models import PublishedSession

    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    app = _app(db_path)
    with app.app_context():
        db.create_all()
        establishment_id, mould = _mould()
        table = PublishedSession.__table__
        for start in range(0, size, BATCH):
            rows = _rows(mould, establishment_id, start, min(BATCH, size - start))
            db.session.execute(insert(table), rows)
            db.session.commit()
        db.engine.dispose()
    return time.perf_counter() - started


# Measures (run in a subprocess) ---------------------------------------------------------------


def child(mode: str, db_path: Path, out: Path) -> None:
    import tracemalloc

    from portal.extensions import db
    from portal.lheo import export, schema, writer

    app = _app(db_path)
    with app.app_context():
        schema()  # what the app loads once anyway
        with db.engine.connect():
            pass
        if mode == "memory":
            tracemalloc.start()
            tracemalloc.reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        with out.open("wb") as fh:
            written = writer.write_lheo(export.published_rows(), fh, today=TODAY)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if mode == "memory" else None
        db.session.remove()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "bytes": written,
                "tracemalloc_peak": peak,
                "maxrss_kb": _peak_rss_kb(),
            }
        )
    )


def _peak_rss_kb() -> int:
    """This process's peak RSS: VmHWM on Linux (ru_maxrss would also count the parent's RSS
    at fork time), ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run_child(mode: str, db_path: Path, out: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db", str(db_path), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _validate(path: Path) -> str:
    from lxml import etree

    from portal.lheo import schema

    doc = etree.parse(str(path), etree.XMLParser(huge_tree=True, resolve_entities=False))
    sessions = len(doc.getroot().findall(".//{http://lheo.gouv.fr/2.3}session"))
    if schema().validate(doc):
        return f"valid ({sessions} sessions)"
    return f"INVALID: {schema().error_log[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reuse", action="store_true", help="keep existing databases")
    parser.add_argument("--child", choices=["time", "memory", "generate"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "generate":
        print(json.dumps({"seconds": generate(args.db, args.size)}))
        return
    if args.child:
        child(args.child, args.db, args.out)
        return

    OUT.mkdir(parents=True, exist_ok=True)
    results = {}
    for size in args.sizes:
        db_path = OUT / f"lheo-{size}.sqlite"
        if not (args.reuse and db_path.exists()):
            print(f"{size} sessions: generating…", flush=True)
            # In its own process too, so that this one stays small (see _peak_rss_kb).
            result = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "generate",
                    "--db",
                    str(db_path),
                    "--size",
                    str(size),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            seconds = json.loads(result.stdout.strip().splitlines()[-1])["seconds"]
            print(f"  generated in {seconds:.1f} s", flush=True)
        xml = OUT / f"lheo-{size}.xml"
        timed = _run_child("time", db_path, xml)
        traced = _run_child("memory", db_path, OUT / f"lheo-{size}-traced.xml")
        results[size] = timed | {
            "tracemalloc_peak": traced["tracemalloc_peak"],
            "traced_seconds": traced["seconds"],
        }
        print(f"  exported in {timed['seconds']:.2f} s", flush=True)
        if size == min(args.sizes):
            print(f"  XSD: {_validate(xml)}", flush=True)
        os.remove(OUT / f"lheo-{size}-traced.xml")

    print()
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{'sessions':>9} | {'wall (s)':>8} | {'CPU (s)':>7} | {'MiB out':>7} | "
        f"{'tracemalloc peak (MiB)':>22} | {'peak RSS (MiB)':>14}"
    )
    print("-" * 82)
    for size, r in results.items():
        print(
            f"{size:>9} | {r['seconds']:>8.2f} | {r['cpu_seconds']:>7.2f} | "
            f"{r['bytes'] / 2**20:>7.1f} | {r['tracemalloc_peak'] / 2**20:>22.2f} | "
            f"{r['maxrss_kb'] / 1024:>14.1f}"
        )
    if len(results) >= 2:
        small, large = min(results), max(results)
        trace = results[large]["tracemalloc_peak"] / results[small]["tracemalloc_peak"]
        rss = results[large]["maxrss_kb"] / results[small]["maxrss_kb"]
        print(
            f"\npeak ratio {large} / {small}: tracemalloc {trace:.2f}x, RSS {rss:.2f}x "
            f"(target <= 1.5x); {large} sessions in {results[large]['seconds']:.1f} s wall, "
            f"{results[large]['cpu_seconds']:.1f} s CPU (target <= 20 s)"
        )


if __name__ == "__main__":
    main()
