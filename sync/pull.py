"""Pull: the changes of a user's scope since a cursor, a page at a time.

Three sources feed a page, in this order:
1. unfinished walks of the cursor (`remove` of lost territories, then `fill`:
   the first full sync, or the records of newly gained territories),
2. the change log after the cursor's position, up to the *horizon*: the
   highest position below which no transaction is still running (on
   PostgreSQL, `pg_snapshot_xmin`), so that no commit is ever skipped,
3. nothing else: when the log is exhausted the cursor jumps to the horizon,
   so an idle device's pull stays a cheap index probe.
See ADR 0005 for why this is correct with concurrent writers.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Integer,
    Row,
    Select,
    and_,
    any_,
    bindparam,
    exists,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session, defer

from domain.models import (
    CHILD_TABLES,
    CUSTOMER_TABLES,
    RECORD_MODELS,
    WALK_TABLES,
    ChangeLogEntry,
    Customer,
    CustomerChild,
    Product,
    PulledAsJson,
    RoutePlan,
    SyncedRecord,
    Team,
    Territory,
    User,
    team_managers,
)
from domain.times import utc_iso, utc_now

from . import settings
from .cursor import Cursor, Holder, LegacyCursor, Position, ScopeSpec, Walk
from .page import Page, PullResult
from .positions import (
    PG_REACH_COLUMN,
    bound_log_between,
    horizon_and_pruned,
    is_postgres,
    log_after,
    position_params,
    reach,
    reach_of,
)
from .records_json import record_json
from .scopes import Scope, in_ids
from .window import WINDOW_KIND, WINDOWED, Window, crossed, held, open_or_recent

#: What a pull reads of a change-log row.
LOG_COLUMNS = (
    ChangeLogEntry.txid,
    ChangeLogEntry.seq,
    ChangeLogEntry.table_name,
    ChangeLogEntry.record_id,
    ChangeLogEntry.kind,
    ChangeLogEntry.customer_id,
    ChangeLogEntry.prev_territory_id,
    ChangeLogEntry.prev_owner_id,
    ChangeLogEntry.prev_team_id,
)


def scope_spec(scope: Scope) -> ScopeSpec:
    if scope.is_admin:
        return ScopeSpec(everything=True)
    return ScopeSpec(scope.territory_ids, scope.member_ids, scope.team_ids)


def read_cursor(text: str | None, holder: Holder) -> tuple[Cursor | None, bool]:
    """The cursor a client sent and whether its pull starts over (`reset`).

    `InvalidCursor` for one not issued to `holder`. Separate from `Puller.pull` so that a
    push that carries a pull (ADR 0028) refuses a bad cursor before it applies anything.
    """
    try:
        return (Cursor.decode(text, holder) if text else None), False
    except LegacyCursor:  # from before cursors were signed: start over, say so
        return None, True


class Puller:
    """One pull request of one user's device.

    `raw`: records that store their JSON come back as `orjson.Fragment`s, for a
    response written by orjson; otherwise as dicts like every other record.
    `device_id`: cursors are bound to the user and this device (ADR 0015).
    `now`: today, for the history window of visits and orders (ADR 0024).
    """

    def __init__(
        self,
        session: Session,
        user: User,
        scope: Scope | None = None,
        *,
        raw: bool = False,
        device_id: str | None = None,
        now: datetime | None = None,
    ):
        self.session = session
        self.user = user
        self.scope = scope or Scope.for_user(session, user)
        self.spec = scope_spec(self.scope)
        self.raw = raw
        self.holder = Holder(user.id, device_id)
        #: The scope whose moved-away records are still removed (the cursor's `prior`).
        self.was = self.spec
        #: The reach of what the page read so far (`_note_reach`), and whether some
        #: records came without it.
        self._reach: Position | None = None
        self._reach_unknown = False
        #: The history window of this user today, and the one this pull serves (the
        #: cursor's: a window that moved waits until the cursor's walks are done).
        self.window = Window.of(self.scope.role, now or utc_now())
        self.holds = self.window

    def pull(self, cursor_text: str | None, limit: int | None = None) -> PullResult:
        """A page after the cursor the client sent (none: from scratch)."""
        cursor, reset = read_cursor(cursor_text, self.holder)
        return self.read(cursor, limit, reset=reset)

    def read(
        self, cursor: Cursor | None, limit: int | None = None, *, reset: bool = False
    ) -> PullResult:
        """A page after `cursor` (none: from scratch); for callers holding the cursor itself."""
        config = settings.current()
        limit = min(limit or config.pull_default_limit, config.pull_max_limit)
        self._reach, self._reach_unknown = None, False
        top, pruned = horizon_and_pruned(self.session)
        if cursor is not None and cursor.position < pruned:
            cursor, reset = None, True
        elif cursor is not None and cursor.scope != self.spec and cursor.walks:
            cursor, reset = None, True  # the scope moved again mid-walk: start over, not guess
        if cursor is None:
            cursor = Cursor(top, self.spec, (Walk("fill"),), window=self.window)
        elif cursor.scope != self.spec:
            walks = self._scope_walks(cursor.scope)
            prior = cursor.scope | cursor.prior
            cursor = replace(cursor, scope=self.spec, walks=walks, prior=prior)
        elif cursor.window != self.window and not cursor.walks:
            # The edge moved (a new day) or the settings changed: what crossed it first.
            walk = Walk("window", since=cursor.window)
            cursor = replace(cursor, scope=self.spec, walks=(walk,), window=self.window)
        self.was = self.spec | cursor.prior
        self.holds = cursor.window

        page = Page(limit, self._json_of, self.raw)
        walks = list(cursor.walks)
        if walks and is_postgres(self.session):
            # A walk sorts a page by id with its JSON: megabytes, past PostgreSQL's
            # default 4 MB, which would sort on disk at twice the time.
            self.session.execute(text("SET LOCAL work_mem = '32MB'"))
        while walks and page.room > 0:
            done, walks[0] = self._walk(walks[0], page, cursor.position, cursor.held_through)
            if done:
                walks.pop(0)
        position = cursor.position
        log_done = False
        if not walks and page.room > 0:
            position, log_done = self._read_log(position, top, page)
        # Once the log is read past the scope change, nothing moved out of the old scope
        # is left to remove.
        prior = None if log_done else cursor.prior
        following = Cursor(position, self.spec, tuple(walks), prior, cursor.window, cursor.reach)
        # What the page sent is as it is now, possibly changed above the new position.
        following = following.reaching(self._sent_reach() if page.sent else None)
        return PullResult(
            page.changes, following.encode(self.holder), following, not log_done, reset
        )

    # -- scope changes -----------------------------------------------------------

    def _scope_walks(self, before: ScopeSpec) -> tuple[Walk, ...]:
        now = self.spec
        if before.everything or now.everything:
            return (Walk("fill"),) if now.everything else (Walk("remove", limit_to=before),)
        lost, gained = before - now, now - before
        walks = []
        if not lost.empty:
            walks.append(Walk("remove", limit_to=lost))
        if not gained.empty:
            walks.append(Walk("fill", limit_to=gained))
        return tuple(walks)

    # -- walks ---------------------------------------------------------------------

    def _walk(
        self, walk: Walk, page: Page, position: Position, held_through: Position
    ) -> tuple[bool, Walk]:
        """Walk one table slice; return (finished, the walk's new state).

        `position`: the log position the walk started from (its changes come later).
        `held_through`: the last position whose records the device may hold (`Cursor.reach`).
        """
        while walk.table < len(WALK_TABLES):
            model = WALK_TABLES[walk.table]
            puts = walk.kind == "fill"
            if walk.kind == "window":
                query, puts = self._window_query(walk, model)
            else:
                query = self._walk_query(walk, model, held_through)
            if query is None:
                walk = walk.advanced(walk.table + 1)
                continue
            if walk.after is not None:
                query = query.where(model.id > walk.after)
            room = page.room
            query = query.order_by(model.id).limit(room)
            if walk.kind == "window" and not puts:  # removes only: ids are enough
                rows = self.session.execute(query.with_only_columns(model.id)).all()
            else:
                rows = self._fetch(model, query)
            if walk.kind == "fill":
                if issubclass(model, CustomerChild):
                    self._put_new_parents(rows, position, page)
                for record in rows:
                    page.put(model.__tablename__, record, self.scope)
            elif walk.kind == "remove":
                self._remove_walked(model, [r.id for r in rows], page, held_through)
            else:
                self._window_walked(model, rows, puts, page)
            if rows and len(rows) == room:
                return False, walk.advanced(walk.table, rows[-1].id)
            walk = walk.advanced(walk.table + 1)
            if page.room <= 0:
                return walk.table >= len(WALK_TABLES), walk
        return True, walk

    def _window_query(self, walk: Walk, model: type[SyncedRecord]) -> tuple[Select | None, bool]:
        """The records that crossed the history window since `walk.since` (ADR 0024), and
        whether some may need a `put` (else all are removed)."""
        if model not in WINDOWED:
            return None, False
        condition, puts = crossed(model, walk.since or Window.ALL, self.holds, self._customers())
        if condition is None:
            return None, False
        query = select(model).where(model.deleted_at.is_(None), self.scope.where(model), condition)
        return query, puts

    def _window_walked(self, model: type[SyncedRecord], rows: list, puts: bool, page: Page):
        table = model.__tablename__
        keep = self._held_ids(model, [r.id for r in rows]) if puts else set()
        for row in rows:
            if row.id in keep:
                page.put(table, row, self.scope)
            else:
                page.remove(table, row.id)

    def _customers(self) -> Select | None:
        """The customers of the scope (None: all), which bound a window's ranking."""
        if self.scope.is_admin:
            return None
        return select(Customer.id).where(self.scope.customers_where())

    def _held_ids(self, model: type[SyncedRecord], ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these records (in scope, not deleted) the pull's window holds."""
        window = self.holds
        if window.edge is None or not ids:
            return set(ids)
        among = _one_of(self.session, model.id, set(ids))
        customers = select(model.customer_id).where(among)
        return set(
            self.session.scalars(select(model.id).where(among, held(model, window, customers)))
        )

    def _put_new_parents(self, children: list, position: Position, page: Page) -> None:
        """Send first the customers created or moved in since the walk began.

        The walk may have passed their ids already; they would come later, from the
        log, after their children.
        """
        parents = self._parents_new_since({c.customer_id for c in children}, position)
        if parents:
            for parent in self._load_visible({"customers": parents}).values():
                page.put("customers", parent, self.scope)

    def _walk_query(self, walk: Walk, model: type[SyncedRecord], held_through: Position):
        only = walk.limit_to
        if walk.kind == "remove":
            # NOT IN a subquery, not NOT(condition): NULL owners must count as "not mine".
            # What was created or moved after anything the device was sent is the log's
            # to judge: the device never held it (created in a territory after it was
            # lost, say). Up to `held_through` it may have: a walk sends records as they are now.
            invisible = and_(
                model.id.not_in(select(model.id).where(self.scope.where(model))),
                model.id.not_in(self._placed_since(model, held_through)),
            )
            held_in = _HELD_IN.get(model)
            if held_in is None:
                return None
            partial = only is not None and not only.everything
            return select(model).where(held_in(only) if partial else true(), invisible)
        query = select(model).where(model.deleted_at.is_(None), self.scope.where(model))
        if model in WINDOWED:
            query = query.where(held(model, self.holds, self._customers()))
        if only is None:
            return query
        if model is Product:
            return None
        if model is Customer:
            return query.where(_placed_in(only))
        if issubclass(model, CustomerChild):
            return query.where(model.customer_id.in_(select(Customer.id).where(_placed_in(only))))
        if model is RoutePlan:
            return query.where(RoutePlan.rep_id.in_(only.members))
        return query  # teams, users, territories: small, send again

    def _remove_walked(
        self, model: type[SyncedRecord], ids: list[uuid.UUID], page: Page, held_through: Position
    ) -> None:
        for record_id in ids:
            page.remove(model.__tablename__, record_id)
        if model is Customer:
            self._remove_children(ids, page, since=held_through)

    def _remove_children(
        self, customer_ids: list[uuid.UUID], page: Page, since: Position | None = None
    ) -> None:
        for child in CHILD_TABLES:
            query = select(child.id).where(child.customer_id.in_(customer_ids))
            if since is not None:
                query = query.where(child.id.not_in(self._placed_since(child, since)))
            for child_id in self.session.scalars(query):
                page.remove(child.__tablename__, child_id)

    def _placed_since(self, model: type[SyncedRecord], position: Position) -> Select:
        """Ids of `model` created or moved after `position`."""
        log = ChangeLogEntry
        return select(log.record_id).where(
            log.table_name == model.__tablename__,
            log.kind.in_(("create", "move")),
            log_after(self.session, position),
        )

    # -- the change log ----------------------------------------------------------------

    def _log_params(self, position: Position, top: Position, room: int) -> dict:
        params = {**position_params(position, top), **_scope_params(self.spec), "room": room}
        if self.was != self.spec:
            params.update(_scope_params(self.was, "was_"))
        return params

    def _read_log(self, position: Position, top: Position, page: Page) -> tuple[Position, bool]:
        if position >= top:  # nothing was written since: an idle phone's poll asks no more
            return position, True
        rows = self.session.execute(
            _log_statement(is_postgres(self.session), self.scope.role, self.was != self.spec),
            self._log_params(position, top, page.room),
        ).all()
        if len(rows) < page.room:
            self._materialise(rows, position, page)
            return max(position, top), True
        self._materialise(rows, position, page)
        return (rows[-1].txid, rows[-1].seq), False

    def _materialise(self, rows: list[Row], position: Position, page: Page) -> None:
        ids: dict[str, set[uuid.UUID]] = defaultdict(set)
        for row in rows:
            ids[row.table_name].add(row.record_id)
        child_parents = {r.customer_id for r in rows if r.table_name in CUSTOMER_TABLES[1:]}
        ids["customers"] |= child_parents
        records = self._load_visible(ids)
        unheld, settled = self._judge_window(records)
        new_parents = self._parents_new_since(child_parents, position)
        moved_in: list[uuid.UUID] = []
        for row in rows:
            record = records.get((row.table_name, row.record_id))
            if record is None:
                # Not (or no longer) visible: remove what the device may hold.
                if row.table_name == "products" or (row.kind == "move" and self._was_held(row)):
                    self._remove(row.table_name, row.record_id, page)
                continue
            if (row.table_name, row.record_id) in unheld:
                page.remove(row.table_name, row.record_id)  # outside the history window
                continue
            if row.kind == WINDOW_KIND and (row.table_name, row.record_id) in settled:
                continue  # entered or left the last few, but held anyway: the device has it
            if row.table_name in CUSTOMER_TABLES[1:] and row.customer_id in new_parents:
                parent = records.get(("customers", row.customer_id))
                if parent is not None:
                    page.put("customers", parent, self.scope)
            page.put(row.table_name, record, self.scope)
            if row.kind == "move" and row.table_name == "customers" and not self._was_held(row):
                moved_in.append(row.record_id)  # moved in: its records come with it
        self._put_children(moved_in, page)

    def _judge_window(self, records: dict) -> tuple[set, set]:
        """Of the visible, not deleted visits and orders among `records`: those the
        window leaves out, and those it holds whatever their rank (open, or dated inside
        it: decided from their JSON, without a query). Only the others are ranked."""
        if self.holds.edge is None:
            return set(), set()
        edge = utc_iso(self.holds.edge)
        unheld, settled = set(), set()
        for model in WINDOWED:
            table = model.__tablename__
            ranked = []
            for (name, record_id), record in records.items():
                if name != table or record[1]:  # rows: (id, is_deleted, sync_json, …)
                    continue
                if record[2] is not None and open_or_recent(table, orjson.loads(record[2]), edge):
                    settled.add((table, record_id))
                else:
                    ranked.append(record_id)
            held_now = self._held_ids(model, ranked)
            unheld |= {(table, i) for i in ranked if i not in held_now}
        return unheld, settled

    def _was_held(self, row: Row) -> bool:
        """Did the device hold this record before the move the row logs?"""
        if row.table_name == "users":
            return self.was.everything or row.prev_team_id in self.was.teams
        return self.was.places(row.prev_territory_id, row.prev_owner_id)

    def _remove(self, table: str, record_id: uuid.UUID, page: Page) -> None:
        page.remove(table, record_id)
        if table == "customers":
            self._remove_children([record_id], page)

    def _put_children(self, customer_ids: list[uuid.UUID], page: Page) -> None:
        """The records of customers moved in, after them: a statement per child table for
        the whole page, not per customer (a territory handed over moves hundreds)."""
        if not customer_ids:
            return
        moved = set(customer_ids)
        customers = select(Customer.id).where(_one_of(self.session, Customer.id, moved))
        for child in CHILD_TABLES:
            among = _one_of(self.session, child.customer_id, moved)
            query = select(child).where(among, child.deleted_at.is_(None))
            if child in WINDOWED:
                query = query.where(held(child, self.holds, customers))
            for record in self._fetch(child, query):
                page.put(child.__tablename__, record, self.scope)

    def _load_visible(
        self, ids: dict[str, set[uuid.UUID]]
    ) -> dict[tuple[str, uuid.UUID], SyncedRecord | Row]:
        found: dict[tuple[str, uuid.UUID], SyncedRecord | Row] = {}
        postgres = is_postgres(self.session)
        for table, record_ids in ids.items():
            if not record_ids:
                continue
            model = RECORD_MODELS[table]
            statement = _visible_statement(postgres, self.scope.role, table)
            params = {**_scope_params(self.spec), "ids": list(record_ids)}
            if issubclass(model, PulledAsJson):
                rows = self.session.connection().execute(statement, params).all()
            else:
                rows = list(self.session.scalars(statement, params))
            self._note_reach(rows)
            for record in rows:
                found[(table, record.id)] = record
        return found

    def _fetch(self, model: type[SyncedRecord], query: Select) -> list[SyncedRecord | Row]:
        """The records `query` selects: for tables that store their JSON, only what
        a pull reads besides it (rows); for the others, ORM objects."""
        statement = _fetching(model, query, is_postgres(self.session))
        if not issubclass(model, PulledAsJson):
            rows = list(self.session.scalars(statement))
        else:
            # Core execution: plain tuples, without the ORM's per-row result processing.
            rows = self.session.connection().execute(statement).all()
        self._note_reach(rows)
        return rows

    def _json_of(self, table: str, record_id: uuid.UUID) -> dict[str, Any]:
        self._reach_unknown = True
        return record_json(self.session.get(RECORD_MODELS[table], record_id))

    def _note_reach(self, rows: list) -> None:
        """Keep the reach of the statement that read `rows` (`PG_REACH_COLUMN`), or
        remember that some records came without it."""
        if not rows:
            return
        if isinstance(rows[0], Row) and "reach" in rows[0]._fields:
            seen = reach_of(rows[0].reach)
            self._reach = seen if self._reach is None else max(self._reach, seen)
        else:
            self._reach_unknown = True

    def _sent_reach(self) -> Position:
        """The reach of what this page sent: from the statements that read its records
        on PostgreSQL, else (SQLite, ORM objects) one more read (`positions.reach`)."""
        if self._reach is None or self._reach_unknown:
            return reach(self.session)
        return self._reach

    def _parents_new_since(self, customer_ids: set, position: Position) -> set[uuid.UUID]:
        """Customers created or moved in after `position`: send them before their children.

        A walk asks for a page of children's parents at a time. What was placed since the
        walk began is usually little, so that is read whole and intersected, rather than
        the log searched for thousands of ids (a quarter of a first sync's CPU).
        """
        if not customer_ids:
            return set()
        log = ChangeLogEntry
        placed = select(log.record_id).where(
            log_after(self.session, position),
            log.table_name == "customers",
            log.kind.in_(("create", "move")),
        )
        if len(customer_ids) > _FEW_PARENTS:
            recent = self.session.scalars(placed.limit(_RECENT_PLACED + 1)).all()
            if len(recent) <= _RECENT_PLACED:
                return customer_ids & set(recent)
        among = _one_of(self.session, log.record_id, customer_ids)
        return set(self.session.scalars(placed.where(among)))


#: `_parents_new_since`: for more parents than this, read what was placed since (up to
#: `_RECENT_PLACED` log rows) instead of looking each one up.
_FEW_PARENTS = 50
_RECENT_PLACED = 1000


def _lean(model: type[SyncedRecord]) -> list:
    """Leave out the columns a pull never sends (merge metadata, search keys)."""
    heavy = [model.field_meta]
    if hasattr(model, "search_text"):
        heavy += [model.search_text, model.sort_key]
    return [defer(column) for column in heavy]


def _one_of(session: Session, column, values: set):
    """`column IN values`; on PostgreSQL one array parameter (`= ANY`) instead of one
    parameter per value, which for a page of ids is much cheaper to build and parse."""
    if not is_postgres(session):
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


def _fetching(model: type[SyncedRecord], query: Select, postgres: bool) -> Select:
    """`query` reading what a pull needs of `model`: for tables that store their JSON,
    only the columns `Page.put` reads besides it, in its order (and on PostgreSQL the
    statement's reach); for the others, the ORM objects without the columns a pull
    never sends."""
    if not issubclass(model, PulledAsJson):
        return query.options(*_lean(model))
    columns = [model.id, model.deleted_at.is_not(None).label("is_deleted"), model.sync_json]
    if issubclass(model, CustomerChild):
        columns.append(model.customer_id)
    if postgres:
        columns.append(PG_REACH_COLUMN)
    return query.with_only_columns(*columns)


def _bound_scope(postgres: bool, role: str) -> Scope:
    """A scope of `role` whose id sets are bind parameters (`_scope_params`): its
    conditions go into statements built once, not on every pull."""
    teams, territories, members = (_ids(postgres, n) for n in ("teams", "territories", "members"))
    return Scope(None, role, teams, territories, members)  # type: ignore[arg-type]


def _ids(postgres: bool, name: str):
    """A set of ids as a bind parameter (filled by `_scope_params`): on PostgreSQL one
    array (`= ANY`, see `scopes.in_ids`); SQLite has no arrays, so an expanding IN."""
    if postgres:
        return bindparam(name, type_=ARRAY(Customer.id.type))
    return bindparam(name, expanding=True)


def _scope_params(spec: ScopeSpec, prefix: str = "") -> dict[str, list[uuid.UUID]]:
    """The parameters of `_bound_scope` (`prefix` "was_": of `_log_statement`'s `was`)."""
    return {
        f"{prefix}territories": list(spec.territories),
        f"{prefix}members": list(spec.members),
        f"{prefix}teams": list(spec.teams),
    }


@functools.cache
def _visible_statement(postgres: bool, role: str, table: str) -> Select:
    """The records of `table` among the ids `ids` that a user of `role` sees, built once
    (see `_log_statement`)."""
    model = RECORD_MODELS[table]
    scope = _bound_scope(postgres, role)
    visible = scope.where(model)
    if issubclass(model, CustomerChild) and not scope.is_admin:
        # Scope.where's IN (the scope's customers) reads them all; this looks one up.
        visible = exists().where(Customer.id == model.customer_id, scope.customers_where())
    ids = in_ids(model.id, _ids(postgres, "ids"))
    if not postgres:
        # `IS 1` keeps SQLite from answering the scope's OR from its indexes, which
        # read every record of the scope, instead of looking up the page's ids.
        visible = visible.is_(True)
    return _fetching(model, select(model).where(ids, visible), postgres)


@functools.cache
def _log_statement(postgres: bool, role: str, held_more: bool) -> Select:
    """The read of the log after a position, for a user of `role`, built once.

    Its scope condition holds a dozen sub-selects and IN lists; building it on every
    pull cost more CPU than an empty pull's queries themselves, so the sets are
    bind parameters (`territories`, `members`, `teams` of the scope; `was_…` of what
    the device held, when it held more: `held_more`) filled by `Puller._log_params`.
    """
    return _log_rows(postgres, role, held_more, bound_log_between(postgres))


def _log_rows(postgres: bool, role: str, held_more: bool, bounds: list) -> Select:
    log = ChangeLogEntry
    conditions = list(bounds)
    if role != "admin":
        # What the device held: the scope itself (its parameters again) unless it held more.
        prefix = "was_" if held_more else ""
        names = ("territories", "members", "teams")
        was = ScopeSpec(*(_ids(postgres, prefix + n) for n in names))  # type: ignore[arg-type]
        conditions.append(_log_scope(_bound_scope(postgres, role), was))
    return (
        select(*LOG_COLUMNS)
        .where(*conditions)
        .order_by(log.txid, log.seq)
        .limit(bindparam("room", type_=Integer))
    )


def _log_scope(scope: Scope, was: ScopeSpec):
    """The log rows that may concern a user: of records visible now, and the moves
    of records out of what the device held (`was`: the scope, or the scope before
    it changed), which it must remove."""
    log = ChangeLogEntry
    # EXISTS, looked up per log row by primary key, not IN (a sub-select), which both
    # databases answer by first reading every record of the scope: a 10-change pull
    # cost as much as a scan of all the rep's customers.
    visible_customer = exists().where(Customer.id == log.customer_id, scope.customers_where())
    placed_before = or_(
        in_ids(log.prev_territory_id, was.territories), in_ids(log.prev_owner_id, was.members)
    )
    conditions = [
        and_(
            # Not IN: a list of values is rendered into the SQL again on every execution.
            or_(*(log.table_name == table for table in CUSTOMER_TABLES)),
            or_(visible_customer, placed_before),
        ),
        log.table_name == "products",
        and_(
            log.table_name == "users",
            or_(
                exists().where(User.id == log.record_id, scope.where(User)),
                in_ids(log.prev_team_id, was.teams),
            ),
        ),
    ]
    for model in (Territory, Team, RoutePlan):
        conditions.append(
            and_(
                log.table_name == model.__tablename__,
                exists().where(model.id == log.record_id, scope.where(model)),
            )
        )
    return or_(*conditions)


def _placed_in(spec: ScopeSpec):
    return or_(Customer.territory_id.in_(spec.territories), Customer.owner_id.in_(spec.members))


def _people_of(spec: ScopeSpec):
    """The users a scope sees through its members and teams (their members and managers)."""
    return or_(
        User.id.in_(spec.members),
        User.team_id.in_(spec.teams),
        User.id.in_(select(team_managers.c.user_id).where(team_managers.c.team_id.in_(spec.teams))),
    )


#: Per table whose records a scope can lose, which of them a partial scope (what the
#: device held of a lost part) covers.
_HELD_IN = {
    Territory: lambda spec: Territory.id.in_(spec.territories),
    Customer: _placed_in,
    RoutePlan: lambda spec: RoutePlan.rep_id.in_(spec.members),
    Team: lambda spec: Team.id.in_(spec.teams),
    User: _people_of,
}
