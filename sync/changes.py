"""The one write path for synced records.

REST, sync push, WatermelonDB, the CLI and the demo seeder all write through
these functions, so every change bumps `version`, stamps `updated_at`,
records per field the version and effective edit time of its last change
(the metadata the conflict rules compare), derives what the server derives
(search keys, folded emails, totals, check-in verification, submission
times, related records), appends to the change log that pulls read, and
keeps the record's history (each changed field's old and new value, and
who), all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.models import (
    ChangeLogEntry,
    Customer,
    CustomerChild,
    Order,
    SyncedRecord,
    Team,
    Territory,
    User,
    Visit,
)

from . import settings
from .location import CHECK_IN_FIELDS, check_in_location
from .records_json import record_json
from .session_ends import end_stale_sessions
from .window import log_rank_crossings

#: List fields that are stored as many-to-many links: field -> relationship.
_LINK_FIELDS: dict[tuple[type, str], str] = {
    (Territory, "rep_ids"): "reps",
    (Team, "manager_ids"): "managers",
}


def _differs(record: SyncedRecord, field: str, value: Any) -> bool:
    current = getattr(record, field, None)
    if (type(record), field) in _LINK_FIELDS:
        return sorted(current) != sorted(set(value or []))
    return current != value


def _assign(session: Session, record: SyncedRecord, field: str, value: Any) -> None:
    link = _LINK_FIELDS.get((type(record), field))
    if link is None:
        setattr(record, field, value)
        return
    users = session.scalars(select(User).where(User.id.in_(value or []))).all()
    setattr(record, link, list(users))


#: The `field_meta` key of a version that only re-sends the record (`resend_record`).
RESENT = "_resent"
#: JSON fields that say when, not what: no history of their own.
_UNRECORDED = frozenset({"version", "created_at", "updated_at"})
#: Per table, the JSON fields the write path derives: they change with the fields written.
_DERIVED_JSON = {
    "orders": frozenset({"total", "submitted_at"}),
    "visits": frozenset({"check_in_distance_m", "location_status"}),
    "customers": frozenset({"last_visit_at", "proposed_at"}),
}


def _history_keys(record: SyncedRecord, changed: list[str]) -> frozenset[str]:
    """The JSON keys a write of `changed` may change: those, and what is derived."""
    return frozenset(changed) | _DERIVED_JSON.get(record.__tablename__, frozenset())


@dataclass(frozen=True)
class Actor:
    """Who writes: a user (none for the server itself), from which device, in which
    pushed mutation. Kept in field metadata (`author`) and in the record's history."""

    user_id: uuid.UUID | None = None
    device_id: str | None = None
    mutation_id: uuid.UUID | None = None

    @property
    def author(self) -> str | None:
        """A device's own earlier edits are not concurrent with its later ones (rule 2)."""
        if self.user_id is None:
            return self.device_id
        return f"{self.user_id.hex}/{self.device_id}"


SERVER = Actor()


def _stamp(record: SyncedRecord, fields: list[str], edited_at: datetime, actor: Actor) -> None:
    """Per field: the version and edit time of its last change, and which device made it."""
    meta = dict(record.field_meta or {})
    author = actor.author
    for field in fields:
        meta[field] = {"v": record.version, "t": edited_at.isoformat()}
        if author:
            meta[field]["d"] = author
    record.field_meta = meta


def _changes(
    record: SyncedRecord, before: dict[str, Any], keys: frozenset[str] | None
) -> dict[str, list[Any]]:
    """Each JSON field among `keys` whose value differs from `before`: [old, new]."""
    after = record_json(record, only=keys)
    return {
        key: [before.get(key), value]
        for key, value in after.items()
        if key not in _UNRECORDED and before.get(key) != value
    }


def create_record(
    session: Session,
    model: type[SyncedRecord],
    values: dict[str, Any],
    *,
    now: datetime,
    edited_at: datetime | None = None,
    actor: Actor = SERVER,
) -> SyncedRecord:
    """Insert a record at version 1.

    Nothing is flushed here: a push applies a whole batch and flushes once.
    """
    _keep_write_order(session, model)
    record = model(version=1, created_at=now, updated_at=now, field_meta={})
    record.id = values.get("id") or uuid.uuid4()
    fields = [f for f in values if f != "id"]
    for field in fields:
        _assign(session, record, field, values[field])
    _stamp(record, fields, edited_at or now, actor)
    _derive(session, record, {}, now, given=fields)
    session.add(record)
    session.info.setdefault(_PENDING, set()).add(model.__tablename__)
    # A create's history says who and when; its values are the record's first state,
    # which the next change's old values (or the record itself) show.
    _log(session, record, "create", now, actor=actor, changes={})
    _derive_related(session, record, now)
    return record


def update_record(
    session: Session,
    record: SyncedRecord,
    values: dict[str, Any],
    *,
    now: datetime,
    edited_at: datetime | None = None,
    actor: Actor = SERVER,
) -> list[str]:
    """Apply the fields that really change; return their names.

    A patch that changes nothing leaves the version alone, so a retried or
    echoed write does not wake every other device. A change of who may see the
    record (a customer's territory or owner, a child's customer, a user's team)
    is logged as a `move` with where it was before, so that whoever loses it
    removes it.
    """
    changed = [f for f, v in values.items() if f != "id" and _differs(record, f, v)]
    if not changed:
        return []
    before = {field: _current(record, field) for field in changed}
    moved_from = _placement_before(session, record, before)
    keys = _history_keys(record, changed)
    before_json = record_json(record, only=keys)
    _keep_write_order(session, type(record))
    for field in changed:
        _assign(session, record, field, values[field])
    record.version += 1
    record.updated_at = now
    _stamp(record, changed, edited_at or now, actor)
    _derive(session, record, before, now, given=changed)
    changes = _changes(record, before_json, keys)
    kind = "move" if moved_from else "update"
    _log(session, record, kind, now, moved_from=moved_from, actor=actor, changes=changes)
    _derive_related(session, record, now, before, actor)
    return changed


def delete_record(
    session: Session, record: SyncedRecord, *, now: datetime, actor: Actor = SERVER
) -> None:
    """Tombstone the record: it stays, so devices learn of the delete."""
    if record.deleted_at is not None:
        return
    keys = frozenset({"deleted_at"})
    before_json = record_json(record, only=keys)
    record.deleted_at = now
    record.version += 1
    record.updated_at = now
    _log(session, record, "delete", now, actor=actor, changes=_changes(record, before_json, keys))
    _derive_related(session, record, now, actor=actor)


def resend_record(session: Session, record: SyncedRecord, *, now: datetime) -> None:
    """A new version that changes no field, so devices that have the record get it again.

    For clients that cannot take the merged record from the push answer
    (WatermelonDB marks what it pushed as synced): when their value lost a
    merge, their next pull must bring the winner. The `_resent` stamp keeps
    the version from passing for the device's own echo.
    """
    record.version += 1
    record.updated_at = now
    stamp = {"v": record.version, "t": now.isoformat()}
    record.field_meta = {**(record.field_meta or {}), RESENT: stamp}
    _log(session, record, "update", now)


#: `session.info` key: tables this write path inserted into since the last such flush.
_PENDING = "fieldsync_pending_inserts"


def _keep_write_order(session: Session, model: type[SyncedRecord]) -> None:
    """Flush pending inserts that `model` refers to, so references are always stored.

    The unit of work orders only tables linked by relationships, not plain
    foreign keys; flushing just when a write refers to a table with pending
    inserts keeps the rest of a push batch together in one flush. The tables
    are tracked as they are written, not found by scanning `session.new`, which
    made a batch of inserts quadratic.
    """
    pending = session.info.get(_PENDING)
    if pending and pending & _referenced(model):
        session.flush()
        pending.clear()


@cache
def _referenced(model: type[SyncedRecord]) -> frozenset[str]:
    return frozenset(fk.column.table.name for fk in model.__table__.foreign_keys)


def _derive(
    session: Session,
    record: SyncedRecord,
    before: dict[str, Any],
    now: datetime,
    *,
    given: list[str],
) -> None:
    """What the server derives from the record itself, whoever writes it. (Fields that no
    API accepts, like `submitted_at`, only the server's own loaders can give.)"""
    record.derive()
    if isinstance(record, Visit) and _CHECK_IN_EVIDENCE & set(given):
        customer = session.get(Customer, record.customer_id)
        check_in_location(record, customer, settings.current().check_in_radius_m)
    if isinstance(record, Customer) and "proposed_by" in given:
        record.proposed_at = now if record.proposed_by else None
    if _became_submitted(record, before) and "submitted_at" not in given:
        record.submitted_at = now  # the server's time, not a device's claim


#: A visit's check-in is judged when it is written (or moves to another customer), against
#: the customer as it was then: a later approval of the location does not rewrite it.
_CHECK_IN_EVIDENCE = frozenset({*CHECK_IN_FIELDS, "customer_id"})


def _became_submitted(record: SyncedRecord, before: dict[str, Any]) -> bool:
    if not isinstance(record, Order) or record.status != "submitted":
        return False
    created = record.version == 1
    return created or before.get("status", "submitted") != "submitted"


@dataclass(frozen=True)
class Placement:
    """Where a record was before a move: what decided who could see it."""

    territory_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None


def _current(record: SyncedRecord, field: str) -> Any:
    value = getattr(record, field, None)
    return list(value) if isinstance(value, list) else value


def _placement_before(
    session: Session, record: SyncedRecord, before: dict[str, Any]
) -> Placement | None:
    if isinstance(record, Customer) and {"territory_id", "owner_id"} & before.keys():
        return Placement(
            before.get("territory_id", record.territory_id), before.get("owner_id", record.owner_id)
        )
    if isinstance(record, CustomerChild) and "customer_id" in before:
        old = session.get(Customer, before["customer_id"])
        return Placement(old.territory_id, old.owner_id) if old else Placement()
    if isinstance(record, User) and "team_id" in before:
        return Placement(team_id=before["team_id"])
    return None


def _log(
    session: Session,
    record: SyncedRecord,
    kind: str,
    now: datetime,
    *,
    moved_from: Placement | None = None,
    actor: Actor = SERVER,
    changes: dict[str, list[Any]] | None = None,
) -> None:
    """The change-log row pulls read; with `changes`, also an entry of the record's history."""
    if isinstance(record, Customer):
        customer_id = record.id
    elif isinstance(record, CustomerChild):
        customer_id = record.customer_id
    else:
        customer_id = None
    moved_from = moved_from or Placement()
    session.add(
        ChangeLogEntry(
            table_name=record.__tablename__,
            record_id=record.id,
            kind=kind,
            customer_id=customer_id,
            prev_territory_id=moved_from.territory_id,
            prev_owner_id=moved_from.owner_id,
            prev_team_id=moved_from.team_id,
            changed_at=now,
            changes=changes,
            version=record.version if changes is not None else None,
            user_id=actor.user_id,
            device_id=actor.device_id,
            mutation_id=actor.mutation_id,
        )
    )


def _derive_related(
    session: Session,
    record: SyncedRecord,
    now: datetime,
    before: dict[str, Any] | None = None,
    actor: Actor = SERVER,
) -> None:
    """Keep what depends on this record right, through this same write path.

    - a visit: its customer's `last_visit_at`;
    - a rep who changes team leaves the territories of other teams (a rep's
      territories belong to their team), and a territory that changes team keeps
      only reps of that team;
    - a territory's reps: each rep who joins or leaves gets a new version (their
      `territory_ids` changed);
    - a team's managers: each manager who joins or leaves is logged as moved, so
      the team's members gain or remove them;
    - a user's new password, disabling or deleting ends their device sessions
      (`session_ends`);
    - a visit or order: siblings that entered or left their customer's last few, which
      phones hold whatever their age, are logged for pulls to judge again (`window`).
    """
    before = before or {}
    if isinstance(record, User):
        end_stale_sessions(session, record, before, now, actor)
    if isinstance(record, Visit | Order):
        log_rank_crossings(session, record, before, now)
    if isinstance(record, Visit):
        refresh_last_visit(session, record.customer_id, now=now)
    elif isinstance(record, User) and "team_id" in before:
        for territory in list(record.territories):
            if territory.team_id != record.team_id:
                others = [rep for rep in territory.rep_ids if rep != record.id]
                update_record(session, territory, {"rep_ids": others}, now=now)
    elif isinstance(record, Territory):
        if "team_id" in before:
            stay = [rep.id for rep in record.reps if rep.team_id == record.team_id]
            update_record(session, record, {"rep_ids": stay}, now=now)
        if "rep_ids" in before:
            for user_id in set(before["rep_ids"]) ^ set(record.rep_ids):
                _touch(session, session.get(User, user_id), ["territory_ids"], now)
    elif isinstance(record, Team) and "manager_ids" in before:
        for user_id in set(before["manager_ids"]) ^ set(record.manager_ids):
            manager = session.get(User, user_id)
            _log(session, manager, "move", now, moved_from=Placement(team_id=record.id))


def _touch(session: Session, record: SyncedRecord, fields: list[str], now: datetime) -> None:
    """A new version of a record whose JSON changed through another record."""
    record.version += 1
    record.updated_at = now
    _stamp(record, fields, now, SERVER)
    _log(session, record, "update", now)


def refresh_last_visit(session: Session, customer_id, *, now: datetime) -> None:
    last = session.scalar(
        select(func.max(func.coalesce(Visit.check_in_at, Visit.planned_at))).where(
            Visit.customer_id == customer_id,
            Visit.status == "completed",
            Visit.deleted_at.is_(None),
        )
    )
    customer = session.get(Customer, customer_id)
    if customer is not None and customer.last_visit_at != last:
        update_record(session, customer, {"last_visit_at": last}, now=now)
