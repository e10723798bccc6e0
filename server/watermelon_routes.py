"""`/api/v1/sync/watermelon`: WatermelonDB's pull and push on our sync engine (ADR 0011)."""

from __future__ import annotations

import json

from flask import g, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from domain.models import DeviceSession
from sync.push import claim_device
from sync.watermelon import (
    WatermelonPuller,
    WatermelonPusher,
    check_schema_version,
    count_mutations,
    parse_changes,
)

from .auth.guard import current_user, store
from .auth.sessions import now_utc, session_error
from .errors import ApiError, documented_errors
from .extensions import db

blp = Blueprint(
    "watermelon",
    __name__,
    url_prefix="/api/v1",
    description="WatermelonDB's sync protocol (`synchronize()` pullChanges/pushChanges).",
)

#: Records per push (WatermelonDB sends all local changes at once; 2 MB bounds it too).
MAX_PUSH_RECORDS = 5000
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
        except ValueError as exc:
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


@blp.route("/sync/watermelon")
class WatermelonSync(MethodView):
    @blp.arguments(WatermelonPullQuerySchema, location="query")
    @blp.response(200, WatermelonPullResponseSchema)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(426, response="UPGRADE_REQUIRED")
    @documented_errors(blp, 401, 422)
    def get(self, query):
        """pullChanges: every change of your scope since `last_pulled_at`, in one response."""
        check_schema_version(query["schema_version"])
        user = current_user()
        author = f"{user.id.hex}/{g.device.device_id}"
        puller = WatermelonPuller(db.session, user, store().scope, author=author)
        generation = puller.record_scope()
        db.session.commit()  # the scope generation, when new
        body = puller.pull(query["last_pulled_at"], query["migration"], generation)
        db.session.rollback()
        return jsonify(body)

    @blp.arguments(WatermelonPushQuerySchema, location="query")
    @blp.arguments(WatermelonPushSchema)
    @blp.response(200, WatermelonPushResponseSchema)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @documented_errors(blp, 401, 422)
    def post(self, query, body):
        """pushChanges: apply local changes; conflicts merge per field, never fail the push."""
        changes = parse_changes(body["changes"])
        if count_mutations(changes) > MAX_PUSH_RECORDS:
            raise ApiError(
                413, "too_many_mutations", f"Send at most {MAX_PUSH_RECORDS} records per push."
            )
        last_pulled_at = body.get("lastPulledAt") or query["last_pulled_at"]
        now = now_utc()
        if not claim_device(db.session, g.device.id, now):
            db.session.rollback()
            raise session_error(db.session.get(DeviceSession, g.device.id))
        result = WatermelonPusher(
            db.session, current_user(), device_id=g.device.device_id, now=now
        ).push(changes, last_pulled_at, body.get("device_time"))
        db.session.commit()
        return jsonify(result)
