"""Push: apply a device's queued mutations, in order, each on its own.

Each mutation runs in a savepoint, so a rejected one changes nothing and does
not stop the others. Its result is stored under the mutation id in the same
transaction as the change, so a retry (lost response, killed server) replays
the result instead of applying twice. Merging follows the protocol's rules
1-6; see ADR 0006.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.models import (
    RECORD_MODELS,
    Customer,
    CustomerChild,
    SyncedRecord,
    SyncMutation,
    User,
)
from domain.schemas import RECORD_SCHEMAS

from .changes import Actor, create_record, delete_record, update_record
from .conflict_log import SECRET_FIELDS, DeviceLog
from .errors import Conflict, Forbidden, Invalid, PasswordNotSynced, RecordError
from .locations import pending_conflicts
from .merge import effective_time, merge_fields
from .mutations import Mutation
from .records_json import record_json
from .store import RecordStore


class Pusher:
    """Apply one push request of one user's device."""

    def __init__(self, session: Session, user: User, *, device_id: str | None, now: datetime):
        self.session = session
        self.user = user
        self.device_id = device_id
        #: Who wrote a field, in its metadata: a device's own earlier edit is not concurrent.
        self.author = Actor(user.id, device_id).author
        self.now = now
        self.store = RecordStore(session, user, now=now, device_id=device_id)
        self.scope = self.store.scope
        self.log = DeviceLog(session, user.id, device_id, now)
        self._visibility: dict[tuple[str, uuid.UUID], bool] = {}
        #: The records the batch names, loaded at once (the session only keeps weak
        #: references), and those that did not exist when it started.
        self._loaded: dict[tuple[str, uuid.UUID], SyncedRecord] = {}
        self._missing: set[tuple[str, uuid.UUID]] = set()

    def push(self, mutations: list[dict[str, Any]], device_time: datetime | None) -> list[dict]:
        skew = (self.now - device_time) if device_time else timedelta(0)
        batch = [
            Mutation(
                m["id"],
                m["table"],
                m["op"],
                m["record_id"],
                m.get("base_version"),
                m.get("changed_at"),
                m.get("fields") or {},
            )
            for m in mutations
        ]
        known = self._claim_all(batch)
        self._preload(batch)
        try:
            # Fast path: the checks run in Python first, so a batch needs no
            # savepoint per mutation and its writes go out together.
            with self.session.begin_nested():
                results, fresh = self._apply_all(batch, known, skew, isolated=False)
                self.session.flush()
        except IntegrityError:
            # A write the checks could not foresee (a unique key, say): replay
            # the batch one savepoint per mutation, so only that one fails.
            self._visibility.clear()
            self._loaded.clear()
            self._missing.clear()
            self.store = RecordStore(self.session, self.user, now=self.now)
            results, fresh = self._apply_all(batch, known, skew, isolated=True)
        self._store_results(fresh)
        return results

    def _apply_all(
        self, batch: list[Mutation], known: dict, skew: timedelta, *, isolated: bool
    ) -> tuple[list[dict], dict[uuid.UUID, dict]]:
        done = dict(known)
        results, fresh = [], {}
        for m in batch:
            if m.id in done:
                results.append(done[m.id])
                continue
            result = self._run(m, skew, isolated=isolated)
            done[m.id] = {**result, "replayed": True}
            fresh[m.id] = result
            results.append(result)
        return results, fresh

    # -- idempotency -------------------------------------------------------------------

    def _claim_all(self, batch: list[Mutation]) -> dict[uuid.UUID, dict]:
        """Insert every mutation id first; return the results of those already known.

        A concurrent request carrying the same id waits on the inserted row and
        then replays this request's result. Ids are inserted in sorted order so
        two overlapping pushes cannot deadlock.
        """
        ids = sorted({m.id for m in batch})
        if not ids:  # an empty push: executing the insert with no rows would insert NULLs
            return {}
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = [
            {
                "id": i,
                "user_id": self.user.id,
                "device_id": self.device_id,
                "result": {},
                "created_at": self.now,
            }
            for i in ids
        ]
        table = SyncMutation.__table__  # Core, not the ORM's slower bulk path
        claim = insert(table).on_conflict_do_nothing().returning(table.c.id)
        claimed = set(self.session.scalars(claim, rows))
        known = [i for i in ids if i not in claimed]
        if not known:
            return {}
        stored = self.session.execute(
            select(SyncMutation.id, SyncMutation.user_id, SyncMutation.result).where(
                SyncMutation.id.in_(known)
            )
        )
        return {row.id: self._replay(row.user_id, row.result, row.id) for row in stored}

    def _replay(self, owner: uuid.UUID, result: dict, mutation_id: uuid.UUID) -> dict:
        if owner != self.user.id:
            return _rejected(
                mutation_id,
                Conflict("This mutation id was used by someone else.", code="duplicate_id"),
            )
        return {**result, "replayed": True}

    def _store_results(self, results: dict[uuid.UUID, dict]) -> None:
        if not results:
            return
        table = SyncMutation.__table__
        self.session.execute(
            table.update()
            .where(table.c.id == bindparam("mutation_id"))
            .values(result=bindparam("stored")),
            [{"mutation_id": i, "stored": r} for i, r in results.items()],
        )

    # -- one mutation --------------------------------------------------------------------

    def _run(self, m: Mutation, skew: timedelta, *, isolated: bool) -> dict:
        """Apply one mutation; every refusal is raised before anything is written.

        A value that fails validation (its `changed_at`, `base_version` or a field)
        rejects this mutation alone, never the push: that would fail on every retry.
        """
        refused = m.refused()
        if refused:
            return self._reject(m, Invalid(refused))
        edited_at = effective_time(m.changed_at, skew, self.now)
        try:
            if isolated:
                with self.session.begin_nested():
                    result = self._apply(m, edited_at)
                    self.session.flush()
            else:
                result = self._apply(m, edited_at)
        except IntegrityError:
            if not isolated:
                raise
            result = self._reject(
                m, Conflict("This change conflicts with a stored record.", code="conflict")
            )
        except ValidationError as exc:
            result = self._reject(m, Invalid(exc.normalized_messages()))
        except RecordError as exc:
            result = self._reject(m, exc)
        return result

    def _apply(self, m: Mutation, edited_at: datetime) -> dict:
        model = m.model
        if SECRET_FIELDS & m.fields.keys():
            raise PasswordNotSynced()
        self.store.rules.check_table(model)
        if m.op == "create":
            return self._create(m, model, edited_at)
        record = self._visible(model, m.record_id)
        if m.op == "delete":
            if record.deleted_at is None:
                self.store.rules.check_delete(record)
                delete_record(self.session, record, now=self.now, actor=self._actor(m))
                self.store.rules.forget(model, record.id)
            return _result(m, "applied", record, self.scope)
        if record.deleted_at is not None:
            raise Conflict("The record was deleted on the server.", code="record_deleted")
        if m.base_version is None:
            raise Invalid({"base_version": ["An update needs the base_version it was made on."]})
        values = _input_schema(m.table, partial=True).load(m.fields)
        winners, lost, losers = self._merge(m, record, values, edited_at)
        self.store.rules.check_update(record, winners)
        update_record(
            self.session, record, winners, now=self.now, edited_at=edited_at, actor=self._actor(m)
        )
        if {"territory_id", "owner_id", "customer_id"} & winners.keys():  # who sees it changed
            self._visibility.pop((m.table, record.id), None)
            self.store.rules.forget(model, record.id)
        for field, lost_value, kept_value, loser in losers:
            self._log_lost(m, record, field, lost_value, kept_value, loser)
        lost += pending_conflicts(m.fields, record, winners)
        result = _result(m, "merged" if lost else "applied", record, self.scope)
        if lost:
            result["conflicts"] = lost
        return result

    def _create(self, m: Mutation, model, edited_at: datetime) -> dict:
        values = _input_schema(m.table, partial=False).load({**m.fields, "id": str(m.record_id)})
        existing = self._cached(model, m.record_id)
        if existing is not None:
            if not self._can_see(existing):
                raise Forbidden("This record is not in your scope.")
            raise Conflict("A record with this id already exists.", code="already_exists")
        self._require_in_scope(model, values)
        values = self.store.rules.check_create(model, values)
        record = create_record(
            self.session, model, values, now=self.now, edited_at=edited_at, actor=self._actor(m)
        )
        self._visibility.pop((m.table, record.id), None)
        self._missing.discard((m.table, record.id))
        self._loaded[(m.table, record.id)] = record
        return _result(m, "applied", record, self.scope)

    def _actor(self, m: Mutation) -> Actor:
        return Actor(self.user.id, self.device_id, m.id)

    def _require_in_scope(self, model, values: dict[str, Any]) -> None:
        """Creating under a customer one cannot see is `forbidden` (protocol: scopes)."""
        if issubclass(model, CustomerChild):
            customer = self._cached(Customer, values.get("customer_id"))
            if customer is None or not self._can_see(customer):
                raise Forbidden("This customer is not in your scope.")

    def _merge(
        self, m: Mutation, record: SyncedRecord, values: dict[str, Any], edited_at: datetime
    ) -> tuple[dict[str, Any], list[dict], list[tuple]]:
        return merge_fields(record, values, m.fields, m.base_version, self.author, edited_at)

    def _log_lost(self, m, record, field, lost_value, kept_value, loser: str) -> None:
        self.log.add(
            table_name=m.table,
            record_id=record.id,
            customer_id=_customer_of(record),
            kind="field_lost",
            code="concurrent_edit",
            message=(
                "The server's value lost to a later edit from a device."
                if loser == "server"
                else "Your edit lost to a later change on the server."
            ),
            field=field,
            lost_values={field: lost_value},
            kept_values={field: kept_value},
            loser=loser,
            mutation_id=m.id,
            mutation_op=m.op,
        )

    def _reject(self, m: Mutation, error: RecordError) -> dict:
        """Answer `rejected`, and keep what was sent in the log under its author, attached
        to a customer only when the author may see it."""
        record = self.session.get(m.model, m.record_id)
        visible = record is not None and self._can_see(record)
        customer = self._cached(Customer, _uuid_or_none(m.fields.get("customer_id")))
        if visible:
            customer_id = _customer_of(record)
        elif customer is not None and self._can_see(customer):
            customer_id = customer.id
        else:
            customer_id = None
        logged = self.log.add(
            table_name=m.table,
            record_id=m.record_id,
            customer_id=customer_id,
            kind="rejected",
            code=error.code,
            message=error.message,
            lost_values=m.fields or None,
            loser="device",
            mutation_id=m.id,
            mutation_op=m.op,
        )
        result = _rejected(m.id, error)
        if logged is None:
            result["logged"] = False
        if visible and record.deleted_at is None:
            result["record"] = record_json(record, self.scope)
        return result

    # -- loading -------------------------------------------------------------------------

    def _preload(self, batch: list[Mutation]) -> None:
        """One query per table for every record the batch touches (fills the identity map)."""
        by_table: dict[str, set[uuid.UUID]] = {}
        for m in batch:
            by_table.setdefault(m.table, set()).add(m.record_id)
            customer_id = _uuid_or_none(m.fields.get("customer_id"))
            if customer_id:
                by_table.setdefault("customers", set()).add(customer_id)
        # The records the batch writes are locked, in one order for every push (tables,
        # then ids), so that two pushes cannot deadlock: a concurrent push on the same
        # record waits for this one's commit and then merges against what it wrote,
        # instead of overwriting it unseen (a lost update, found by bench/chaos). FOR NO
        # KEY UPDATE, not FOR UPDATE: children may still be inserted under them.
        written = {(m.table, m.record_id) for m in batch}
        for table in sorted(by_table):
            ids = by_table[table]
            model = RECORD_MODELS[table]
            locked = sorted(i for i in ids if (table, i) in written)
            read = [i for i in ids if (table, i) not in written]
            records = []
            if locked:
                records += self.session.scalars(
                    select(model)
                    .where(model.id.in_(locked))
                    .order_by(model.id)
                    .with_for_update(key_share=True)
                    .execution_options(populate_existing=True)
                )
            if read:
                records += self.session.scalars(select(model).where(model.id.in_(read)))
            for record in records:
                self._loaded[(table, record.id)] = record
            self._missing.update((table, i) for i in ids if (table, i) not in self._loaded)
            visible = set(
                self.session.scalars(
                    select(model.id).where(model.id.in_(ids), self.scope.where(model))
                )
            )
            self._visibility.update({(table, i): i in visible for i in ids})

    def _can_see(self, record: SyncedRecord) -> bool:
        """Scope check, answered from the batch's preload when possible."""
        key = (record.__tablename__, record.id)
        if key not in self._visibility:
            self._visibility[key] = self.scope.can_see(self.session, record)
        return self._visibility[key]

    def _cached(self, model, record_id) -> SyncedRecord | None:
        """The record, from the batch's preload when possible (no query for known misses)."""
        if record_id is None:
            return None
        key = (model.__tablename__, record_id)
        if key in self._missing:
            return None
        return self._loaded.get(key) or self.session.get(model, record_id)

    def _visible(self, model: type[SyncedRecord], record_id: uuid.UUID) -> SyncedRecord:
        record = self._cached(model, record_id)
        if record is None or not self._can_see(record):
            raise Forbidden("No such record in your scope.")
        return record


@cache
def _input_schema(table: str, *, partial: bool) -> Schema:
    """One schema instance per table and mode: building one per mutation is costly."""
    schema = RECORD_SCHEMAS[table]
    return schema(partial=True, exclude=("id",)) if partial else schema()


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _customer_of(record: SyncedRecord) -> uuid.UUID | None:
    if isinstance(record, Customer):
        return record.id
    return getattr(record, "customer_id", None)


def _result(m: Mutation, status: str, record: SyncedRecord, scope) -> dict:
    result: dict[str, Any] = {"id": str(m.id), "status": status}
    if record.deleted_at is None:
        result["record"] = record_json(record, scope)
    return result


def _rejected(mutation_id: uuid.UUID, error: RecordError) -> dict:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    return {"id": str(mutation_id), "status": "rejected", "error": body}
