"""Rebuild portal/data/communes.csv from the npm package @etalab/decoupage-administratif.

Usage::

    python scripts/refresh_communes.py                # npm pack the pinned version into a temp dir
    python scripts/refresh_communes.py PATH           # an extracted package dir, or its .tgz

The package's ``data/communes.json`` (Licence Ouverte / Etalab 2.0: COG from INSEE, postcodes
from La Poste) lists every commune of the Code officiel géographique with a ``type``. Kept:

* ``commune-actuelle``: the current communes, including the overseas departments (971-976) and
  the overseas collectivities (975, 977, 978, 984, 986-989). The five TAAF districts (984xx)
  have no postcode; they stay in the file with an empty ``postcodes`` so that the INSEE list is
  complete, and no postcode lookup ever returns them.
* ``arrondissement-municipal``: the 45 arrondissements of Paris, Lyon and Marseille have their
  own INSEE codes (75101, 69381, 13201...) and postcodes, and are what people often write. Each
  postcode of an arrondissement is also listed on its city (75056, 69123, 13055), so "Paris"
  and "Paris 1er Arrondissement" both match 75001.

Left out: ``commune-deleguee`` and ``commune-associee`` (former communes merged into a
"commune nouvelle" or associated with another one; 2,576 entries in 6.0.0). The source gives
none of them a postcode, and their INSEE code is either their chef-lieu's again (584: a
duplicate key, e.g. Cherbourg-Octeville and Cherbourg-en-Cotentin are both 50129) or a code
that is no longer current (the rest). Keeping them would mean inventing their postcodes from
the commune nouvelle's and letting a form record a withdrawn INSEE code or a name that is not
the official one. Without them, "Cherbourg-Octeville, 50100" is rejected with a message that
lists the current commune for that postcode ("Cherbourg-en-Cotentin"), which is the name a
published offer has to carry.

Output columns: ``insee_code,name,postcodes,department``; postcodes sorted and ``|``-separated;
rows sorted by INSEE code; UTF-8 without BOM, ``\\n`` line ends. Plain stdlib only.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
MEMBER = "data/communes.json"
KEPT_TYPES = ("commune-actuelle", "arrondissement-municipal")
COLUMNS = ("insee_code", "name", "postcodes", "department")
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "portal" / "data" / "communes.csv"


def read_package(source: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return (package.json, communes.json) from an extracted package directory or a .tgz.

    A directory may be the package root itself or the folder holding its ``package/`` root.
    """
    if source.is_file():
        with tarfile.open(source, "r:gz") as tar:

            def load(name: str) -> Any:
                member = tar.extractfile(f"package/{name}")
                if member is None:
                    raise SystemExit(f"{source}: package/{name} is not a regular file")
                return json.load(member)

            return load("package.json"), load(MEMBER)
    root = source / "package" if (source / "package" / MEMBER).is_file() else source
    if not (root / MEMBER).is_file():
        raise SystemExit(f"{source}: no {MEMBER} found (expected an extracted npm package)")
    manifest = json.loads((root / "package.json").read_text(encoding="utf-8"))
    communes = json.loads((root / MEMBER).read_text(encoding="utf-8"))
    return manifest, communes


def npm_pack(version: str, workdir: Path) -> Path:
    """Download the package tarball with ``npm pack`` into workdir and return its path."""
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{version}", "--silent"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise SystemExit(f"npm pack left {len(tarballs)} tarballs in {workdir}")
    return tarballs[0]


def build_rows(communes: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """The CSV rows (kept types only), sorted by INSEE code; refuse duplicate codes."""
    rows: dict[str, tuple[str, str, str, str]] = {}
    for entry in communes:
        if entry.get("type") not in KEPT_TYPES:
            continue
        code = entry["code"]
        if code in rows:
            raise SystemExit(f"duplicate INSEE code {code} among the kept communes")
        postcodes = sorted(set(entry.get("codesPostaux") or ()))
        for postcode in postcodes:
            if len(postcode) != 5 or not postcode.isdigit():
                raise SystemExit(f"{code}: unexpected postcode {postcode!r}")
        rows[code] = (code, entry["nom"].strip(), "|".join(postcodes), entry["departement"])
    return [rows[code] for code in sorted(rows)]


def write_csv(rows: list[tuple[str, str, str, str]], output: Path) -> None:
    """Write the rows with their header, UTF-8 without BOM."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        help="extracted package directory or .tgz (default: npm pack it into a temp dir)",
    )
    parser.add_argument("--version", default=VERSION, help=f"package version (default {VERSION})")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="CSV to write")
    args = parser.parse_args(argv)

    if args.source is None:
        with tempfile.TemporaryDirectory(prefix="communes-") as tmp:
            manifest, communes = read_package(npm_pack(args.version, Path(tmp)))
    else:
        manifest, communes = read_package(args.source)
    if manifest.get("name") != PACKAGE:
        raise SystemExit(f"not {PACKAGE}: package.json names {manifest.get('name')!r}")
    if manifest.get("version") != args.version:
        print(
            f"warning: package version {manifest.get('version')}, expected {args.version}",
            file=sys.stderr,
        )

    rows = build_rows(communes)
    write_csv(rows, args.output)
    print(
        f"wrote {len(rows)} rows to {args.output} "
        f"({PACKAGE} {manifest.get('version')}, {args.output.stat().st_size} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
