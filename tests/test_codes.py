"""The code tables agree with the LHEO 2.3 XSD enumerations wherever the XSD has one."""

from pathlib import Path

import pytest
from lxml import etree

from portal import codes

XSD = Path(__file__).resolve().parents[2] / "shared" / "reference" / "lheo" / "lheo.xsd"
NS = {"xs": "http://www.w3.org/2001/XMLSchema"}

# code table → the XSD simple type that enumerates it
XSD_TYPES = {
    "TEACHING_MODES": "modalites-enseignement-subtype",
    "ENTRY_EXIT_MODES": "modalites-entrees-sorties-subtype",
    "RECRUITMENT_STATES": "etat-recrutement-subtype",
    "GENERAL_OBJECTIVES": "objectif-general-formation-subtype",
    "FUNDERS": "code-financeur-subtype",
    "CONTACT_TYPES": "type-contact-subtype",
    "PATH_TYPES": "parcours-de-formation-subtype",
    "LEVELS": "code-niveau-entree-subtype",
}


@pytest.mark.skipif(not XSD.exists(), reason="shared/reference is not beside the repository")
@pytest.mark.parametrize(("table", "xsd_type"), sorted(XSD_TYPES.items()))
def test_code_table_matches_the_xsd(table, xsd_type):
    tree = etree.parse(str(XSD))
    values = tree.xpath(
        f"//xs:simpleType[@name='{xsd_type}']//xs:enumeration/@value", namespaces=NS
    )
    assert values, xsd_type
    assert set(getattr(codes, table).codes) == set(values)


def test_labels_and_choices():
    assert codes.TEACHING_MODES.label(2) == "formation entièrement à distance"
    assert codes.RECRUITMENT_STATES.label("1") == "ouvert"
    assert codes.LEVELS.label(None, "—") == "—"
    assert codes.LEVELS.label("99") == ""
    assert codes.RECRUITMENT_STATES.choices(blank="Choisir")[0] == ("", "Choisir")
    assert "83056" in codes.PUBLIC_TARGETS
    assert codes.PUBLIC_TARGETS.version == "V14"
