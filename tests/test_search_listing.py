"""The list rows follow the offer by themselves; keyset paging reads every row exactly once."""

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from portal.extensions import db
from portal.models import Certification, Establishment, Programme, Session, Site
from portal.search import listing, pagination, query
from portal.search.models import (
    ActionListing,
    SearchLabel,
    SearchLabelWord,
    SearchWord,
    SessionListing,
)
from portal.search.query import ACTIONS, SESSIONS, ListState

TODAY = date.today()


def row(session) -> SessionListing:
    db.session.expire_all()
    return db.session.get(SessionListing, session.id)


def search_ids(spec, q: str) -> set[int]:
    state = ListState(spec, terms=tuple(query.parse_query(q)))
    rows = query.filtered(db.session, state, select(spec.model), TODAY, scoped=True)
    assert set(db.session.scalars(rows.seek)) == set(db.session.scalars(rows.walk))
    return {r.id for r in db.session.scalars(rows.seek)}


@pytest.fixture
def offer(of_user, make_site, make_certification, make_programme, make_formation, make_action,
          make_session):  # fmt: skip
    user, first, second, other = of_user
    site = make_site(first, name="Principal", commune="Nantes")
    cert = make_certification(title="Titre professionnel assistant ressources humaines")
    programme = make_programme(dispositif_code=8)
    formation = make_formation(
        first, has_certif_info=True, certification_id=cert.id, programme_id=programme.id
    )
    action = make_action(formation, site_id=site.id)
    sessions = [make_session(action, site_id=site.id) for _ in range(3)]
    return sessions, action, formation, cert, site, programme


def test_a_new_session_gets_its_row_and_a_deleted_one_loses_it(offer, make_session):
    sessions, action, *_ = offer
    created = make_session(action)
    assert row(created).title == "Titre professionnel assistant ressources humaines"
    db.session.delete(db.session.get(Session, created.id))
    db.session.commit()
    assert row(created) is None


def test_renaming_a_certification_renames_every_session_row(offer):
    sessions, action, formation, cert, *_ = offer
    db.session.get(Certification, cert.id).title = "Titre professionnel gestionnaire de paie"
    db.session.commit()
    assert {row(s).title for s in sessions} == {"Titre professionnel gestionnaire de paie"}
    assert db.session.get(ActionListing, action.id).title.endswith("gestionnaire de paie")
    assert search_ids(SESSIONS, "gestionnaire paie") == {s.id for s in sessions}
    assert search_ids(SESSIONS, "ressources") == set()


def test_moving_a_site_to_another_commune_changes_the_commune_lieu(offer):
    sessions, *_, site, _ = offer
    db.session.get(Site, site.id).commune = "Saint-Nazaire"
    db.session.commit()
    assert {row(s).commune for s in sessions} == {"Saint-Nazaire"}
    assert search_ids(SESSIONS, "nazaire") == {s.id for s in sessions}


def test_renaming_the_establishment_of_the_site_changes_the_site_dispensateur(offer):
    sessions, *_, site, _ = offer
    establishment = db.session.get(Establishment, site.establishment_id)
    establishment.name = "Organisme Renommé"
    db.session.commit()
    assert {row(s).site_name for s in sessions} == {"Organisme Renommé"}
    assert search_ids(SESSIONS, "renomme") == {s.id for s in sessions}


def test_action_complement_programme_and_session_changes_show(offer):
    sessions, action, formation, cert, site, programme = offer
    action = db.session.get(type(action), action.id)
    action.title_complement = "Groupe du soir"
    db.session.get(Programme, programme.id).dispositif_code = 5
    session = db.session.get(Session, sessions[0].id)
    session.end_date = TODAY - timedelta(days=1)
    db.session.commit()
    refreshed = row(sessions[0])
    assert refreshed.title.endswith(" - Groupe du soir")
    assert refreshed.dispositif_code == 5
    assert not refreshed.is_current(TODAY)
    assert search_ids(SESSIONS, "soir") == {s.id for s in sessions}


def test_an_unrelated_change_rewrites_no_row(offer):
    *_, site, _ = offer
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        db.session.get(Site, site.id).phone = "+33240000000"
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert not [s for s in statements if "_listing" in s]


def test_a_rolled_back_change_leaves_the_rows_as_they_were(offer):
    sessions, *_ = offer
    db.session.get(Session, sessions[0].id).active = False
    db.session.flush()
    db.session.rollback()
    assert row(sessions[0]).active is True


def test_rebuild_gives_the_rows_the_flushes_gave(offer, make_site, make_action, make_session):
    sessions, action, formation, cert, site, programme = offer
    db.session.get(Certification, cert.id).title = "Électricité"
    db.session.get(Site, site.id).commune = "Angers"
    db.session.commit()

    def snapshot():
        db.session.expire_all()
        labels = dict(db.session.execute(select(SearchLabel.id, SearchLabel.text)).all())
        rows = []
        for model in (SessionListing, ActionListing):
            for r in db.session.scalars(
                select(model).order_by(model.__table__.primary_key.columns.values()[0])
            ):
                values = {c.key: getattr(r, c.key) for c in model.__table__.columns}
                rows.append(
                    {k: labels.get(v) if k.endswith("label_id") else v for k, v in values.items()}
                )
        return rows

    incremental = snapshot()
    with db.engine.begin() as conn:
        assert listing.rebuild(conn) == (3, 1)
    assert snapshot() == incremental


def test_labels_nothing_uses_are_pruned_with_their_words(offer):
    sessions, action, formation, cert, *_ = offer
    db.session.get(Certification, cert.id).title = "Électricité"
    db.session.commit()
    assert db.session.scalar(
        select(func.count()).where(SearchLabel.text.like("%ressources humaines%"))
    )
    with db.engine.begin() as conn:
        assert listing.prune_labels(conn) >= 1
    assert not db.session.scalar(
        select(func.count()).where(SearchLabel.text.like("%ressources humaines%"))
    )
    assert not db.session.scalar(select(func.count()).where(SearchWord.word == "ressources"))
    assert db.session.scalar(select(func.count()).where(SearchWord.word == "electricite"))
    orphans = select(SearchLabelWord).where(SearchLabelWord.label_id.not_in(select(SearchLabel.id)))
    assert not db.session.execute(orphans).first()


@pytest.fixture
def varied(of_user, make_site, make_programme, make_formation, make_action, make_session):
    """23 sessions with repeated values in every column, so ties are broken by the id."""
    user, first, *_ = of_user
    sites = [make_site(first, commune=c) for c in ("Nantes", "Angers", "Cholet")]
    programmes = [make_programme(dispositif_code=c) for c in (3, 8)]
    made = []
    for i in range(23):
        formation = make_formation(
            first,
            title=["Paie", "électricité", "Anglais"][i % 3],
            programme_id=programmes[i % 2].id if i % 5 else None,
        )
        action = make_action(formation, site_id=sites[i % 3].id)
        start = TODAY - timedelta(days=i % 4) if i % 7 else None
        made.append(
            make_session(
                action,
                site_id=sites[(i // 3) % 3].id,
                start_date=start,
                end_date=start + timedelta(days=(i % 5) * 20) if start else None,
                active=i % 6 != 0,
            )
        )
    return made


@pytest.mark.parametrize("size", [10, 25])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("slug", list(SESSIONS.sorts))
def test_keyset_pages_read_every_row_once_in_order_both_ways(varied, slug, descending, size):
    state = ListState(SESSIONS, tri=f"-{slug}" if descending else slug, taille=size)
    order = query.ordering(state, TODAY)
    base = select(SessionListing)
    expected = [r.id for r in db.session.scalars(pagination.ordered(base, order))]
    assert sorted(expected) == sorted(s.id for s in varied)

    forward, page = [], pagination.paginate(db.session, base, base, order, SESSIONS.pk, size)
    positions = []
    while True:
        forward += [r.id for r in page.items]
        positions.append(page.first)
        if not page.has_next:
            break
        page = pagination.paginate(
            db.session, base, base, order, SESSIONS.pk, size, after=page.last_id
        )
    assert forward == expected
    assert positions == list(range(1, len(expected) + 1, size))

    backward = []
    page = pagination.paginate(db.session, base, base, order, SESSIONS.pk, size, last=True)
    while True:
        backward = [r.id for r in page.items] + backward
        if not page.has_prev:
            break
        page = pagination.paginate(
            db.session, base, base, order, SESSIONS.pk, size, before=page.first_id
        )
    assert backward == expected


def test_counting_over_every_establishment_stops_at_the_limit(varied, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 20)
    base = select(SessionListing)
    order = query.ordering(ListState(SESSIONS), TODAY)
    page = pagination.paginate(db.session, base, base, order, SESSIONS.pk, 10, exact=False)
    assert page.total == pagination.Count(20, more=True)
    page = pagination.paginate(
        db.session, base, base, order, SESSIONS.pk, 10, exact=False, last=True
    )
    assert page.first is None and len(page.items) == 10 and page.has_prev
    assert pagination.status_text(page) == "Voir 10 résultats sur plus de 20"


def test_action_rows_follow_their_formation(offer, make_action):
    sessions, action, formation, *_ = offer
    other = make_action(db.session.get(type(formation), formation.id))
    assert search_ids(ACTIONS, "assistant") == {action.id, other.id}
    assert search_ids(ACTIONS, f"{formation.id}-{other.id}") == {other.id}
