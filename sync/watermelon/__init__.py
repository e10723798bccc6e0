"""WatermelonDB's sync contract on top of our pull and push (ADR 0011).

WatermelonDB pulls with a number (`last_pulled_at`) and pushes whole raw
records per table. This module translates, and nothing more: pulls run
`sync.pull.Puller` to the end of the log, pushes become ordinary push
mutations run by `sync.push.Pusher`, so scopes, write rules, merges, the
conflict log, idempotency and server-derived fields are the engine's own.

The timestamp: `position * 1000 + generation`. `position` is the change-log
horizon a finished pull reached (the transaction id below which everything
has committed on PostgreSQL, the last sequence number on SQLite: ADR 0005),
`generation` numbers the scopes a user has been served (kept in
`sync_state`), so a later pull still learns what it lost or gained.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from marshmallow import fields as mf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.models import (
    CHILD_TABLES,
    RECORD_MODELS,
    WALK_TABLES,
    ChangeLogEntry,
    Customer,
    SyncState,
    User,
)
from domain.schemas import RECORD_SCHEMAS, UTCDateTime

from ..changes import resend_record
from ..cursor import MAX_SEQ, Cursor, Position, ScopeSpec, Walk
from ..errors import Invalid, UnsupportedSchemaVersion
from ..positions import horizon, is_postgres, log_after
from ..pull import Puller, scope_spec
from ..push import Pusher, effective_time
from ..records_json import record_json
from ..scopes import Scope

#: The WatermelonDB schema version `clients/watermelondb/schema.js` declares.
SCHEMA_VERSION = 1
#: Tables in parent-first order (WatermelonDB's collections have our names).
TABLES: tuple[str, ...] = tuple(m.__tablename__ for m in WALK_TABLES)
#: Tables whose records get server-derived fields on write: always echoed back.
DERIVED_TABLES = frozenset({"orders", "visits"})
#: Room for the scope generation in a timestamp.
GENERATIONS = 1000
HISTORY = 32
PAGE = 5000
MAX_PAGES = 100_000
IGNORED_RAW = frozenset({"_status", "_changed"})
#: Never taken from a device, whatever the schema says.
NOT_WRITABLE = frozenset({"id", "version", "created_at", "updated_at", "deleted_at", "password"})
#: Raw-record ids WatermelonDB may use: ours are UUIDs.
_NAMESPACE = uuid.UUID("3f1f6c1e-5d0a-4c55-9a43-6f1d2b7e0b11")


# -- column mapping ------------------------------------------------------------------------


@cache
def columns(table: str) -> dict[str, str]:
    """Column -> WatermelonDB kind: `string`, `number`, `boolean`, `date` (ms), `json`."""
    schema = RECORD_SCHEMAS[table]()
    return {key: _kind(field) for key, field in schema.dump_fields.items()}


def _kind(field: mf.Field) -> str:
    if isinstance(field, UTCDateTime):
        return "date"
    if isinstance(field, mf.Boolean):
        return "boolean"
    if isinstance(field, (mf.Integer, mf.Float)) and not isinstance(field, mf.Decimal):
        return "number"
    if isinstance(field, (mf.Dict, mf.List, mf.Nested)):
        return "json"
    return "string"  # strings, UUIDs, e-mails, decimals (exact, as text), dates


@cache
def writable(table: str) -> frozenset[str]:
    schema = RECORD_SCHEMAS[table]()
    return frozenset(key for key, f in schema.load_fields.items() if not f.dump_only) - NOT_WRITABLE


@cache
def _not_null(table: str) -> frozenset[str]:
    schema = RECORD_SCHEMAS[table]()
    return frozenset(key for key, f in schema.load_fields.items() if not f.allow_none)


def to_raw(table: str, record: dict[str, Any]) -> dict[str, Any]:
    """Our record JSON -> a WatermelonDB raw record."""
    kinds = columns(table)
    raw: dict[str, Any] = {}
    for key, value in record.items():
        kind = kinds.get(key)
        if kind is None:
            continue
        if value is None:
            raw[key] = None
        elif kind == "date":
            raw[key] = iso_to_ms(value)
        elif kind == "json":
            raw[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            raw[key] = value
    return raw


def from_raw(table: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A pushed raw record -> our fields (writable columns only; the rest is ignored).

    Values that cannot be converted are passed on as they are, so the table's
    schema rejects them with its own message. WatermelonDB sends every column,
    null where the app set nothing: for a column that cannot be null, null means
    "not set", so a create gets the server's default and an update keeps the value.
    """
    kinds = columns(table)
    allowed = writable(table)
    not_null = _not_null(table)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in allowed or key in IGNORED_RAW:
            continue
        kind = kinds.get(key)
        if value is None:
            if key not in not_null:
                values[key] = None
        elif kind == "date" and isinstance(value, (int, float)) and not isinstance(value, bool):
            values[key] = ms_to_iso(value)
        elif kind == "json" and isinstance(value, str):
            if value == "":
                values[key] = None
                continue
            try:
                values[key] = json.loads(value)
            except ValueError:
                values[key] = value
        else:
            values[key] = value
    return values


def iso_to_ms(value: str) -> int:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1000)


def ms_to_datetime(value: Any) -> datetime | None:
    """WatermelonDB's times (ms since the epoch); None when not a number or out of range."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def ms_to_iso(value: float) -> str:
    moment = ms_to_datetime(value)
    if moment is None:
        return str(value)  # out of range: the schema refuses it
    return moment.isoformat().replace("+00:00", "Z")


# -- the timestamp -----------------------------------------------------------------------------


def encode_timestamp(session: Session, position: Position, generation: int) -> int:
    number = position[0] if is_postgres(session) else position[1]
    return number * GENERATIONS + generation


def decode_timestamp(session: Session, timestamp: int) -> tuple[Position, int]:
    number, generation = divmod(timestamp, GENERATIONS)
    position = (number, MAX_SEQ) if is_postgres(session) else (0, number)
    return position, generation


def _position_done(session: Session, position: Position) -> bool:
    """Can one number carry this position (a horizon, not the middle of a page)?"""
    return position[1] == MAX_SEQ if is_postgres(session) else position[0] == 0


def _history_key(user: User) -> str:
    return f"wm:{user.id.hex}"


def _history(session: Session, user: User) -> list[list]:
    state = session.get(SyncState, _history_key(user))
    return list(state.value.get("h", [])) if state else []


def scope_generation(session: Session, user: User, spec: ScopeSpec) -> int:
    """The number of the scope `spec` in the user's history, added when new."""
    for _ in range(3):
        history = _history(session, user)
        if history and ScopeSpec.from_json(history[-1][1]) == spec:
            return history[-1][0]
        generation = history[-1][0] % (GENERATIONS - 1) + 1 if history else 1
        history = [h for h in history if h[0] != generation][-(HISTORY - 1) :]
        history.append([generation, spec.to_json()])
        try:
            with session.begin_nested():
                state = session.get(SyncState, _history_key(user))
                if state is None:
                    session.add(SyncState(key=_history_key(user), value={"h": history}))
                else:
                    state.value = {"h": history}
                session.flush()
            return generation
        except IntegrityError:  # another pull of this user added it first
            session.expire_all()
    raise RuntimeError("could not record the scope generation")


def scope_of_generation(session: Session, user: User, generation: int) -> ScopeSpec | None:
    for number, spec in _history(session, user):
        if number == generation:
            return ScopeSpec.from_json(spec)
    return None


# -- pull --------------------------------------------------------------------------------------


def parse_migration(migration: Any) -> tuple[set[str], set[str]] | None:
    """`{from, tables, columns: [{table, columns}]}` -> (new tables, tables with new columns)."""
    if migration is None:
        return None
    problem = Invalid({"migration": ["Give {from, tables: [...], columns: [{table, columns}]}."]})
    if not isinstance(migration, dict):
        raise problem
    tables = migration.get("tables") or []
    cols = migration.get("columns") or []
    if not isinstance(tables, list) or not isinstance(cols, list):
        raise problem
    if not all(isinstance(t, str) for t in tables):
        raise problem
    new_tables = {t for t in tables if t in TABLES}  # whitelist: others are ignored
    with_columns = set()
    for entry in cols:
        if not isinstance(entry, dict) or not isinstance(entry.get("table"), str):
            raise problem
        names = entry.get("columns") or []
        if not isinstance(names, list):
            raise problem
        table = entry["table"]
        if table in TABLES and any(n in columns(table) for n in names if isinstance(n, str)):
            with_columns.add(table)
    return new_tables, with_columns - new_tables


def check_schema_version(version: int) -> None:
    if not 1 <= version <= SCHEMA_VERSION:
        raise UnsupportedSchemaVersion(
            f"WatermelonDB schema version {version} is not supported; this server knows "
            f"1 to {SCHEMA_VERSION}. Update the app."
        )


class WatermelonPuller:
    def __init__(self, session: Session, user: User, scope: Scope, *, author: str):
        self.session = session
        self.user = user
        self.scope = scope
        self.author = author
        self.puller = Puller(session, user, scope)

    def record_scope(self) -> int:
        """The generation of the current scope (written when new: commit before pulling,
        so this transaction's own id does not hold the horizon back)."""
        return scope_generation(self.session, self.user, scope_spec(self.scope))

    def pull(
        self, last_pulled_at: int | None, migration: Any = None, generation: int | None = None
    ) -> dict[str, Any]:
        extra = parse_migration(migration)
        session = self.session
        spec_now = scope_spec(self.scope)
        if generation is None:
            generation = scope_generation(session, self.user, spec_now)
        top = horizon(session)
        old_spec: ScopeSpec | None = None
        position: Position | None = None
        if last_pulled_at:
            position, old_generation = decode_timestamp(session, last_pulled_at)
            old_spec = scope_of_generation(session, self.user, old_generation)
            if old_spec is None or position > top:
                position, old_spec = None, None  # not ours, or too old: replace everything
        replace = bool(last_pulled_at) and position is None
        cursor = Cursor(position, old_spec).encode() if position is not None else None
        found, cursor_text, reset = self._read(cursor)
        replace = replace or reset
        final = Cursor.decode(cursor_text)
        timestamp = encode_timestamp(session, final.position, generation)

        first = position is None or reset
        created_keys: set[tuple[str, uuid.UUID]] = set()
        echoes: set[tuple[str, uuid.UUID]] = set()
        if not first:
            created_keys, echoes = self._classify(found, position, old_spec, spec_now)
        changes = {t: {"created": [], "updated": [], "deleted": []} for t in TABLES}
        for (table, record_id), record in found.items():
            bucket = changes[table]
            if record is None:
                bucket["deleted"].append(str(record_id))
            elif (table, record_id) in echoes:
                continue
            elif first or (table, record_id) in created_keys:
                bucket["created"].append(to_raw(table, record))
            else:
                bucket["updated"].append(to_raw(table, record))
        if extra and not first:
            self._migration(extra, found, changes, top)
        body: dict[str, Any] = {"changes": changes, "timestamp": timestamp}
        if replace:
            body["experimentalStrategy"] = "replacement"
        return body

    def _read(self, cursor: str | None, *, only: set[str] | None = None):
        """Pull pages until the log is exhausted; latest state per record (None: deleted)."""
        found: dict[tuple[str, uuid.UUID], dict | None] = {}
        reset = False
        for _ in range(MAX_PAGES):
            result = self.puller.pull(cursor, PAGE)
            if result.reset:
                found.clear()
                reset = True
            for change in result.changes:
                table = change["table"]
                if only is not None and table not in only:
                    continue
                if change["op"] == "put":
                    found.pop((table, uuid.UUID(change["record"]["id"])), None)
                    found[(table, uuid.UUID(change["record"]["id"]))] = change["record"]
                else:
                    found.pop((table, uuid.UUID(change["id"])), None)
                    found[(table, uuid.UUID(change["id"]))] = None
            cursor = result.cursor
            if not result.has_more and _position_done(self.session, Cursor.decode(cursor).position):
                return found, cursor, reset
        raise RuntimeError("the change log did not run out")  # pragma: no cover

    def _classify(self, found, position: Position, old_spec: ScopeSpec, spec_now: ScopeSpec):
        """Which puts are new to the device (`created`), which are its own echoes."""
        puts = [key for key, record in found.items() if record is not None]
        by_table: dict[str, list[uuid.UUID]] = defaultdict(list)
        for table, record_id in puts:
            by_table[table].append(record_id)
        log = ChangeLogEntry
        counts: dict[tuple[str, uuid.UUID], int] = defaultdict(int)
        created_in_log: set[tuple[str, uuid.UUID]] = set()
        moved_in: set[uuid.UUID] = set()
        for table, ids in by_table.items():
            for chunk in _chunks(ids):
                rows = self.session.execute(
                    select(log.record_id, log.kind, log.prev_territory_id, log.prev_owner_id).where(
                        log.table_name == table,
                        log.record_id.in_(chunk),
                        log_after(self.session, position),
                    )
                )
                for record_id, kind, prev_territory, prev_owner in rows:
                    counts[(table, record_id)] += 1
                    if kind == "create":
                        created_in_log.add((table, record_id))
                    elif kind == "move" and not _placed(old_spec, prev_territory, prev_owner):
                        moved_in.add(record_id)
        gained = ScopeSpec(
            spec_now.territories - old_spec.territories, spec_now.members - old_spec.members
        )
        new_customers = set(moved_in)
        customer_of = {}
        child_tables = {m.__tablename__ for m in CHILD_TABLES}
        for table, record_id in puts:
            record = found[(table, record_id)]
            if table == "customers":
                customer_of[(table, record_id)] = record_id
                placed = (_uuid(record.get("territory_id")), _uuid(record.get("owner_id")))
                if _placed(gained, *placed):
                    new_customers.add(record_id)
            elif table in child_tables:
                customer_of[(table, record_id)] = _uuid(record.get("customer_id"))
        if gained.territories or gained.members:
            parents = {c for c in customer_of.values() if c and c not in new_customers}
            for chunk in _chunks(list(parents)):
                for cid, territory, owner in self.session.execute(
                    select(Customer.id, Customer.territory_id, Customer.owner_id).where(
                        Customer.id.in_(chunk)
                    )
                ):
                    if _placed(gained, territory, owner):
                        new_customers.add(cid)
        # Own writes: every field changed since the position was stamped by this device.
        metas = self._field_meta([k for k in counts if found.get(k) is not None])
        created, echoes = set(), set()
        for key in puts:
            record = found[key]
            meta = metas.get(key)
            own_create = False
            if meta is not None and counts.get(key):
                since = record["version"] - counts[key]
                newer = [s for s in meta.values() if s.get("v", 0) > since]
                own = newer and all(s.get("d") == self.author for s in newer)
                if own and key[0] not in DERIVED_TABLES:
                    echoes.add(key)
                    continue
                own_create = any(
                    s.get("v") == 1 and s.get("d") == self.author for s in meta.values()
                )
            new_to_device = (
                (key in created_in_log and not own_create)
                or customer_of.get(key) in new_customers
                or (key[0] == "territories" and key[1] in gained.territories)
            )
            if new_to_device:
                created.add(key)
        return created, echoes

    def _field_meta(self, keys) -> dict[tuple[str, uuid.UUID], dict]:
        by_table: dict[str, list[uuid.UUID]] = defaultdict(list)
        for table, record_id in keys:
            by_table[table].append(record_id)
        metas = {}
        for table, ids in by_table.items():
            model = RECORD_MODELS[table]
            for chunk in _chunks(ids):
                for record_id, meta in self.session.execute(
                    select(model.id, model.field_meta).where(model.id.in_(chunk))
                ):
                    metas[(table, record_id)] = meta or {}
        return metas

    def _migration(self, extra, found, changes, top: Position) -> None:
        """All records of tables (or columns) the app added since its last sync."""
        new_tables, with_columns = extra
        wanted = new_tables | with_columns
        if not wanted:
            return
        first = min(TABLES.index(t) for t in wanted)
        spec = scope_spec(self.scope)
        cursor = Cursor(top, spec, (Walk("fill", first),)).encode()
        more, _, _ = self._read(cursor, only=wanted)
        for (table, record_id), record in more.items():
            if record is None or (table, record_id) in found:
                continue
            bucket = "created" if table in new_tables else "updated"
            changes[table][bucket].append(to_raw(table, record))


def _placed(spec: ScopeSpec, territory, owner) -> bool:
    if spec.everything:
        return True
    return territory in spec.territories or owner in spec.members


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- push --------------------------------------------------------------------------------------


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
        mutations: list[dict[str, Any]] = []
        invalid: list[tuple[str, str]] = []
        upserts: list[tuple[str, str, dict]] = []
        deletes: list[tuple[str, str]] = []
        edits: list[tuple[dict, int, datetime]] = []
        for table in TABLES:
            part = changes.get(table) or {}
            for kind in ("created", "updated"):
                upserts += [(table, kind, raw) for raw in part.get(kind, [])]
        for table in reversed(TABLES):
            part = changes.get(table) or {}
            deletes += [(table, i) for i in part.get("deleted", [])]
        existing = self._existing([(t, r["id"]) for t, _, r in upserts] + deletes)
        for table, kind, raw in upserts:
            record_id = _uuid(raw["id"])
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
            base = raw.get("version")
            if not isinstance(base, int) or isinstance(base, bool) or not 0 <= base <= version:
                base = 0
            update = {**m, "op": "update", "base_version": base, "fields": values}
            mutations.append(update)
            if m["changed_at"] is not None:
                edits.append((update, version, effective_time(m["changed_at"], skew, self.now)))
        self._base_on_edit_time(edits)
        for table, raw_id in deletes:
            record_id = _uuid(raw_id)
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
        return mutations, invalid

    def _base_on_edit_time(self, edits: list[tuple[dict, int, datetime]]) -> None:
        """An update's base is the version the record had when the device edited it.

        `synchronize()` pulls before it pushes and keeps the local edits on top of
        the pulled record, so the pushed `version` is always the latest one: a
        value another device sent after this edit would pass for seen and be
        overwritten without a trace. Every change writes one log row and one
        version, so the version at the (skew-corrected) edit time is today's
        version minus the changes logged after it.
        """
        log = ChangeLogEntry
        by_table: dict[str, list[tuple[dict, int, datetime]]] = defaultdict(list)
        for edit in edits:
            by_table[edit[0]["table"]].append(edit)
        for table, items in by_table.items():
            earliest = min(edited_at for _, _, edited_at in items)
            later: dict[uuid.UUID, list[datetime]] = defaultdict(list)
            for chunk in _chunks([update["record_id"] for update, _, _ in items]):
                for record_id, changed_at in self.session.execute(
                    select(log.record_id, log.changed_at).where(
                        log.table_name == table,
                        log.record_id.in_(chunk),
                        log.changed_at > earliest,
                    )
                ):
                    later[record_id].append(changed_at)
            for update, version, edited_at in items:
                newer = sum(1 for at in later[update["record_id"]] if at > edited_at)
                update["base_version"] = min(update["base_version"], max(version - newer, 0))

    def _existing(self, keys) -> dict[tuple[str, uuid.UUID], tuple[int, bool, dict]]:
        """(version, deleted, raw) of the named records that exist, whoever can see them."""
        by_table: dict[str, list[uuid.UUID]] = defaultdict(list)
        for table, raw_id in keys:
            record_id = _uuid(raw_id)
            if record_id is not None:
                by_table[table].append(record_id)
        found = {}
        for table, ids in by_table.items():
            model = RECORD_MODELS[table]
            for chunk in _chunks(ids):
                for record in self.session.scalars(select(model).where(model.id.in_(chunk))):
                    found[(table, record.id)] = (
                        record.version,
                        record.deleted_at is not None,
                        to_raw(table, record_json(record)),
                    )
        return found


def _edited(table: str, raw: dict, current: dict, values: dict) -> dict:
    """Only the columns whose value differs from the server's: the others are no edits."""
    kinds = columns(table)
    edited = {}
    for key, value in values.items():
        mine, theirs = raw.get(key), current.get(key)
        if kinds.get(key) == "json" and isinstance(mine, str) and isinstance(theirs, str):
            try:
                same = json.loads(mine) == json.loads(theirs)
            except ValueError:
                same = False
        else:
            same = mine == theirs
        if not same:
            edited[key] = value
    return edited


def _changed_at(raw: dict) -> datetime | None:
    """WatermelonDB stamps `updated_at` (ms) on every local change: the edit time."""
    value = raw.get("updated_at")
    return ms_to_datetime(value) if isinstance(value, (int, float)) and value > 0 else None
