"""Write the sample Region extraction file shipped in docs/samples/.

    .venv/bin/python scripts/make_region_sample.py [OUTPUT_DIR]

Writes region-extraction-sample.xlsx and region-extraction-csv/{programmes,lots,mandataires,
formateurs}.csv (the same data). The data matches the demo (`flask demo-data`): importing the
sample into the demo database leaves the five programmes and the lots PE2024_1 … PE2024_8
unchanged and creates one lot of PREPA Sanitaire et social, with a new mandataire organisation
and a new formateur establishment. The format is described in docs/region-file.md.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from stdnum import luhn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.imports.region import write_csvs, write_xlsx  # noqa: E402

NANTES = {
    "siret": "13000511900032",
    "raison_sociale": "CARIFOREF DES PAYS DE LA LOIRE",
    "adresse": "12 rue du Président Édouard Herriot",
    "code_postal": "44000",
    "commune": "Nantes",
    "nda": "52440000044",
}
ANGERS = NANTES | {
    "siret": "13000511900040",
    "adresse": "2 boulevard Foch",
    "code_postal": "49100",
    "commune": "Angers",
}
LE_MANS = {
    "siret": "88812345200011",
    "raison_sociale": "ENTREPRENDRE EN LOIRE (démo)",
    "adresse": "5 place de la République",
    "code_postal": "72000",
    "commune": "Le Mans",
    "nda": "52720000072",
}


def _siret(siren8: str, nic4: str) -> str:
    siren = siren8 + luhn.calc_check_digit(siren8)
    base = siren + nic4
    return base + luhn.calc_check_digit(base)


# A fictitious organisation, with valid SIREN/SIRET check digits.
SOIN_SIRET = _siret("91234567", "0001")
SOIN = {
    "siret": SOIN_SIRET,
    "raison_sociale": "INSTITUT SOIN ET ACCOMPAGNEMENT (exemple)",
    "nom_etablissement": "INSTITUT SOIN ET ACCOMPAGNEMENT - La Roche-sur-Yon",
    "adresse": "8 rue des Halles",
    "code_postal": "85000",
    "commune": "La Roche-sur-Yon",
    "nda": "52850000185",
}
SOIN_LUCON = SOIN | {
    "siret": _siret("91234567", "0002"),
    "nom_etablissement": "INSTITUT SOIN ET ACCOMPAGNEMENT - Luçon",
    "adresse": "1 place du Général Leclerc",
    "code_postal": "85400",
    "commune": "Luçon",
}

PROGRAMMES = [
    ("1E1F", "PROGRAMME REGION - 1 emploi = 1 formation", 5, "non"),
    ("PAS", "PROGRAMME REGION - PREPA Avenir Sup", 3, "non"),
    ("PCA", "PROGRAMME REGION - PREPA Clés Avenir", 4, "non"),
    ("PE", "PROGRAMME REGION - Formations Parcours entrepreneur", 8, "oui"),
    ("PSS", "PROGRAMME REGION - PREPA Sanitaire et social", 6, "non"),
]
PE_LOTS = [
    (1, "Formations à la création-reprise d'entreprise en Loire-Atlantique Nord"),
    (2, "Formations à la création-reprise d'entreprise en Loire-Atlantique Sud"),
    (3, "Formations à la création-reprise d'entreprise dans la métropole nantaise"),
    (4, "Formations à la création-reprise d'entreprise en Vendée"),
    (5, "Formations à la création-reprise d'entreprise en Sarthe"),
    (6, "Formations à la création-reprise d'entreprise en Mayenne"),
    (7, "Formations à la création-reprise d'entreprise dans le Saumurois"),
    (8, "Formations à la création-reprise d'entreprise en Maine-et-Loire"),
]


def sample_sheets() -> dict[str, list[dict]]:
    programmes = [
        {
            "code_programme": code,
            "intitule": name,
            "code_dispositif": dispositif,
            "publics": "demandeur d'emploi",
            "sessions_annee_du_lot": in_lot_year,
            "actif": "oui",
        }
        for code, name, dispositif, in_lot_year in PROGRAMMES
    ]
    lots, mandataires, formateurs = [], [], []
    for number, title in PE_LOTS:
        code = f"PE2024_{number}"
        lots.append(
            {
                "code_lot": code,
                "code_programme": "PE",
                "intitule": f"Lot {number} - {title}",
                "annee": 2024,
                "numero_lot_cr": code,
                "id_action_cr": str(2870 + number),
                "places_commandees": 12 * number,
                "forfait_recrutement": "oui" if number in (2, 8) else "non",
                "date_debut": date(2024, 1, 1),
                "date_fin": date(2024, 12, 31),
                "actif": "oui",
            }
        )
        mandataire = LE_MANS if number == 5 else NANTES
        mandataires.append(
            {"code_lot": code, "of_mandataire_cr": "81" if number == 5 else "75", **mandataire}
        )
        formateurs.append({"code_lot": code, **(ANGERS if number in (7, 8) else NANTES)})
    lots.append(
        {
            "code_lot": "PSS2025_1",
            "code_programme": "PSS",
            "intitule": "Lot 1 - Préparation aux métiers du soin et de l'accompagnement en Vendée",
            "annee": 2025,
            "numero_lot_cr": "PSS2025_1",
            "id_action_cr": "3402",
            "places_commandees": 30,
            "forfait_recrutement": "non",
            "date_debut": date(2025, 1, 6),
            "date_fin": date(2025, 12, 19),
            "actif": "oui",
        }
    )
    mandataires.append({"code_lot": "PSS2025_1", "of_mandataire_cr": "112", **SOIN})
    formateurs += [{"code_lot": "PSS2025_1", **SOIN}, {"code_lot": "PSS2025_1", **SOIN_LUCON}]
    return {
        "programmes": programmes,
        "lots": lots,
        "mandataires": mandataires,
        "formateurs": formateurs,
    }


def main(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    sheets = sample_sheets()
    write_xlsx(output / "region-extraction-sample.xlsx", sheets)
    write_csvs(output / "region-extraction-csv", sheets)
    print(f"Written to {output}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "samples")
