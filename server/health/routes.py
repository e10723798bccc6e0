"""Liveness and readiness probes: never refused for load, and need no token."""

from __future__ import annotations

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import text

from ..errors import ApiError
from ..extensions import db
from ..markers import public, unmetered
from .schemas import HealthSchema

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators.")


def migration_heads() -> tuple[set[str], set[str]]:
    """(revisions the database is at, revisions the code expects)."""
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(script.get_heads())


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
    """The database answers and its schema is at the code's migration head."""
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
    return {"status": "ready", "database": db.engine.dialect.name, "migration": ",".join(current)}
