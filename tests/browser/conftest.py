"""Browser tests of `/map` and `/dashboard` in headless Chromium (Playwright's Python API).

One live server and one browser for the whole browser suite: the server is
its own app on its own database (a temporary SQLite file, or with a PostgreSQL
`TEST_DATABASE_URL` a sibling database `<name>_browser` on that server),
migrated and loaded with the demo data once, served by werkzeug in a thread.
(The shared `app` fixture empties its tables after every test, which a page
that lives across several tests cannot have.) Tests that change data run last
(see test_map_page.py).

Chromium is Debian's `chromium` (found on PATH, else /usr/bin/chromium, or
`CHROMIUM_PATH`); the page's libraries come from `web/node_modules`
(`npm ci --prefix web`). Without either the tests are skipped with the reason,
except in CI (`CI=true`), where that is a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from server import create_app
from server.demo import DOMAIN, PASSWORD, seed_demo_data
from server.extensions import db
from server.web import routes as web_routes

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SECRET = "browser-test-secret-key-long-enough-0123456789"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class LiveServer:
    app: Flask
    url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _own_database(tmp: Path) -> Iterator[str]:
    """A database for the live server alone, dropped afterwards."""
    shared = os.environ.get("TEST_DATABASE_URL", "")
    if not shared.startswith("postgres"):
        yield f"sqlite:///{tmp / 'browser.db'}"
        return
    url = make_url(shared).set(drivername="postgresql+psycopg")
    own = url.set(database=f"{url.database}_browser")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')
    try:
        with admin.connect() as conn:
            conn.execute(drop)
            conn.execute(text(f'CREATE DATABASE "{own.database}"'))
        yield own.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(drop)
        admin.dispose()


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    if not web_routes.NODE_MODULES.is_dir():
        _unavailable(
            f"{web_routes.NODE_MODULES} is missing: run `npm ci --prefix web`"
            " (./scripts/demo does)."
        )
    with tempfile.TemporaryDirectory() as tmp, _own_database(Path(tmp)) as database_url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": SECRET,
                "FIELDSYNC_ENV": "testing",
                "TESTING": True,
                "LOGIN_LIMIT_PER_IP": "10000 per minute",
                "LOGIN_LIMIT_PER_ACCOUNT": "10000 per minute",
                "MAP_TILE_URL": None,
            }
        )
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            seed_demo_data(db.session)
            db.session.commit()
            db.session.remove()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        port = _free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(app, f"http://127.0.0.1:{port}")
        finally:
            server.shutdown()
            thread.join(timeout=5)
            with app.app_context():
                db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        _unavailable("Chromium is not installed: apt-get install chromium (./scripts/test does).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("The playwright Python package is not installed.")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
    except Exception as exc:  # a broken browser install: say what failed
        playwright.stop()
        _unavailable(f"Chromium at {path} does not start: {exc}")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


def new_page(browser, live_server: LiveServer, locale: str = "en-US", bypass_csp: bool = True):
    """A page in a fresh context. `bypass_csp`: Playwright's `wait_for_function` evaluates
    its predicate with `eval`, which the page's Content-Security-Policy forbids."""
    context = browser.new_context(
        locale=locale,
        viewport={"width": 1440, "height": 900},
        base_url=live_server.url,
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.js_errors = errors
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
