"""Databases for tests: the test app's config, databases of their own, and the demo data.

The database under test is a temporary SQLite file, or the PostgreSQL database
named by `TEST_DATABASE_URL`. A test that needs a database of its own (a live
server, the demo data) gets a sibling: another SQLite file, or a database
`<name>_<suffix>` on the same PostgreSQL server, dropped afterwards.

The demo data takes seconds to seed, so it is seeded once per test session
(`DemoTemplate`) and copied for each user: a file copy on SQLite,
`CREATE DATABASE … TEMPLATE …` on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, make_url, text

from server import create_app
from server.demo import seed_demo_data
from server.extensions import db

SECRET = "test-secret-key-that-is-long-enough-0123456789"
#: Every test app's config. The cheap password hash: the suite signs in thousands of times
#: (`tests/unit/server/test_config.py` checks that production keeps scrypt).
TEST_CONFIG: dict[str, Any] = {
    "SECRET_KEY": SECRET,
    "FIELDSYNC_ENV": "testing",
    "TESTING": True,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    # Generous sign-in limits; tests/api/test_login_throttle.py tightens them.
    "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS": "10000 per minute",
    "LOGIN_FAILURES_PER_ADDRESS": "10000 per minute",
    "LOGIN_SLOW_AFTER_PER_ACCOUNT": "10000 per minute",
    "LOGIN_SLOW_DELAY_MS": 0,
    # No access log (tests/api/test_telemetry.py writes one to a file).
    "ACCESS_LOG": "",
    # Test data has fixed dates and pulls judge the history window by today's date: with
    # it on, closed visits and orders would start leaving phones as the years pass.
    # tests/sync/test_history_window.py and the property test turn it on with their own clock.
    "SYNC_WINDOW_DAYS_REP": 0,
    "SYNC_WINDOW_DAYS_MANAGER": 0,
}


def database_under_test(tmp: Path) -> str:
    """The database under test (default: a SQLite file in `tmp`)."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"


def on_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")


def migrated_app(database_url: str, **config: Any) -> Flask:
    """A test app on `database_url`, its schema migrated to the latest version."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **TEST_CONFIG, **config})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    return app


def dispose(app: Flask) -> None:
    """Close the app's connections (a PostgreSQL template must have none)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def another_app(app: Flask, **config) -> Iterator[Flask]:
    """Another app instance (another worker, another host) on the database under test."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **config})
    try:
        yield other
    finally:
        dispose(other)


@contextmanager
def own_database(tmp: Path, suffix: str, *, template: str | None = None) -> Iterator[str]:
    """A database for one user alone, dropped afterwards; a copy of `template` if given."""
    if not on_postgres():
        path = tmp / f"{suffix}.db"
        if template:
            shutil.copyfile(make_url(template).database, path)
        yield f"sqlite:///{path}"
        return
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    own = url.set(database=f"{url.database}_{suffix}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(drop)
            conn.execute(text(f'CREATE DATABASE "{own.database}"{copy}'))
        yield own.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(drop)
        admin.dispose()


class DemoTemplate:
    """The demo data, seeded once into a database of its own; `copy()` gives a database
    with the same data for one user."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.url: str | None = None
        self._database: Any = None

    def seed(self) -> str:
        if self.url is None:
            self._database = own_database(self.tmp, "demo")
            url = self._database.__enter__()
            app = migrated_app(url)
            with app.app_context():
                seed_demo_data(db.session)
                db.session.commit()
                if db.engine.dialect.name == "sqlite":  # the whole file, without its WAL
                    db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            dispose(app)
            self.url = url
        return self.url

    @contextmanager
    def copy(self, suffix: str) -> Iterator[str]:
        with own_database(self.tmp, suffix, template=self.seed()) as url:
            yield url

    def close(self) -> None:
        if self._database is not None:
            self._database.__exit__(None, None, None)


@contextmanager
def recorded_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL `app` sends while the block runs, in order: for tests that count queries."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
