"""Reads what the KPIs count, with grouped SQL, and hands it to `domain.kpis`.

Visits and orders are counted by their `rep_id` (the rep who made them), with
one GROUP BY query each (per rep, status and week), so a month of a team's
activity costs a handful of queries whatever its size. Week buckets are a CASE
over the weeks' UTC boundaries, which keeps local-time bucketing exact on both
SQLite and PostgreSQL without time-zone functions in SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Numeric, case, cast, func, literal, select
from sqlalchemy.orm import Session

from domain import kpis, periods
from domain.kpis import Overdue, Period, RepCounts, WeekCounts
from domain.models import Customer, Order, Quota, Team, User, Visit
from domain.times import as_utc, parse_iso, utc_iso
from sync import Forbidden, NotFound, Scope


@dataclass(frozen=True)
class RepRow:
    id: uuid.UUID
    name: str
    team_id: uuid.UUID | None


def reps_in_scope(
    session: Session,
    scope: Scope,
    team_id: uuid.UUID | None = None,
    rep_id: uuid.UUID | None = None,
) -> list[RepRow]:
    """The reps the caller may report on, narrowed by team and rep (404 outside scope).

    A rep: only themselves; a manager: the reps of their teams; an admin: every rep.
    Deactivated reps are included (their history still counts); deleted ones are not.
    """
    if team_id is not None:
        known = session.scalar(select(Team.id).where(Team.id == team_id, Team.deleted_at.is_(None)))
        visible = scope.is_admin or team_id in scope.team_ids
        if known is None or not visible:
            raise NotFound("No team with this id.")
    query = select(User.id, User.name, User.team_id).where(
        User.role == "rep", User.deleted_at.is_(None)
    )
    if scope.is_rep:
        query = query.where(User.id == scope.user_id)
    elif scope.is_manager:
        query = query.where(User.team_id.in_(scope.team_ids))
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    if rep_id is not None:
        query = query.where(User.id == rep_id)
    rows = [RepRow(*row) for row in session.execute(query.order_by(User.sort_key, User.id))]
    if rep_id is not None and not rows:
        raise NotFound("No rep with this id.")
    return rows


def _money_sum(session: Session, column) -> Any:
    """An exact SUM of a Money column: NUMERIC on PostgreSQL, integer cents on SQLite
    (where amounts are stored as text and a plain SUM would go through floats)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.sum(cast(func.round(cast(column, Numeric) * 100), Integer))
    return func.sum(cast(column, Numeric(18, 2)))


def _money_value(session: Session, value) -> Decimal:
    if value is None:
        return kpis.ZERO
    if session.get_bind().dialect.name == "sqlite":
        return (Decimal(int(value)) / 100).quantize(kpis.CENT)
    return Decimal(value).quantize(kpis.CENT)


def _bucket(column, weeks: list[periods.Week]):
    """The index of the week `column` falls in (the period's weeks, in order)."""
    bounds = list(kpis.iter_weeks_bounds(weeks))
    if not bounds:
        return literal(0)
    return case(*[(column < bound, index) for index, bound in enumerate(bounds)], else_=len(bounds))


def _visit_time():
    return func.coalesce(Visit.check_in_at, Visit.planned_at)


def _order_time():
    return func.coalesce(Order.submitted_at, Order.created_at)


def compute(
    session: Session,
    reps: list[RepRow],
    period: Period,
    now: datetime,
    currency: str = "VND",
) -> tuple[dict[uuid.UUID, RepCounts], dict[int, WeekCounts]]:
    """Counts per rep and the team's counts per week of the period: one query per kind."""
    ids = [r.id for r in reps]
    counts = {r.id: RepCounts() for r in reps}
    weekly: dict[int, WeekCounts] = {}
    if not ids:
        return counts, weekly
    _planned_visits(session, ids, counts, period, now)
    _completed_visits(session, ids, counts, weekly, period)
    _submitted_orders(session, ids, counts, weekly, period, currency)
    _coverage(session, ids, counts, min(period.end, now))
    _new_customers(session, ids, counts, period)
    _quotas(session, ids, counts, period)
    return counts, weekly


def _planned_visits(
    session: Session,
    ids: list[uuid.UUID],
    counts: dict[uuid.UUID, RepCounts],
    period: Period,
    now: datetime,
) -> None:
    """Visits planned in the period, by status and whether their day is over."""
    today_start = period.local_midnight(now.astimezone(period.zone).date())
    past = case((Visit.planned_at < today_start, 1), else_=0)
    for rep_id, status, is_past, count in session.execute(
        select(Visit.rep_id, Visit.status, past, func.count())
        .where(
            Visit.rep_id.in_(ids),
            Visit.deleted_at.is_(None),
            Visit.planned_at >= period.start,
            Visit.planned_at < period.end,
        )
        .group_by(Visit.rep_id, Visit.status, past)
    ):
        counts[rep_id].add_planned(status, bool(is_past), count)


def _completed_visits(
    session: Session,
    ids: list[uuid.UUID],
    counts: dict[uuid.UUID, RepCounts],
    weekly: dict[int, WeekCounts],
    period: Period,
) -> None:
    """Completed visits in the period, by week: check-ins, verified, converted."""
    when = _visit_time()
    week = _bucket(when, period.weeks())
    converted = (
        select(Order.id)
        .where(
            Order.visit_id == Visit.id,
            Order.status == kpis.COUNTED_ORDER_STATUS,
            Order.deleted_at.is_(None),
        )
        .exists()
    )
    for rep_id, index, done, checked_in, verified, sold in session.execute(
        select(
            Visit.rep_id,
            week,
            func.count(),
            func.count(Visit.check_in_at),
            func.sum(case((Visit.location_status == "verified", 1), else_=0)),
            func.sum(case((converted, 1), else_=0)),
        )
        .where(
            Visit.rep_id.in_(ids),
            Visit.deleted_at.is_(None),
            Visit.status == "completed",
            when >= period.start,
            when < period.end,
        )
        .group_by(Visit.rep_id, week)
    ):
        c = counts[rep_id]
        c.visits_completed += done
        c.visits_checked_in += checked_in
        c.visits_verified += int(verified or 0)
        c.visits_converted += int(sold or 0)
        weekly.setdefault(index, WeekCounts()).visits_completed += done


def _submitted_orders(
    session: Session,
    ids: list[uuid.UUID],
    counts: dict[uuid.UUID, RepCounts],
    weekly: dict[int, WeekCounts],
    period: Period,
    currency: str,
) -> None:
    """Submitted orders in the period, by currency and week (other currencies kept apart)."""
    when = _order_time()
    week = _bucket(when, period.weeks())
    for rep_id, order_currency, index, count, total in session.execute(
        select(Order.rep_id, Order.currency, week, func.count(), _money_sum(session, Order.total))
        .where(
            Order.rep_id.in_(ids),
            Order.deleted_at.is_(None),
            Order.status == kpis.COUNTED_ORDER_STATUS,
            when >= period.start,
            when < period.end,
        )
        .group_by(Order.rep_id, Order.currency, week)
    ):
        amount = _money_value(session, total)
        counts[rep_id].add_order_total(order_currency, currency, count, amount)
        if order_currency == currency:
            bucket = weekly.setdefault(index, WeekCounts())
            bucket.orders += count
            bucket.revenue += amount


def _new_customers(
    session: Session, ids: list[uuid.UUID], counts: dict[uuid.UUID, RepCounts], period: Period
) -> None:
    for owner_id, count in session.execute(
        select(Customer.owner_id, func.count())
        .where(
            Customer.owner_id.in_(ids),
            Customer.deleted_at.is_(None),
            Customer.created_at >= period.start,
            Customer.created_at < period.end,
        )
        .group_by(Customer.owner_id)
    ):
        counts[owner_id].new_customers = count


def _quotas(
    session: Session, ids: list[uuid.UUID], counts: dict[uuid.UUID, RepCounts], period: Period
) -> None:
    """Each rep's monthly targets, prorated to the period."""
    quotas: dict[uuid.UUID, list[tuple[date, Decimal, int, str]]] = {i: [] for i in ids}
    for q in session.execute(
        select(
            Quota.rep_id, Quota.month, Quota.revenue_target, Quota.visits_target, Quota.currency
        ).where(Quota.rep_id.in_(ids), Quota.month.in_(period.months()))
    ):
        quotas[q.rep_id].append((q.month, q.revenue_target, q.visits_target, q.currency))
    for rep_id, c in counts.items():
        c.set_target(*kpis.prorate(period, quotas[rep_id]))


def _coverage(
    session: Session, ids: list[uuid.UUID], counts: dict[uuid.UUID, RepCounts], as_of: datetime
) -> None:
    """Responsible customers, those seen within their frequency, and the overdue ones."""
    when = _visit_time()
    responsible = (
        Customer.owner_id.in_(ids),
        Customer.deleted_at.is_(None),
        Customer.status.in_(kpis.VISITED_STATUSES),
        Customer.created_at < as_of,
    )
    last_seen = (
        select(Visit.customer_id, func.max(when).label("last"))
        .join(Customer, Customer.id == Visit.customer_id)
        .where(
            *responsible,
            Visit.deleted_at.is_(None),
            Visit.status == "completed",
            when < as_of,
        )
        .group_by(Visit.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Customer.id,
            Customer.name,
            Customer.owner_id,
            Customer.visit_every_days,
            last_seen.c.last,
        )
        .outerjoin(last_seen, last_seen.c.customer_id == Customer.id)
        .where(*responsible)
    )
    for id_, name, owner_id, every, last in rows:
        if isinstance(last, str):  # in case a driver hands back max() untyped
            last = parse_iso(last)
        elif last is not None:
            last = as_utc(last)
        c = counts[owner_id]
        c.customers_responsible += 1
        covered, days = kpis.coverage_state(last, every, as_of)
        if covered:
            c.customers_covered += 1
        else:
            c.overdue.append(Overdue(id_, name, owner_id, every, last, days))


def report(
    session: Session,
    reps: list[RepRow],
    period: Period,
    now: datetime,
    *,
    currency: str = "VND",
    team_id: uuid.UUID | None = None,
    overdue_limit: int = kpis.OVERDUE_LIMIT,
) -> dict[str, Any]:
    """The KPI response: period, totals, per-team and per-rep rows, weekly trend."""
    counts, weekly = compute(session, reps, period, now, currency)
    team_names = dict(
        session.execute(
            select(Team.id, Team.name).where(Team.id.in_({r.team_id for r in reps if r.team_id}))
        ).all()
    )
    rows = []
    by_team: dict[uuid.UUID | None, list[RepCounts]] = {}
    for rep in reps:
        by_team.setdefault(rep.team_id, []).append(counts[rep.id])
        rows.append(
            {
                "rep_id": str(rep.id),
                "name": rep.name,
                "team_id": str(rep.team_id) if rep.team_id else None,
                **kpis.row_json(counts[rep.id], currency, overdue_limit=overdue_limit),
            }
        )
    teams = [
        {
            "team_id": str(tid) if tid else None,
            "name": team_names.get(tid),
            "reps": len(members),
            **kpis.row_json(
                kpis.team_counts(members), currency, team=True, overdue_limit=overdue_limit
            ),
        }
        for tid, members in sorted(
            by_team.items(), key=lambda item: (team_names.get(item[0]) or "", str(item[0]))
        )
    ]
    total = kpis.team_counts(counts.values())
    as_of = min(period.end, now)
    return {
        "period": {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "timezone": period.zone.key,
            "days": period.days,
            "as_of": utc_iso(as_of),
        },
        "currency": currency,
        "team": {
            "team_id": str(team_id) if team_id else None,
            "reps": len(reps),
            **kpis.row_json(total, currency, team=True, overdue_limit=overdue_limit),
        },
        "teams": teams,
        "reps": rows,
        "trend": kpis.trend_json(period.weeks(), weekly),
    }


# -- quotas ----------------------------------------------------------------------------


def quota_json(quota: Quota) -> dict[str, Any]:
    return {
        "rep_id": str(quota.rep_id),
        "month": periods.month_text(quota.month),
        "revenue_target": kpis.money(quota.revenue_target),
        "visits_target": quota.visits_target,
        "currency": quota.currency,
        "updated_at": utc_iso(quota.updated_at),
        "updated_by": str(quota.updated_by) if quota.updated_by else None,
    }


def list_quotas(
    session: Session,
    scope: Scope,
    month: date | None = None,
    team_id: uuid.UUID | None = None,
    rep_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    reps = reps_in_scope(session, scope, team_id, rep_id)
    query = select(Quota).where(Quota.rep_id.in_([r.id for r in reps]))
    if month is not None:
        query = query.where(Quota.month == month)
    names = {r.id: r.name for r in reps}
    found = session.scalars(query).all()
    found = sorted(found, key=lambda q: (q.month, names[q.rep_id].casefold(), str(q.rep_id)))
    return [quota_json(q) for q in found]


def _writable_rep(session: Session, scope: Scope, rep_id: uuid.UUID) -> RepRow:
    if scope.is_rep:
        raise Forbidden("Only managers and admins set quotas.")
    return reps_in_scope(session, scope, rep_id=rep_id)[0]


def put_quota(
    session: Session,
    scope: Scope,
    rep_id: uuid.UUID,
    month: date,
    values: dict[str, Any],
    now: datetime,
) -> tuple[Quota, bool]:
    """Create or replace a rep's quota for a month; (quota, created)."""
    _writable_rep(session, scope, rep_id)
    quota = session.scalar(select(Quota).where(Quota.rep_id == rep_id, Quota.month == month))
    created = quota is None
    if created:
        quota = Quota(rep_id=rep_id, month=month, created_at=now)
        session.add(quota)
    quota.revenue_target = values["revenue_target"]
    quota.visits_target = values["visits_target"]
    quota.currency = values.get("currency") or "VND"
    quota.updated_at = now
    quota.updated_by = scope.user_id
    session.flush()
    return quota, created


def delete_quota(session: Session, scope: Scope, rep_id: uuid.UUID, month: date) -> None:
    _writable_rep(session, scope, rep_id)
    quota = session.scalar(select(Quota).where(Quota.rep_id == rep_id, Quota.month == month))
    if quota is None:
        raise NotFound("No quota for this rep and month.")
    session.delete(quota)
    session.flush()
