"""Read and write records as one user: scope, rules and the write path together.

`RecordStore` is what the REST layer and sync push call; tests can
use it without HTTP. It never commits: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import SyncedRecord, User

from .changes import Actor, create_record, delete_record, update_record
from .errors import Conflict, NotFound
from .rules import WriteRules
from .scopes import Scope


class RecordStore:
    def __init__(
        self,
        session: Session,
        user: User,
        *,
        now: datetime | None = None,
        device_id: str | None = None,
    ):
        self.session = session
        self.user = user
        self.scope = Scope.for_user(session, user)
        self.rules = WriteRules(session, self.scope)
        self.now = now or datetime.now(UTC)
        #: Who writes, in field metadata and in each record's history.
        self.actor = Actor(user.id, device_id)

    def get(
        self,
        model: type[SyncedRecord],
        record_id: uuid.UUID,
        *,
        include_deleted: bool = False,
        for_write: bool = False,
    ) -> SyncedRecord:
        """`for_write`: lock the row until commit, so that a concurrent writer waits and
        then sees this write (its If-Match and merge included) instead of undoing it."""
        query = select(model).where(model.id == record_id, self.scope.where(model))
        if not include_deleted:
            query = query.where(model.deleted_at.is_(None))
        if for_write:
            query = query.with_for_update(key_share=True, of=model).execution_options(
                populate_existing=True
            )
        record = self.session.scalar(query)
        if record is None:
            raise NotFound(f"No {model.__tablename__[:-1]} with this id.")
        return record

    def create(self, model: type[SyncedRecord], values: dict[str, Any]) -> SyncedRecord:
        if values.get("id") is not None and self.session.get(model, values["id"]) is not None:
            raise Conflict("A record with this id already exists.", code="already_exists")
        values = self.rules.check_create(model, values)
        return create_record(self.session, model, values, now=self.now, actor=self.actor)

    def update(
        self,
        model: type[SyncedRecord],
        record_id: uuid.UUID,
        values: dict[str, Any],
        *,
        expected_version: int | None = None,
    ) -> SyncedRecord:
        record = self.get(model, record_id, for_write=True)
        if expected_version is not None and record.version != expected_version:
            raise Conflict(
                f"The record is at version {record.version}, not {expected_version}.",
                code="version_conflict",
            )
        self.rules.check_update(record, values)
        update_record(self.session, record, values, now=self.now, actor=self.actor)
        return record

    def delete(self, model: type[SyncedRecord], record_id: uuid.UUID) -> SyncedRecord:
        record = self.get(model, record_id, for_write=True)
        self.rules.check_delete(record)
        delete_record(self.session, record, now=self.now, actor=self.actor)
        return record
