"""Listing records (no Flask): filters, text search and keyset pagination with opaque cursors.

Keyset (sort value, id) pagination stays correct while records change between
pages and costs the same on page 1,000 as on page 1, unlike OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select

from domain.models import SyncedRecord
from domain.text import fold
from sync import InvalidCursor, Scope
from sync.records_json import hidden_fields

MAX_LIMIT = 500


def encode_cursor(sort_value: Any, record_id: uuid.UUID) -> str:
    if isinstance(sort_value, datetime):
        sort_value = sort_value.isoformat()
    raw = json.dumps([sort_value, record_id.hex], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort_is_time: bool) -> tuple[Any, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, record_id = json.loads(base64.urlsafe_b64decode(padded))
        if sort_is_time:
            value = datetime.fromisoformat(value)
        elif not isinstance(value, str):
            raise ValueError("bad sort value")
        return value, uuid.UUID(hex=record_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this API gave out.") from exc


def list_records(
    session,
    model: type[SyncedRecord],
    scope_where,
    args: dict[str, Any],
    filters: tuple[str, ...],
) -> dict[str, Any]:
    """One page of records visible to the caller, with the cursor of the next."""
    sort = args.get("sort") or ("name" if model.sort_field else "updated_at")
    sort_column = model.sort_key if sort == "name" else model.updated_at
    query: Select = select(model).where(scope_where)
    if not args.get("include_deleted"):
        query = query.where(model.deleted_at.is_(None))
    for name in filters:
        if args.get(name) is not None:
            query = query.where(getattr(model, name) == args[name])
    if args.get("updated_since") is not None:
        query = query.where(model.updated_at > args["updated_since"])
    if args.get("q"):
        for word in fold(args["q"]).split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(model.search_text.like(f"%{escaped}%", escape="\\"))
    if args.get("cursor"):
        value, after_id = decode_cursor(args["cursor"], sort_is_time=sort != "name")
        query = query.where(
            or_(sort_column > value, and_(sort_column == value, model.id > after_id))
        )
    limit = args.get("limit") or 100
    rows = session.scalars(query.order_by(sort_column, model.id).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more:
        last = rows[-1]
        next_cursor = encode_cursor(last.sort_key if sort == "name" else last.updated_at, last.id)
    return {"items": rows, "next_cursor": next_cursor, "has_more": has_more}


class _Redacted:
    """A record as its viewer may see it: hidden fields read as absent, so the
    schema leaves them out of the answer, as a pull does."""

    def __init__(self, record: SyncedRecord, hidden: tuple[str, ...]):
        self._record, self._hidden = record, hidden

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            raise AttributeError(name)
        return getattr(self._record, name)


def shown(record: SyncedRecord, viewer: Scope) -> Any:
    """`record` without what `viewer` may not see (a rep: a colleague's home)."""
    hidden = hidden_fields(record, viewer)
    return _Redacted(record, hidden) if hidden else record
