"""Requests and answers of `/sync/watermelon`: WatermelonDB's own shapes, documented."""

from __future__ import annotations

import json

from marshmallow import Schema, ValidationError, fields, validate

_NULLS = ("", "null", "undefined", "0")


class LastPulledAt(fields.Field):
    """A timestamp this endpoint issued; `null`, `undefined`, `0` or absent: first sync."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or (isinstance(value, str) and value.strip() in _NULLS):
            return None
        if isinstance(value, bool):
            raise ValidationError("Give the number the last pull returned, or null.")
        try:
            number = int(value) if not isinstance(value, float) else value
        except (TypeError, ValueError) as exc:
            raise ValidationError("Give the number the last pull returned, or null.") from exc
        if isinstance(number, float):
            if not number.is_integer():
                raise ValidationError("Give the number the last pull returned, or null.")
            number = int(number)
        if not 0 <= number < 2**63:
            raise ValidationError("Out of range.")
        return number or None


class MigrationField(fields.Field):
    """`migration`: JSON (`{from, tables, columns}`) in the query, or null."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value in _NULLS[:3]:
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise ValidationError("Not JSON: give JSON.stringify(migration).") from exc


class WatermelonPushQuerySchema(Schema):
    """WatermelonDB's documented example sends `last_pulled_at` in the push URL."""

    last_pulled_at = LastPulledAt(load_default=None, metadata={"type": "integer", "nullable": True})


class WatermelonPullQuerySchema(WatermelonPushQuerySchema):
    schema_version = fields.Integer(load_default=1)
    migration = MigrationField(
        load_default=None,
        metadata={"type": "string", "description": "JSON of `{from, tables, columns}` or null."},
    )


class TableChangesSchema(Schema):
    created = fields.List(fields.Dict(), required=True)
    updated = fields.List(fields.Dict(), required=True)
    deleted = fields.List(fields.String(), required=True)


class WatermelonPullResponseSchema(Schema):
    changes = fields.Dict(
        keys=fields.String(), values=fields.Nested(TableChangesSchema), required=True
    )
    timestamp = fields.Integer(
        required=True, metadata={"description": "Pass it back as `last_pulled_at`."}
    )
    experimentalStrategy = fields.String(
        metadata={"description": "`replacement`: drop local records not in this response."}
    )


class WatermelonPushSchema(Schema):
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        required=True,
        metadata={"description": "`{table: {created: [raw], updated: [raw], deleted: [id]}}`"},
    )
    lastPulledAt = LastPulledAt(load_default=None, metadata={"type": "integer", "nullable": True})
    device_time = fields.Float(
        allow_none=True,
        validate=validate.Range(0, 10**14),
        metadata={"description": "The device's clock (ms), to correct edit times for skew."},
    )


class PushRejectionSchema(Schema):
    table = fields.String(required=True)
    id = fields.String(required=True)
    op = fields.String()
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict()


class PushConflictSchema(Schema):
    table = fields.String(required=True)
    id = fields.String(required=True)
    fields = fields.List(fields.Dict(), required=True)


class WatermelonPushResponseSchema(Schema):
    ok = fields.Boolean(required=True)
    experimentalRejectedIds = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), required=True
    )
    conflicts = fields.List(fields.Nested(PushConflictSchema), required=True)
    rejected = fields.List(fields.Nested(PushRejectionSchema), required=True)
