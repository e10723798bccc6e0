"""The history window: which visits and orders a phone holds (ADR 0024).

A phone holds what a rep works with, not every visit and order ever made in
its scope. A visit or an order is *held* when it is not deleted and
- it is open: a visit not completed, cancelled or missed; an order still a
  draft (orders have no delivery status: once submitted, they are done), or
- its date is on or after the window's edge: a visit's check-in (else its
  planned time, else its creation), an order's submission (else its
  creation), or
- it is among the last `n` closed records of its table at its customer (by
  date, then id), so that a customer's card shows recent history however long
  ago it was made.

The edge is a UTC midnight, `days` before today, so it moves once a day. A
cursor remembers the window it was served for; when the edge moves (or the
settings change) the next pull walks what crossed it (`Puller`). A record that
leaves or enters the last `n` because a sibling was written gets a change-log
row of kind `window` (`log_rank_crossings`), which the pull judges like any
other: `put` when held, `remove` when not.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, true
from sqlalchemy.orm import Session

from domain.models import CLOSED_VISIT_STATUSES, ChangeLogEntry, Order, SyncedRecord, Visit
from domain.times import as_utc

from . import settings

#: Order statuses after which an order is no longer open (nothing tracks delivery).
CLOSED_ORDER_STATUSES = ("submitted", "cancelled")
#: The tables the window applies to.
WINDOWED: tuple[type[SyncedRecord], ...] = (Visit, Order)
#: Per table, the fields whose change can move a record in or out of its customer's last n.
_RANK_FIELDS = {
    Visit: frozenset({"status", "customer_id", "check_in_at", "planned_at"}),
    Order: frozenset({"status", "customer_id", "submitted_at"}),
}
#: Customers whose records are ranked: a query of their ids, a list, or None for all.
Customers = Select | list[uuid.UUID] | None
#: The `kind` of a change-log row that only asks pulls to judge a record again.
WINDOW_KIND = "window"


@dataclass(frozen=True)
class Window:
    """What a device holds of visits and orders: `edge` None means all of them."""

    edge: datetime | None
    last_n: int = 0

    ALL: ClassVar[Window]

    @classmethod
    def of(cls, role: str, now: datetime) -> Window:
        """The window of a user of this role today (per the settings)."""
        config = settings.current()
        days = config.window_days(role)
        if days <= 0:
            return cls.ALL
        return cls(edge_of(now, days), config.window_last_n)

    def to_json(self) -> list[int] | None:
        if self.edge is None:
            return None
        return [(self.edge.date() - _EPOCH).days, self.last_n]

    @classmethod
    def from_json(cls, data: list[int] | None) -> Window:
        if data is None:
            return cls.ALL
        day, last_n = (int(x) for x in data)
        if not (0 <= day <= 3_000_000 and 0 <= last_n <= 10_000):
            raise ValueError("window out of range")
        return cls(datetime.combine(_EPOCH + timedelta(days=day), time(), UTC), last_n)


Window.ALL = Window(None, 0)
_EPOCH = date(1970, 1, 1)


def edge_of(now: datetime, days: int) -> datetime:
    """UTC midnight `days` before `now`'s day: the edge moves once a day."""
    day = as_utc(now).date() - timedelta(days=days)
    return datetime.combine(max(day, date(1, 1, 2)), time(), UTC)


def is_open(model: type[SyncedRecord]) -> ColumnElement[bool]:
    return model.status.not_in(_closed_statuses(model))


#: Per table, the fields whose first one set dates a record for the window.
_DATE_FIELDS = {
    Visit: ("check_in_at", "planned_at", "created_at"),
    Order: ("submitted_at", "created_at"),
}


def dated(model: type[SyncedRecord]) -> ColumnElement[datetime]:
    """When the record happened, for the window."""
    return func.coalesce(*(getattr(model, name) for name in _DATE_FIELDS[model]))


def _date_of(model: type[SyncedRecord], value: Callable[[str], Any]) -> Any:
    """`dated` in Python: the first date set, `value(field)` reading each field."""
    return next((when for when in map(value, _DATE_FIELDS[model]) if when), None)


def open_or_recent(table: str, record: dict, edge: str) -> bool:
    """Held whatever its rank: open, or dated on or after `edge` (ISO text, as in the JSON).

    The same rule as `is_open` and `dated`, read from a record's JSON: a pull decides
    most records of a page without asking the database.
    """
    model = Visit if table == "visits" else Order
    if record["status"] not in _closed_statuses(model):
        return True
    return _date_of(model, record.get) >= edge


def latest_closed(model: type[SyncedRecord], last_n: int, customers: Customers) -> Select:
    """Ids of the last `last_n` closed records per customer (of `customers`; None: all)."""
    rank = (
        func.row_number()
        .over(partition_by=model.customer_id, order_by=(dated(model).desc(), model.id.desc()))
        .label("rank")
    )
    ranked = select(model.id, rank).where(model.deleted_at.is_(None), not_(is_open(model)))
    if customers is not None:
        ranked = ranked.where(model.customer_id.in_(customers))
    ranked = ranked.subquery()
    return select(ranked.c.id).where(ranked.c.rank <= last_n)


def held(model: type[SyncedRecord], window: Window, customers: Customers) -> ColumnElement:
    """The records of `model` a device holds under `window` (deleted ones aside).

    `customers`: the customers whose records are asked about (it bounds the ranking).
    """
    if window.edge is None:
        return true()
    conditions = [is_open(model), dated(model) >= window.edge]
    if window.last_n > 0:
        conditions.append(model.id.in_(latest_closed(model, window.last_n, customers)))
    return or_(*conditions)


def crossed(
    model: type[SyncedRecord], before: Window, now: Window, customers: Customers
) -> tuple[ColumnElement | None, bool]:
    """What a device may hold wrongly after its window moved from `before` to `now`:
    (condition, whether any of it may need a `put`). None: nothing.

    - The edge moved forward, same `last_n` (the daily case): the closed records
      dated between the two edges that are not among the last n; each is removed.
    - The device held everything (before this feature, or no window): whatever is not
      held now; each is removed.
    - Otherwise (a longer window, another `last_n`, no window any more): the closed
      records dated before the later of the two edges, whose standing was or is
      decided by rank; each is sent again (`put`) when held, else removed.
    """
    if before == now:
        return None, False
    if before.edge is None:
        if now.edge is None:
            return None, False
        return not_(held(model, now, customers)), False
    closed = not_(is_open(model))
    if now.edge is not None and now.last_n == before.last_n and now.edge >= before.edge:
        in_between = and_(closed, dated(model) >= before.edge, dated(model) < now.edge)
        if now.last_n <= 0:
            return in_between, False
        return and_(in_between, model.id.not_in(latest_closed(model, now.last_n, customers))), False
    newest = before.edge if now.edge is None else max(before.edge, now.edge)
    return and_(closed, dated(model) < newest), True


def log_rank_crossings(session: Session, record: SyncedRecord, before: dict, now: datetime) -> None:
    """After a write of a visit or order: log each sibling that entered or left its
    customer's last n (a `window` row), so that pulls judge it again.

    One query per customer touched: the last n + 1 closed records after the write. The
    ranking before it is the same list with the record put back as it was (a write
    moves no other record), so only true crossings are logged. Records dated after
    every device's edge are held by date wherever they rank, and the daily walk judges
    them when the edge passes them: they need no row, which spares the common case (a
    customer visited often).
    """
    config = settings.current()
    model = type(record)
    n = config.window_last_n
    if n <= 0 or not _rank_may_change(record, before):
        return
    days = [d for d in (config.window_days(r) for r in ("rep", "manager", "admin")) if d > 0]
    if not days:
        return
    # The latest edge any device can have now (a day's margin for clocks).
    latest_edge = edge_of(now + timedelta(days=1), min(days))
    was = _as_it_was(record, before)
    for customer_id in {record.customer_id, before.get("customer_id")} - {None}:
        rows = session.execute(
            select(model.id, dated(model))
            .where(
                model.customer_id == customer_id,
                model.deleted_at.is_(None),
                not_(is_open(model)),
            )
            .order_by(dated(model).desc(), model.id.desc())
            .limit(n + 1)
        ).all()
        ranked = [(as_utc(when), rid.hex, rid) for rid, when in rows]
        after = {rid for _, _, rid in ranked[:n]}
        others = [entry for entry in ranked if entry[2] != record.id]
        if was is not None and was[0] == customer_id:
            others.append((was[1], record.id.hex, record.id))
        others.sort(reverse=True)
        before_n = {rid for _, _, rid in others[:n]}
        for when, _, rid in ranked + others:
            if rid != record.id and (rid in after) != (rid in before_n) and when < latest_edge:
                session.add(
                    ChangeLogEntry(
                        table_name=model.__tablename__,
                        record_id=rid,
                        kind=WINDOW_KIND,
                        customer_id=customer_id,
                        changed_at=now,
                    )
                )
                after.discard(rid)
                before_n.discard(rid)


def _as_it_was(record: SyncedRecord, before: dict) -> tuple[object, datetime] | None:
    """(customer, date) of the record before this write, if it was then a closed,
    not deleted record; None otherwise (created now, or open)."""
    created = record.version == 1 and record.deleted_at is None
    if created:
        return None

    def old(field: str):
        return before[field] if field in before else getattr(record, field)

    if old("status") not in _closed_statuses(type(record)):
        return None
    return old("customer_id"), as_utc(_date_of(type(record), old))


def _rank_may_change(record: SyncedRecord, before: dict) -> bool:
    """A create or delete of a closed record, or a change of its status, date or customer."""
    if not before:  # created, or deleted
        return record.status in _closed_statuses(type(record))
    return bool(before.keys() & _RANK_FIELDS[type(record)])


def _closed_statuses(model: type[SyncedRecord]) -> tuple[str, ...]:
    return CLOSED_VISIT_STATUSES if model is Visit else CLOSED_ORDER_STATUSES
