"""The session and action lists over HTTP: columns, sort, search, filters, paging, CSV, bulk."""

import csv
import html as html_lib
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import ActionStatus, JournalEntry, Session
from portal.search import query
from portal.search.normalise import normalise

TODAY = date.today()


def fas_ids(page: str) -> list[int]:
    """Session numbers of the list, in order (the bold part of each FAS code)."""
    cell = r'<td class="nowrap fas"><a href="[^"]+">\d+-\d+-<b>(\d+)</b></a></td>'
    return [int(n) for n in re.findall(cell, page)]


def action_ids(page: str) -> list[int]:
    cell = r'<td class="nowrap fas"><a href="[^"]+">\d+-<b>(\d+)</b></a></td>'
    return [int(n) for n in re.findall(cell, page)]


def pager_status(page: str) -> str:
    return re.search(r'data-testid="pager-status">([^<]+)<', page).group(1)


def result_count(page: str) -> str:
    return re.search(r'data-testid="result-count"[^>]*>([^<]+)<', page).group(1)


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)"[^>]*rel="{rel}"', page)
    return html_lib.unescape(match.group(1)) if match else None


def rows_of(page: str) -> list[list[str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        rows.append([html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


@pytest.fixture
def catalogue(
    client,
    auth,
    of_user,
    make_establishment,
    make_site,
    make_programme,
    make_certification,
    make_formation,
    make_action,
    make_session,
):
    """Five sessions of the first establishment whose every column differs, one elsewhere."""
    user, first, second, other = of_user
    providers = [
        make_site(make_establishment(name=name), name="Principal")
        for name in ("Zénith Formation", "atelier du bois", "Bâtiment Plus")
    ]
    places = {
        c: make_site(first, name=f"Site {c}", commune=c) for c in ("Nantes", "Évron", "angers")
    }
    places["Le Mans"] = make_site(first, name="Sarthe", commune="Le Mans")
    programmes = {code: make_programme(dispositif_code=code) for code in (3, 8)}
    electricity = make_certification(title="Électricité générale")
    spec = [
        # title, complement, provider, place, start, end, active, dispositif
        ("cert", None, 0, "Nantes", TODAY - timedelta(10), TODAY + timedelta(90), True, 8),
        ("assistant RH", "Groupe 2", 1, "Évron", TODAY - timedelta(100), TODAY - timedelta(5),
         True, 3),
        ("Boulangerie", None, 2, "angers", None, None, True, None),
        ("Ébénisterie", "Session d'été", 1, "Le Mans", TODAY + timedelta(30),
         TODAY + timedelta(200), False, 8),
        ("comptabilité", None, 0, "Nantes", TODAY - timedelta(200), TODAY + timedelta(20), True,
         3),
    ]  # fmt: skip
    sessions = []
    for title, complement, provider, place, start, end, active, dispositif in spec:
        programme_id = programmes[dispositif].id if dispositif else None
        if title == "cert":
            formation = make_formation(
                first,
                has_certif_info=True,
                certification_id=electricity.id,
                programme_id=programme_id,
            )
        else:
            formation = make_formation(first, title=title, programme_id=programme_id)
        action = make_action(formation, site_id=providers[provider].id, title_complement=complement)
        sessions.append(
            make_session(
                action,
                site_id=places[place].id,
                start_date=start,
                end_date=end,
                active=active,
            )
        )
    elsewhere = make_session(make_action(make_formation(other, title="Électricité ailleurs")))
    auth.login(user)
    auth.switch(first)
    return sessions, elsewhere


def _expected_keys(s: Session) -> dict:
    """What each sort orders a session by, computed from the records themselves."""
    action = s.action
    formation = action.formation
    title = formation.title + (f" - {action.title_complement}" if action.title_complement else "")
    current = s.active and (s.end_date is None or s.end_date >= TODAY)
    return {
        "code": (formation.id, action.id),
        "intitule": normalise(title),
        "site": normalise(action.site.establishment.name if action.site else ""),
        "commune": normalise(s.site.commune if s.site else ""),
        "debut": s.start_date or date.min,
        "fin": s.end_date or date.max,
        "dispositif": formation.programme.dispositif_code if formation.programme else 0,
        "etat": 0 if current else 1,
    }


def test_session_row_shows_every_column_of_the_procedure(client, catalogue):
    sessions, elsewhere = catalogue
    page = client.get("/sessions", query_string={"tri": "code"}).text
    for header in (
        "Code FAS",
        "Intitulé formation",
        "Site dispensateur",
        "Commune lieu",
        "Date début",
        "Date fin",
        "Code dispositif",
        "Etat A/I",
    ):
        assert f">{header}</a>" in page
    rows = {row[1]: row[2:] for row in rows_of(page)}
    s = sessions[0]
    fas = f"{s.action.formation_id}-{s.action_id}-{s.id}"
    link = f'<a href="/sessions/{s.id}">{fas.rsplit("-", 1)[0]}-<b>{s.id}</b></a>'
    assert f'<td class="nowrap fas">{link}</td>' in page
    assert rows[fas] == [
        "Électricité générale",
        "Zénith Formation",
        "Nantes",
        (TODAY - timedelta(10)).strftime("%d/%m/%Y"),
        (TODAY + timedelta(90)).strftime("%d/%m/%Y"),
        "8",
        "Actif",
    ]
    by_title = {row[2]: row for row in rows_of(page)}
    assert by_title["assistant RH - Groupe 2"][-1] == "Inactif"  # ended five days ago
    assert by_title["Ébénisterie - Session d'été"][-1] == "Inactif"  # switched off
    assert by_title["Boulangerie"][5:] == ["", "", "", "Actif"]  # no dates, no programme
    assert "Électricité ailleurs" not in page
    assert f"<b>{elsewhere.id}</b>" not in page
    assert "SIRET" not in re.sub(r"<header.*?</header>", "", page, flags=re.S)


def test_heading_names_the_filter_and_counts_the_results(client, catalogue):
    page = client.get("/sessions").text
    assert re.search(r"<h1[^>]*>Sessions <span[^>]*>5 résultats</span></h1>", page)
    page = client.get("/sessions", query_string={"filtre": "actives"}).text
    assert re.search(
        r"<h1[^>]*>Sessions - Sessions de formation actives <span[^>]*>3 résultats</span>", page
    )
    assert "Voir toutes les sessions" in page


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("slug", [s for s in query.SESSIONS.sorts if s != "siret"])
def test_every_column_sorts_both_ways(client, catalogue, slug, descending):
    sessions, _ = catalogue
    expected = sorted(sessions, key=lambda s: (_expected_keys(s)[slug], s.id), reverse=descending)
    tri = f"-{slug}" if descending else slug
    page = client.get("/sessions", query_string={"tri": tri}).text
    assert fas_ids(page) == [s.id for s in expected]
    header = re.search(rf'<th scope="col" data-sort="{slug}"([^>]*)>', page).group(1)
    assert f'aria-sort="{"descending" if descending else "ascending"}"' in header


def test_header_link_toggles_the_direction_and_keeps_the_search(client, catalogue):
    page = client.get("/sessions", query_string={"tri": "commune", "q": "a"}).text
    assert 'href="/sessions?q=a&amp;tri=-commune"' in page
    assert 'href="/sessions?q=a&amp;tri=intitule"' in page


@pytest.mark.parametrize(
    ("q", "titles"),
    [
        ("ELECTRICITE", {"Électricité générale"}),
        ("électricité générale", {"Électricité générale"}),
        ("lectri", {"Électricité générale"}),
        ("ebenisterie", {"Ébénisterie - Session d'été"}),
        ("groupe", {"assistant RH - Groupe 2"}),  # the action's complement
        ("zenith", {"Électricité générale", "comptabilité"}),  # the site dispensateur
        ("EVRON", {"assistant RH - Groupe 2"}),  # the commune
        ("le mans", {"Ébénisterie - Session d'été"}),
        ("nantes comptabilite", {"comptabilité"}),  # every word is required
        ("electricite angers", set()),
        ("plomberie", set()),
    ],
)
def test_search_is_accent_and_case_insensitive_and_needs_every_word(client, catalogue, q, titles):
    page = client.get("/sessions", query_string={"q": q}).text
    assert {row[2] for row in rows_of(page) if len(row) > 2} == titles
    assert result_count(page) == f"{len(titles)} résultats"
    if not titles:
        assert "Aucun résultat trouvé" in page


def test_search_finds_a_fas_code_whole_or_in_part(client, catalogue):
    sessions, _ = catalogue
    s = sessions[3]
    for q in (
        f"{s.action.formation_id}-{s.action_id}-{s.id}",
        f"{s.action.formation_id}-{s.action_id}",
        f"{s.action_id}-{s.id}",
        str(s.id),
    ):
        assert fas_ids(client.get("/sessions", query_string={"q": q}).text) == [s.id], q


def test_frequent_and_rare_words_find_the_same_rows(client, catalogue, monkeypatch):
    queries = ["e", "nantes", "groupe rh", "electricite zenith", "a b"]
    looked_up = {q: fas_ids(client.get(f"/sessions?q={q}&taille=100").text) for q in queries}
    monkeypatch.setattr(query, "DRIVER_LIMIT", 0)  # every word read row by row
    for q in queries:
        assert fas_ids(client.get(f"/sessions?q={q}&taille=100").text) == looked_up[q], q


def test_search_never_shows_another_establishment(client, catalogue):
    _, elsewhere = catalogue
    for q in ("electricite", "ailleurs", str(elsewhere.id)):
        page = client.get("/sessions", query_string={"q": q}).text
        assert "Électricité ailleurs" not in {row[2] for row in rows_of(page) if len(row) > 2}
        assert f"<b>{elsewhere.id}</b>" not in page


def test_search_box_is_an_active_search_that_keeps_the_words(client, catalogue):
    page = client.get("/sessions", query_string={"q": "Électricité"}).text
    box = re.search(r'<input id="sessions-q"[^>]*>', page, flags=re.S).group(0)
    assert 'value="Électricité"' in box
    assert 'hx-trigger="input changed delay:300ms, search"' in box
    assert 'hx-push-url="true"' in box and 'hx-get="/sessions"' in box


def test_list_answers_a_fragment_to_htmx_and_a_page_otherwise(client, catalogue, hx):
    page = client.get("/sessions")
    fragment = client.get("/sessions", headers=hx)
    assert "<html" in page.text and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="sessions-results"')
    assert 'id="sessions-count"' in fragment.text and 'hx-swap-oob="true"' in fragment.text
    assert 'hx-swap-oob="true"' not in page.text
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]


def test_active_search_pushes_the_canonical_url(client, catalogue, hx):
    # The search form sends every control, the default page size included.
    response = client.get("/sessions?taille=10&q=nantes&filtre=&tri=-debut", headers=hx)
    assert response.headers["HX-Push-Url"] == "/sessions?q=nantes"


@pytest.fixture
def many(client, auth, of_user, make_formation, make_action, make_session):
    """25 sessions starting on 25 different days."""
    user, first, *_ = of_user
    action = make_action(make_formation(first, title="Gestion de paie"))
    sessions = [
        make_session(action, start_date=TODAY - timedelta(days=i), end_date=TODAY + timedelta(9))
        for i in range(25)
    ]
    auth.login(user)
    auth.switch(first)
    return sessions  # the default order (start date, newest first) is creation order


@pytest.mark.parametrize(
    ("size", "shown", "status"),
    [
        (10, 10, "Voir 1 à 10 sur 25 résultats"),
        (25, 25, "Voir 1 à 25 sur 25 résultats"),
        (50, 25, "Voir 1 à 25 sur 25 résultats"),
        (100, 25, "Voir 1 à 25 sur 25 résultats"),
    ],
)
def test_page_size_is_chosen_among_10_25_50_100(client, many, size, shown, status):
    page = client.get("/sessions", query_string={"taille": size}).text
    assert len(fas_ids(page)) == shown
    assert pager_status(page) == status
    assert re.search(rf'<option value="{size}" selected>', page)


def test_suivante_walks_every_page_to_the_end_without_offset(client, many):
    url, seen, statuses = "/sessions", [], []
    while url:
        page = client.get(url).text
        seen += fas_ids(page)
        statuses.append(pager_status(page))
        url = link(page, "next")
    assert seen == [s.id for s in many]
    assert statuses == [
        "Voir 1 à 10 sur 25 résultats",
        "Voir 11 à 20 sur 25 résultats",
        "Voir 21 à 25 sur 25 résultats",
    ]
    assert '<span aria-disabled="true">Suivante</span>' in page


def test_precedente_walks_back_from_the_last_page_to_the_first(client, many):
    page = client.get("/sessions", query_string={"page": "derniere"}).text
    assert pager_status(page) == "Voir 21 à 25 sur 25 résultats"
    assert fas_ids(page) == [s.id for s in many[20:]]
    page = client.get(link(page, "prev")).text
    assert pager_status(page) == "Voir 11 à 20 sur 25 résultats"
    assert fas_ids(page) == [s.id for s in many[10:20]]
    page = client.get(link(page, "prev")).text
    assert pager_status(page) == "Voir 1 à 10 sur 25 résultats"
    assert '<span aria-disabled="true">Précédente</span>' in page
    assert '<span aria-disabled="true">Première</span>' in page


def test_last_page_of_an_exact_multiple_is_full(client, many):
    for s in many[20:]:
        db.session.delete(db.session.get(Session, s.id))
    db.session.commit()
    page = client.get("/sessions", query_string={"page": "derniere"}).text
    assert pager_status(page) == "Voir 11 à 20 sur 20 résultats"
    assert len(fas_ids(page)) == 10


def test_first_page_link_and_page_1_are_the_first_page(client, many):
    page = client.get(f"/sessions?apres={many[9].id}").text
    assert link(page, "first") == "/sessions"
    assert fas_ids(client.get("/sessions?page=1").text) == [s.id for s in many[:10]]


def test_empty_list_says_so(client, auth, of_user):
    auth.login(of_user[0])
    page = client.get("/sessions").text
    assert "Aucun résultat trouvé" in page
    assert pager_status(page) == "Voir 0 sur 0 du 0 résultats"
    assert result_count(page) == "0 résultats"
    assert fas_ids(client.get("/sessions?page=derniere").text) == []


def test_a_position_that_is_gone_or_not_ours_starts_over(
    client, many, of_user, make_formation, make_action, make_session
):
    theirs = make_session(make_action(make_formation(of_user[3])))
    for position in (f"apres={theirs.id}", "apres=99999999", f"avant={theirs.id}"):
        page = client.get(f"/sessions?{position}").text
        assert pager_status(page) == "Voir 1 à 10 sur 25 résultats", position
        assert f"<b>{theirs.id}</b>" not in page


def test_past_the_end_shows_the_last_page(client, many):
    url = f"/sessions?filtre=actives&apres={many[-1].id}"
    page = client.get(url).text
    assert pager_status(page) == "Voir 21 à 25 sur 25 résultats"


def test_paging_links_keep_the_search_the_filter_the_sort_and_the_size(client, many):
    page = client.get("/sessions?q=paie&filtre=actives&tri=fin&taille=10").text
    assert (
        link(page, "next") == f"/sessions?q=paie&filtre=actives&tri=fin&apres={fas_ids(page)[-1]}"
    )
    assert link(page, "last") == "/sessions?q=paie&filtre=actives&tri=fin&page=derniere"


@pytest.mark.parametrize(
    "query_string",
    [
        "taille=7",
        "taille=tout",
        "tri=nope",
        "tri=siret",
        "apres=x",
        "apres=0",
        "apres=1&avant=2",
        "page=2",
        "siret=13000511900032",
        "q=" + "x" * 201,
    ],
)
@pytest.mark.parametrize("path", ["/sessions", "/actions", "/sessions/export.csv"])
def test_junk_arguments_are_a_bad_request(client, catalogue, path, query_string):
    assert client.get(f"{path}?{query_string}").status_code == 400


@pytest.mark.parametrize(
    "path", ["/sessions?filtre=nope", "/actions?filtre=nope", "/actions?filtre=actives"]
)
def test_unknown_named_filter_is_404(client, catalogue, path):
    assert client.get(path).status_code == 404


def test_each_named_filter_lists_what_its_name_says(client, catalogue):
    sessions, _ = catalogue
    expect = {
        "actives": {sessions[0].id, sessions[2].id, sessions[4].id},
        "inactives": {sessions[1].id, sessions[3].id},
        "fin-moins-un-mois": {sessions[4].id},
        "programme-region": {sessions[0].id, sessions[4].id},
    }
    for slug, ids in expect.items():
        page = client.get("/sessions", query_string={"filtre": slug, "taille": 100}).text
        assert set(fas_ids(page)) == ids, slug


def test_filter_search_and_sort_combine(client, catalogue):
    sessions, _ = catalogue
    page = client.get("/sessions?filtre=actives&q=zenith&tri=-debut").text
    assert fas_ids(page) == [sessions[0].id, sessions[4].id]


def test_carif_searches_every_establishment_without_choosing_one(
    client, auth, catalogue, carif_user
):
    sessions, elsewhere = catalogue
    auth.logout()
    auth.login(carif_user)
    page = client.get("/sessions", query_string={"q": "electricite"})
    assert page.status_code == 200
    assert set(fas_ids(page.text)) == {sessions[0].id, elsewhere.id}
    assert '<th scope="col" data-sort="siret"' in page.text
    sirets = {row[0] for row in rows_of(page.text)}  # no tick box: carif changes nothing
    assert sirets == {sessions[0].establishment.siret, elsewhere.establishment.siret}


def test_carif_siret_filter_narrows_to_an_establishment_or_an_organisation(
    client, auth, catalogue, carif_user, of_user, make_establishment, make_formation,
    make_action, make_session,
):  # fmt: skip
    sessions, elsewhere = catalogue
    first = of_user[1]
    sibling = make_establishment(
        organisation=first.organisation, siret=first.siret[:9] + "99990"[:4] + "0"
    )
    theirs = make_session(make_action(make_formation(sibling)))
    auth.logout()
    auth.login(carif_user)
    page = client.get("/sessions", query_string={"siret": first.siret, "taille": 100}).text
    assert set(fas_ids(page)) == {s.id for s in sessions}
    assert result_count(page) == "5 résultats"
    page = client.get("/sessions", query_string={"siret": first.siret[:9], "taille": 100}).text
    assert set(fas_ids(page)) == {s.id for s in sessions} | {theirs.id}
    page = client.get("/sessions", query_string={"siret": "99999999999999"}).text
    assert fas_ids(page) == [] and result_count(page) == "0 résultats"


def test_carif_lens_links_list_the_establishment_whose_counters_they_follow(
    client, auth, catalogue, carif_user
):
    sessions, elsewhere = catalogue
    auth.logout()
    auth.login(carif_user)
    auth.switch(sessions[0].establishment)
    dashboard = client.get("/").text
    lens = html_lib.unescape(
        re.search(r'href="(/sessions\?filtre=actives[^"]*)"', dashboard).group(1)
    )
    assert lens == f"/sessions?filtre=actives&siret={sessions[0].establishment.siret}"
    counter = re.search(
        r'data-counter="sessions-actives">.*?<td class="counter-value">(\d+)</td>', dashboard, re.S
    ).group(1)
    page = client.get(lens).text
    assert result_count(page) == f"{counter} résultats"
    assert "Limiter à" not in page
    assert (
        f'href="/sessions?siret={sessions[0].establishment.siret}"' in client.get("/sessions").text
    )


def test_carif_sorts_on_the_siret_column(client, auth, catalogue, carif_user):
    sessions, elsewhere = catalogue
    auth.logout()
    auth.login(carif_user)
    rows = rows_of(client.get("/sessions", query_string={"tri": "-siret", "taille": 100}).text)
    sirets = [row[1] for row in rows]
    assert sirets == sorted(sirets, reverse=True) and len(rows) == 6


def _csv(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_exports_every_page_of_the_current_list(client, many):
    response = client.get("/sessions/export.csv?q=paie&tri=debut&apres=123")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="sessions-\d{8}\.csv"', response.headers["Content-Disposition"]
    )
    rows = _csv(response)
    assert rows[0] == [
        "Code FAS",
        "Intitulé formation",
        "Site dispensateur",
        "Commune lieu",
        "Date début",
        "Date fin",
        "Code dispositif",
        "Etat A/I",
    ]
    assert len(rows) == 26  # every page, whatever the position in the URL
    first = many[-1]  # oldest start: first in ascending order
    assert rows[1] == [
        f"{first.action.formation_id}-{first.action_id}-{first.id}",
        "Gestion de paie",
        "",
        "",
        first.start_date.strftime("%d/%m/%Y"),
        first.end_date.strftime("%d/%m/%Y"),
        "",
        "Actif",
    ]


def test_csv_follows_the_filter_and_the_search(client, catalogue):
    sessions, _ = catalogue
    rows = _csv(client.get("/sessions/export.csv?filtre=actives&q=zenith&tri=-debut"))
    assert [r[0].rsplit("-", 1)[1] for r in rows[1:]] == [str(sessions[0].id), str(sessions[4].id)]


def test_csv_neutralises_formulas(client, of_user, auth, make_formation, make_action, make_session):
    user, first, *_ = of_user
    action = make_action(
        make_formation(first, title='=HYPERLINK("http://evil.example","clic")'),
        title_complement="+ cher",
    )
    make_session(action)
    auth.login(user)
    rows = _csv(client.get("/sessions/export.csv"))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","clic") - + cher'


def test_csv_is_scoped_and_the_carif_one_has_the_siret(client, auth, catalogue, carif_user):
    sessions, elsewhere = catalogue
    rows = _csv(client.get("/sessions/export.csv"))
    assert len(rows) == 6 and "Électricité ailleurs" not in {r[1] for r in rows}
    auth.logout()
    auth.login(carif_user)
    rows = _csv(client.get("/sessions/export.csv?q=electricite"))
    assert rows[0][:2] == ["SIRET", "Code FAS"]
    assert {r[0] for r in rows[1:]} == {
        sessions[0].establishment.siret,
        elsewhere.establishment.siret,
    }


def _post_bulk(client, ids, operation, headers=None, **form):
    data = {"ids": [str(i) for i in ids], "operation": operation, **form}
    return client.post("/sessions/selection", data=data, headers=headers or {})


def _state_of(session_id):
    db.session.expire_all()
    s = db.session.get(Session, session_id)
    return s.recruitment_state, s.active, s.version


def test_bulk_recruitment_state_changes_the_ticked_sessions_only(client, catalogue, hx):
    sessions, _ = catalogue
    ticked, untouched = sessions[:2], sessions[2:]
    before = {s.id: _state_of(s.id) for s in sessions}
    response = _post_bulk(client, [s.id for s in ticked], "etat", hx, etat="2")
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == (
        '{"saved": "Recrutement \\u00ab ferm\\u00e9 \\u00bb appliqu\\u00e9 \\u00e0 2 sessions."}'
    )
    assert response.text.lstrip().startswith('<div id="sessions-results"')
    for s in ticked:
        state, active, version = _state_of(s.id)
        assert state == "2" and version == before[s.id][2] + 1
    for s in untouched:
        assert _state_of(s.id) == before[s.id]
    journal = db.session.scalars(
        select(JournalEntry).where(JournalEntry.field == "recruitment_state")
    ).all()
    assert {e.record_id for e in journal} == {s.id for s in ticked}
    assert {(e.before, e.after) for e in journal} == {(None, "2")}


def test_bulk_deactivation_shows_in_the_list_at_once(client, catalogue, hx):
    sessions, _ = catalogue
    target = sessions[0]
    response = _post_bulk(client, [target.id], "desactiver", hx, filtre="actives", q="", tri="code")
    assert response.status_code == 200
    assert target.id not in fas_ids(response.text)
    assert "1 session désactivée." in response.headers["HX-Trigger"].encode().decode(
        "unicode_escape"
    )
    page = client.get("/sessions", query_string={"q": "electricite"}).text
    assert rows_of(page)[0][-1] == "Inactif"


def test_bulk_without_javascript_redirects_back_to_the_same_list(client, catalogue):
    sessions, _ = catalogue
    response = _post_bulk(
        client, [sessions[0].id], "desactiver", filtre="actives", tri="code", taille="25"
    )
    assert response.status_code == 303
    assert response.location == "/sessions?filtre=actives&tri=code&taille=25"
    assert "1 session désactivée." in client.get(response.location).text


@pytest.mark.parametrize(
    ("ids", "operation", "form", "message"),
    [
        ([], "desactiver", {}, "Sélectionnez au moins une session dans la liste."),
        (None, "etat", {}, "Choisissez l&#39;état du recrutement à appliquer"),
        (None, "etat", {"etat": "7"}, "Choisissez l&#39;état du recrutement à appliquer"),
    ],
)
def test_bulk_that_cannot_apply_is_422_with_the_reason_and_changes_nothing(
    client, catalogue, hx, ids, operation, form, message
):
    sessions, _ = catalogue
    ids = [s.id for s in sessions[:2]] if ids is None else ids
    before = {s.id: _state_of(s.id) for s in sessions}
    for headers in (hx, {}):
        response = _post_bulk(client, ids, operation, headers, **form)
        assert response.status_code == 422
        assert message in response.text
        assert 'role="alert"' in response.text
        for i in ids:  # the ticked boxes stay ticked
            assert re.search(
                rf'value="{i}" form="sessions-bulk"\s+aria-label="[^"]+" checked', response.text
            )
    assert {s.id: _state_of(s.id) for s in sessions} == before


def test_bulk_with_a_forged_id_of_another_establishment_is_404_and_changes_nothing(
    client, catalogue, hx
):
    sessions, elsewhere = catalogue
    before = {s.id: _state_of(s.id) for s in [*sessions, elsewhere]}
    for operation, form in (("desactiver", {}), ("etat", {"etat": "3"})):
        ids = [sessions[0].id, elsewhere.id]
        assert _post_bulk(client, ids, operation, hx, **form).status_code == 404
        assert _post_bulk(client, [99999999], operation, hx, **form).status_code == 404
    assert {s.id: _state_of(s.id) for s in [*sessions, elsewhere]} == before


@pytest.mark.parametrize(("ids", "operation"), [(["x"], "desactiver"), (["1"], "supprimer")])
def test_bulk_with_junk_is_a_bad_request(client, catalogue, ids, operation):
    assert _post_bulk(client, ids, operation).status_code == 400


def test_bulk_that_meets_a_concurrent_change_is_409_and_saves_nothing(
    client, catalogue, monkeypatch
):
    sessions, _ = catalogue
    from portal.search import bulk

    apply = bulk.apply

    def apply_then_someone_saves(request, records, user_id):
        changed = apply(request, records, user_id)
        with db.session.no_autoflush:  # another tab saved the second session meanwhile
            db.session.execute(
                update(Session.__table__)
                .where(Session.__table__.c.id == records[1].id)
                .values(version=Session.__table__.c.version + 1)
            )
        return changed

    monkeypatch.setattr(bulk, "apply", apply_then_someone_saves)
    response = _post_bulk(client, [s.id for s in sessions[:2]], "desactiver")
    assert response.status_code == 409
    assert _state_of(sessions[0].id)[1] is True


def test_carif_bulk_changes_nothing(client, auth, catalogue, carif_user, hx):
    """The Carif-Oref searches every establishment but never changes the OF's content."""
    sessions, elsewhere = catalogue
    before = (_state_of(sessions[0].id)[0], _state_of(elsewhere.id)[0])
    auth.logout()
    auth.login(carif_user)
    response = _post_bulk(client, [sessions[0].id, elsewhere.id], "etat", hx, etat="3")
    assert response.status_code == 403
    assert (_state_of(sessions[0].id)[0], _state_of(elsewhere.id)[0]) == before
    assert "Sessions cochées" not in client.get("/sessions").text


@pytest.fixture
def actions_catalogue(
    client, auth, of_user, make_programme, make_formation, make_action, make_site
):
    user, first, second, other = of_user
    site = make_site(first, name="Principal")
    region = make_programme(is_public=True)
    made = [
        make_action(make_formation(first, title="Électricité", programme_id=region.id),
                    status=ActionStatus.SUBMITTED, site_id=site.id),
        make_action(make_formation(first, title="assistant RH"), status=ActionStatus.DRAFT,
                    title_complement="Groupe 1"),
        make_action(make_formation(first, title="Boulangerie", programme_id=region.id),
                    status=ActionStatus.VALIDATED),
    ]  # fmt: skip
    theirs = make_action(make_formation(other, title="Électricité ailleurs"))
    auth.login(user)
    auth.switch(first)
    return made, theirs, site


def test_action_list_shows_its_columns(client, actions_catalogue):
    made, theirs, site = actions_catalogue
    page = client.get("/actions", query_string={"tri": "code"}).text
    for header in ("Action", "Libellé", "Site dispensateur", "Etat", "Type"):
        assert f">{header}</a>" in page
    assert action_ids(page) == [a.id for a in made]
    assert f"{made[0].formation_id}-<b>{made[0].id}</b>" in page
    first_row = rows_of(page)[0]
    assert first_row[1:] == [
        "Électricité",
        f"{site.establishment.sofi_number} - {site.establishment.name} - Principal",
        "En attente de validation par le CARIF-OREF",
        "Publique",
    ]
    assert rows_of(page)[1][1:] == ["assistant RH - Groupe 1", "", "En cours de saisie",
                                    "Offre de l’organisme"]  # fmt: skip
    assert "ailleurs" not in page


@pytest.mark.parametrize(
    ("tri", "order"),
    [
        ("libelle", [1, 2, 0]),
        ("-libelle", [0, 2, 1]),
        ("etat", [0, 1, 2]),  # attente de validation < cours de saisie < validée
        ("type", [1, 0, 2]),
        ("-code", [2, 1, 0]),
    ],
)
def test_action_list_sorts(client, actions_catalogue, tri, order):
    made, *_ = actions_catalogue
    assert action_ids(client.get(f"/actions?tri={tri}").text) == [made[i].id for i in order]


def test_action_list_searches_filters_and_exports(client, actions_catalogue):
    made, theirs, site = actions_catalogue
    assert action_ids(client.get("/actions?q=ELECTRICITE").text) == [made[0].id]
    assert action_ids(client.get(f"/actions?q={site.establishment.sofi_number}").text) == [
        made[0].id
    ]
    page = client.get("/actions?filtre=en-saisie").text
    assert action_ids(page) == [made[1].id]
    assert "Actions - Actions de formation en cours de saisie" in page
    rows = _csv(client.get("/actions/export.csv?tri=code"))
    assert rows[0] == ["Action", "Libellé", "Site dispensateur", "Etat", "Type"]
    assert [r[0] for r in rows[1:]] == [f"{a.formation_id}-{a.id}" for a in made]


def test_action_list_pages_like_the_session_list(
    client, auth, of_user, make_formation, make_action
):
    user, first, *_ = of_user
    formation = make_formation(first)
    made = [make_action(formation) for _ in range(12)]
    auth.login(user)
    page = client.get("/actions").text
    assert pager_status(page) == "Voir 1 à 10 sur 12 résultats"
    page = client.get(link(page, "next")).text
    assert pager_status(page) == "Voir 11 à 12 sur 12 résultats"
    assert action_ids(page) == [a.id for a in made[:2]][::-1]


def test_public_formations_list_only_has_programme_formations(
    client, auth, of_user, make_programme, make_formation
):
    user, first, *_ = of_user
    make_formation(first, title="Assistant RH", programme_id=make_programme().id)
    make_formation(first, title="Offre privée")
    auth.login(user)
    html = client.get("/formations/publiques").text
    assert "Assistant RH" in html
    assert "Offre privée" not in html


def test_bulk_changes_respect_the_fiches_rules(
    client, auth, of_user, carif_user, make_formation, make_action, make_session
):
    from portal.models import ActionStatus

    user, first, second, other = of_user
    sent = make_session(make_action(make_formation(first), status=ActionStatus.SUBMITTED))
    validated_action = make_action(make_formation(first), status=ActionStatus.VALIDATED)
    validated = make_session(validated_action)
    auth.login(user)
    auth.switch(first)
    # A session of an action waiting for validation is read-only: nothing changes.
    response = client.post(
        "/sessions/selection", data={"ids": [sent.id, validated.id], "operation": "desactiver"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Session, validated.id).active is True
    # Changing a validated action's session reopens the action, as in its fiche.
    client.post("/sessions/selection", data={"ids": [validated.id], "operation": "desactiver"})
    db.session.expire_all()
    assert db.session.get(Session, validated.id).active is False
    assert db.session.get(type(validated_action), validated_action.id).status == "draft"
    auth.logout()
    auth.login(carif_user)
    response = client.post(
        "/sessions/selection", data={"ids": [sent.id], "operation": "desactiver"}
    )
    assert response.status_code == 403
