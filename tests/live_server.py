"""A live fieldsync server for tests that talk to it over HTTP (browser, real clients).

The server is its own app on its own database: a temporary SQLite file, or
with a PostgreSQL `TEST_DATABASE_URL` a sibling database `<name>_<suffix>` on
that server (created, then dropped afterwards), migrated and loaded with the
demo data, served by werkzeug in a thread. (The shared `app` fixture empties
its tables after every test, which a server that lives across several tests
cannot have.)
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from server import create_app
from server.demo import seed_demo_data
from server.extensions import db

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@dataclass
class LiveServer:
    app: Flask
    url: str


def unavailable(reason: str) -> None:
    """A missing tool or package: skip with the reason, but fail in CI (`CI=true`)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@contextmanager
def own_database(tmp: Path, suffix: str) -> Iterator[str]:
    """A database for the live server alone, dropped afterwards."""
    shared = os.environ.get("TEST_DATABASE_URL", "")
    if not shared.startswith("postgres"):
        yield f"sqlite:///{tmp / f'{suffix}.db'}"
        return
    url = make_url(shared).set(drivername="postgresql+psycopg")
    own = url.set(database=f"{url.database}_{suffix}")
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


def migrated_app(database_url: str, **config: Any) -> Flask:
    """A test app on `database_url`, its schema migrated to the latest version."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": SECRET,
            "FIELDSYNC_ENV": "testing",
            "TESTING": True,
            # Generous limits; the rate-limit tests tighten them with monkeypatch.
            "LOGIN_LIMIT_PER_IP": "10000 per minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "10000 per minute",
            **config,
        }
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    return app


def demo_app(database_url: str, **config: Any) -> Flask:
    """An app on `database_url`, migrated and loaded with the demo data."""
    app = migrated_app(database_url, **config)
    with app.app_context():
        seed_demo_data(db.session)
        db.session.commit()
        db.session.remove()
    return app


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve `app` on a free local port in a thread; yield its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # Port 0: the system picks a free port at bind time (no race between two suites).
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@contextmanager
def live_demo_server(suffix: str, **config: Any) -> Iterator[LiveServer]:
    """The demo data on its own database, served over HTTP for the block's duration."""
    with tempfile.TemporaryDirectory() as tmp, own_database(Path(tmp), suffix) as url:
        app = demo_app(url, **config)
        with serving(app) as base:
            yield LiveServer(app, base)
