"""One page of a pull: its changes, each record once, in the order they were added.

Records reach a page as ORM objects or as rows carrying their stored JSON
(ADR 0014); a page sends stored JSON as it is (`orjson.Fragment`, for a response
written by orjson) or parsed, and builds the JSON of a row stored before
`sync_json` existed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Row

from domain.models import SyncedRecord

from .cursor import Cursor
from .records_json import record_json
from .scopes import Scope


@dataclass
class PullResult:
    changes: list[dict[str, Any]]
    #: The next cursor as the client gets it (signed), and as the server reads it.
    cursor: str
    next: Cursor
    has_more: bool
    reset: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": self.changes,
            "cursor": self.cursor,
            "has_more": self.has_more,
            "reset": self.reset,
        }


@dataclass
class Page:
    limit: int
    #: The JSON of a row written before `sync_json` existed (see `Puller._json_of`).
    json_of: Callable[[str, uuid.UUID], dict[str, Any]]
    #: Pass stored JSON on as it is (`orjson.Fragment`), or parse it.
    raw: bool
    changes: list[dict[str, Any]] = field(default_factory=list)
    seen: set[tuple[str, uuid.UUID]] = field(default_factory=set)
    #: Whether a record was sent: the device may now hold what changed after the cursor.
    sent: bool = False

    @property
    def room(self) -> int:
        return self.limit - len(self.changes)

    def put(self, table: str, record: SyncedRecord | Row, scope: Scope) -> None:
        """Add a record, once per page; rows come from `Puller._fetch` (the hot path of a
        first sync: thousands per page, so read by position, and the key hashed once)."""
        if isinstance(record, Row):
            record_id, deleted, stored = record[0], record[1], record[2]
        else:
            record_id, deleted, stored = record.id, record.is_deleted, None
        seen = self.seen
        known = len(seen)
        seen.add((table, record_id))
        if len(seen) == known:
            return
        if deleted:
            self.changes.append({"table": table, "op": "delete", "id": str(record_id)})
            return
        if not isinstance(record, Row):
            data = record_json(record, scope)
        elif stored is None:
            data = self.json_of(table, record_id)
        else:
            data = orjson.Fragment(stored) if self.raw else orjson.loads(stored)
        self.changes.append({"table": table, "op": "put", "record": data})
        self.sent = True

    def remove(self, table: str, record_id: uuid.UUID) -> None:
        if (table, record_id) in self.seen:
            return
        self.seen.add((table, record_id))
        self.changes.append({"table": table, "op": "remove", "id": str(record_id)})
