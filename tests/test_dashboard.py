import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import ActionStatus
from portal.models._base import utcnow
from portal.search.filters import ACTION_FILTERS, SESSION_FILTERS

TODAY = date.today()
FAR = TODAY + timedelta(days=200)

# Every counter gets a different value, so a counter wired to the wrong filter shows up.
EXPECTED = {
    "sessions-actives": 21,
    "sessions-initiales-actives": 1,
    "sessions-fin-moins-un-mois": 2,
    "sessions-apprentissage": 3,
    "sessions-professionnalisation": 4,
    "sessions-a-distance": 5,
    "sessions-programme-region": 6,
    "sessions-inactives": 7,
    "actions-publiques-en-saisie": 8,
    "actions-en-saisie": 9,
    "actions-en-attente-validation": 10,
    "actions-en-attente-reponses": 11,
    "actions-certifinfo-remplace": 12,
}


def build_dataset(est, *, make_programme, make_formation, make_action, make_session):
    region = make_programme(is_region=True, is_public=True)
    own = make_action(make_formation(est), status=ActionStatus.DRAFT)  # 1 draft, not public
    for _ in range(1):
        make_session(own, end_date=FAR, is_initial_training=True)
    for _ in range(2):
        make_session(own, end_date=TODAY + timedelta(days=10))
    for _ in range(3):
        make_session(own, end_date=FAR, is_apprenticeship=True)
    for _ in range(4):
        make_session(own, end_date=FAR, is_professionalisation=True)
    for mode in (1, 2, 1, 2, 1):
        make_session(own, end_date=FAR, teaching_mode=mode)
    region_formation = make_formation(est, programme_id=region.id)
    validated = make_action(region_formation, status=ActionStatus.VALIDATED)
    for _ in range(6):
        make_session(validated, end_date=FAR)
    # Inactive: ended or switched off, with flags that must not leak into the other counters.
    for _ in range(4):
        make_session(
            validated,
            start_date=TODAY - timedelta(days=90),
            end_date=TODAY - timedelta(days=1),
            is_apprenticeship=True,
            teaching_mode=2,
        )
    for _ in range(3):
        make_session(
            own, active=False, end_date=TODAY + timedelta(days=5), is_initial_training=True
        )
    for _ in range(8):
        make_action(region_formation, status=ActionStatus.DRAFT)
    replaced = make_formation(
        est, programme_id=region.id, certif_replaced_from="12345", certif_replaced_at=utcnow()
    )
    for _ in range(10):
        make_action(replaced, status=ActionStatus.SUBMITTED)
    for _ in range(11):
        make_action(region_formation, status=ActionStatus.QUESTIONED)
    for _ in range(2):
        make_action(replaced, status=ActionStatus.VALIDATED)


@pytest.fixture
def dataset(of_user, make_programme, make_formation, make_action, make_session):
    user, first, second, other = of_user
    factories = dict(
        make_programme=make_programme,
        make_formation=make_formation,
        make_action=make_action,
        make_session=make_session,
    )
    build_dataset(first, **factories)
    # The second establishment: a little of everything, all different from the first.
    action = make_action(make_formation(second), status=ActionStatus.SUBMITTED)
    make_session(action, end_date=FAR)
    # Another organisation's data must never be counted.
    build_dataset(other, **factories)
    return user, first, second


def read_counters(html: str) -> dict[str, int]:
    pairs = re.findall(
        r'data-counter="([^"]+)">.*?<td class="counter-value">(\d+)</td>', html, flags=re.S
    )
    return {name: int(value) for name, value in pairs}


def test_dashboard_shows_the_procedure_blocks_and_labels(client, auth, dataset):
    user, first, second = dataset
    auth.login(user)
    auth.switch(first)
    html = client.get("/").text
    assert '<h2 id="counters-sessions">Sessions</h2>' in html
    assert '<h2 id="counters-actions">Actions</h2>' in html
    for f in [*SESSION_FILTERS.values(), *ACTION_FILTERS.values()]:
        assert f.label.replace("'", "&#39;") in html
    assert "Création de votre offre de formation" in html


def test_every_counter_has_its_known_value(client, auth, dataset):
    user, first, second = dataset
    auth.login(user)
    auth.switch(first)
    assert read_counters(client.get("/").text) == EXPECTED


def test_switching_establishment_changes_every_counter(client, auth, dataset):
    user, first, second = dataset
    auth.login(user)
    auth.switch(first)
    on_first = read_counters(client.get("/").text)
    auth.switch(second)
    on_second = read_counters(client.get("/").text)
    assert on_second["sessions-actives"] == 1
    assert on_second["actions-en-attente-validation"] == 1
    assert all(on_first[name] != on_second[name] for name in EXPECTED)


def test_each_lens_link_lists_exactly_the_counted_records(client, auth, dataset):
    user, first, second = dataset
    auth.login(user)
    auth.switch(first)
    html = client.get("/").text
    links = re.findall(r'href="(/(?:sessions|actions)\?filtre=[^"]+)"', html)
    assert len(links) == len(EXPECTED)
    for link in links:
        kind, slug = link[1:].split("?filtre=")
        listing = client.get(link + "&taille=100").text
        count = int(re.search(r'data-testid="result-count">(\d+) résultats', listing).group(1))
        assert count == EXPECTED[f"{kind}-{slug}"], link


@contextmanager
def count_queries():
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_counters_take_a_fixed_number_of_queries(client, auth, dataset, make_session):
    user, first, second = dataset
    auth.login(user)
    auth.switch(second)
    with count_queries() as small:
        client.get("/")
    auth.switch(first)
    with count_queries() as large:
        client.get("/")
    counter_queries = [s for s in large if "sum(case" in s.lower()]
    assert len(counter_queries) == 2
    assert len(large) == len(small)
