"""portal.geo: communes by postcode, name matching and the (postcode, commune, INSEE) check."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from portal import geo
from portal.geo import (
    Commune,
    CommuneError,
    check_commune,
    communes_for_postcode,
    department_of,
    normalise_name,
)


def names(postcode: str) -> list[str]:
    return [commune.name for commune in communes_for_postcode(postcode)]


def test_data_file_is_one_sorted_row_per_insee_code():
    raw = geo.DATA_FILE.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    with geo.DATA_FILE.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["insee_code", "name", "postcodes", "department"]
        rows = list(reader)
    codes = [row[0] for row in rows]
    assert len(rows) > 34_000
    assert codes == sorted(set(codes))
    for insee_code, name, postcodes, department in rows:
        assert name
        assert insee_code.startswith(department)
        for postcode in postcodes.split("|") if postcodes else ():
            assert len(postcode) == 5 and postcode.isdigit()


def test_nantes():
    (nantes,) = communes_for_postcode("44000")
    assert nantes == Commune("44109", "Nantes", ("44000", "44100", "44200", "44300"), "44")
    assert check_commune("44000", "Nantes") is nantes
    assert department_of("44000") == "44"


def test_saint_herblain():
    assert names("44800") == ["Saint-Herblain"]
    assert check_commune("44800", "Saint-Herblain").insee_code == "44162"


@pytest.mark.parametrize(
    "typed",
    [
        "Saint-Herblain",
        "SAINT-HERBLAIN",
        "saint herblain",
        "ST HERBLAIN",
        "st herblain",
        "St-Herblain",
        "St. Herblain",
        "  saint  –  herblain ",
        "SaintHerblain",
    ],
)
def test_name_variants_match(typed):
    assert check_commune("44800", typed).insee_code == "44162"


def test_normalise_name():
    key = normalise_name("Saint-Herblain")
    assert normalise_name("ST HERBLAIN") == normalise_name("saint herblain") == key
    assert normalise_name("Thouaré-sur-Loire") == normalise_name("THOUARE SUR LOIRE")
    assert normalise_name("Cœuvres-et-Valsery") == normalise_name("coeuvres et valsery")
    assert normalise_name("L'Île-d'Yeu") == normalise_name("l ile d’yeu") == "liledyeu"
    assert normalise_name("Ste Luce sur Loire") == normalise_name("Sainte-Luce-sur-Loire")
    # Abbreviations are whole words only.
    assert normalise_name("Stenay") == "stenay"
    assert normalise_name("Ste") == "sainte"


def test_accents_ligatures_and_sainte():
    assert check_commune("44470", "thouare sur loire").insee_code == "44204"
    assert check_commune("02600", "COEUVRES ET VALSERY").insee_code == "02201"
    assert check_commune("44980", "ste luce sur loire").name == "Sainte-Luce-sur-Loire"


def test_postcode_with_several_communes_sorted_by_name():
    assert names("44470") == ["Carquefou", "Mauves-sur-Loire", "Thouaré-sur-Loire"]
    assert check_commune("44470", "Mauves-sur-Loire").insee_code == "44094"


def test_paris_lyon_arrondissements():
    assert names("75001") == ["Paris", "Paris 1er Arrondissement"]
    assert check_commune("75001", "Paris").insee_code == "75056"
    assert check_commune("75001", "paris 1er arrondissement").insee_code == "75101"
    assert check_commune("69003", "Lyon 3e Arrondissement", "69383").department == "69"
    assert department_of("75116") == "75"


def test_corsica():
    ajaccio = check_commune("20000", "Ajaccio")
    assert (ajaccio.insee_code, ajaccio.department) == ("2A004", "2A")
    assert check_commune("20000", "Ajaccio", "2a004") is ajaccio
    assert department_of("20000") == "2A"
    assert department_of("20200") == "2B"
    assert check_commune("20200", "Bastia").insee_code == "2B033"


def test_overseas():
    saint_denis = check_commune("97400", "Saint-Denis")
    assert (saint_denis.insee_code, saint_denis.department) == ("97411", "974")
    assert department_of("97400") == "974"
    assert check_commune("97133", "St Barthélemy").department == "977"


def test_postcode_straddling_two_departments():
    assert names("13780") == ["Cuges-les-Pins", "Riboux"]
    assert department_of("13780") == "13"
    assert check_commune("13780", "Riboux").department == "83"


def test_postcode_whitespace_is_ignored():
    assert names("44 000") == ["Nantes"]
    assert names(" 44000\n") == ["Nantes"]
    assert names("44\u00a0000") == ["Nantes"]
    assert check_commune("44 000", "Nantes").insee_code == "44109"
    assert department_of("44 000") == "44"


@pytest.mark.parametrize("postcode", ["4400", "440000", "44O00", "", "44-000", "٤٤٠٠٠", "99999"])
def test_malformed_or_unknown_postcode_finds_nothing(postcode):
    assert communes_for_postcode(postcode) == []
    assert department_of(postcode) is None


@pytest.mark.parametrize(
    ("postcode", "commune", "insee_code", "field", "message"),
    [
        ("4400", "Nantes", None, "postcode", "Le code postal doit comporter 5 chiffres."),
        ("44O00", "Nantes", None, "postcode", "Le code postal doit comporter 5 chiffres."),
        ("", "Nantes", None, "postcode", "Le code postal doit comporter 5 chiffres."),
        ("99999", "Nantes", None, "postcode", "Code postal inconnu : 99999."),
        ("99 999", "Nantes", None, "postcode", "Code postal inconnu : 99999."),
        (
            "44000",
            "Angers",
            None,
            "commune",
            "La commune « Angers » ne correspond pas au code postal 44000 "
            "(communes possibles : Nantes).",
        ),
        (
            "51300",
            "Vitry",
            None,
            "commune",
            "La commune « Vitry » ne correspond pas au code postal 51300 (communes possibles : "
            "Bassu, Bassuet, Bignicourt-sur-Marne, Blacy, Blaise-sous-Arzillières, …).",
        ),
        ("44000", "  ", None, "commune", "La commune doit être renseignée."),
        ("44000", "-", "44109", "commune", "La commune doit être renseignée."),
        (
            "49000",
            "Angers",
            "44109",
            "insee_code",
            "Le code INSEE 44109 ne correspond pas à la commune « Angers ».",
        ),
        (
            "49000",
            "angers",
            "4900",
            "insee_code",
            "Le code INSEE doit comporter 5 caractères : 5 chiffres, ou 2A/2B et 3 chiffres "
            "pour la Corse.",
        ),
        (
            "58120",
            "Château-Chinon",
            None,
            "commune",
            "Plusieurs communes « Château-Chinon » ont le code postal 58120 : précisez laquelle "
            "(Château-Chinon (Campagne), Château-Chinon (Ville)).",
        ),
    ],
)
def test_check_commune_errors(postcode, commune, insee_code, field, message):
    with pytest.raises(CommuneError) as caught:
        check_commune(postcode, commune, insee_code)
    assert caught.value.field == field
    assert str(caught.value) == caught.value.message == message
    assert isinstance(caught.value, ValueError)


def test_insee_consistency():
    assert check_commune("49000", "Angers", "49007").insee_code == "49007"
    assert check_commune("49000", "Angers", " 49007 ").insee_code == "49007"
    assert check_commune("49000", "Angers", "").insee_code == "49007"  # empty: not given
    assert check_commune("75001", "Paris", "75056").insee_code == "75056"
    with pytest.raises(CommuneError) as caught:
        check_commune("75001", "Paris", "75101")  # the arrondissement's code, not the city's
    assert caught.value.field == "insee_code"


def test_parenthesised_qualifier_may_be_left_out():
    assert check_commune("16190", "Bors").insee_code == "16052"
    assert check_commune("58120", "Château-Chinon", "58062").name == "Château-Chinon (Ville)"
    assert check_commune("58120", "chateau chinon (campagne)").insee_code == "58063"


def test_former_commune_names_are_not_accepted():
    with pytest.raises(CommuneError) as caught:
        check_commune("50100", "Cherbourg-Octeville")
    assert caught.value.field == "commune"
    assert "Cherbourg-en-Cotentin" in caught.value.message


def test_commune_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        check_commune("44000", "Nantes").name = "Rezé"  # type: ignore[misc]
