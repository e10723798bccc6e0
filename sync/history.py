"""Reading a record's history: who changed which field, from what, to what, and when.

Written by the one write path on each write's change-log row (`changes._log`);
read with the record's own scope: whoever may see the record may see its
history, and a rep never sees a colleague's private fields in it either.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from domain.models import ChangeLogEntry, SyncedRecord

from .records_json import hidden_fields
from .store import RecordStore


def read_history(
    store: RecordStore,
    model: type[SyncedRecord],
    record_id: uuid.UUID,
    *,
    limit: int = 100,
    before: int | None = None,
) -> dict[str, Any]:
    """Newest first, a page at a time (`before`: the `seq` of the page's last entry)."""
    record = store.get(model, record_id, include_deleted=True)  # 404 outside the scope
    log = ChangeLogEntry
    query = select(log).where(
        log.table_name == model.__tablename__,
        log.record_id == record.id,
        log.changes.is_not(None),
    )
    if before is not None:
        query = query.where(log.seq < before)
    rows = store.session.scalars(query.order_by(log.seq.desc()).limit(limit + 1)).all()
    hidden = hidden_fields(record, store.scope)
    items = [_entry(row, hidden) for row in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next_before": items[-1]["seq"] if more else None}


def _entry(row: ChangeLogEntry, hidden: tuple[str, ...]) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "version": row.version,
        "op": "update" if row.kind == "move" else row.kind,
        "changed_at": row.changed_at,
        "user_id": row.user_id,
        "device_id": row.device_id,
        "mutation_id": row.mutation_id,
        "changes": [
            {"field": field, "old": old, "new": new}
            for field, (old, new) in row.changes.items()
            if field not in hidden
        ],
    }
