"""Each record's pull JSON, stored when the record is written (ADR 0014).

A pull then sends the stored JSON as it is, instead of turning every column
of thousands of rows into Python values and back into JSON. It is kept by a
`before_flush` hook rather than by the functions of `sync.changes`: whatever
sets an attribute before the flush (derived fields, a later step of the same
push) is in the stored JSON, and so is any future writer. Column defaults,
which SQLAlchemy would apply only in the INSERT, are applied first, so the JSON
is the row as stored.

The hook is switched on by `install()`, which the app factory calls for every
session of the process; code that writes records without the app must call it too.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from domain.models import RECORD_MODELS, PulledAsJson, SyncedRecord

from .records_json import record_json

#: The tables whose records carry their pull JSON.
STORED_MODELS: tuple[type[SyncedRecord], ...] = tuple(
    model for model in RECORD_MODELS.values() if issubclass(model, PulledAsJson)
)
FILL_BATCH = 500


def json_text(record: SyncedRecord) -> str:
    """The record's JSON as every pull sends it (no viewer-specific fields in these tables)."""
    return orjson.dumps(record_json(record)).decode()


def install(sessions: type[Session] | sessionmaker | scoped_session) -> None:
    """Keep stored JSON on every flush of these sessions (a session class, factory or
    scoped session); calling it again changes nothing."""
    if not event.contains(sessions, "before_flush", _store_json):
        event.listen(sessions, "before_flush", _store_json)


def _store_json(session: Session, _context: Any, _instances: Any) -> None:
    for record in session.new:
        if isinstance(record, PulledAsJson):
            _apply_defaults(record)
            record.sync_json = json_text(record)
    for record in session.dirty:
        if isinstance(record, PulledAsJson) and session.is_modified(record):
            record.sync_json = json_text(record)


def _apply_defaults(record: SyncedRecord) -> None:
    for attribute in inspect(type(record)).column_attrs:
        column = attribute.columns[0]
        default = column.default
        if default is None or getattr(record, attribute.key) is not None:
            continue
        if default.is_scalar:
            setattr(record, attribute.key, default.arg)
        elif default.is_callable:
            setattr(record, attribute.key, default.arg(None))


def fill_missing(session: Session) -> int:
    """Store the JSON of every record that has none yet (after a migration); return how many.

    Commits every batch, so a large table does not hold one long transaction.
    """
    filled = 0
    for model in STORED_MODELS:
        while True:
            records = session.scalars(
                select(model).where(model.sync_json.is_(None)).limit(FILL_BATCH)
            ).all()
            for record in records:
                record.sync_json = json_text(record)
            session.commit()
            filled += len(records)
            if len(records) < FILL_BATCH:
                break
    return filled
