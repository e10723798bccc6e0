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
from .compression import CompressionSettings
from .fairness import HeavySettings
from .overload import Limits
from .route_plans.settings import RoutingSettings

log = logging.getLogger(__name__)

MB = 1024 * 1024
#: werkzeug's password hash method (`hash_password`). Tests use a cheap one; not settable by
#: the environment, so a deployment cannot weaken it by accident.
PASSWORD_HASH_METHOD = "scrypt"
#: A longer grace would let a stolen refresh token share the owner's chain for longer.
MAX_REFRESH_RETRY_WINDOW_SECONDS = 600
#: What `FIELDSYNC_ENV` may say (any case); anything else stops the start: a misspelt
#: `prodution` must not quietly run with development's generated key.
ENVIRONMENTS = ("development", "testing", "production")
#: Secrets (the signing key, the metrics token) are at least this long.
MIN_SECRET_LENGTH = 32
#: Production's key must be this hard to guess (zxcvbn's estimate, log10 of guesses:
#: 25 is about 83 bits). Random keys of 32 hex characters (128 bits; estimated 27 to 35)
#: or 43 url-safe ones pass; `kkkk…`, `change-me-change-me…`, a repeated word or a phrase
#: like `fieldsync-production-secret-key-2026` (23.5) do not.
MIN_SECRET_GUESSES_LOG10 = 25
T = TypeVar("T")
#: How an environment variable says yes or no to a setting whose type is `bool`.
BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
BOOLEANS |= {"0": False, "false": False, "no": False, "off": False}


class ConfigError(RuntimeError):
    """The service cannot start safely with this configuration."""


#: The areas configured by `section()`.
SECTIONS: tuple[type, ...] = (
    SyncSettings,
    RoutingSettings,
    Limits,
    ThrottleSettings,
    HeavySettings,
    CompressionSettings,
)

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
    # The access log, JSON lines (server/telemetry.py): "-" is standard output, a path a
    # file, "" none.
    "ACCESS_LOG": "-",
    # `/metrics` (Prometheus): answered only to `Authorization: Bearer <token>`; none: 404.
    "METRICS_TOKEN": None,
    # prometheus_client's multiprocess directory (several gunicorn workers); none: one process.
    "METRICS_MULTIPROC_DIR": None,
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
    "FIELDSYNC_METRICS_TOKEN": "METRICS_TOKEN",
    # prometheus_client's own variable, which it reads too (server/metrics/service.py).
    "PROMETHEUS_MULTIPROC_DIR": "METRICS_MULTIPROC_DIR",
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
    # HeavySettings (per-user concurrency of planning, KPIs, GeoJSON)
    "FIELDSYNC_HEAVY_PER_USER": "HEAVY_PER_USER",
    "FIELDSYNC_HEAVY_LEASE_S": "HEAVY_LEASE_S",
    "FIELDSYNC_HEAVY_RETRY_AFTER_S": "HEAVY_RETRY_AFTER_S",
    # CompressionSettings (answers; request bodies are always decoded)
    "FIELDSYNC_COMPRESSION": "COMPRESSION_ENABLED",
    "FIELDSYNC_COMPRESSION_MIN_BYTES": "COMPRESSION_MIN_BYTES",
    "FIELDSYNC_COMPRESSION_ZSTD_LEVEL": "COMPRESSION_ZSTD_LEVEL",
    "FIELDSYNC_COMPRESSION_BR_LEVEL": "COMPRESSION_BR_LEVEL",
    "FIELDSYNC_COMPRESSION_GZIP_LEVEL": "COMPRESSION_GZIP_LEVEL",
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


def serving_config() -> dict[str, Any]:
    """The defaults and the environment, without the checks and derived keys of
    `build_config`: what gunicorn's settings need before any app exists."""
    return dict(DEFAULTS) | _from_environment()


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
    config = serving_config() | (overrides or {})
    config["FIELDSYNC_ENV"] = environment(config["FIELDSYNC_ENV"])
    production = config["FIELDSYNC_ENV"] == "production"
    instance = Path(instance_path)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        _private_directory(instance)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'fieldsync.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = _with_driver(config["SQLALCHEMY_DATABASE_URI"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = _postgres_options(config)
    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigError("Set FIELDSYNC_SECRET_KEY: production never uses a generated key.")
        config["SECRET_KEY"] = _development_secret(instance)
    if len(config["SECRET_KEY"]) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"FIELDSYNC_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters long."
        )
    if production and not strong_secret(config["SECRET_KEY"]):
        raise ConfigError(
            "FIELDSYNC_SECRET_KEY is too easy to guess for production (repeated or "
            "predictable text): use a random key, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`."
        )
    _check_metrics(config)
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


def environment(value: Any) -> str:
    """`FIELDSYNC_ENV` in lower case; ConfigError for anything but `ENVIRONMENTS`."""
    name = str(value or "").strip().lower()
    if name not in ENVIRONMENTS:
        raise ConfigError(
            f"FIELDSYNC_ENV is {value!r}: use one of {', '.join(ENVIRONMENTS)} (any case)."
        )
    return name


def strong_secret(secret: str) -> bool:
    """Hard enough to guess, by zxcvbn's estimate of its first 64 characters (zxcvbn's time
    grows with the square of the length; 64 random characters are plenty)."""
    from zxcvbn import zxcvbn  # a large module, loaded only for production's check

    return zxcvbn(secret[:64])["guesses_log10"] >= MIN_SECRET_GUESSES_LOG10


def _check_metrics(config: dict[str, Any]) -> None:
    token = config.get("METRICS_TOKEN")  # empty: off, like unset
    if token and (len(token) < MIN_SECRET_LENGTH or token == config["SECRET_KEY"]):
        raise ConfigError(
            f"FIELDSYNC_METRICS_TOKEN must be at least {MIN_SECRET_LENGTH} characters long "
            "and differ from FIELDSYNC_SECRET_KEY."
        )
    directory = config.get("METRICS_MULTIPROC_DIR")
    if directory and not Path(directory).is_dir():
        raise ConfigError(
            f"PROMETHEUS_MULTIPROC_DIR {directory!r} is not a directory: create it (empty) "
            "before the workers start."
        )


def _field_types() -> dict[str, type]:
    """Config key -> the type of its default (int, float, bool, str…): a section field's, or
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
        if kind is bool:
            value = os.environ[env].strip().lower()
            if value not in BOOLEANS:
                raise ConfigError(f"{env} must be on or off (1 or 0), not {os.environ[env]!r}.")
            values[key] = BOOLEANS[value]
            continue
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


def _private_directory(path: Path) -> None:
    """The instance folder, made readable by the service's user alone (0700) when new."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _development_secret(instance: Path) -> str:
    """Generated once and kept, so tokens survive a restart in development; created 0600."""
    _private_directory(instance)
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
