"""Flask extensions, created unbound and attached in `create_app`."""

from __future__ import annotations

import os

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event

from domain.models import Base

#: How long a SQLite connection waits for another's write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000

db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def configure_sqlite(engine) -> None:
    """WAL lets readers work while a writer commits; foreign keys are off by default.

    A new database file is created here, readable by the service's user alone (0600):
    it holds customers' and staff's locations. SQLite gives its `-wal` and `-shm` files
    the database file's permissions, so they are 0600 too.
    """
    if engine.dialect.name != "sqlite":
        return
    create_private_file(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()


def create_private_file(path: str | None) -> None:
    """Create an empty SQLite file 0600 unless it exists (an empty file is an empty
    database). In-memory and `file:` URI databases are left to SQLite."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except (FileExistsError, FileNotFoundError):  # kept; or no folder: SQLite will say so
        return
    os.close(fd)
