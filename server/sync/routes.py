"""`/api/v1/sync/*` and `/api/v1/conflicts`: thin HTTP around the sync engine."""

from __future__ import annotations

from itertools import chain

from flask import Response, current_app, g, jsonify, request, stream_with_context
from flask_smorest import Blueprint

from domain.models import DeviceSession, User
from domain.times import utc_now
from sync import (
    Holder,
    Puller,
    Pusher,
    PushRequestSchema,
    audit_refused_push,
    check_schema_version,
    claim_device,
    list_conflicts,
    read_cursor,
    record_json,
    restore,
    settings,
)
from sync.pull_stream import pull_pages

from ..auth.guard import current_user, store
from ..auth.sessions import session_error
from ..errors import ApiError
from ..extensions import db
from ..markers import checks_values_per_mutation, on_ended_session
from ..telemetry import note_sync
from .schemas import (
    ConflictListSchema,
    ConflictQuerySchema,
    PullQuerySchema,
    PullResponseSchema,
    PushResponseSchema,
    RestoreResultSchema,
)

blp = Blueprint(
    "sync", __name__, url_prefix="/api/v1", description="Offline sync: pull, push, conflicts."
)


@blp.route("/sync/pull", methods=["GET"])
@blp.arguments(PullQuerySchema, location="query")
@blp.response(200, PullResponseSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(426, response="UPGRADE_REQUIRED")
def pull(query):
    """Changes of your scope since `cursor` (none: from scratch); keep pulling while `has_more`."""
    check_schema_version(query["schema_version"])
    result = _puller().pull(query.get("cursor"), query.get("limit"))
    db.session.rollback()
    note_sync("pull", "fieldsync", records=len(result.changes))
    # Already JSON-ready: skip a second pass through the response schema.
    return jsonify(result.to_json())


def _puller() -> Puller:
    """The caller's pull of their scope, as stored JSON, for this device (its cursor)."""
    return Puller(
        db.session,
        current_user(),
        store().scope,
        raw=True,
        device_id=g.device.device_id,
        now=utc_now(),
    )


@blp.route("/sync/pull/stream", methods=["GET"])
@blp.arguments(PullQuerySchema, location="query")
@blp.response(200, PullResponseSchema, content_type="application/x-ndjson")
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(426, response="UPGRADE_REQUIRED")
def pull_stream(query):
    """Pages of a pull in one answer, one page (as `/sync/pull` sends it) per line.

    Until `has_more` is false or the server's bound on pages per stream is reached: one
    round trip for a first sync on a slow link. Resume from the last line applied.
    """
    check_schema_version(query["schema_version"])
    puller = _puller()
    config = settings.current()
    limit = query.get("limit") or config.pull_stream_default_limit
    pages = pull_pages(
        puller, query.get("cursor"), limit, config.pull_stream_max_pages, db.session.rollback
    )
    # The first page before the answer starts: a bad cursor is still a 400 with a body.
    first = next(pages)

    def lines():
        sent = 0
        for page in chain((first,), pages):
            sent += len(page.changes)
            note_sync("pull", "fieldsync", records=sent)  # counted when the answer ends
            yield current_app.json.dumps(page.to_json()).encode() + b"\n"

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson")


def keep_refused_push(user: User, device: DeviceSession) -> None:
    """A push of an ended session is refused whole; its mutations go to the conflict log."""
    body = request.get_json(silent=True)
    audit_refused_push(
        db.session, user, device.device_id, body, utc_now(), revoked=device.end_reason == "revoked"
    )
    db.session.commit()


@blp.route("/sync/push", methods=["POST"])
@blp.arguments(PushRequestSchema)
@blp.response(200, PushResponseSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(426, response="UPGRADE_REQUIRED")
@on_ended_session(keep_refused_push)
@checks_values_per_mutation
def push(body):
    """Apply queued mutations in order; one result each (`applied`, `merged`, `rejected`).

    With `pull`, the answer's `pull` is the page `GET /sync/pull` would answer just after
    the push: one round trip for a sync on a slow link (ADR 0028). A bad pull cursor is
    refused (400 `invalid_cursor`) before anything is applied.
    """
    check_schema_version(body["schema_version"])
    limit = settings.current().push_max_mutations
    if len(body["mutations"]) > limit:
        raise ApiError(413, "too_many_mutations", f"Send at most {limit} mutations per request.")
    wanted = body.get("pull")
    if wanted is not None:
        cursor, reset = read_cursor(
            wanted.get("cursor"), Holder(current_user().id, g.device.device_id)
        )
    now = utc_now()
    if not claim_device(db.session, g.device.id, now):
        db.session.rollback()
        device = db.session.get(DeviceSession, g.device.id)
        keep_refused_push(current_user(), device)
        raise session_error(device)
    results = Pusher(db.session, current_user(), device_id=g.device.device_id, now=now).push(
        body["mutations"], body.get("device_time")
    )
    db.session.commit()
    replayed = sum(1 for result in results if result.get("replayed"))
    note_sync("push", "fieldsync", records=len(results), replayed=replayed)
    if wanted is None:
        return jsonify({"results": results})
    # After the commit, as a pull of its own: the scope as the push left it.
    puller = Puller(
        db.session, current_user(), raw=True, device_id=g.device.device_id, now=utc_now()
    )
    page = puller.read(cursor, wanted.get("limit"), reset=reset)
    db.session.rollback()
    note_sync("pull", "fieldsync", records=len(page.changes))
    return jsonify({"results": results, "pull": page.to_json()})


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
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def restore_conflict(conflict_id):
    """Write a losing value again, as a new change that syncs to every device."""
    entry, record = restore(db.session, current_user(), conflict_id, now=utc_now())
    db.session.commit()
    return {"conflict": entry, "record": record_json(record, store().scope)}
