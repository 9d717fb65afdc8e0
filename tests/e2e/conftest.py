"""Real-browser fixtures: Debian's Chromium driven by Playwright, and a live server.

`playwright install` cannot download browsers here, so the launch points at /usr/bin/chromium.
In CI (CI=true) a missing Chromium fails the run instead of skipping the browser tests.
"""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(autouse=True)
def _no_content_security_policy_violation(request):
    """Every browser test fails if the page broke the Content-Security-Policy (an inline
    script or style, an eval): Chromium reports each refusal on the console."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    refusals: list[str] = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield
    assert not refusals, "Content-Security-Policy violations:\n" + "\n".join(refusals)


@pytest.fixture(scope="session")
def live_server(_app):
    """Serve the test app on 127.0.0.1 with a free port, in a thread."""
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def base(live_server, app):
    """The live server's URL, with the database emptied after the test (through `app`)."""
    return live_server


@pytest.fixture
def demo(app):
    from portal.demo import load_demo_data

    load_demo_data()


def login(page, base: str, email: str, password: str = "Demo-2024!") -> None:
    page.goto(f"{base}/connexion")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    # The next page binds htmx on load; acting before that would bypass htmx.
    page.wait_for_load_state("load")
