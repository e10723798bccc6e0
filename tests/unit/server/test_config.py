"""Configuration: safe defaults, and production refuses to run without a secret."""

import os

import pytest
from sqlalchemy import text

from server import create_app
from server.auth.passwords import hash_password, password_matches
from server.config import ConfigError, build_config, section
from server.extensions import db
from sync import SyncSettings
from tests.support.databases import SECRET as STRONG


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("FIELDSYNC_SECRET_KEY", raising=False)
    monkeypatch.setenv("FIELDSYNC_ENV", "production")
    with pytest.raises(ConfigError, match="FIELDSYNC_SECRET_KEY"):
        build_config(str(tmp_path))
    assert not (tmp_path / "secret_key").exists()


def test_short_secret_keys_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="32"):
        build_config(str(tmp_path), {"SECRET_KEY": "short"})


def test_development_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("FIELDSYNC_SECRET_KEY", raising=False)
    monkeypatch.delenv("FIELDSYNC_ENV", raising=False)
    first = build_config(str(tmp_path))["SECRET_KEY"]
    second = build_config(str(tmp_path))["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_database_url_from_environment_and_driver_for_postgres(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/fieldsync")
    config = build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db:5432/fieldsync"


def test_default_database_is_sqlite_in_the_instance_folder_with_wal(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FIELDSYNC_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "k" * 40})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'fieldsync.db'}"
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
    assert os.path.exists(tmp_path / "fieldsync.db")


def test_sync_settings_from_environment_are_typed_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSYNC_CHECK_IN_RADIUS_M", "75.5")
    monkeypatch.setenv("FIELDSYNC_SYNC_RETENTION_DAYS", "120")
    config = build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})
    assert config["SYNC_CHECK_IN_RADIUS_M"] == 75.5 and config["SYNC_RETENTION_DAYS"] == 120
    monkeypatch.setenv("FIELDSYNC_SYNC_RETENTION_DAYS", "ninety")
    with pytest.raises(ConfigError, match="FIELDSYNC_SYNC_RETENTION_DAYS"):
        build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})


def test_history_windows_are_set_per_role_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSYNC_SYNC_WINDOW_DAYS_REP", "30")
    monkeypatch.setenv("FIELDSYNC_SYNC_WINDOW_DAYS_MANAGER", "0")
    monkeypatch.setenv("FIELDSYNC_SYNC_WINDOW_LAST_N", "5")
    config = build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})
    sync = section(SyncSettings, config)
    assert (sync.window_days("rep"), sync.window_days("manager"), sync.window_days("admin")) == (
        30,
        0,
        0,
    )
    assert sync.window_last_n == 5
    monkeypatch.setenv("FIELDSYNC_SYNC_WINDOW_DAYS_REP", "-1")
    with pytest.raises(ConfigError, match="window_days_rep"):
        build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})


def test_postgres_connections_bound_long_transactions(tmp_path):
    config = build_config(
        str(tmp_path),
        {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": "postgresql://u@db/x"},
    )
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert "idle_in_transaction_session_timeout=30000" in options
    assert "statement_timeout=30000" in options


def test_passwords_are_hashed_with_scrypt_unless_a_test_says_otherwise(tmp_path, monkeypatch):
    """The suite's cheap hash is a config override only: no environment variable sets it."""
    monkeypatch.setenv("FIELDSYNC_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "k" * 40})
    with app.app_context():
        stored = hash_password("correct horse")
        assert stored.startswith("scrypt:")
        assert password_matches(stored, "correct horse")
        assert not password_matches(stored, "wrong horse")
        assert not password_matches(None, "correct horse")  # unknown account


@pytest.mark.parametrize("value", ["Production", "PRODUCTION", " production "])
def test_the_environment_name_is_read_in_any_case(tmp_path, monkeypatch, value):
    monkeypatch.setenv("FIELDSYNC_ENV", value)
    config = build_config(str(tmp_path), {"SECRET_KEY": STRONG})
    assert config["FIELDSYNC_ENV"] == "production"


@pytest.mark.parametrize("value", ["prod", "prodution", "staging", ""])
def test_an_unknown_environment_stops_the_start(tmp_path, monkeypatch, value):
    """A misspelt `prodution` must not run as development, with a generated key."""
    monkeypatch.delenv("FIELDSYNC_SECRET_KEY", raising=False)
    monkeypatch.setenv("FIELDSYNC_ENV", value)
    with pytest.raises(ConfigError, match=r"FIELDSYNC_ENV .*development, testing, production"):
        build_config(str(tmp_path))
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    "key",
    [
        "k" * 40,
        "password1234password1234password1234",
        "change-me-change-me-change-me-change-me",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "Xq9" * 12,
        "fieldsync-production-secret-key-2026",
    ],
)
def test_production_refuses_a_guessable_secret_key(tmp_path, key):
    with pytest.raises(ConfigError, match="too easy to guess"):
        build_config(str(tmp_path), {"FIELDSYNC_ENV": "production", "SECRET_KEY": key})
    # Development and tests take it: only its length is checked there.
    assert build_config(str(tmp_path), {"SECRET_KEY": key})["SECRET_KEY"] == key


@pytest.mark.parametrize(
    "key",
    [
        # secrets.token_urlsafe(32), token_hex(16) (128 bits, the shortest), token_hex(32)
        "BqLFzhuSW172XMl9TBkiqbqvamfeMMvPP1dnoyV0P6E",
        "401a6977b81500a5c7e597b068a3ee78",
        "1aa38841a1e4eaf51703dc1b29b79e7b4abd04adc2a75a003c7481343da250cf",
    ],
)
def test_production_takes_a_random_secret_key(tmp_path, key):
    config = build_config(str(tmp_path), {"FIELDSYNC_ENV": "production", "SECRET_KEY": key})
    assert config["SECRET_KEY"] == key


def test_the_sqlite_files_and_the_generated_key_are_the_service_users_alone(tmp_path, monkeypatch):
    """0600 whatever the umask: the database holds customers' and staff's locations."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FIELDSYNC_SECRET_KEY", raising=False)
    monkeypatch.delenv("FIELDSYNC_ENV", raising=False)
    instance = tmp_path / "instance"
    monkeypatch.setenv("FIELDSYNC_INSTANCE_PATH", str(instance))
    previous = os.umask(0o022)
    try:
        app = create_app()
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("CREATE TABLE probe (id INTEGER)"))
                conn.execute(text("INSERT INTO probe VALUES (1)"))
            with db.engine.connect() as conn:  # the WAL and its index exist while open
                assert conn.execute(text("SELECT count(*) FROM probe")).scalar() == 1
                files = {
                    name: oct(os.stat(instance / name).st_mode & 0o777)
                    for name in ("fieldsync.db", "fieldsync.db-wal", "fieldsync.db-shm")
                }
            db.engine.dispose()
    finally:
        os.umask(previous)
    assert files == dict.fromkeys(files, "0o600")
    assert oct((instance / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert oct(instance.stat().st_mode & 0o777) == "0o700"


def test_a_sqlite_file_named_by_database_url_is_created_0600(tmp_path):
    path = tmp_path / "elsewhere.db"
    previous = os.umask(0o000)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": STRONG})
        with app.app_context():
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            db.engine.dispose()
    finally:
        os.umask(previous)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
