"""The PDF catalogue itself: structure (pages, contents, bookmarks), extractable French text,
published data only, filters. Read back with poppler (pdfinfo, pdftotext, pdftohtml)."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from lxml import etree

from portal.extensions import db
from portal.models import ActionStatus, PublishedSession
from portal.pdf import FilterError, parse_filters, write_catalogue
from portal.pdf.builder import (
    ActionEntry,
    CatalogueMeta,
    FormationEntry,
    SessionEntry,
    render_catalogue,
    wrap_text,
)
from portal.pdf.catalogue import fingerprint
from portal.review.decisions import validate

from .offer_builders import complete_offer

YEAR = date.today().year + 1  # sessions that have not ended: the catalogue lists only those
NBSP = "\u00a0"
TOC_LINE = r"^(\S.*?)\s*\.[. ]*\.\s+(\d+)$"  # title, dot leader, page number


def publish_offer(
    app,
    establishment,
    title: str,
    *,
    postcode="44000",
    commune="Nantes",
    complement: str | None = None,
    formacodes=(),
    public_targets=(),
    teaching_mode=0,
) -> dict:
    """A complete offer whose certification is called ``title``, validated and published."""
    built = complete_offer(establishment, year=YEAR)
    built["certification"].title = title
    built["certification"].formacodes = list(formacodes)
    built["site"].postcode, built["site"].commune = postcode, commune
    built["action"].public_targets = list(public_targets)
    built["session"].teaching_mode = teaching_mode
    if complement:
        built["action"].title_complement = complement
    built["action"].status = ActionStatus.SUBMITTED
    db.session.commit()
    with app.test_request_context():
        validate(built["action"])
        db.session.commit()
    return built


def pdf_file(data: bytes, tmp_path: Path) -> Path:
    path = tmp_path / f"catalogue-{len(list(tmp_path.glob('*.pdf')))}.pdf"
    path.write_bytes(data)
    return path


def pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    """The text as pdftotext -layout extracts it, no-break spaces read as spaces."""
    pages = []
    if first:
        pages += ["-f", str(first)]
    if last:
        pages += ["-l", str(last)]
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", *pages, str(path), "-"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    return out.replace(NBSP, " ")


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(re.search(r"^Pages:\s+(\d+)$", info.stdout, re.M).group(1))


def pdf_outline(path: Path) -> list[tuple[int, str, int]]:
    """The bookmarks as (level, title, page), read by poppler's pdftohtml."""
    xml = subprocess.run(
        ["pdftohtml", "-xml", "-stdout", "-i", "-q", "-f", "1", "-l", "1", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True, resolve_entities=False))
    items = []

    def walk(outline, level):
        for child in outline:
            if child.tag == "item":
                items.append((level, "".join(child.itertext()).strip(), int(child.get("page"))))
            elif child.tag == "outline":
                walk(child, level + 1)

    top = root.find("outline")
    assert top is not None, "the PDF has no outline"
    walk(top, 0)
    return items


def build(filters=None, **kw) -> tuple[bytes, object]:
    out = io.BytesIO()
    result = write_catalogue(filters or {}, out, **kw)
    return out.getvalue(), result


@pytest.fixture
def offers(app, make_establishment):
    nantes = make_establishment(name="Organisme Ligérien d'Éducation", commune="Nantes")
    angers = make_establishment(name="Angers Compétences", commune="Angers")
    return {
        "rh": publish_offer(app, nantes, "Titre professionnel assistant ressources humaines"),
        "elec": publish_offer(
            app,
            angers,
            "Électricité générale : habilitation électrique",
            postcode="49000",
            commune="Angers",
            formacodes=["24054"],
            public_targets=["80006"],
            teaching_mode=1,
        ),
        "compta": publish_offer(
            app, nantes, "Comptabilité et gestion de la paie", complement="Session d'été"
        ),
    }


def test_structure_cover_contents_bookmarks_and_page_numbers(offers, tmp_path):
    data, result = build()
    path = pdf_file(data, tmp_path)
    assert data.startswith(b"%PDF-")
    assert pdf_pages(path) == result.pages == 3  # cover, contents, formations
    assert (result.formations, result.sessions) == (3, 3)

    cover = pdf_text(path, 1, 1)
    assert "Catalogue de l'offre de formation" in cover and "3 formation(s) · 3 session(s)" in cover
    contents = pdf_text(path, 2, 2)
    assert "Sommaire" in contents
    toc = dict(re.findall(TOC_LINE, contents, re.M))
    assert len(toc) == 3

    outline = pdf_outline(path)
    assert outline[0] == (0, "Sommaire", 2)
    assert outline[1][:2] == (0, "Formations")
    entries = [(title, page) for level, title, page in outline if level == 1]
    assert [t.split(" – ")[0] for t, _ in entries] == [
        "Comptabilité et gestion de la paie",
        "Électricité générale : habilitation électrique",
        "Titre professionnel assistant ressources humaines",
    ]  # sorted as a reader expects: accents do not send É after T
    for title, page in entries:
        # The contents, the bookmark and the page itself agree on where a formation starts.
        assert toc[title] == str(page)
        assert title.split(" – ")[0] in pdf_text(path, page, page)
    last = pdf_text(path, result.pages, result.pages)
    assert f"Page {result.pages} / {result.pages}" in last


def test_session_details_and_french_text_are_extractable(offers, tmp_path):
    data, _ = build()
    text = pdf_text(pdf_file(data, tmp_path))
    session = offers["rh"]["session"]
    assert "Titre professionnel assistant ressources humaines" in text
    assert "Électricité générale : habilitation électrique" in text
    assert "Organisme Ligérien d'Éducation" in text
    assert "3 000,00 €" in text  # 2 500 € HT + 20 % TVA
    assert f"du 10/02/{YEAR}" in text and f"au 28/06/{YEAR}" in text
    assert "centre : 200 h" in text and "44000 Nantes" in text and "49000 Angers" in text
    assert "Léa Martin" in text  # the référent
    assert session.fas_code.rsplit("-", 1)[0] in text
    assert "Session d'été" in text


def test_drafts_and_unvalidated_edits_never_reach_the_pdf(
    app, offers, make_establishment, tmp_path
):
    draft = complete_offer(make_establishment(name="Brouillon SA"), year=YEAR)
    draft["certification"].title = "Formation jamais validée"
    submitted = complete_offer(make_establishment(name="En attente SARL"), year=YEAR)
    submitted["certification"].title = "Formation en attente de validation"
    submitted["action"].status = ActionStatus.SUBMITTED
    # After validation the OF edits: the public keeps the validated version.
    offers["compta"]["action"].title_complement = "Modification non validée"
    db.session.commit()
    data, result = build()
    text = pdf_text(pdf_file(data, tmp_path))
    assert result.formations == 3
    for private in (
        "Formation jamais validée",
        "Formation en attente de validation",
        "Brouillon SA",
        "En attente SARL",
        "Modification non validée",
    ):
        assert private not in text
    assert "Session d'été" in text


def test_ended_sessions_are_left_out_unless_asked_for(offers, tmp_path):
    row = db.session.get(PublishedSession, offers["elec"]["session"].id)
    row.end_date = date.today() - timedelta(days=1)
    db.session.commit()
    data, result = build()
    assert result.formations == 2
    assert "Électricité" not in pdf_text(pdf_file(data, tmp_path))
    data, result = build({"terminees": "1"})
    assert result.formations == 3
    assert "Sessions terminées : incluses" in pdf_text(pdf_file(data, tmp_path), 1, 1)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"departement": "49"}, {"elec"}),
        ({"departement": "44"}, {"rh", "compta"}),
        ({"commune": "ANGERS"}, {"elec"}),
        ({"q": "electricite"}, {"elec"}),
        ({"q": "paie nantes"}, {"compta"}),
        ({"du": f"{YEAR}-02-10", "au": f"10/02/{YEAR}"}, {"rh", "elec", "compta"}),
        ({"du": f"{YEAR}-02-11"}, set()),
        ({"modalite": "1"}, {"elec"}),
        ({"modalite": "0", "departement": "44"}, {"rh", "compta"}),
        ({"niveau": "1"}, {"rh", "elec", "compta"}),
        ({"niveau": "14"}, set()),
        ({"public": "80006"}, {"elec"}),
        ({"formacode": "24054"}, {"elec"}),
        ({"formacode": "24055"}, set()),
        ({"page": "3", "tri": "-debut", "taille": "50"}, {"rh", "elec", "compta"}),
    ],
)
def test_filters_select_the_published_sessions(offers, filters, expected):
    _, result = build(filters)
    assert result.formations == len(expected)


def test_programme_lot_and_fas_code_filters(offers, tmp_path):
    rh = offers["rh"]
    for filters in (
        {"programme": rh["programme"].id},
        {"lot": str(rh["lot"].id)},
        {"q": rh["session"].fas_code},
    ):
        data, result = build(filters)
        assert result.formations == 1, filters
        assert "ressources humaines" in pdf_text(pdf_file(data, tmp_path))


def test_unknown_programme_or_lot_of_another_programme_is_refused(offers):
    with pytest.raises(FilterError, match="Programme inconnu"):
        build({"programme": "999999"})
    with pytest.raises(FilterError, match="n'appartient pas"):
        build({"programme": offers["rh"]["programme"].id, "lot": offers["elec"]["lot"].id})


@pytest.mark.parametrize(
    "args",
    [
        {"programme": "abc"},
        {"programme": "0"},
        {"lot": "-3"},
        {"lot": "99999999999"},
        {"departement": "999"},
        {"departement": "4"},
        {"commune": "x" * 61},
        {"du": "31/02/2024"},
        {"au": "demain"},
        {"du": "2024-03-01", "au": "2024-02-01"},
        {"q": "mot " * 60},
        {"modalite": "3"},
        {"niveau": "99"},
        {"public": "12345"},
        {"formacode": "2405"},
        {"terminees": "oui"},
    ],
)
def test_junk_filter_values_raise_a_french_error(args):
    with pytest.raises(FilterError) as error:
        parse_filters(args)
    assert error.value.message.endswith(".")


def test_filters_round_trip_through_the_query_string():
    filters = parse_filters(
        {
            "programme": " 8 ",
            "departement": "2a",
            "du": "01/02/2024",
            "q": "  comptabilité ",
            "page": "3",
        }
    )
    assert filters.to_args() == {
        "programme": "8",
        "departement": "2A",
        "du": "2024-02-01",
        "q": "comptabilité",
    }
    assert parse_filters(filters.to_args()) == filters
    assert parse_filters({}).is_empty


def test_fingerprint_changes_with_the_published_rows(app, offers, make_establishment):
    today = date.today()
    everything = parse_filters({})
    before = fingerprint(everything, today)
    other_department = fingerprint(parse_filters({"departement": "49"}), today)
    publish_offer(app, make_establishment(), "Nouvelle formation")
    assert fingerprint(everything, today) != before
    # A catalogue the new offer is not part of keeps its fingerprint (and its cache).
    assert fingerprint(parse_filters({"departement": "49"}), today) == other_department


def test_empty_catalogue_says_so(app, tmp_path):
    data, result = build({"departement": "44"})
    path = pdf_file(data, tmp_path)
    assert (result.formations, result.pages) == (0, pdf_pages(path))
    assert "Aucune session publiée ne correspond à ces critères." in pdf_text(path)
    assert "Département : 44" in pdf_text(path, 1, 1)


def test_progress_is_reported_up_to_100(offers):
    seen = []
    build(progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)
    assert any(0 < p < 100 for p in seen)


def test_wrap_text_cuts_words_too_long_for_the_cell():
    lines = wrap_text("Contact : prenom.nom-tres-long@organisme-de-formation.example.org", 60)
    assert len(lines) > 2
    assert "".join(lines).replace(" ", "").endswith("example.org")
    assert wrap_text("un deux trois quatre", 1000) == ["un deux trois quatre"]
    assert wrap_text("a " * 200, 50, max_lines=2)[-1].endswith("…")


def test_long_catalogue_contents_bookmarks_and_pages_agree(tmp_path):
    """120 formations, some with long objectives or sessions tables longer than a page."""

    def session(i: int, s: int) -> SessionEntry:
        return SessionEntry(
            f"{i}-{i}-{1000 + s}",
            "du 01/02/2027\nau 30/06/2027",
            "Principal\n44000 Nantes",
            "centre : 200 h",
            "12",
            "3 000,00 €",
            "Léa Martin\nlea.martin@organisme-de-formation.example.org",
        )

    formations = [
        FormationEntry(
            key=f"F{i}",
            title=f"Formation n° {i:03d} : électricité et sécurité",
            organisation="Organisme Ligérien",
            objective="Acquérir les gestes professionnels. " * (60 if i % 7 == 0 else 2),
            actions=(
                ActionEntry(
                    f"{i}-{i}",
                    "Organisme Ligérien",
                    sessions=tuple(session(i, s) for s in range(1 + i % 40)),
                ),
            ),
        )
        for i in range(120)
    ]
    meta = CatalogueMeta(
        "Catalogue de l'offre de formation",
        (("Département", "44"),),
        date.today(),
        formations=120,
        sessions=0,
    )
    out = io.BytesIO()
    pages = render_catalogue(meta, formations, out)
    path = pdf_file(out.getvalue(), tmp_path)
    assert pdf_pages(path) == pages > 60
    texts = pdf_text(path).split("\f")
    outline = [(title, page) for level, title, page in pdf_outline(path) if level == 1]
    assert len(outline) == 120
    assert [p for _, p in outline] == sorted(p for _, p in outline)
    contents = "".join(texts[1 : outline[0][1] - 1])
    assert "Sommaire" in texts[1]
    toc = dict(re.findall(TOC_LINE, contents, re.M))
    for title, page in outline:
        assert toc[title] == str(page)
        assert title.split(" – ")[0] in texts[page - 1]
        assert f"Page {page} / {pages}" in texts[page - 1]
    # A sessions table longer than a page goes on with its header on the next one.
    longest = next(p for t, p in outline if t.startswith("Formation n° 039"))
    assert "1038" in texts[longest] and "Session" in texts[longest]
