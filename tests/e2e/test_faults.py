"""A live save the database refuses: the user reads why in the toast and keeps what they typed;
once the database accepts writes again, the same field saves."""

import re

from playwright.sync_api import Page, expect
from sqlalchemy import event

from portal.extensions import db

from .conftest import login
from .test_offer_entry import create_public_formation, fill_formation_and_action


class ReadOnly:
    """Every write statement fails as on a read-only SQLite file."""

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._refuse)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._refuse)

    @staticmethod
    def _refuse(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise db.engine.dialect.loaded_dbapi.OperationalError(
                "attempt to write a readonly database"
            )


def test_a_refused_live_save_says_why_and_keeps_the_typed_value(page: Page, base, demo):
    login(page, base, "of.demo@example.org")
    create_public_formation(page, base)
    fill_formation_and_action(page)
    page.get_by_role("link", name=re.compile(r"^Action ")).click()
    page.wait_for_load_state("load")
    field = page.get_by_label("Mon + formation")
    with ReadOnly():
        field.fill("Texte saisi pendant la panne")
        with page.expect_response(lambda r: "/champ" in r.url) as response:
            field.blur()
        assert response.value.status == 503
        toast = page.locator("#toast")
        expect(toast).to_be_visible()
        expect(toast).to_contain_text("votre modification n'a pas été enregistrée")
        expect(field).to_have_value("Texte saisi pendant la panne")
    # Writable again: a new change of the same field goes through.
    field.fill("Texte saisi après la panne")
    with page.expect_response(lambda r: "/champ" in r.url) as response:
        field.blur()
    assert response.value.status == 200
    page.reload()
    expect(page.get_by_label("Mon + formation")).to_have_value("Texte saisi après la panne")
