"""Records as the JSON that REST, pull and push results all share."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from marshmallow import fields

from domain.models import SyncedRecord, User
from domain.schemas import RECORD_SCHEMAS, UTCDateTime
from domain.times import utc_iso

from .scopes import Scope

#: Fields of a colleague's profile that only managers and admins see.
PRIVATE_USER_FIELDS = ("home_lat", "home_lon")

#: Field types whose Python value already is its JSON value.
_PLAIN = (fields.String, fields.Integer, fields.Float, fields.Boolean, fields.Dict)

Writer = tuple[str, str, Callable[[Any], Any] | None]


@cache
def _writers(table: str) -> tuple[Writer, ...]:
    """Per dumped field: (key, attribute, converter or None when the value is plain).

    Derived from the table's marshmallow schema, so the JSON stays the schema's
    own; a pull dumps tens of thousands of records, and calling the converters
    directly is several times faster than `Schema.dump`.
    """
    schema = RECORD_SCHEMAS[table]()
    writers = []
    for key, field in schema.dump_fields.items():
        attribute = field.attribute or key
        if isinstance(field, UTCDateTime):
            convert = utc_iso
        elif isinstance(field, fields.UUID):
            convert = str
        elif isinstance(field, _PLAIN):
            convert = None
        else:
            convert = _converter(field, key)
        writers.append((key, attribute, convert))
    return tuple(writers)


@cache
def _writers_by_key(table: str) -> dict[str, Writer]:
    return {writer[0]: writer for writer in _writers(table)}


def _converter(field: fields.Field, key: str) -> Callable[[Any], Any]:
    return lambda value: field._serialize(value, key, None)


def record_json(
    record: SyncedRecord, viewer: Scope | None = None, *, only: frozenset[str] | None = None
) -> dict[str, Any]:
    """The record's JSON; `only`: just these keys (what a write may have changed)."""
    data = {}
    writers = _writers(record.__tablename__)
    if only is not None:
        by_key = _writers_by_key(record.__tablename__)
        writers = tuple(by_key[key] for key in only if key in by_key)
    for key, attribute, convert in writers:
        value = getattr(record, attribute)
        data[key] = value if convert is None or value is None else convert(value)
    for name in hidden_fields(record, viewer):
        data.pop(name, None)
    return data


def hidden_fields(record: SyncedRecord, viewer: Scope | None) -> tuple[str, ...]:
    """Fields of `record` that `viewer` must not receive: a rep never gets a colleague's
    home (pulls, REST and history alike; `None`: the server itself)."""
    if not isinstance(record, User) or viewer is None or not viewer.is_rep:
        return ()
    return () if record.id == viewer.user_id else PRIVATE_USER_FIELDS
