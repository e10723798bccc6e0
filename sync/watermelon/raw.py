"""The raw column mapping: our record JSON as WatermelonDB's raw records, and back.

WatermelonDB stores flat columns of three types (string, number, boolean), so
each table's record schema decides how a field travels (dates as ms numbers,
objects and lists as JSON text, decimals as strings), which columns a device
may write, and what a null means. `clients/watermelondb/schema.js` is
generated from `columns()` and checked by a test, so the app and this mapping
cannot drift apart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from marshmallow import fields as mf

from domain.models import WALK_TABLES
from domain.schemas import RECORD_SCHEMAS, UTCDateTime
from domain.times import parse_iso, utc_iso

from ..conflict_log import SECRET_FIELDS
from ..errors import UnsupportedSchemaVersion

#: The WatermelonDB schema version `clients/watermelondb/schema.js` declares.
SCHEMA_VERSION = 2
#: Tables in parent-first order (WatermelonDB's collections have our names).
TABLES: tuple[str, ...] = tuple(m.__tablename__ for m in WALK_TABLES)
IGNORED_RAW = frozenset({"_status", "_changed"})
#: Never taken from a device, whatever the schema says.
NOT_WRITABLE = frozenset({"id", "version", "created_at", "updated_at", "deleted_at"})


def check_schema_version(version: int) -> None:
    if not 1 <= version <= SCHEMA_VERSION:
        raise UnsupportedSchemaVersion(
            f"WatermelonDB schema version {version} is not supported; this server knows "
            f"1 to {SCHEMA_VERSION}. Update the app."
        )


@cache
def columns(table: str) -> dict[str, str]:
    """Column -> WatermelonDB kind: `string`, `number`, `boolean`, `date` (ms), `json`."""
    schema = RECORD_SCHEMAS[table]()
    return {key: _kind(field) for key, field in schema.dump_fields.items()}


def _kind(field: mf.Field) -> str:
    if isinstance(field, UTCDateTime):
        return "date"
    if isinstance(field, mf.Boolean):
        return "boolean"
    if isinstance(field, (mf.Integer, mf.Float)) and not isinstance(field, mf.Decimal):
        return "number"
    if isinstance(field, (mf.Dict, mf.List, mf.Nested)):
        return "json"
    return "string"  # strings, UUIDs, e-mails, decimals (exact, as text), dates


@cache
def writable(table: str) -> frozenset[str]:
    schema = RECORD_SCHEMAS[table]()
    return frozenset(key for key, f in schema.load_fields.items() if not f.dump_only) - NOT_WRITABLE


@cache
def _not_null(table: str) -> frozenset[str]:
    schema = RECORD_SCHEMAS[table]()
    return frozenset(key for key, f in schema.load_fields.items() if not f.allow_none)


def to_raw(table: str, record: dict[str, Any]) -> dict[str, Any]:
    """Our record JSON -> a WatermelonDB raw record."""
    kinds = columns(table)
    raw: dict[str, Any] = {}
    for key, value in record.items():
        kind = kinds.get(key)
        if kind is None:
            continue
        if value is None:
            raw[key] = None
        elif kind == "date":
            raw[key] = iso_to_ms(value)
        elif kind == "json":
            raw[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            raw[key] = value
    return raw


def from_raw(table: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A pushed raw record -> our fields (writable columns only; the rest is ignored).

    Values that cannot be converted are passed on as they are, so the table's
    schema rejects them with its own message; so is a password, which the engine
    refuses (`password_not_synced`) rather than ignoring. WatermelonDB sends every column,
    null where the app set nothing: for a column that cannot be null, null means
    "not set", so a create gets the server's default and an update keeps the value.
    """
    kinds = columns(table)
    allowed = writable(table)
    not_null = _not_null(table)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in SECRET_FIELDS and value is not None:
            values[key] = "[not synced]"  # refused by the push; the value itself goes nowhere
            continue
        if key not in allowed or key in IGNORED_RAW:
            continue
        kind = kinds.get(key)
        if value is None:
            if key not in not_null:
                values[key] = None
        elif kind == "date" and isinstance(value, (int, float)) and not isinstance(value, bool):
            values[key] = ms_to_iso(value)
        elif kind == "json" and isinstance(value, str):
            if value == "":
                values[key] = None
                continue
            try:
                values[key] = json.loads(value)
            except (ValueError, RecursionError):
                values[key] = value
        else:
            values[key] = value
    return values


def iso_to_ms(value: str) -> int:
    return round(parse_iso(value).timestamp() * 1000)


def ms_to_datetime(value: Any) -> datetime | None:
    """WatermelonDB's times (ms since the epoch); None when not a number or out of range."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def ms_to_iso(value: float) -> str:
    moment = ms_to_datetime(value)
    if moment is None:
        return str(value)  # out of range: the schema refuses it
    return utc_iso(moment)
