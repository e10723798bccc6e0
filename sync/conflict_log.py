"""The conflict log (protocol rule 6): nothing a user sent is ever lost.

Every value that lost a merge, on either side, and every rejected mutation is
kept here, visible to the record's owner and their managers, who can restore
a losing value as a new change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.models import RECORD_MODELS, ConflictEntry, Customer, User
from domain.schemas import RECORD_SCHEMAS

from .errors import Conflict, Invalid, NotFound
from .scopes import Scope
from .store import RecordStore


def log_conflict(session: Session, **values: Any) -> ConflictEntry:
    entry = ConflictEntry(id=uuid.uuid4(), **values)
    session.add(entry)
    return entry


def visible_conflicts(scope: Scope):
    """Entries of records in the scope, and the user's (or team's) own rejections."""
    if scope.is_admin:
        return ConflictEntry.id.isnot(None)
    return or_(
        ConflictEntry.customer_id.in_(select(Customer.id).where(scope.customers_where())),
        ConflictEntry.user_id.in_(scope.member_ids),
    )


def list_conflicts(
    session: Session,
    scope: Scope,
    *,
    table: str | None = None,
    record_id: uuid.UUID | None = None,
    since: datetime | None = None,
    limit: int = 100,
    after: uuid.UUID | None = None,
) -> list[ConflictEntry]:
    query = select(ConflictEntry).where(visible_conflicts(scope))
    if table:
        query = query.where(ConflictEntry.table_name == table)
    if record_id:
        query = query.where(ConflictEntry.record_id == record_id)
    if since:
        query = query.where(ConflictEntry.created_at >= since)
    if after:
        query = query.where(ConflictEntry.id > after)
    return list(session.scalars(query.order_by(ConflictEntry.id).limit(limit)))


def restore(session: Session, user: User, entry_id: uuid.UUID, *, now: datetime):
    """Write the losing values again, as a new change by `user`, through every rule."""
    store = RecordStore(session, user, now=now)
    entry = session.scalar(
        select(ConflictEntry).where(ConflictEntry.id == entry_id, visible_conflicts(store.scope))
    )
    if entry is None:
        raise NotFound("No conflict with this id.")
    if entry.restored_at is not None:
        raise Conflict("This value was already restored.", code="already_restored")
    if not entry.lost_values or entry.mutation_op == "delete":
        raise Conflict("Nothing to restore: no field values were lost.", code="nothing_to_restore")
    model = RECORD_MODELS[entry.table_name]
    record = store.get(model, entry.record_id, include_deleted=True)
    if record.deleted_at is not None:
        raise Conflict("The record was deleted.", code="record_deleted")
    try:  # values a push had refused as invalid are still invalid: say so, as a write would
        values = RECORD_SCHEMAS[entry.table_name](partial=True).load(entry.lost_values)
    except ValidationError as exc:
        raise Invalid(exc.normalized_messages()) from exc
    store.update(model, record.id, values)
    entry.restored_at = now
    entry.restored_by = user.id
    return entry, record
