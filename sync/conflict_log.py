"""The conflict log (protocol rule 6): nothing a user sent is ever lost.

Every value that lost a merge, on either side, and every rejected mutation is
kept here, and a losing value can be restored as a new change. It stays
inside scopes: an entry is attached to a customer only when its author could
see that customer, a rejected mutation is shown only to its author and to
those who see the author (their managers, admins), and a restore must be a
write both the restorer and the value's author may make. One device cannot
flood it: entries are bounded per push and per day (`SyncSettings`), and a
stored value never holds a secret or text the database cannot store.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from domain.models import RECORD_MODELS, ConflictEntry, Customer, User
from domain.schemas import RECORD_SCHEMAS

from . import settings
from .errors import Conflict, Forbidden, Invalid, NotFound
from .scopes import Scope
from .store import RecordStore

#: Never stored, whatever a device sent.
SECRET_FIELDS = frozenset({"password", "password_hash"})
#: What replaces text the database cannot store (NUL, lone surrogates).
REPLACEMENT = "\ufffd"


class DeviceLog:
    """Writes one device's entries, within its budget: at most `conflict_log_per_push`
    for this request and `conflict_log_per_day` over the last 24 hours."""

    def __init__(self, session: Session, user_id: uuid.UUID, device_id: str | None, now: datetime):
        self.session = session
        self.user_id = user_id
        self.device_id = device_id
        self.now = now
        self._room: int | None = None
        self.dropped = 0

    def add(self, **values: Any) -> ConflictEntry | None:
        """The new entry, or None when the budget is spent (the caller says so)."""
        if self.room() <= 0:
            self.dropped += 1
            return None
        self._room -= 1
        entry = ConflictEntry(
            id=uuid.uuid4(),
            user_id=self.user_id,
            device_id=self.device_id,
            created_at=self.now,
            **values,
        )
        entry.lost_values = storable(entry.lost_values)
        entry.kept_values = storable(entry.kept_values)
        entry.message = storable(entry.message)
        self.session.add(entry)
        return entry

    def room(self) -> int:
        if self._room is None:
            limits = settings.current()
            today = self.session.scalar(
                select(func.count()).where(
                    ConflictEntry.user_id == self.user_id,
                    _same_device(self.device_id),
                    ConflictEntry.created_at > self.now - timedelta(days=1),
                )
            )
            self._room = min(limits.conflict_log_per_push, limits.conflict_log_per_day - today)
        return self._room


def _same_device(device_id: str | None):
    if device_id is None:
        return ConflictEntry.device_id.is_(None)
    return ConflictEntry.device_id == device_id


def storable(value: Any) -> Any:
    """`value` as the log may keep it: secrets left out, text the databases cannot store
    replaced, numbers JSON cannot hold (infinity, NaN) as text."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            return "".join(
                REPLACEMENT if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in value
            )
        return value
    if isinstance(value, dict):
        return {
            storable(str(k)): storable(v) for k, v in value.items() if str(k) not in SECRET_FIELDS
        }
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def visible_conflicts(scope: Scope):
    """Rejected mutations: their author's, and the people who see that author (members).
    Values lost in a merge: those of records in the scope too."""
    if scope.is_admin:
        return ConflictEntry.id.isnot(None)
    own = ConflictEntry.user_id.in_(scope.member_ids)
    in_scope = and_(
        ConflictEntry.kind == "field_lost",
        ConflictEntry.customer_id.in_(select(Customer.id).where(scope.customers_where())),
    )
    return or_(own, in_scope)


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
    """Write the losing values again, as a new change by `user`, through every rule; a
    device's values only if their author may still write them there."""
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
    if entry.loser == "device" and entry.user_id not in (None, user.id):
        _check_author_may_write(session, entry.user_id, record, values, now)
    store.update(model, record.id, values)
    entry.restored_at = now
    entry.restored_by = user.id
    return entry, record


def _check_author_may_write(
    session: Session, author_id: uuid.UUID, record: Any, values: dict[str, Any], now: datetime
) -> None:
    """A value goes back only where its author could have written it (not what a rep was
    refused, through a manager who happens to see the log)."""
    author = session.get(User, author_id)
    refusal = Forbidden(
        "The author of these values may not write this record; they stay in the log.",
        code="author_not_allowed",
    )
    if author is None:
        raise refusal
    as_author = RecordStore(session, author, now=now)
    if not as_author.scope.can_see(session, record):
        raise refusal
    try:
        as_author.rules.check_update(record, dict(values))
    except (Forbidden, Invalid, Conflict) as exc:
        raise refusal from exc
