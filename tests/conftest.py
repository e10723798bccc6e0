"""Shared fixtures: one migrated database per run, emptied after every test.

`TEST_DATABASE_URL` picks the database (default: a temporary SQLite file). With
a PostgreSQL URL the whole suite runs against PostgreSQL; if it cannot be
reached the run fails in CI and is skipped with the reason elsewhere.
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
from server.extensions import db, limiter

from .factories import World, build_world
from .live_server import migrated_app


def _database_url(tmp_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.db'}"


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
        url = _database_url(Path(tmp))
        if url.startswith("postgres"):
            _reset_postgres(url)
        application = migrated_app(url)
        yield application
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that touched the database."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
    limiter.reset()


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

    def _login(email: str, password: str = "password123", device_id: str = "test-device"):
        response = client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": password, "device_id": device_id},
        )
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return _login
