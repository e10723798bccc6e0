"""Browser tests of `/map` and `/dashboard` in headless Chromium (Playwright's Python API).

One live server and one browser for the whole browser suite: the server is
its own app on its own copy of the demo data, served by werkzeug in a thread
(tests/support/live_server.py). Tests that change data run last (see
test_map_page.py).

Chromium is Debian's `chromium` (found on PATH, else /usr/bin/chromium, or
`CHROMIUM_PATH`); the page's libraries come from `web/node_modules`
(`npm ci --prefix web`). Without either the tests are skipped with the reason,
except in CI (`CI=true`), where that is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import find_chromium
from server.demo import DOMAIN, PASSWORD
from server.web import routes as web_routes
from tests.support import ROOT
from tests.support.browser import watch_errors
from tests.support.live_server import LiveServer, live_demo_server, unavailable

ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="session")
def live_server(demo) -> Iterator[LiveServer]:
    if not web_routes.NODE_MODULES.is_dir():
        unavailable(
            f"{web_routes.NODE_MODULES} is missing: run `npm ci --prefix web`"
            " (./scripts/demo does)."
        )
    with live_demo_server(demo, "browser", MAP_TILE_URL=None) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    path = find_chromium()
    if path is None:
        unavailable("Chromium is not installed: apt-get install chromium (./scripts/test does).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("The playwright Python package is not installed.")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
    except Exception as exc:  # a broken browser install: say what failed
        playwright.stop()
        unavailable(f"Chromium at {path} does not start: {exc}")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


def new_page(
    browser,
    live_server: LiveServer,
    locale: str = "en-US",
    bypass_csp: bool = True,
    viewport: tuple[int, int] = (1440, 900),
):
    """A page in a fresh context. `bypass_csp`: Playwright's `wait_for_function` evaluates
    its predicate with `eval`, which the page's Content-Security-Policy forbids."""
    context = browser.new_context(
        locale=locale,
        viewport={"width": viewport[0], "height": viewport[1]},
        base_url=live_server.url,
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.js_errors = watch_errors(page)
    return page


def sign_in(page, path: str, user: str) -> None:
    page.goto(path)
    page.get_by_test_id("login-email").fill(f"{user}@{DOMAIN}")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("body[data-ready='true']")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
