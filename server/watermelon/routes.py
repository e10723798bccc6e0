"""`/api/v1/sync/watermelon`: WatermelonDB's pull and push on our sync engine (ADR 0011)."""

from __future__ import annotations

from flask import g, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from domain.models import DeviceSession
from domain.times import utc_now
from sync import Actor, claim_device
from sync.watermelon import (
    WatermelonPuller,
    WatermelonPusher,
    check_schema_version,
    count_mutations,
    parse_changes,
)

from ..auth.guard import current_user, store
from ..auth.sessions import session_error
from ..errors import ApiError, documented_errors
from ..extensions import db
from ..markers import checks_values_per_mutation
from ..telemetry import note_sync
from .schemas import (
    WatermelonPullQuerySchema,
    WatermelonPullResponseSchema,
    WatermelonPushQuerySchema,
    WatermelonPushResponseSchema,
    WatermelonPushSchema,
)

blp = Blueprint(
    "watermelon",
    __name__,
    url_prefix="/api/v1",
    description="WatermelonDB's sync protocol (`synchronize()` pullChanges/pushChanges).",
)

#: Records per push (WatermelonDB sends all local changes at once; 2 MB bounds it too).
MAX_PUSH_RECORDS = 5000


@blp.route("/sync/watermelon")
@checks_values_per_mutation
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
        author = Actor(user.id, g.device.device_id).author
        puller = WatermelonPuller(db.session, user, store().scope, author=author, now=utc_now())
        generation = puller.record_scope()
        db.session.commit()  # the scope generation, when new
        body = puller.pull(query["last_pulled_at"], query["migration"], generation)
        if puller.wrote:  # how far its records reach, past the timestamp (rare)
            db.session.commit()
        else:
            db.session.rollback()
        note_sync("pull", "watermelon", records=count_mutations(body["changes"]))
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
        now = utc_now()
        if not claim_device(db.session, g.device.id, now):
            db.session.rollback()
            raise session_error(db.session.get(DeviceSession, g.device.id))
        pusher = WatermelonPusher(db.session, current_user(), device_id=g.device.device_id, now=now)
        result = pusher.push(changes, last_pulled_at, body.get("device_time"))
        db.session.commit()
        note_sync("push", "watermelon", records=count_mutations(changes), replayed=pusher.replayed)
        return jsonify(result)
