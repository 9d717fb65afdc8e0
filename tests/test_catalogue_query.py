"""The catalogue's search module on its own: parsing, the word index, the SQL it runs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from portal.catalogue import query, terms
from portal.catalogue.models import PublishedTerm
from portal.extensions import db
from portal.models import PublishedSession
from portal.search.normalise import normalise

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def fresh_estimates(monkeypatch):
    """Each test counts its own terms: the per-process estimates would be another test's."""
    monkeypatch.setattr(query, "_estimates", {})


def args(**values) -> MultiDict:
    return MultiDict(values)


def test_words_are_normalised_without_stopwords_or_punctuation():
    assert terms.words("L'Électricité du BÂTIMENT, niveau 4 : œuvre & co") == [
        "electricite",
        "batiment",
        "niveau",
        "oeuvre",
        "co",
    ]
    assert terms.words("") == []


def test_commune_filter_term_ignores_case_accents_and_saint_abbreviations():
    assert terms.filter_term("commune", "St-Herblain") == terms.filter_term(
        "commune", "SAINT HERBLAIN"
    )
    assert terms.filter_term("departement", "44") == "~dep:44"


@pytest.mark.parametrize(
    ("start", "end", "span"),
    [
        (date(2026, 1, 1), date(2026, 1, 31), 0),
        (date(2026, 1, 1), date(2026, 2, 2), 1),
        (date(2026, 1, 1), date(2026, 12, 31), 3),
        (date(2026, 1, 1), date(2029, 1, 1), terms.UNBOUNDED_SPAN),
        (None, date(2026, 1, 1), terms.UNBOUNDED_SPAN),
    ],
)
def test_span_class_rounds_the_length_up(start, end, span):
    assert terms.span_class(start, end) == span


def test_parse_reads_every_parameter():
    search = query.parse(
        args(
            q="Gestion de projet",
            programme="3",
            departement="44",
            commune="Nantes",
            du="2026-01-01",
            au="2026-12-31",
            modalite="0",
            niveau="14",
            public="80006",
            formacode="32663",
            terminees="1",
            tri="-debut",
            page="2",
            taille="50",
        ),
        programmes=[3],
        departments={"44": "Loire-Atlantique"},
    )
    assert search.words == ("gestion", "projet")
    assert (search.programme, search.departement, search.modalite) == (3, "44", 0)
    assert search.du == date(2026, 1, 1) and search.terminees and search.descending
    assert (search.page, search.taille) == (2, 50)
    # Written back without defaults; changing the search goes back to page 1.
    assert search.params(q="x")["q"] == "x" and "page" not in search.params(q="x")
    assert search.params()["page"] == 2
    assert query.parse(args()).params() == {}


def test_parse_treats_empty_values_as_absent():
    search = query.parse(args(q="", programme="", departement="", du="", modalite="", tri=""))
    assert search == query.CatalogueQuery()


@pytest.mark.parametrize(
    ("values", "parameter"),
    [
        ({"du": "2026-02-30"}, "du"),
        ({"au": "1850-01-01"}, "au"),
        ({"du": "2026-05-01", "au": "2026-04-01"}, "au"),
        ({"modalite": "x"}, "modalite"),
        ({"niveau": "42"}, "niveau"),
        ({"public": "80005"}, "public"),
        ({"programme": "-1"}, "programme"),
        ({"programme": "4"}, "programme"),
        ({"departement": "XX"}, "departement"),
        ({"page": "1e3"}, "page"),
        ({"taille": "1000"}, "taille"),
        ({"tri": "fin"}, "tri"),
        ({"formacode": "abcde"}, "formacode"),
        ({"commune": "---"}, "commune"),
    ],
)
def test_parse_refuses_what_it_cannot_honour(values, parameter):
    with pytest.raises(query.BadQuery) as error:
        query.parse(args(**values), programmes=[3], departments={"44": "Loire-Atlantique"})
    assert error.value.parameter == parameter
    assert error.value.message


def test_parse_refuses_a_repeated_parameter_and_unknown_ones_in_the_api():
    with pytest.raises(query.BadQuery, match="plusieurs fois"):
        query.parse(MultiDict([("q", "a"), ("q", "b")]))
    with pytest.raises(query.BadQuery, match="Paramètre inconnu"):
        query.parse(args(dept="44"), api=True)
    assert query.parse(args(dept="44")).departement is None


def test_parse_refuses_pages_beyond_what_is_counted():
    last = query.COUNT_LIMIT // query.DEFAULT_PAGE_SIZE
    assert query.parse(args(page=str(last))).page == last
    with pytest.raises(query.BadQuery):
        query.parse(args(page=str(last + 1)))


_ids = iter(range(1, 10**6))


UNSET = object()


def add(
    establishment,
    title="Formation",
    *,
    start=UNSET,
    end=UNSET,
    commune="Nantes",
    department="44",
    programme=None,
    mode=0,
    level="13",
    publics=(),
    active=True,
):
    """A published row with its word index, as publication writes them."""
    start = TODAY + timedelta(days=10) if start is UNSET else start
    end = (start + timedelta(days=30) if start else None) if end is UNSET else end
    session_id = next(_ids)
    text = normalise(f"{title} {commune}")
    row = PublishedSession(
        session_id=session_id,
        action_id=session_id,
        formation_id=session_id,
        establishment_id=establishment.id,
        fas_code=f"{session_id}-{session_id}-{session_id}",
        programme_id=programme,
        title=title,
        establishment_name=establishment.name,
        commune=commune,
        department=department,
        start_date=start,
        end_date=end,
        teaching_mode=mode,
        exit_level=level,
        public_targets=list(publics),
        formacodes=[],
        active=active,
        search_text=text,
    )
    if active:
        for term in terms.session_terms(
            search_text=text,
            department=department,
            programme_id=programme,
            commune=commune,
            teaching_mode=mode,
            exit_level=level,
            public_targets=publics,
            formacodes=[],
        ):
            PublishedTerm(
                session=row,
                term=term,
                span=terms.span_class(start, end),
                start_day=terms.day_number(start, terms.NO_START),
                end_day=terms.day_number(end, terms.NO_END),
                department=department,
                programme_id=programme,
                teaching_mode=mode,
                exit_level=level,
            )
    db.session.add(row)
    db.session.commit()
    return row


def titles(**values) -> list[str]:
    search = query.parse(args(**values))
    return [row.title for row in query.search(db.session, search, TODAY).items]


@pytest.fixture
def place(make_establishment):
    return make_establishment()


def test_search_finds_every_word_as_a_prefix_in_start_date_order(app, place):
    add(place, "Gestion de la paie", start=TODAY + timedelta(days=20))
    add(place, "Gestionnaire de paie", start=TODAY + timedelta(days=5))
    add(place, "Comptabilité", start=TODAY + timedelta(days=1))
    assert titles(q="gestion") == ["Gestionnaire de paie", "Gestion de la paie"]
    assert titles(q="PAIE gest") == ["Gestionnaire de paie", "Gestion de la paie"]
    assert titles(q="gestionnaire paie") == ["Gestionnaire de paie"]
    assert titles(q="compta nantes") == ["Comptabilité"]
    assert titles(q="paie compta") == []
    assert titles(q="zzz") == []
    assert titles() == ["Comptabilité", "Gestionnaire de paie", "Gestion de la paie"]
    assert titles(tri="-debut") == ["Gestion de la paie", "Gestionnaire de paie", "Comptabilité"]


def test_a_word_that_stands_for_many_is_checked_not_driven(app, place):
    for n in range(query.MAX_DRIVER_TERMS + 2):
        add(place, f"Module ab{n:02d}x", start=TODAY + timedelta(days=n))
    add(place, "Autre chose")
    assert query.expand(db.session, "ab") is None
    assert len(titles(q="ab")) == query.MAX_DRIVER_TERMS + 2, sorted(titles(q="ab"))
    assert titles(q="ab module") == titles(q="ab")


def test_ended_sessions_are_left_out_in_every_span_class(app, place):
    # One session of each class that ended yesterday, and one of each that ends today.
    for days in (10, 60, 150, 300, 600, 900):
        start = TODAY - timedelta(days=days)
        add(place, f"Finie {days}", start=start, end=TODAY - timedelta(days=1))
        add(place, f"En cours {days}", start=start - timedelta(days=1), end=TODAY)
    add(place, "Sans dates", start=None, end=None)
    visible = titles()
    assert all(title.startswith("En cours") or title == "Sans dates" for title in visible)
    assert len(visible) == 7
    assert len(titles(terminees="1")) == 13


def test_inactive_rows_are_never_found(app, place):
    add(place, "Désactivée", active=False)
    assert titles(q="desactivee") == [] and titles() == []


def test_each_filter_selects_its_sessions(app, place):
    add(place, "A", department="49", commune="Angers", mode=2, level="14", publics=["80006"])
    add(place, "B", programme=7)
    add(place, "C", start=TODAY + timedelta(days=200))
    assert titles(departement="49") == ["A"]
    assert titles(commune="ANGERS") == ["A"]
    assert titles(modalite="2") == ["A"]
    assert titles(niveau="14") == ["A"]
    assert titles(public="80006") == ["A"]
    assert titles(programme="7") == ["B"]
    later = (TODAY + timedelta(days=100)).isoformat()
    assert titles(du=later) == ["C"]
    assert titles(au=later) == ["A", "B"]
    assert titles(departement="49", modalite="0") == []


def test_count_stops_at_the_limit_and_pages_stay_within_it(app, place, monkeypatch):
    monkeypatch.setattr(query, "COUNT_LIMIT", 5)
    for n in range(8):
        add(place, f"Session {n}", start=TODAY + timedelta(days=n))
    results = query.search(db.session, query.CatalogueQuery(taille=2), TODAY)
    assert results.total == 6 and not results.total_exact
    assert results.pages == 3
    assert [r.title for r in results.items] == ["Session 0", "Session 1"]
    page3 = query.search(db.session, query.CatalogueQuery(taille=2, page=3), TODAY)
    assert [r.title for r in page3.items] == ["Session 4", "Session 5"]
    add(place, "Session rare", start=TODAY + timedelta(days=30))
    exact = query.search(db.session, query.parse(args(q="session rare")), TODAY)
    assert exact.total == 1 and exact.total_exact


def test_the_smallest_condition_drives(app, place):
    for n in range(5):
        add(place, f"Commun {n}", department="44")
    add(place, "Commun rare", department="53")
    search = query.parse(args(q="commun", departement="53"))
    driver, checks = query.plan(db.session, search)
    assert driver == ["~dep:53"]
    assert checks == [query.Condition("commun", prefix=True)]
    assert titles(q="commun", departement="53") == ["Commun rare"]


def test_filter_values_present_are_read_from_the_index(app, place):
    add(place, "A", department="49")
    add(place, "B", department="85")
    assert query.distinct_values(db.session, "~dep:") == ["49", "85"]


def test_single_valued_filters_are_checked_in_the_row_a_word_drives(app, place):
    add(place, "Soudure", department="49", mode=2, level="14", programme=3)
    add(place, "Soudure", department="44", mode=2, level="14", programme=3)
    add(place, "Soudure", department="49", mode=0, level="13", programme=4)
    for n in range(4):
        add(place, f"Autre {n}", department="49", mode=2, level="14", programme=3)
    search = query.parse(args(q="soudure", departement="49", modalite="2", niveau="14"))
    driver, checks = query.plan(db.session, search)
    assert driver == ["soudure"]
    assert {c.column for c in checks} == {"department", "teaching_mode", "exit_level"}
    assert titles(q="soudure", departement="49", modalite="2", niveau="14") == ["Soudure"]
    assert titles(q="soudure", programme="4") == ["Soudure"]
    assert len(titles(q="soudure", programme="3")) == 2
