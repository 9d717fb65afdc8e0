"""The LHEO import in a browser: an OF user uploads another tool's file and opens the result."""

import re

from playwright.sync_api import expect

from ..test_lheo_import import FOREIGN_22
from .conftest import login


def test_an_of_user_imports_an_lheo_file_and_opens_the_new_action(page, base, demo, tmp_path):
    upload = tmp_path / "offre-autre-outil.xml"
    upload.write_text(FOREIGN_22.format(certif="93561"), encoding="utf-8")

    login(page, base, "of.demo@example.org")
    page.goto(f"{base}/exports/lheo/import")
    expect(page.get_by_role("heading", name="Importer un fichier LHEO")).to_be_visible()
    page.get_by_label("Fichier LHEO (XML)").set_input_files(str(upload))
    page.get_by_role("button", name="Importer").click()

    expect(page.get_by_test_id("lheo-import-summary")).to_contain_text(
        "1 formation(s), 1 action(s) et 2 session(s) créées en cours de saisie"
    )
    expect(page.get_by_test_id("lheo-import-warnings")).to_contain_text("Pôle emploi")
    page.get_by_test_id("lheo-import-records").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/actions/\d+$"))
