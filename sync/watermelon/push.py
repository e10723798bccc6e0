"""WatermelonDB's push as ordinary push mutations, run by our `Pusher`.

WatermelonDB pushes whole raw records and the state it believes in
(`created`, `updated`, `deleted`); our engine merges field-level mutations
against a base version (ADR 0006). This module turns the one into the other
(only the columns that differ, the edit time as `changed_at`, the newest
version the device can have seen at that edit as the base), so rules, merges,
the conflict log and replays are the engine's, and answers in WatermelonDB's
terms (ADR 0011).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.models import RECORD_MODELS, ChangeLogEntry, User

from ..changes import resend_record
from ..cursor import Position
from ..errors import Invalid
from ..merge import effective_time
from ..positions import log_after, pruned_through
from ..push import Pusher
from ..records_json import record_json
from ..window import WINDOW_KIND
from .raw import IGNORED_RAW, TABLES, columns, from_raw, ms_to_datetime, to_raw
from .timestamps import decode_timestamp
from .util import as_uuid, chunks

#: Namespace of our deterministic mutation ids (uuid5).
_NAMESPACE = uuid.UUID("3f1f6c1e-5d0a-4c55-9a43-6f1d2b7e0b11")


@dataclass
class _Update:
    """An update whose base version is still to be found (`_base_versions`)."""

    mutation: dict[str, Any]
    version: int  # the record's version today
    claimed: int | None  # the raw `version`, if the app declares it
    edited_at: datetime | None  # the effective edit time, if the app stamps `updated_at`


def parse_changes(changes: Any) -> dict[str, dict[str, list]]:
    """Check the shape of a pushed `changes` object; 422 when it is not one."""
    if not isinstance(changes, dict):
        raise Invalid({"changes": ["Give {table: {created: [], updated: [], deleted: []}}."]})
    errors: dict[str, list[str]] = {}
    parsed: dict[str, dict[str, list]] = {}
    for table, entry in changes.items():
        if table not in TABLES:
            errors[table] = [f"Unknown table; use one of {', '.join(TABLES)}."]
            continue
        if not isinstance(entry, dict):
            errors[table] = ["Give {created, updated, deleted}."]
            continue
        part = {}
        for kind in ("created", "updated", "deleted"):
            items = entry.get(kind) or []
            if not isinstance(items, list):
                errors[f"{table}.{kind}"] = ["Give a list."]
                continue
            if kind == "deleted":
                if not all(isinstance(i, str) for i in items):
                    errors[f"{table}.{kind}"] = ["Give a list of ids."]
                    continue
            elif not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in items):
                errors[f"{table}.{kind}"] = ["Give raw records, each with a string `id`."]
                continue
            part[kind] = items
        parsed[table] = part
    if errors:
        raise Invalid(errors, "This is not a WatermelonDB changes object.")
    return parsed


def mutation_id(
    user: User, device_id: str | None, table: str, kind: str, raw: Any, last_pulled_at: int | None
) -> uuid.UUID:
    """The same push sent again gets the same ids, so it is replayed, not applied twice."""
    if isinstance(raw, dict):
        raw = {k: v for k, v in raw.items() if k not in IGNORED_RAW}
    digest = hashlib.sha256(
        json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()
    record_id = raw["id"] if isinstance(raw, dict) else raw
    name = f"{user.id.hex}|{device_id}|{table}|{record_id}|{kind}|{last_pulled_at}|{digest}"
    return uuid.uuid5(_NAMESPACE, name)


def count_mutations(changes: dict[str, dict[str, list]]) -> int:
    return sum(len(items) for part in changes.values() for items in part.values())


class WatermelonPusher:
    def __init__(self, session: Session, user: User, *, device_id: str | None, now: datetime):
        self.session = session
        self.user = user
        self.device_id = device_id
        self.now = now
        self.pusher = Pusher(session, user, device_id=device_id, now=now)
        #: Records of the last push that were already applied (the same push sent again).
        self.replayed = 0

    def push(
        self,
        changes: dict[str, dict[str, list]],
        last_pulled_at: int | None,
        device_time_ms: float | None = None,
    ) -> dict[str, Any]:
        device_time = ms_to_datetime(device_time_ms)
        skew = (self.now - device_time) if device_time else timedelta(0)
        mutations, invalid = self._translate(changes, last_pulled_at, skew)
        results = self.pusher.push(mutations, device_time) if mutations else []
        self.replayed = sum(1 for result in results if result.get("replayed"))
        self._resend_lost(mutations, results)
        rejected: dict[str, list[str]] = defaultdict(list)
        for table, record_id in invalid:
            rejected[table].append(record_id)
        conflicts, errors = [], []
        for m, result in zip(mutations, results, strict=True):
            record_id = str(m["record_id"])
            if result["status"] == "merged":
                conflicts.append(
                    {"table": m["table"], "id": record_id, "fields": result["conflicts"]}
                )
            elif result["status"] == "rejected":
                error = result["error"]
                errors.append({"table": m["table"], "id": record_id, "op": m["op"], **error})
                if error["code"] != "record_deleted":  # delete wins: the pull says so
                    rejected[m["table"]].append(record_id)
        for table, record_id in invalid:
            errors.append(
                {
                    "table": table,
                    "id": record_id,
                    "code": "validation_failed",
                    "message": "Record ids are UUIDs.",
                }
            )
        return {
            "ok": True,
            "experimentalRejectedIds": dict(rejected),
            "conflicts": conflicts,
            "rejected": errors,
        }

    def _resend_lost(self, mutations: list[dict], results: list[dict]) -> None:
        """Where the device's value lost a merge, its next pull must bring the winner."""
        for m, result in zip(mutations, results, strict=True):
            if result["status"] == "merged" and result["conflicts"] and not result.get("replayed"):
                record = self.session.get(RECORD_MODELS[m["table"]], m["record_id"])
                resend_record(self.session, record, now=self.now)

    def _translate(self, changes, last_pulled_at, skew: timedelta):
        """Raw records -> push mutations, parents first, deletes last (children first)."""
        upserts, deletes = _in_order(changes)
        existing = self._existing([(t, r["id"]) for t, _, r in upserts] + deletes)
        mutations, invalid = self._upserts(upserts, existing, last_pulled_at, skew)
        mutations += self._deletes(deletes, existing, last_pulled_at)
        return mutations, invalid

    def _upserts(self, upserts, existing, last_pulled_at, skew: timedelta):
        """Created or updated raw records -> creates, or updates of the edited columns."""
        mutations: list[dict[str, Any]] = []
        invalid: list[tuple[str, str]] = []
        updates: list[_Update] = []
        for table, kind, raw in upserts:
            record_id = as_uuid(raw["id"])
            if record_id is None:
                invalid.append((table, raw["id"]))
                continue
            values = from_raw(table, raw)
            state = existing.get((table, record_id))
            m = {
                "id": mutation_id(self.user, self.device_id, table, kind, raw, last_pulled_at),
                "table": table,
                "record_id": record_id,
                "changed_at": _changed_at(raw),
            }
            if state is None:  # "update of a missing record": create it
                mutations.append({**m, "op": "create", "fields": values})
                continue
            version, deleted, current = state
            values = _edited(table, raw, current, values)
            if deleted:  # delete wins: the push engine answers record_deleted
                mutations.append({**m, "op": "update", "base_version": 0, "fields": values})
                continue
            m["changed_at"] = _changed_at(raw, current)
            update = {**m, "op": "update", "base_version": version, "fields": values}
            mutations.append(update)
            edited_at = None
            if m["changed_at"] is not None:
                edited_at = effective_time(m["changed_at"], skew, self.now)
            updates.append(_Update(update, version, _claimed(raw, version), edited_at))
        self._base_versions(updates, self._pulled_position(last_pulled_at))
        return mutations, invalid

    def _deletes(self, deletes, existing, last_pulled_at) -> list[dict[str, Any]]:
        """Deleted ids -> deletes of the records that still exist (others are no-ops)."""
        mutations: list[dict[str, Any]] = []
        for table, raw_id in deletes:
            record_id = as_uuid(raw_id)
            if record_id is None:
                continue  # no such record: a delete of a missing record is a no-op
            state = existing.get((table, record_id))
            if state is None or state[1]:
                continue  # missing or already deleted: nothing to do
            mutations.append(
                {
                    "id": mutation_id(
                        self.user, self.device_id, table, "deleted", raw_id, last_pulled_at
                    ),
                    "table": table,
                    "op": "delete",
                    "record_id": record_id,
                    "changed_at": None,
                    "fields": {},
                }
            )
        return mutations

    def _pulled_position(self, last_pulled_at: int | None) -> Position | None:
        """The log position of the device's last pull, when the log still reaches back to it."""
        if not isinstance(last_pulled_at, int) or last_pulled_at <= 0:
            return None
        position, _ = decode_timestamp(self.session, last_pulled_at)
        return position if position >= pruned_through(self.session) else None

    def _base_versions(self, updates: list[_Update], pulled: Position | None) -> None:
        """An update's base is the newest version the device can have seen when it edited.

        The lowest of what is known: the version at its last pull (`lastPulledAt`:
        nothing later reached it), at its skew-corrected edit time `updated_at`
        (`synchronize()` pulls before it pushes, so that pull may have brought
        values the edit never saw), and the raw `version` when the app declares
        it. Every change writes one log row and one version, so the version at a
        position or a time is today's version minus the rows logged after it.
        Knowing neither time, the base is today's version: the edit counts as
        made now and wins anyway, and a lower base would only log false conflicts
        that a "restore" turns into lost edits (docs/watermelondb.md).
        """
        log = ChangeLogEntry
        by_table: dict[str, list[_Update]] = defaultdict(list)
        for update in updates:
            by_table[update.mutation["table"]].append(update)
        for table, items in by_table.items():
            times = [u.edited_at for u in items if u.edited_at is not None]
            after = [log.changed_at > min(times)] if times else []
            if pulled is not None:
                after.append(log_after(self.session, pulled))
            later: dict[uuid.UUID, list[tuple[datetime, Position]]] = defaultdict(list)
            if after:
                for chunk in chunks([u.mutation["record_id"] for u in items]):
                    for record_id, changed_at, txid, seq in self.session.execute(
                        select(log.record_id, log.changed_at, log.txid, log.seq).where(
                            log.table_name == table,
                            log.record_id.in_(chunk),
                            log.kind != WINDOW_KIND,  # no version of its own (ADR 0024)
                            or_(*after),
                        )
                    ):
                        later[record_id].append((changed_at, (txid, seq)))
            for u in items:
                rows = later[u.mutation["record_id"]]
                bases = [u.version] if u.claimed is None else [u.version, u.claimed]
                if pulled is not None:
                    bases.append(u.version - sum(1 for _, at in rows if at > pulled))
                if u.edited_at is not None:
                    bases.append(u.version - sum(1 for at, _ in rows if at > u.edited_at))
                u.mutation["base_version"] = max(min(bases), 0)

    def _existing(self, keys) -> dict[tuple[str, uuid.UUID], tuple[int, bool, dict]]:
        """(version, deleted, raw) of the named records that exist, whoever can see them."""
        by_table: dict[str, list[uuid.UUID]] = defaultdict(list)
        for table, raw_id in keys:
            record_id = as_uuid(raw_id)
            if record_id is not None:
                by_table[table].append(record_id)
        found = {}
        for table, ids in by_table.items():
            model = RECORD_MODELS[table]
            for chunk in chunks(ids):
                for record in self.session.scalars(select(model).where(model.id.in_(chunk))):
                    found[(table, record.id)] = (
                        record.version,
                        record.deleted_at is not None,
                        to_raw(table, record_json(record)),
                    )
        return found


def _in_order(changes) -> tuple[list[tuple[str, str, dict]], list[tuple[str, str]]]:
    """Creates and updates parents first, deletes children first: each finds what it
    refers to."""
    upserts: list[tuple[str, str, dict]] = []
    deletes: list[tuple[str, str]] = []
    for table in TABLES:
        part = changes.get(table) or {}
        for kind in ("created", "updated"):
            upserts += [(table, kind, raw) for raw in part.get(kind, [])]
    for table in reversed(TABLES):
        part = changes.get(table) or {}
        deletes += [(table, i) for i in part.get("deleted", [])]
    return upserts, deletes


def _edited(table: str, raw: dict, current: dict, values: dict) -> dict:
    """Only the columns whose value differs from the server's: the others are no edits."""
    kinds = columns(table)
    edited = {}
    for key, value in values.items():
        mine, theirs = raw.get(key), current.get(key)
        if kinds.get(key) == "json" and isinstance(mine, str) and isinstance(theirs, str):
            try:
                same = json.loads(mine) == json.loads(theirs)
            except (ValueError, RecursionError):
                same = False
        else:
            same = mine == theirs
        if not same:
            edited[key] = value
    return edited


def _claimed(raw: dict, version: int) -> int | None:
    """The raw `version`, when the app declares the column and it is one we issued."""
    value = raw.get("version")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= version:
        return None
    return value


def _changed_at(raw: dict, current: dict | None = None) -> datetime | None:
    """WatermelonDB stamps `updated_at` (ms) on every local change: the edit time.

    Only when the model declares `updatedAt`: otherwise the column keeps the
    server's stamp of the last pull, which is no edit time (taken for one, a
    device clock ahead of the server's would make a later edit lose to the
    change it had pulled).
    """
    value = raw.get("updated_at")
    if current is not None and value == current.get("updated_at"):
        return None
    return ms_to_datetime(value) if isinstance(value, (int, float)) and value > 0 else None
