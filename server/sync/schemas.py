"""Requests and answers of `/sync/pull`, `/sync/push` and `/conflicts`, as documented."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain.schemas import UTCDateTime


class PullQuerySchema(Schema):
    cursor = fields.String(validate=validate.Length(max=20_000))
    limit = fields.Integer(validate=validate.Range(1, 5000))
    schema_version = fields.Integer(load_default=1)


class ChangeSchema(Schema):
    table = fields.String(required=True)
    op = fields.String(required=True, validate=validate.OneOf(("put", "delete", "remove")))
    id = fields.UUID(metadata={"description": "For `delete` and `remove`."})
    record = fields.Dict(metadata={"description": "For `put`: the record as the server has it."})


class PullResponseSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    cursor = fields.String(required=True)
    has_more = fields.Boolean(required=True)
    reset = fields.Boolean(required=True)


class MutationErrorSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict()


class FieldConflictSchema(Schema):
    field = fields.String(required=True)
    yours = fields.Raw(allow_none=True)
    server = fields.Raw(allow_none=True)
    kept = fields.String(required=True)
    reason = fields.String(required=True)


class MutationResultSchema(Schema):
    id = fields.UUID(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(("applied", "merged", "rejected"))
    )
    record = fields.Dict()
    conflicts = fields.List(fields.Nested(FieldConflictSchema))
    error = fields.Nested(MutationErrorSchema)
    replayed = fields.Boolean()
    logged = fields.Boolean(
        metadata={
            "description": "`false` when the device's conflict-log budget was spent: the "
            "rejection is only in this answer."
        }
    )


class PushResponseSchema(Schema):
    results = fields.List(fields.Nested(MutationResultSchema), required=True)
    pull = fields.Nested(
        PullResponseSchema,
        metadata={"description": "When the push asked for `pull`: the page after its cursor."},
    )


class ConflictQuerySchema(Schema):
    table = fields.String(validate=validate.Length(max=32))
    record_id = fields.UUID()
    since = UTCDateTime()
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    after = fields.UUID(metadata={"description": "Id of the last entry of the previous page."})


class ConflictSchema(Schema):
    id = fields.UUID(required=True)
    table = fields.String(attribute="table_name", required=True)
    record_id = fields.UUID(required=True)
    customer_id = fields.UUID(allow_none=True)
    kind = fields.String(required=True, metadata={"enum": ["field_lost", "rejected"]})
    code = fields.String(required=True)
    message = fields.String(required=True)
    field = fields.String(allow_none=True)
    lost_values = fields.Dict(allow_none=True)
    kept_values = fields.Dict(allow_none=True)
    loser = fields.String(required=True, metadata={"enum": ["device", "server"]})
    user_id = fields.UUID(allow_none=True)
    device_id = fields.String(allow_none=True)
    mutation_id = fields.UUID(allow_none=True)
    mutation_op = fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)
    restored_at = UTCDateTime(allow_none=True)
    restored_by = fields.UUID(allow_none=True)


class ConflictListSchema(Schema):
    items = fields.List(fields.Nested(ConflictSchema), required=True)


class RestoreResultSchema(Schema):
    conflict = fields.Nested(ConflictSchema, required=True)
    record = fields.Dict(required=True)
