"""Reading a record's history: who changed which field, from what, to what, and when.

Written by the one write path (`changes._remember`); read with the record's own
scope: whoever may see the record may see its history, and a rep never sees a
colleague's private fields in it either.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from domain.models import HistoryEntry, SyncedRecord, User

from .records_json import PRIVATE_USER_FIELDS
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
    query = select(HistoryEntry).where(
        HistoryEntry.table_name == model.__tablename__, HistoryEntry.record_id == record.id
    )
    if before is not None:
        query = query.where(HistoryEntry.seq < before)
    rows = store.session.scalars(query.order_by(HistoryEntry.seq.desc()).limit(limit + 1)).all()
    hidden = PRIVATE_USER_FIELDS if _private(store, record) else ()
    items = [_entry(row, hidden) for row in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next_before": items[-1]["seq"] if more else None}


def _private(store: RecordStore, record: SyncedRecord) -> bool:
    return isinstance(record, User) and store.scope.is_rep and record.id != store.user.id


def _entry(row: HistoryEntry, hidden: tuple[str, ...]) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "op": row.op,
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
