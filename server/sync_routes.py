"""`/api/v1/sync/*` and `/api/v1/conflicts`: thin HTTP around the sync engine."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from domain.models import DeviceSession, User
from domain.schemas import UTCDateTime
from sync import settings
from sync.conflict_log import list_conflicts, restore
from sync.pull import Puller
from sync.push import (
    Pusher,
    PushRequestSchema,
    audit_refused_push,
    check_schema_version,
    claim_device,
)
from sync.records_json import record_json

from .auth.guard import REFUSAL_AUDITS, current_user, store
from .auth.sessions import now_utc, session_error
from .errors import ApiError
from .extensions import db

blp = Blueprint(
    "sync", __name__, url_prefix="/api/v1", description="Offline sync: pull, push, conflicts."
)


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


class PushResponseSchema(Schema):
    results = fields.List(fields.Nested(MutationResultSchema), required=True)


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


@blp.route("/sync/pull", methods=["GET"])
@blp.arguments(PullQuerySchema, location="query")
@blp.response(200, PullResponseSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(426, response="UPGRADE_REQUIRED")
def pull(query):
    """Changes of your scope since `cursor` (none: from scratch); keep pulling while `has_more`."""
    check_schema_version(query["schema_version"])
    result = Puller(db.session, current_user(), store().scope, raw=True).pull(
        query.get("cursor"), query.get("limit")
    )
    db.session.rollback()
    # Already JSON-ready: skip a second pass through the response schema.
    return jsonify(result.to_json())


@blp.route("/sync/push", methods=["POST"])
@blp.arguments(PushRequestSchema)
@blp.response(200, PushResponseSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(426, response="UPGRADE_REQUIRED")
def push(body):
    """Apply queued mutations in order; one result each (`applied`, `merged`, `rejected`)."""
    check_schema_version(body["schema_version"])
    limit = settings.current().push_max_mutations
    if len(body["mutations"]) > limit:
        raise ApiError(413, "too_many_mutations", f"Send at most {limit} mutations per request.")
    now = now_utc()
    if not claim_device(db.session, g.device.id, now):
        db.session.rollback()
        device = db.session.get(DeviceSession, g.device.id)
        keep_refused_push(current_user(), device)
        raise session_error(device)
    results = Pusher(db.session, current_user(), device_id=g.device.device_id, now=now).push(
        body["mutations"], body.get("device_time")
    )
    db.session.commit()
    return jsonify({"results": results})


def keep_refused_push(user: User, device: DeviceSession) -> None:
    """A revoked device's push is refused whole; its mutations go to the conflict log."""
    body = request.get_json(silent=True)
    audit_refused_push(db.session, user, device.device_id, body, now_utc())
    db.session.commit()


REFUSAL_AUDITS["sync.push"] = keep_refused_push


@blp.route("/conflicts", methods=["GET"])
@blp.arguments(ConflictQuerySchema, location="query")
@blp.response(200, ConflictListSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def conflicts(query):
    """Values that lost a merge and rejected mutations, for records in your scope."""
    limit = query.pop("limit")
    items = list_conflicts(db.session, store().scope, limit=limit, **query)
    return {"items": items}


@blp.route("/conflicts/<uuid:conflict_id>/restore", methods=["POST"])
@blp.response(200, RestoreResultSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def restore_conflict(conflict_id):
    """Write a losing value again, as a new change that syncs to every device."""
    entry, record = restore(db.session, current_user(), conflict_id, now=now_utc())
    db.session.commit()
    return {"conflict": entry, "record": record_json(record, store().scope)}


def configure_sync(app) -> None:
    """Hand the sync engine its settings from the app's configuration."""
    config = app.config
    settings.configure(
        retention_days=config["SYNC_RETENTION_DAYS"],
        idempotency_days=config["SYNC_IDEMPOTENCY_DAYS"],
        check_in_radius_m=config["CHECK_IN_RADIUS_M"],
        schema_versions=frozenset(config["SYNC_SCHEMA_VERSIONS"]),
    )
