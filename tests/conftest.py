"""Shared fixtures: the database under test, the demo data, and the test layout's rules.

The layout (see tests/README.md): `unit/` needs no database under test, so
`./scripts/test` runs it once; `api/` and `sync/` run on SQLite and again on
PostgreSQL; everything in `e2e/` is marked `e2e` and left out of the inner loop
(`pytest -m "not e2e"`).

`TEST_DATABASE_URL` picks the database (default: a temporary SQLite file). With
a PostgreSQL URL the suite runs against PostgreSQL; if it cannot be reached the
run fails in CI and is skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from domain.models import Base
from server.auth import throttle
from server.extensions import db
from tests.support.databases import (
    DemoTemplate,
    database_under_test,
    dispose,
    migrated_app,
)
from tests.support.factories import World, build_world

E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except OperationalError as exc:
        reason = f"PostgreSQL at {engine.url.render_as_string()} is unreachable: {exc.orig}"
        if os.environ.get("CI"):
            pytest.exit(reason, returncode=3)
        pytest.skip(reason, allow_module_level=True)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_under_test(Path(tmp))
        if url.startswith("postgres"):
            _reset_postgres(url)
        application = migrated_app(url)
        yield application
        dispose(application)


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that touched the database.

    DELETE, children first, on both databases: on PostgreSQL a TRUNCATE of these
    small tables costs about 100 ms (new files for every table), DELETE about 4.
    """
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    application.extensions[throttle.EXTENSION].reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session


@pytest.fixture
def world(app) -> World:
    """Two teams, each with a manager, two territories and reps, and records in each."""
    with app.app_context():
        built = build_world(db.session)
        db.session.commit()
        return built


@pytest.fixture
def login(client):
    """`login(email)` -> headers carrying a fresh access token for that user."""

    def _login(email: str, password: str = "test-pass-2026", device_id: str = "test-device"):
        response = client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": password, "device_id": device_id},
        )
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return _login


@pytest.fixture(scope="session")
def demo() -> Iterator[DemoTemplate]:
    """The demo distributor, seeded once per session (on first use) and copied per user."""
    with tempfile.TemporaryDirectory() as tmp:
        template = DemoTemplate(Path(tmp))
        yield template
        template.close()


@pytest.fixture(scope="session")
def demo_app(demo) -> Iterator[Flask]:
    """An app on a copy of the demo data, shared by tests that only read it."""
    with demo.copy("demo_read") as url:
        application = migrated_app(url)
        yield application
        dispose(application)


@pytest.fixture
def fresh_demo_app(demo) -> Iterator[Flask]:
    """An app on a copy of the demo data of its own, for a test that changes it."""
    with demo.copy("demo_fresh") as url:
        application = migrated_app(url)
        yield application
        dispose(application)
