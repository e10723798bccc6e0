"""Configuration from defaults, the environment and the caller, in that order."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

MB = 1024 * 1024


class ConfigError(RuntimeError):
    """The service cannot start safely with this configuration."""


DEFAULTS: dict[str, Any] = {
    "FIELDSYNC_ENV": "development",
    "JWT_ALGORITHM": "HS256",
    "JWT_ISSUER": "fieldsync",
    "JWT_AUDIENCE": "fieldsync-api",
    "ACCESS_TOKEN_TTL_SECONDS": 15 * 60,
    # Long enough for a week in the field without a connection, and some.
    "REFRESH_TOKEN_TTL_SECONDS": 14 * 24 * 3600,
    "LOGIN_LIMIT_PER_IP": "30 per minute",
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "MAX_CONTENT_LENGTH": 2 * MB,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "JSON_SORT_KEYS": False,
    # Sync engine (see sync/settings.py).
    "SYNC_RETENTION_DAYS": 90,
    "SYNC_IDEMPOTENCY_DAYS": 30,
    "SYNC_SCHEMA_VERSIONS": [1],
    "CHECK_IN_RADIUS_M": 150.0,
    # PostgreSQL: a transaction left open must not stall every device's pull.
    "PG_IDLE_IN_TRANSACTION_TIMEOUT_MS": 30_000,
    "PG_STATEMENT_TIMEOUT_MS": 30_000,
    # Manager map base tiles ({z}/{x}/{y} URL template); none: a plain background.
    "MAP_TILE_URL": None,
    "MAP_TILE_ATTRIBUTION": None,
}

#: Environment variable -> config key.
ENVIRONMENT = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "FIELDSYNC_SECRET_KEY": "SECRET_KEY",
    "FIELDSYNC_ENV": "FIELDSYNC_ENV",
    "FIELDSYNC_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "FIELDSYNC_LOGIN_LIMIT_PER_IP": "LOGIN_LIMIT_PER_IP",
    "FIELDSYNC_LOGIN_LIMIT_PER_ACCOUNT": "LOGIN_LIMIT_PER_ACCOUNT",
    "FIELDSYNC_SYNC_RETENTION_DAYS": "SYNC_RETENTION_DAYS",
    "FIELDSYNC_SYNC_IDEMPOTENCY_DAYS": "SYNC_IDEMPOTENCY_DAYS",
    "FIELDSYNC_CHECK_IN_RADIUS_M": "CHECK_IN_RADIUS_M",
    # Routing (see server/planning/settings.py for all ROUTING_* keys).
    "FIELDSYNC_TIMEZONE": "ROUTING_TIMEZONE",
    "FIELDSYNC_SHIFT_START": "ROUTING_SHIFT_START",
    "FIELDSYNC_SHIFT_END": "ROUTING_SHIFT_END",
    "FIELDSYNC_OSRM_URL": "ROUTING_OSRM_URL",
    "FIELDSYNC_ROUTING_SPEED_KMH": "ROUTING_SPEED_KMH",
    "FIELDSYNC_ROUTING_DETOUR_FACTOR": "ROUTING_DETOUR_FACTOR",
    "FIELDSYNC_ROUTING_TIME_LIMIT_S": "ROUTING_TIME_LIMIT_S",
    "FIELDSYNC_GEOCODER_URL": "ROUTING_GEOCODER_URL",
    "FIELDSYNC_GEOCODER_USER_AGENT": "ROUTING_GEOCODER_USER_AGENT",
    "FIELDSYNC_MAP_TILE_URL": "MAP_TILE_URL",
    "FIELDSYNC_MAP_TILE_ATTRIBUTION": "MAP_TILE_ATTRIBUTION",
}

#: Config keys read from the environment that are numbers, not text.
NUMERIC = {
    "SYNC_RETENTION_DAYS": int,
    "SYNC_IDEMPOTENCY_DAYS": int,
    "CHECK_IN_RADIUS_M": float,
    "ROUTING_SPEED_KMH": float,
    "ROUTING_DETOUR_FACTOR": float,
    "ROUTING_TIME_LIMIT_S": float,
}


def _from_environment() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for env, key in ENVIRONMENT.items():
        if env not in os.environ:
            continue
        try:
            values[key] = NUMERIC.get(key, str)(os.environ[env])
        except ValueError as exc:
            raise ConfigError(f"{env} must be a number, not {os.environ[env]!r}.") from exc
    return values


def build_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    config.update(_from_environment())
    config.update(overrides or {})
    instance = Path(instance_path)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'fieldsync.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = _with_driver(config["SQLALCHEMY_DATABASE_URI"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = _postgres_options(config)
    if not config.get("SECRET_KEY"):
        if config["FIELDSYNC_ENV"] == "production":
            raise ConfigError("Set FIELDSYNC_SECRET_KEY: production never uses a generated key.")
        config["SECRET_KEY"] = _development_secret(instance)
    if len(config["SECRET_KEY"]) < 32:
        raise ConfigError("FIELDSYNC_SECRET_KEY must be at least 32 characters long.")
    return config


def _with_driver(url: str) -> str:
    """`postgresql://` means psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _postgres_options(config: dict[str, Any]) -> dict[str, Any]:
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    timeouts = (
        f"-c idle_in_transaction_session_timeout={int(config['PG_IDLE_IN_TRANSACTION_TIMEOUT_MS'])}"
        f" -c statement_timeout={int(config['PG_STATEMENT_TIMEOUT_MS'])}"
    )
    options["connect_args"] = {**options.get("connect_args", {}), "options": timeouts}
    return options


def _development_secret(instance: Path) -> str:
    """Generated once and kept, so tokens survive a restart in development."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
