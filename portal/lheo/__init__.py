"""LHEO 2.3 (Langage Harmonisé d'Échange d'informations sur l'Offre de formation).

``export`` reads the published copy as a stream, ``writer`` turns it into an LHEO document
with lxml's incremental writer, ``reader`` parses an uploaded LHEO 2.2 or 2.3 file with a
hardened ``iterparse`` into plain records and a report, and ``importer`` saves those records
as drafts of one establishment. ``mapping`` holds what both directions share: dates, texts,
the SOFI ``extras`` vocabulary and the documented fallbacks.

The XSD in ``portal/data/lheo/lheo.xsd`` (official LHEO 2.3 schema, see portal/data/SOURCE.md)
is the contract: every export validates against it, and the reader validates every
``formation`` of an uploaded file against it before using anything.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

NS = "http://lheo.gouv.fr/2.3"
NS_22 = "http://www.lheo.org/2.2"
NAMESPACES = {NS: "2.3", NS_22: "2.2"}
XSD_PATH = Path(__file__).resolve().parent.parent / "data" / "lheo" / "lheo.xsd"


@cache
def schema() -> etree.XMLSchema:
    """The compiled LHEO 2.3 schema (parsed without network access)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))
