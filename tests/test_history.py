"""The journal shown as a history on each record: labels, values, scoping, pagination."""

from __future__ import annotations

import re

import lxml.html
import pytest

from portal.extensions import db
from portal.history.records import KINDS, PAGE_SIZE

from .offer_builders import complete_offer


@pytest.fixture
def world(app, of_user, make_user):
    user, first, second, other = of_user
    built = complete_offer(first, year=2030)
    built["user"] = user
    built["first"] = first
    built["other"] = other
    built["other_user"] = make_user(establishments=[other])
    return built


def rows(page: str) -> list[list[str]]:
    """The journal table's rows as lists of cell texts."""
    tree = lxml.html.fromstring(page)
    return [
        [" ".join(cell.text_content().split()) for cell in tr.findall("td")]
        for tr in tree.xpath("//table[@data-testid='journal']/tbody/tr")
    ]


def live_save(client, url: str, record, name: str, value: str):
    db.session.refresh(record)
    response = client.post(
        url,
        data={"champ": name, name: value, "version": record.version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    return response


def test_a_live_save_shows_in_the_session_history_with_labels_and_french_values(
    client, auth, world
):
    session, user = world["session"], world["user"]
    auth.login(user)
    url = f"/sessions/{session.id}/champ"
    live_save(client, url, session, "start_date", "2030-03-02")
    live_save(client, url, session, "recruitment_state", "2")
    page = client.get(f"/historique/session/{session.id}")
    assert page.status_code == 200
    lines = rows(page.text)
    who = user.display_name
    # Newest first: the recruitment state, then the start date.
    assert lines[0][1:] == [who, "Modification", "Recrutement", "ouvert", "fermé"]
    assert lines[1][1:] == [who, "Modification", "Date début", "10/02/2030", "02/03/2030"]
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", lines[0][0])


def test_code_values_read_as_their_labels(client, auth, world):
    session = world["session"]
    auth.login(world["user"])
    live_save(client, f"/sessions/{session.id}/champ", session, "recruitment_state", "2")
    line = rows(client.get(f"/historique/session/{session.id}").text)[0]
    from portal import codes

    labels = dict(codes.RECRUITMENT_STATES)
    assert line[3:] == ["Recrutement", labels["1"], labels["2"]]


def test_references_read_as_names_and_sub_rows_show_in_the_session_history(
    client, auth, world, make_site
):
    session, first = world["session"], world["first"]
    annexe = make_site(first, name="Annexe des Dervallières", commune="Nantes")
    auth.login(world["user"])
    live_save(client, f"/sessions/{session.id}/champ", session, "site_id", str(annexe.id))
    meeting = session.info_meetings[0]
    response = client.post(
        f"/sessions/{session.id}/informations-collectives/{meeting.id}",
        data={
            f"info_meeting-{meeting.id}-{name}": value
            for name, value in {
                "day": "2030-01-26",
                "start_time": "14:00",
                "site_id": str(annexe.id),
                "comment": "",
                "version": meeting.version,
            }.items()
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    lines = rows(client.get(f"/historique/session/{session.id}").text)
    by_field = {(line[2], line[3]): line for line in lines}
    site_change = by_field[("Modification", "Site lieu")]
    assert site_change[4:] == ["Principal (Nantes)", "Annexe des Dervallières (Nantes)"]
    meeting_day = by_field[(f"Modification · Information collective {meeting.id}", "Date")]
    assert meeting_day[4:] == ["25/01/2030", "26/01/2030"]


def test_rich_fields_show_their_text_and_booleans_read_oui_non(client, auth, world):
    action, funding = world["action"], world["funding"]
    auth.login(world["user"])
    live_save(
        client,
        f"/actions/{action.id}/champ",
        action,
        "objectives",
        "<p>Créer <b>son</b> entreprise</p>",
    )
    live_save(
        client, f"/dispositifs/{funding.id}/champ", funding, "certification_fees_included", "1"
    )
    objectives = rows(client.get(f"/historique/action/{action.id}").text)[0]
    assert objectives[3:] == ["Objectifs", "—", "Créer son entreprise"]
    fees = rows(client.get(f"/historique/dispositif/{funding.id}").text)[0]
    assert fees[3] == "Frais afférents au passage de la certification"
    assert fees[5] == "Oui"


def test_every_kind_of_record_has_its_history_page_and_a_link_to_it(
    client, auth, world, make_contact, carif_user
):
    first = world["first"]
    contact = world["contact"]
    from portal.models import OpenDay

    open_day = OpenDay(
        establishment_id=first.id,
        site_id=world["site"].id,
        day=world["session"].start_date,
        start_time=__import__("datetime").time(9),
        end_time=__import__("datetime").time(12),
    )
    db.session.add(open_day)
    db.session.commit()
    records = {
        "formation": world["formation"],
        "action": world["action"],
        "session": world["session"],
        "dispositif": world["funding"],
        "site": world["site"],
        "contact": contact,
        "porte-ouverte": open_day,
        "etablissement": first,
        "compte": world["user"],
    }
    assert set(records) == set(KINDS), "a new kind of history needs its case here"
    pages_with_link = {
        "formation": f"/formations/{world['formation'].id}",
        "action": f"/actions/{world['action'].id}",
        "session": f"/sessions/{world['session'].id}",
        "dispositif": f"/sessions/{world['session'].id}/dispositif",
        "site": "/annuaire/",
        "contact": "/annuaire/",
        "porte-ouverte": "/annuaire/",
        "etablissement": "/annuaire/",
        "compte": f"/comptes/{world['user'].id}",
    }
    auth.login(world["user"])
    for slug, record in records.items():
        url = f"/historique/{slug}/{record.id}"
        if slug == "compte":
            assert client.get(url).status_code == 403  # accounts are the Carif-Oref's
            continue
        page = client.get(url)
        assert page.status_code == 200, slug
        assert "Création" in page.text or "Aucune modification" in page.text
        assert f'href="{url}"' in client.get(pages_with_link[slug]).text, slug
    auth.logout()
    auth.login(carif_user)
    client.post("/etablissement/courant", data={"establishment_id": first.id})
    for slug, record in records.items():
        assert client.get(f"/historique/{slug}/{record.id}").status_code == 200, slug
    account_page = client.get(pages_with_link["compte"]).text
    assert f'href="/historique/compte/{world["user"].id}"' in account_page


def test_another_establishment_gets_404_for_every_kind(client, auth, world):
    auth.login(world["other_user"])
    for slug, record in {
        "formation": world["formation"],
        "action": world["action"],
        "session": world["session"],
        "dispositif": world["funding"],
        "site": world["site"],
        "contact": world["contact"],
        "etablissement": world["first"],
    }.items():
        assert client.get(f"/historique/{slug}/{record.id}").status_code == 404, slug


def test_long_histories_page_by_fifty_without_gap_or_overlap(client, auth, world):
    site = world["site"]
    auth.login(world["user"])
    for n in range(PAGE_SIZE + 7):
        site.name = f"Site {n}"
        db.session.commit()
    first_page = client.get(f"/historique/site/{site.id}").text
    first_rows = rows(first_page)
    assert len(first_rows) == PAGE_SIZE
    assert first_rows[0][4:] == [f"Site {PAGE_SIZE + 5}", f"Site {PAGE_SIZE + 6}"]
    older = re.search(r'href="([^"]+avant=\d+)"[^>]*>Modifications plus anciennes', first_page)
    second_rows = rows(client.get(older.group(1).replace("&amp;", "&")).text)
    # 57 name changes + the creation = 58 lines in all.
    assert len(first_rows) + len(second_rows) == PAGE_SIZE + 8
    assert second_rows[-1][2] == "Création"
    assert "Modifications plus anciennes" not in client.get(older.group(1)).text


def test_an_accounts_establishments_read_as_names_in_its_history(
    client, auth, world, carif_user, make_establishment
):
    user, first = world["user"], world["first"]
    angers = make_establishment(name="Antenne d'Angers")
    auth.login(carif_user)
    response = client.post(
        f"/comptes/{user.id}",
        data={
            "email": user.email,
            "role": "of",
            "sirets": f"{first.siret}\n{angers.siret}",
            "version": user.version,
        },
    )
    assert response.status_code == 302
    line = next(
        r
        for r in rows(client.get(f"/historique/compte/{user.id}").text)
        if r[3] == "Établissements rattachés"
    )
    assert "Antenne d'Angers (SIRET " in line[5]
    assert "Antenne d'Angers" not in line[4]
