"""The plain modules of the lists: normalisation, query parsing, URL state, CSV, texts."""

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, NotFound

from portal.search import bulk, csv_export
from portal.search.normalise import MAX_QUERY_LENGTH, QueryTooLong, Term, normalise, parse_query
from portal.search.pagination import Count, Page, count_text, status_text
from portal.search.query import ACTIONS, SESSIONS, parse_state


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Électricité", "electricite"),
        ("ÉLECTRICITÉ  Générale", "electricite generale"),
        ("Cœur de métier", "coeur de metier"),
        ("Straße", "strasse"),
        ("l’entreprise – création", "l'entreprise - creation"),
        ("  Saint\u00a0Nazaire\u202f ", "saint nazaire"),
        ("ﬁnance", "finance"),
        (None, ""),
    ],
)
def test_normalise_folds_case_accents_ligatures_apostrophes_and_spaces(text, expected):
    assert normalise(text) == expected


def test_query_words_are_normalised_deduplicated_and_stripped_of_punctuation():
    assert [t.text for t in parse_query(" Électricité, NANTES électricité (gestion) ")] == [
        "electricite",
        "nantes",
        "gestion",
    ]


def test_a_word_inside_another_typed_word_adds_nothing():
    assert [t.text for t in parse_query("gest gestion ion")] == ["gestion"]


@pytest.mark.parametrize(
    ("q", "numbers"),
    [
        ("143842", (143842,)),
        ("19482-89393", (19482, 89393)),
        ("19482-89393-143842", (19482, 89393, 143842)),
        ("0143842", None),  # a leading zero is no id
        ("99999999999", None),  # beyond a 32-bit id
        ("bac+2", None),
    ],
)
def test_codes_are_read_as_numbers(q, numbers):
    (term,) = parse_query(q)
    assert term.numbers == numbers


def test_like_pattern_escapes_wildcards():
    assert Term("100%_a\\b").like_pattern == "%100\\%\\_a\\\\b%"


def test_too_long_or_too_many_words_is_refused():
    with pytest.raises(QueryTooLong):
        parse_query("a" * (MAX_QUERY_LENGTH + 1))
    with pytest.raises(QueryTooLong):
        parse_query(" ".join(f"mot{i}x" for i in range(11)))


def _state(spec=SESSIONS, carif=False, **args):
    return parse_state(MultiDict(args), spec, carif=carif)


def test_state_defaults_and_url_arguments_leave_defaults_out():
    state = _state()
    assert (state.taille, state.sort, state.q, state.filtre) == (10, "-debut", "", None)
    assert state.params() == {}
    assert _state(taille="25", tri="intitule", q="rh").params() == {
        "taille": 25,
        "tri": "intitule",
        "q": "rh",
    }


def test_changing_what_is_listed_goes_back_to_the_first_page():
    state = _state(apres="12", q="rh")
    assert state.params() == {"q": "rh", "apres": 12}
    assert state.params(tri="fin") == {"q": "rh", "tri": "fin"}
    assert state.params(avant=5) == {"q": "rh", "avant": 5}
    assert state.params(page="derniere") == {"q": "rh", "page": "derniere"}


def test_sort_links_start_ascending_then_toggle():
    state = _state(tri="intitule")
    assert state.sort_link("intitule") == "-intitule"
    assert state.sort_link("commune") == "commune"
    assert _state(tri="-intitule").sort_link("intitule") == "intitule"


@pytest.mark.parametrize(
    "args",
    [
        {"taille": "7"},
        {"taille": "tout"},
        {"tri": "nope"},
        {"tri": "-nope"},
        {"tri": "siret"},  # the SIRET column is the Carif-Oref's
        {"apres": "x"},
        {"apres": "0"},
        {"avant": "-3"},
        {"apres": "1", "avant": "2"},
        {"apres": "1", "page": "derniere"},
        {"page": "2"},
        {"siret": "13000511900032"},  # an OF user cannot filter on SIRET
        {"q": "x" * 201},
    ],
)
def test_junk_state_is_a_bad_request(args):
    with pytest.raises(BadRequest):
        _state(**args)


@pytest.mark.parametrize(
    "siret", ["1300051190003", "abc", "13000511900032x", "12345678", "١٣٠٠٠٥١١٩"]
)
def test_carif_siret_filter_takes_a_siret_or_a_siren_only(siret):
    with pytest.raises(BadRequest):
        _state(carif=True, siret=siret)
    assert _state(carif=True, siret="130 005 119").siret == "130005119"


def test_unknown_named_filter_is_not_found():
    with pytest.raises(NotFound):
        _state(filtre="nope")
    with pytest.raises(NotFound):
        _state(ACTIONS, filtre="actives")  # a session filter is no action filter


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (date(2021, 9, 1), "01/09/2021"),
        (8, "8"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1", "'+33 1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Nantes", "Nantes"),
        ("19482-89393-143842", "19482-89393-143842"),
    ],
)
def test_csv_cells_are_french_and_never_formulas(value, cell):
    assert csv_export.cell(value) == cell


def test_csv_has_a_bom_semicolons_crlf_and_quotes_when_needed():
    rows = [["a;b", 'dit "oui"', date(2024, 2, 10)], ["x", "ligne\nsuivante", None]]
    text = "".join(csv_export.csv_chunks(["Col 1", "Col 2", "Col 3"], rows))
    assert text.startswith("\ufeffCol 1;Col 2;Col 3\r\n")
    assert '"a;b";"dit ""oui""";10/02/2024\r\n' in text
    assert text.endswith('x;"ligne\nsuivante";\r\n')


def test_csv_is_produced_in_chunks():
    rows = ([str(i)] for i in range(1200))
    chunks = list(csv_export.csv_chunks(["n"], rows))
    assert len(chunks) == 4  # header, 500, 500, 200
    assert chunks[-1].count("\r\n") == 200


def _page(first, n, total, more=False):
    class Row:
        id = 1

    return Page([Row()] * n, 10, Count(total, more), first, False, False)


@pytest.mark.parametrize(
    ("page", "status", "count"),
    [
        (_page(1, 10, 12), "Voir 1 à 10 sur 12 résultats", "12 résultats"),
        (_page(11, 2, 12), "Voir 11 à 12 sur 12 résultats", "12 résultats"),
        (_page(None, 0, 0), "Voir 0 sur 0 du 0 résultats", "0 résultats"),
        (_page(9991, 10, 10000), "Voir 9\u202f991 à 10\u202f000 sur 10\u202f000 résultats", None),
        (
            _page(21, 10, 1000, more=True),
            "Voir 21 à 30 sur plus de 1\u202f000 résultats",
            "plus de 1\u202f000 résultats",
        ),
        (_page(None, 10, 1000, more=True), "Voir 10 résultats sur plus de 1\u202f000", None),
    ],
)
def test_pager_and_heading_texts(page, status, count):
    assert status_text(page) == status
    if count:
        assert count_text(page.total) == count


@pytest.mark.parametrize(
    ("ids", "operation", "state", "message"),
    [
        ([], "desactiver", None, "Sélectionnez au moins une session"),
        ([str(i) for i in range(101)], "desactiver", None, "au plus 100 sessions"),
        (["1"], "etat", None, "Choisissez l'état du recrutement"),
        (["1"], "etat", "9", "Choisissez l'état du recrutement"),
    ],
)
def test_bulk_requests_that_cannot_apply_say_why_in_french(ids, operation, state, message):
    with pytest.raises(bulk.BulkError) as raised:
        bulk.parse_bulk(ids, operation, state)
    assert message in raised.value.message


@pytest.mark.parametrize(("ids", "operation"), [(["x"], "desactiver"), (["1"], "supprimer")])
def test_bulk_requests_the_form_cannot_send_are_bad_requests(ids, operation):
    with pytest.raises(bulk.BadSelection):
        bulk.parse_bulk(ids, operation, None)


def test_bulk_request_keeps_each_id_once():
    assert bulk.parse_bulk(["3", "1", "3"], "etat", "2").ids == (3, 1)
