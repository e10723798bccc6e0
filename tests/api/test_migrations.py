"""Migrations build the schema from nothing, match the models, and go both ways."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import Uuid, bindparam, create_engine, inspect, text

from domain.models import Base, DeviceSession, User
from server import create_app
from server.extensions import db
from tests.support.databases import SECRET


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new database of the kind the suite runs on."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    name = f"fieldsync_migration_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_upgrade_from_empty_to_head_then_down_and_up_again(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": SECRET})
    directory = app.extensions["migrate"].directory
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade(directory=directory)
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn)
            assert context.get_current_revision() is not None
            # The migrations produce exactly the schema the models describe.
            assert compare_metadata(context, Base.metadata) == []
        assert app.test_client().get("/readyz").status_code == 200

        downgrade(directory=directory, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        assert app.test_client().get("/readyz").status_code == 503

        upgrade(directory=directory)
        assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_readyz_reports_pending_migrations(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": SECRET})
    with app.app_context():
        response = app.test_client().get("/readyz")
        db.engine.dispose()
    assert response.status_code == 503
    assert response.json["error"]["code"] == "migrations_pending"


def _user_row(conn, email: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    when = datetime(2026, 1, 1, tzinfo=UTC)
    conn.execute(
        User.__table__.insert().values(
            id=user_id,
            version=1,
            created_at=when,
            updated_at=when,
            field_meta={},
            email=email,
            name="Old",
            role="admin",
            locale="en",
            active=True,
            password_hash="x",
            search_text="",
        )
    )
    return user_id


def _by_id(query: str):
    return text(query).bindparams(bindparam("id", type_=Uuid()))


def test_stored_emails_are_folded_and_look_alikes_stop_the_upgrade(empty_database_url):
    """Accounts made before emails were folded: one that folds to a new form is renamed
    (phones learn it from the log); two that fold to one stop the upgrade."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": SECRET})
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="0006")
        with db.engine.begin() as conn:
            wide = _user_row(conn, "ｂｏｓｓ@example.com")
            _user_row(conn, "kelvin@example.com")
            clash = _user_row(conn, "\u212aelvin@example.com")  # KELVIN SIGN
        with pytest.raises(SystemExit):  # flask-migrate logs the error (naming both), exits
            upgrade(directory=directory)
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0006"
        with db.engine.begin() as conn:
            conn.execute(User.__table__.delete().where(User.id == clash))
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            email, version = conn.execute(
                _by_id("SELECT email, version FROM users WHERE id = :id"), {"id": wide}
            ).one()
            logged = conn.execute(
                _by_id("SELECT COUNT(*) FROM sync_changes WHERE record_id = :id"), {"id": wide}
            ).scalar()
        assert (email, version, logged) == ("boss@example.com", 2, 1)


def test_0008_ends_the_open_sessions_of_disabled_and_deleted_users(empty_database_url):
    """Re-enabling an account after the upgrade must not revive a session left open before."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": SECRET})
    directory = app.extensions["migrate"].directory
    now = datetime.now(UTC)
    accounts = {"working": (True, None), "disabled": (False, None), "deleted": (True, now)}
    with app.app_context():
        upgrade(directory=directory, revision="0006")
        for name, (active, deleted_at) in accounts.items():
            user = User(
                email=f"{name}@example.com",
                name=name,
                role="rep",
                password_hash="x",
                active=active,
                deleted_at=deleted_at,
                created_at=now,
                updated_at=now,
                field_meta={},
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(
                DeviceSession(user_id=user.id, device_id=name, created_at=now, last_seen_at=now)
            )
        db.session.commit()
        upgrade(directory=directory)
        db.session.expire_all()
        ended = {d.device_id: d.end_reason for d in db.session.query(DeviceSession)}
        assert ended == {"working": None, "disabled": "disabled", "deleted": "deleted"}
        db.session.remove()
        db.engine.dispose()
