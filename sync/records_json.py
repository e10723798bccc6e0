"""Records as the JSON that REST, pull and push results all share."""

from __future__ import annotations

from functools import cache
from typing import Any

from domain.models import SyncedRecord, User
from domain.schemas import RECORD_SCHEMAS, RecordSchema

from .scopes import Scope

#: Fields of a colleague's profile that only managers and admins see.
PRIVATE_USER_FIELDS = ("home_lat", "home_lon")


@cache
def _schema(table: str) -> RecordSchema:
    return RECORD_SCHEMAS[table]()


def record_json(record: SyncedRecord, viewer: Scope | None = None) -> dict[str, Any]:
    data = _schema(record.__tablename__).dump(record)
    mine = viewer is None or not viewer.is_rep or record.id == viewer.user_id
    if isinstance(record, User) and not mine:
        for name in PRIVATE_USER_FIELDS:
            data.pop(name, None)
    return data
