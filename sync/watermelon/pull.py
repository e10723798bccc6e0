"""WatermelonDB's pull on our `Puller`: one response, `created` / `updated` / `deleted`.

`synchronize()` wants everything since `last_pulled_at` at once, sorted into
records new to the device and records it has, without the device's own
writes. So the pull rebuilds our cursor from the timestamp, pages the
ordinary `Puller` to the end of the log (scope changes, walks and the
retention are the engine's), then reads the change log after the position to
tell the two apart (ADR 0011).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import CHILD_TABLES, RECORD_MODELS, ChangeLogEntry, Customer, User

from ..cursor import Cursor, Position, ScopeSpec, Walk
from ..errors import Invalid
from ..positions import horizon, log_after, log_between
from ..pull import Puller, scope_spec
from ..scopes import Scope
from ..window import WINDOW_KIND, Window
from .raw import TABLES, columns, to_raw
from .timestamps import (
    decode_timestamp,
    encode_timestamp,
    fits_timestamp,
    reach_of,
    remember_reach,
    scope_generation,
    scope_of_generation,
)
from .util import as_uuid, chunks

#: Tables whose records get server-derived fields on write: always echoed back.
DERIVED_TABLES = frozenset({"orders", "visits"})
PAGE = 5000
MAX_PAGES = 100_000


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


class WatermelonPuller:
    """`now`: today, for the history window of visits and orders (ADR 0024)."""

    def __init__(
        self,
        session: Session,
        user: User,
        scope: Scope,
        *,
        author: str,
        now: datetime | None = None,
    ):
        self.session = session
        self.user = user
        self.scope = scope
        self.author = author
        self.puller = Puller(session, user, scope, now=now)
        self.window = self.puller.window
        #: Whether the pull wrote (the reach of its timestamp): commit it, do not roll back.
        self.wrote = False

    def record_scope(self) -> int:
        """The generation of the current scope and window (written when new: commit before
        pulling, so this transaction's own id does not hold the horizon back)."""
        return scope_generation(self.session, self.user, scope_spec(self.scope), self.window)

    def pull(
        self, last_pulled_at: int | None, migration: Any = None, generation: int | None = None
    ) -> dict[str, Any]:
        extra = parse_migration(migration)
        session = self.session
        spec_now = scope_spec(self.scope)
        if generation is None:
            generation = scope_generation(session, self.user, spec_now, self.window)
        top = horizon(session)
        old_spec: ScopeSpec | None = None
        old_window = Window.ALL
        position: Position | None = None
        if last_pulled_at:
            position, old_generation = decode_timestamp(session, last_pulled_at)
            old = scope_of_generation(session, self.user, old_generation)
            if old is None or position > top:
                position = None  # not ours, or too old: replace everything
            else:
                old_spec, old_window = old
        replace = bool(last_pulled_at) and position is None
        cursor = None
        if position is not None and old_spec is not None:
            held = reach_of(session, self.user, last_pulled_at)  # type: ignore[arg-type]
            cursor = Cursor(position, old_spec, window=old_window, reach=held)
        found, final, reset = self._read(cursor)
        replace = replace or reset
        timestamp = encode_timestamp(session, final.position, generation)
        self._keep_reach(found, final, None if reset or cursor is None else cursor, timestamp)

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

    def _read(self, cursor: Cursor | None, *, only: set[str] | None = None):
        """Pull pages until the log is exhausted; latest state per record (None: deleted)."""
        found: dict[tuple[str, uuid.UUID], dict | None] = {}
        reset = False
        for _ in range(MAX_PAGES):
            result = self.puller.read(cursor, PAGE)
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
            cursor = result.next
            if not result.has_more and fits_timestamp(self.session, cursor.position):
                return found, cursor, reset
        raise RuntimeError("the change log did not run out")  # pragma: no cover

    def _keep_reach(self, found, final: Cursor, before: Cursor | None, timestamp: int) -> None:
        """Remember how far past the timestamp's position the device's records may be
        logged (`Cursor.reach`): the records sent that were created or moved there, and
        what the previous timestamp's reach still covers. Usually nothing is."""
        if final.reach is None:
            return
        top = before.reach if before and before.reach and before.reach > final.position else None
        puts = [record_id for (_, record_id), record in found.items() if record is not None]
        log = ChangeLogEntry
        for chunk in chunks(puts):
            row = self.session.execute(
                select(log.txid, log.seq)
                .where(
                    *log_between(self.session, final.position, final.reach),
                    log.kind.in_(("create", "move")),
                    log.record_id.in_(chunk),
                )
                .order_by(log.txid.desc(), log.seq.desc())
                .limit(1)
            ).first()
            if row is not None and (top is None or tuple(row) > top):
                top = (row.txid, row.seq)
        if top is not None:
            remember_reach(self.session, self.user, timestamp, top)
            self.wrote = True

    def _classify(self, found, position: Position, old_spec: ScopeSpec, spec_now: ScopeSpec):
        """Which puts are new to the device (`created`), which are its own echoes."""
        puts = [key for key, record in found.items() if record is not None]
        counts, created_in_log, moved_in = self._logged_since(puts, position, old_spec)
        gained = spec_now - old_spec
        customer_of, new_customers = self._new_customers(found, puts, gained, moved_in)
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

    def _logged_since(self, puts, position: Position, old_spec: ScopeSpec):
        """Per put, its log rows after the position: how many, whether one created it, and
        the customers that moved in from outside the old scope."""
        by_table: dict[str, list[uuid.UUID]] = defaultdict(list)
        for table, record_id in puts:
            by_table[table].append(record_id)
        log = ChangeLogEntry
        counts: dict[tuple[str, uuid.UUID], int] = defaultdict(int)
        created_in_log: set[tuple[str, uuid.UUID]] = set()
        moved_in: set[uuid.UUID] = set()
        for table, ids in by_table.items():
            for chunk in chunks(ids):
                rows = self.session.execute(
                    select(log.record_id, log.kind, log.prev_territory_id, log.prev_owner_id).where(
                        log.table_name == table,
                        log.record_id.in_(chunk),
                        log.kind != WINDOW_KIND,  # no version of its own (ADR 0024)
                        log_after(self.session, position),
                    )
                )
                for record_id, kind, prev_territory, prev_owner in rows:
                    counts[(table, record_id)] += 1
                    if kind == "create":
                        created_in_log.add((table, record_id))
                    elif kind == "move" and not _placed(old_spec, prev_territory, prev_owner):
                        moved_in.add(record_id)
        return counts, created_in_log, moved_in

    def _new_customers(self, found, puts, gained: ScopeSpec, moved_in: set[uuid.UUID]):
        """The customer of each put, and the customers new to the device: moved in, or
        placed in territories or members the scope gained (with all their children)."""
        new_customers = set(moved_in)
        customer_of = {}
        child_tables = {m.__tablename__ for m in CHILD_TABLES}
        for table, record_id in puts:
            record = found[(table, record_id)]
            if table == "customers":
                customer_of[(table, record_id)] = record_id
                placed = (as_uuid(record.get("territory_id")), as_uuid(record.get("owner_id")))
                if _placed(gained, *placed):
                    new_customers.add(record_id)
            elif table in child_tables:
                customer_of[(table, record_id)] = as_uuid(record.get("customer_id"))
        if gained.territories or gained.members:
            parents = {c for c in customer_of.values() if c and c not in new_customers}
            for chunk in chunks(list(parents)):
                for cid, territory, owner in self.session.execute(
                    select(Customer.id, Customer.territory_id, Customer.owner_id).where(
                        Customer.id.in_(chunk)
                    )
                ):
                    if _placed(gained, territory, owner):
                        new_customers.add(cid)
        return customer_of, new_customers

    def _field_meta(self, keys) -> dict[tuple[str, uuid.UUID], dict]:
        by_table: dict[str, list[uuid.UUID]] = defaultdict(list)
        for table, record_id in keys:
            by_table[table].append(record_id)
        metas = {}
        for table, ids in by_table.items():
            model = RECORD_MODELS[table]
            for chunk in chunks(ids):
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
        cursor = Cursor(top, spec, (Walk("fill", first),), window=self.window)
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
