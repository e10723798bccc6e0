"""What a push carries: mutations, their shape and the device's claim on its session.

Kept apart from applying them (`push.py`): the HTTP layer validates a request
with `PushRequestSchema`, and a revoked device's refused push is kept in the
conflict log without being applied (`audit_refused_push`).

A mutation's own values (`changed_at`, `base_version`, `fields`) are judged per
mutation: one that cannot be used is `Refused`, and the push rejects that
mutation alone. Refusing the whole request would refuse it on every retry and
block the phone's outbox behind it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import update
from sqlalchemy.orm import Session

from domain.models import RECORD_MODELS, DeviceSession, SyncedRecord, User
from domain.schemas import UTCDateTime
from domain.types import INT32_MAX, INT32_MIN

from . import settings
from .conflict_log import DeviceLog
from .errors import UnsupportedSchemaVersion

#: Tables a device may push to (reps are further limited by the rules).
PUSH_TABLES = tuple(RECORD_MODELS)
OPS = ("create", "update", "delete")


def check_schema_version(version: int | None) -> None:
    supported = settings.current().schema_versions
    if version is not None and version not in supported:
        raise UnsupportedSchemaVersion(
            f"Schema version {version} is not supported; this server speaks "
            f"{', '.join(map(str, sorted(supported)))}. Update the app."
        )


@dataclass(frozen=True)
class Refused:
    """A mutation's value that failed validation: its mutation is rejected, not the push."""

    messages: list[str]


class _PerMutation:
    """Mixed into a field: a value it refuses becomes `Refused` instead of an error."""

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any):
        try:
            return super().deserialize(value, attr, data, **kwargs)  # type: ignore[misc]
        except ValidationError as exc:
            messages = exc.messages
            return Refused(messages if isinstance(messages, list) else [str(messages)])


class MutationTime(_PerMutation, UTCDateTime):
    pass


class MutationVersion(_PerMutation, fields.Integer):
    pass


class MutationSchema(Schema):
    id = fields.UUID(required=True)
    table = fields.String(required=True, validate=validate.OneOf(PUSH_TABLES))
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    record_id = fields.UUID(required=True)
    #: Versions are `integer` columns.
    base_version = MutationVersion(allow_none=True, validate=validate.Range(0, INT32_MAX))
    changed_at = MutationTime(allow_none=True)
    fields = fields.Dict(keys=fields.String(), load_default=dict)


class PushPullSchema(Schema):
    """The pull a push may carry (ADR 0028): `cursor` and `limit` as `GET /sync/pull` takes
    them; an empty object pulls from scratch."""

    cursor = fields.String(allow_none=True, validate=validate.Length(max=20_000))
    limit = fields.Integer(validate=validate.Range(1, 5000))


class PushRequestSchema(Schema):
    #: Any other version answers 426 (`check_schema_version`).
    schema_version = fields.Integer(load_default=1, validate=validate.Range(INT32_MIN, INT32_MAX))
    device_time = UTCDateTime(allow_none=True)
    mutations = fields.List(fields.Nested(MutationSchema), required=True)
    pull = fields.Nested(
        PushPullSchema,
        metadata={
            "description": "Also pull, after the push is applied: the answer's `pull` is the "
            "page `GET /sync/pull` would answer with this cursor and limit (one round trip)."
        },
    )


@dataclass
class Mutation:
    id: uuid.UUID
    table: str
    op: str
    record_id: uuid.UUID
    base_version: int | Refused | None
    changed_at: datetime | Refused | None
    fields: dict[str, Any]

    @property
    def model(self) -> type[SyncedRecord]:
        return RECORD_MODELS[self.table]

    def refused(self) -> dict[str, list[str]]:
        """The mutation's own values that failed validation, per field (empty: none)."""
        values = {"base_version": self.base_version, "changed_at": self.changed_at}
        return {k: v.messages for k, v in values.items() if isinstance(v, Refused)}


def claim_device(session: Session, device_session_id: uuid.UUID, now: datetime) -> bool:
    """Lock the device's session row for this push; False if it was revoked.

    A revoke updates the same row, so it either waits for the push to commit
    or the push sees it: a push is never half-applied around a revoke.
    """
    claimed = session.execute(
        update(DeviceSession)
        .where(DeviceSession.id == device_session_id, DeviceSession.ended_at.is_(None))
        .values(last_seen_at=now)
    )
    return claimed.rowcount == 1


def audit_refused_push(
    session: Session,
    user: User,
    device_id: str | None,
    body: Any,
    now: datetime,
    *,
    revoked: bool = True,
) -> None:
    """Keep the mutations of a push refused because its device session ended (revoked,
    or signed out) in the conflict log: nothing is lost, within the device's budget."""
    try:
        request = PushRequestSchema().load(body if isinstance(body, dict) else {})
    except ValidationError:
        return
    code = "device_revoked" if revoked else "session_ended"
    message = (
        "The device was revoked; its push was refused."
        if revoked
        else "The device's session had ended; its push was refused."
    )
    log = DeviceLog(session, user.id, device_id, now)
    for m in request["mutations"]:
        log.add(
            table_name=m["table"],
            record_id=m["record_id"],
            customer_id=None,
            kind="rejected",
            code=code,
            message=message,
            lost_values=m["fields"] or None,
            loser="device",
            mutation_id=m["id"],
            mutation_op=m["op"],
        )
