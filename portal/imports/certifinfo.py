"""Read the Certif Info register in its JSON tree form (level → type → code)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Old French levels of the register's tree → LHEO dict-niveaux codes (2019 framework).
OLD_LEVEL_TO_LHEO = {
    "niveau1": "17",  # I (bac + 5 et plus) → niveau 7
    "niveau2": "16",  # II (bac + 3/4) → niveau 6
    "niveau3": "15",  # III (bac + 2) → niveau 5
    "niveau4": "14",  # IV (bac) → niveau 4
    "niveau5": "13",  # V (CAP, BEP) → niveau 3
    "niveau6": "11",  # VI → niveau 1
    "niveau7": "12",  # V bis → niveau 2
    "niveau9": "1",  # sans niveau spécifique
}
_TRAILING_CODE = re.compile(r"\s*\((\d+)\)\s*$")


@dataclass(frozen=True)
class RegisterEntry:
    code: str
    title: str
    type_code: str | None
    type_label: str | None
    exit_level: str | None


def read_register(source: Path | IO[str]) -> Iterator[RegisterEntry]:
    """Yield one entry per Certif Info code, with its type and exit level resolved."""
    if isinstance(source, Path):
        with source.open(encoding="utf-8") as fh:
            tree = json.load(fh)
    else:
        tree = json.load(source)
    for key, node in tree.items():
        if not key.isdigit():
            continue
        type_key = node.get("parent")
        type_node = tree.get(type_key) or {}
        yield RegisterEntry(
            code=key,
            title=_TRAILING_CODE.sub("", node["text"]).strip(),
            type_code=type_key if type_node else None,
            type_label=type_node.get("text"),
            exit_level=OLD_LEVEL_TO_LHEO.get(type_node.get("parent", "")),
        )
