from datetime import date, datetime

from sqlalchemy import select

from portal.extensions import db
from portal.models import JournalEntry


def _entries(record_type):
    stmt = select(JournalEntry).where(JournalEntry.record_type == record_type)
    return db.session.scalars(stmt.order_by(JournalEntry.id)).all()


def test_creation_update_and_deletion_are_journaled(app, of_user, make_site):
    user, first, *_ = of_user
    site = make_site(first, name="Principal")
    site.name = "Siège"
    site.postcode = "49000"
    db.session.commit()
    db.session.delete(site)
    db.session.commit()
    entries = _entries("Site")
    assert [(e.operation, e.field) for e in entries] == [
        ("create", None),
        ("update", "name"),
        ("update", "postcode"),
        ("delete", None),
    ]
    update = entries[1]
    assert (update.before, update.after) == ("Principal", "Siège")
    assert all(e.establishment_id == first.id and e.record_id == site.id for e in entries)


def test_values_are_journaled_as_text_and_passwords_are_redacted(
    app, of_user, make_formation, make_action, make_session
):
    user, first, *_ = of_user
    session = make_session(make_action(make_formation(first)), start_date=date(2024, 2, 10))
    session.start_date = date(2024, 3, 1)
    session.recruitment_modes = ["8", "9"]
    user.password_hash = "new-hash"
    db.session.commit()
    by_field = {e.field: e for e in _entries("Session") if e.operation == "update"}
    assert (by_field["start_date"].before, by_field["start_date"].after) == (
        "2024-02-10",
        "2024-03-01",
    )
    assert by_field["recruitment_modes"].after == '["8", "9"]'
    password = [e for e in _entries("User") if e.field == "password_hash"]
    assert password[0].before is None and password[0].after == "(modifié)"


def test_a_rolled_back_change_leaves_no_journal_line(app, of_user, make_site):
    user, first, *_ = of_user
    site = make_site(first)
    before = len(_entries("Site"))
    site.name = "Jamais enregistré"
    db.session.flush()
    db.session.rollback()
    assert len(_entries("Site")) == before


def test_the_journal_records_who_changed_what_over_http(client, auth, of_user):
    user, first, second, _ = of_user
    auth.login(user)
    entries = [e for e in _entries("User") if e.field == "last_login_at"]
    assert entries and entries[-1].user_id == user.id
    assert entries[-1].record_id == user.id


def test_the_journal_is_append_only_in_the_orm_and_in_the_database(app, of_user, make_site):
    import pytest
    from sqlalchemy import text, update
    from sqlalchemy.exc import DBAPIError

    from portal.journal import JournalIsAppendOnly

    user, first, *_ = of_user
    site = make_site(first, name="Principal")
    line = _entries("Site")[0]
    line.after = "falsifié"
    with pytest.raises(JournalIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(JournalEntry, line.id))
    with pytest.raises(JournalIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    # Below the ORM, the database's trigger refuses a change of content.
    for column in ("after", "record_id", "at", "field"):
        value = {"after": "x", "record_id": 999, "at": datetime(2000, 1, 1), "field": "n"}[column]
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(
                update(JournalEntry).where(JournalEntry.id == line.id).values({column: value})
            )
        db.session.rollback()
    assert db.session.get(JournalEntry, line.id).operation == "create"
    # Deleting an account only forgets who made the change (ON DELETE SET NULL).
    db.session.execute(text("UPDATE journal SET user_id = NULL WHERE id = :id"), {"id": line.id})
    db.session.commit()
    assert site.id == line.record_id


def test_many_to_many_links_are_journaled_as_ids(app, of_user):
    user, first, second, other = of_user
    user.establishments = [first, other]
    db.session.commit()
    [line] = [e for e in _entries("User") if e.field == "establishments"]
    assert (line.before, line.after) == (
        f"[{min(first.id, second.id)}, {max(first.id, second.id)}]",
        f"[{min(first.id, other.id)}, {max(first.id, other.id)}]",
    )
