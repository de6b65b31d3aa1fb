"""Test fixtures shared by every app: a real MongoDB wire-protocol server.

Without ``MONGO_URI`` the session starts an ephemeral embedded server (in-memory
storage, a free port). With ``MONGO_URI`` set, the same suite runs against that server,
in a throw-away database that is dropped at the end. Every test starts from empty
collections (emptied, not dropped, so the indexes stay).
"""

import os
import uuid
from pathlib import Path

import pytest

from topbox import documents, mongo
from topbox.embedded import EmbeddedMongo, free_port


@pytest.fixture(scope="session")
def mongo_uri():
    external = os.environ.get("MONGO_URI")
    if external:
        name = f"topbox_test_{uuid.uuid4().hex[:12]}"
        uri = mongo.with_database(external, name)
        mongo.connect(uri)
        documents.ensure_indexes()
        yield uri
        mongo.database().client.drop_database(name)
    else:
        with EmbeddedMongo(free_port()) as server:
            uri = server.uri + "topbox_test"
            mongo.connect(uri)
            documents.ensure_indexes()
            yield uri


@pytest.fixture(autouse=True)
def empty_collections(mongo_uri):
    database = mongo.database()
    for name in database.list_collection_names():
        if not name.startswith("system."):
            database[name].delete_many({})


@pytest.fixture
def mongo_down(settings, mongo_uri):
    """Point the app at a port where nothing listens, for the length of one test."""
    timeout = settings.MONGO_TIMEOUT_MS
    settings.MONGO_TIMEOUT_MS = 300
    mongo.connect(f"mongodb://127.0.0.1:{free_port()}/topbox_down")
    yield
    settings.MONGO_TIMEOUT_MS = timeout
    mongo.connect(mongo_uri)


# Browser tests: Playwright driving Debian's Chromium (see the Makefile's `chromium`).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM}: run `make chromium` (or set CHROMIUM).")
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls
    # (creating users) are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """``screenshot("name")`` saves the page under artifacts/screenshots/ and returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name):
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
