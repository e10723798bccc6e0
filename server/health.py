"""Liveness and readiness probes."""

from __future__ import annotations

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from .auth.guard import public
from .errors import ApiError
from .extensions import db

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators.")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String()
    migration = fields.String(allow_none=True)


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
def healthz():
    """The process is up."""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
@blp.doc(security=[])
@public
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
