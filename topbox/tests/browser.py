"""Browser-test fixtures, a pytest plugin (``pytest_plugins`` in the root conftest.py).

Playwright drives Debian's Chromium (see the Makefile's ``chromium``); Playwright's own
browser download is not used. Tests mark themselves ``browser`` and ask for ``page``
(a fresh context on the live server) and ``screenshot``.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
STAFF_PASSWORD = "a-long-admin-password"  # the browser tests' staff user's
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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
def page(browser, live_server, transactional_db):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """``screenshot("name")`` saves the page under artifacts/screenshots/ and returns the path."""
    screenshots = request.config.rootpath / "artifacts" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)

    def take(name, full_page=True):
        path = screenshots / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def log_in(page, url="/admin/", username="staff", password=STAFF_PASSWORD):
    """Open ``url`` (a login page, or a page that asks for one) and log in there."""
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[type=submit]")
