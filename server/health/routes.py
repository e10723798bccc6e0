"""Liveness and readiness probes: never refused for load, and need no token."""

from __future__ import annotations

import logging

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ..errors import ApiError
from ..extensions import SQLITE_BUSY_TIMEOUT_MS, db
from ..markers import public, unmetered
from .schemas import HealthSchema

log = logging.getLogger(__name__)
#: How long the write probe waits for a lock another writer holds (ms). A held lock means
#: the database is being written, so it counts as writable.
PROBE_LOCK_WAIT_MS = 500
#: SQLite's answer while another connection writes; PostgreSQL's SQLSTATE for a lock timeout.
_BUSY = ("database is locked", "lock_not_available", "55P03")

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators.")


def migration_heads() -> tuple[set[str], set[str]]:
    """(revisions the database is at, revisions the code expects)."""
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(script.get_heads())


def write_problem() -> str | None:
    """Why the database cannot be written, or None: a write rolled back on a connection of
    its own (an UPDATE of alembic's one row to itself). Catches a read-only SQLite file or
    mount, a PostgreSQL standby or `default_transaction_read_only`, a revoked grant."""
    engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        try:
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {PROBE_LOCK_WAIT_MS}")
            else:
                connection.execute(text(f"SET LOCAL lock_timeout = {PROBE_LOCK_WAIT_MS}"))
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
        except DBAPIError as exc:
            reason = str(getattr(exc, "orig", exc))
            code = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
            if any(busy in reason or busy == code for busy in _BUSY):
                return None
            return reason.splitlines()[0] if reason else type(exc).__name__
        finally:
            connection.rollback()
            if sqlite:  # back to the service's wait (server/extensions.py)
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    return None


@blp.route("/healthz")
@blp.response(200, HealthSchema)
@blp.doc(security=[])
@public
@unmetered
def healthz():
    """The process is up."""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
@blp.doc(security=[])
@public
@unmetered
def readyz():
    """The database answers, is at the code's migration head, and can be written.

    Otherwise 503: `database_unavailable`, `migrations_pending`, or `database_read_only`
    (a write, rolled back at once, was refused: a read-only file or standby).
    """
    try:
        db.session.execute(text("SELECT 1"))
        current, expected = migration_heads()
    except Exception as exc:
        raise ApiError(503, "database_unavailable", "The database cannot be reached.") from exc
    finally:
        db.session.rollback()
    if current != expected:
        raise ApiError(
            503,
            "migrations_pending",
            f"Database schema is at {sorted(current)}, the code expects {sorted(expected)}: "
            "run `fieldsync init-db`.",
        )
    try:
        problem = write_problem()
    except Exception as exc:
        raise ApiError(503, "database_unavailable", "The database cannot be reached.") from exc
    if problem is not None:
        log.warning("readyz: the database cannot be written: %s", problem)
        raise ApiError(
            503,
            "database_read_only",
            "The database answers but cannot be written (read-only, or no permission).",
        )
    return {"status": "ready", "database": db.engine.dialect.name, "migration": ",".join(current)}
