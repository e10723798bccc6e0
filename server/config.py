"""Configuration: defaults, then the environment, then the caller, in that order.

This is the one module that reads the environment. Every setting becomes a
key of the app's config. An area with several settings (the sync engine,
routing, the overload gate) declares them once, as a frozen dataclass with a
`CONFIG_PREFIX`; `section()` builds it from the config (`SYNC_RETENTION_DAYS`
-> `SyncSettings.retention_days`), and the dataclass's defaults are the
defaults. An environment variable's type is its field's type.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
from pathlib import Path
from typing import Any, TypeVar

from sync import SyncSettings

from . import proxies
from .auth.throttle import ThrottleSettings
from .overload import Limits
from .route_plans.settings import RoutingSettings

log = logging.getLogger(__name__)

MB = 1024 * 1024
#: werkzeug's password hash method (`hash_password`). Tests use a cheap one; not settable by
#: the environment, so a deployment cannot weaken it by accident.
PASSWORD_HASH_METHOD = "scrypt"
#: A longer grace would let a stolen refresh token share the owner's chain for longer.
MAX_REFRESH_RETRY_WINDOW_SECONDS = 600
T = TypeVar("T")


class ConfigError(RuntimeError):
    """The service cannot start safely with this configuration."""


#: The areas configured by `section()`.
SECTIONS: tuple[type, ...] = (SyncSettings, RoutingSettings, Limits, ThrottleSettings)

DEFAULTS: dict[str, Any] = {
    "FIELDSYNC_ENV": "development",
    "JWT_ALGORITHM": "HS256",
    "JWT_ISSUER": "fieldsync",
    "JWT_AUDIENCE": "fieldsync-api",
    "ACCESS_TOKEN_TTL_SECONDS": 15 * 60,
    # Long enough for a week in the field without a connection, and some.
    "REFRESH_TOKEN_TTL_SECONDS": 14 * 24 * 3600,
    # A spent refresh token presented again this soon, before its successor is used,
    # gets that successor again (the answer was lost in a dead zone); 0: never.
    "REFRESH_RETRY_WINDOW_SECONDS": 60,
    "PASSWORD_HASH_METHOD": PASSWORD_HASH_METHOD,
    # Sign-in failure counts (server/auth/throttle.py): `memory://` counts per process.
    "RATELIMIT_STORAGE_URI": "memory://",
    # Who may say who the client is (server/proxies.py): nobody, X-Forwarded-* ignored.
    "TRUSTED_PROXIES": "",
    # Flask's: the largest request body (a push of 500 mutations fits).
    "MAX_CONTENT_LENGTH": 2 * MB,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # PostgreSQL: a transaction left open must not stall every device's pull.
    "PG_IDLE_IN_TRANSACTION_TIMEOUT_MS": 30_000,
    "PG_STATEMENT_TIMEOUT_MS": 30_000,
    # Manager map base tiles ({z}/{x}/{y} URL template); none: a plain background.
    "MAP_TILE_URL": None,
    "MAP_TILE_ATTRIBUTION": None,
    # gunicorn's access log (`fieldsync serve`): "-" is standard output, "" none.
    "ACCESS_LOG": "-",
}

#: Environment variable -> config key.
ENVIRONMENT = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "FIELDSYNC_SECRET_KEY": "SECRET_KEY",
    "FIELDSYNC_PREVIOUS_SECRET_KEYS": "PREVIOUS_SECRET_KEYS",
    "FIELDSYNC_ENV": "FIELDSYNC_ENV",
    "FIELDSYNC_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "FIELDSYNC_TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "FIELDSYNC_REFRESH_RETRY_WINDOW_SECONDS": "REFRESH_RETRY_WINDOW_SECONDS",
    "FIELDSYNC_ACCESS_LOG": "ACCESS_LOG",
    "FIELDSYNC_MAP_TILE_URL": "MAP_TILE_URL",
    "FIELDSYNC_MAP_TILE_ATTRIBUTION": "MAP_TILE_ATTRIBUTION",
    # SyncSettings
    "FIELDSYNC_SYNC_RETENTION_DAYS": "SYNC_RETENTION_DAYS",
    "FIELDSYNC_SYNC_IDEMPOTENCY_DAYS": "SYNC_IDEMPOTENCY_DAYS",
    "FIELDSYNC_SYNC_HISTORY_DAYS": "SYNC_HISTORY_DAYS",
    "FIELDSYNC_CHECK_IN_RADIUS_M": "SYNC_CHECK_IN_RADIUS_M",
    "FIELDSYNC_SYNC_WINDOW_DAYS_REP": "SYNC_WINDOW_DAYS_REP",
    "FIELDSYNC_SYNC_WINDOW_DAYS_MANAGER": "SYNC_WINDOW_DAYS_MANAGER",
    "FIELDSYNC_SYNC_WINDOW_DAYS_ADMIN": "SYNC_WINDOW_DAYS_ADMIN",
    "FIELDSYNC_SYNC_WINDOW_LAST_N": "SYNC_WINDOW_LAST_N",
    # RoutingSettings
    "FIELDSYNC_TIMEZONE": "ROUTING_TIMEZONE",
    "FIELDSYNC_SHIFT_START": "ROUTING_SHIFT_START",
    "FIELDSYNC_SHIFT_END": "ROUTING_SHIFT_END",
    "FIELDSYNC_OSRM_URL": "ROUTING_OSRM_URL",
    "FIELDSYNC_ROUTING_SPEED_KMH": "ROUTING_SPEED_KMH",
    "FIELDSYNC_ROUTING_DETOUR_FACTOR": "ROUTING_DETOUR_FACTOR",
    "FIELDSYNC_ROUTING_TIME_LIMIT_S": "ROUTING_TIME_LIMIT_S",
    "FIELDSYNC_GEOCODER_URL": "ROUTING_GEOCODER_URL",
    "FIELDSYNC_GEOCODER_USER_AGENT": "ROUTING_GEOCODER_USER_AGENT",
    # Limits (the overload gate)
    "FIELDSYNC_MAX_IN_FLIGHT": "OVERLOAD_MAX_IN_FLIGHT",
    "FIELDSYNC_MAX_WAITING": "OVERLOAD_MAX_WAITING",
    "FIELDSYNC_MAX_WAIT_MS": "OVERLOAD_MAX_WAIT_MS",
    "FIELDSYNC_RETRY_AFTER_MAX_S": "OVERLOAD_RETRY_AFTER_MAX_S",
    # ThrottleSettings (sign-in)
    "FIELDSYNC_LOGIN_FAILURES_PER_ACCOUNT_ADDRESS": "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS",
    "FIELDSYNC_LOGIN_FAILURES_PER_ADDRESS": "LOGIN_FAILURES_PER_ADDRESS",
    "FIELDSYNC_LOGIN_SLOW_AFTER_PER_ACCOUNT": "LOGIN_SLOW_AFTER_PER_ACCOUNT",
    "FIELDSYNC_LOGIN_SLOW_DELAY_MS": "LOGIN_SLOW_DELAY_MS",
    "FIELDSYNC_LOGIN_KEY_PREFIX": "LOGIN_KEY_PREFIX",
}

#: Variables no longer read, and what replaced them: a start-up warning, not a silent no-op.
RETIRED = {
    "FIELDSYNC_LOGIN_LIMIT_PER_IP": "FIELDSYNC_LOGIN_FAILURES_PER_ADDRESS",
    "FIELDSYNC_LOGIN_LIMIT_PER_ACCOUNT": "FIELDSYNC_LOGIN_FAILURES_PER_ACCOUNT_ADDRESS",
}


def instance_path() -> str | None:
    """Where the SQLite file and the development key live (`FIELDSYNC_INSTANCE_PATH`);
    None: Flask's default, `./instance`."""
    return os.environ.get("FIELDSYNC_INSTANCE_PATH") or None


def section(cls: type[T], config: dict[str, Any]) -> T:
    """The settings `cls` from the config's `<CONFIG_PREFIX><FIELD>` keys (none: its default)."""
    prefix = cls.CONFIG_PREFIX  # type: ignore[attr-defined]
    values = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = config.get(prefix + field.name.upper())
        if value is not None:
            values[field.name] = value
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{cls.__name__}: {exc}") from exc


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
    # Pull cursors are signed with a key derived from the secret; cursors signed with a
    # previous secret stay valid, so rotating it does not send every phone a full sync.
    previous = config.get("PREVIOUS_SECRET_KEYS") or ()
    if isinstance(previous, str):
        previous = [key.strip() for key in previous.split(",") if key.strip()]
    config["SYNC_CURSOR_SECRETS"] = (config["SECRET_KEY"], *previous)
    if not 0 <= config["REFRESH_RETRY_WINDOW_SECONDS"] <= MAX_REFRESH_RETRY_WINDOW_SECONDS:
        raise ConfigError(
            "FIELDSYNC_REFRESH_RETRY_WINDOW_SECONDS must be 0 to "
            f"{MAX_REFRESH_RETRY_WINDOW_SECONDS} seconds."
        )
    for cls in SECTIONS:
        section(cls, config)  # refuse a bad value at start-up, not at the first request
    try:
        proxies.parse(config["TRUSTED_PROXIES"])
    except ValueError as exc:
        raise ConfigError(f"FIELDSYNC_TRUSTED_PROXIES: {exc}.") from exc
    return config


def _field_types() -> dict[str, type]:
    """Config key -> the type of its default (int, float, str…): a section field's, or
    a number in `DEFAULTS`."""
    types = {key: type(value) for key, value in DEFAULTS.items() if type(value) in (int, float)}
    for cls in SECTIONS:
        for field in dataclasses.fields(cls):
            if field.default is not dataclasses.MISSING and field.default is not None:
                types[cls.CONFIG_PREFIX + field.name.upper()] = type(field.default)
    return types


def _from_environment() -> dict[str, Any]:
    types = _field_types()
    values: dict[str, Any] = {}
    for env, successor in RETIRED.items():
        if env in os.environ:
            log.warning("%s is no longer read; see %s in the README.", env, successor)
    for env, key in ENVIRONMENT.items():
        if env not in os.environ:
            continue
        kind = types.get(key, str)
        try:
            values[key] = kind(os.environ[env]) if kind in (int, float) else os.environ[env]
        except ValueError as exc:
            raise ConfigError(f"{env} must be a number, not {os.environ[env]!r}.") from exc
    return values


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
