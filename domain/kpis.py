"""Sales KPIs on plain numbers: counts per rep, team sums, ratios, quotas (periods: `periods.py`).

No Flask and no database: `server/kpis/service.py` reads grouped counts with SQL
and hands them here as `RepCounts`; everything a number *means* is decided in
this module, so it can be unit-tested on hand-made rows.

Definitions (the API docs repeat them, one line each):

- Time: a period is a range of local days in the configured time zone,
  `[first 00:00, last + 1 day 00:00)`; instants are compared in UTC.
- `visits_planned`: visits (not deleted) with `planned_at` in the period, any status.
  They split exactly into `visits_planned_completed` (status completed),
  `visits_cancelled`, `visits_missed` (status missed, or still planned/in progress
  after their local day ended) and `visits_upcoming` (planned/in progress, today
  or later).
- `plan_adherence`: planned_completed ÷ (planned − upcoming); null when nothing
  was due yet.
- `visits_completed`: completed visits whose check-in time (or, with none, planned
  time) is in the period, planned or not.
- `verified_check_in_rate`: completed visits with `location_status` verified ÷
  completed visits with a check-in.
- `orders`: orders with status submitted (drafts and cancelled orders are not
  sales), not deleted, submitted in the period (`submitted_at`, else `created_at`),
  in the report currency; `revenue` is the exact sum of their totals.
- `average_order_value`: revenue ÷ orders, half-up to the cent; null with no orders.
- `conversion_rate`: completed visits with at least one submitted order linked by
  `visit_id` (any currency, any date) ÷ completed visits.
- Responsible customers: active and prospect customers (not deleted, created
  before the as-of instant) *owned* by the rep. Territory customers without an
  owner are nobody's (ownership keeps team sums free of double counting).
- `coverage`: responsible customers with a completed visit (by anyone) within
  their `visit_every_days` before the as-of instant ÷ responsible customers; the
  as-of instant is the period end, or now for a period not over yet.
- `overdue_customers`: the others, never seen first, then most overdue first;
  `days_overdue` = whole days since the last visit (rounded up) − visit_every_days.
- `new_customers`: customers (any status) owned by the rep created in the period.
- Quotas: a month's targets count in full for a period covering the whole month,
  prorated by days otherwise (revenue half-up to the cent, visits to a whole
  number); attainment = revenue ÷ revenue target and visits_completed ÷ visits
  target; null without a target (or a zero target, or a quota in another currency).
- Team row: sums of the reps' counts and ratios of those sums (never an average
  of ratios); its quota counts only reps with a quota.
- Rates are numbers in [0, 1] rounded to 4 places.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .periods import Period, Week, month_days, month_text
from .times import utc_iso

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: Overdue customers listed per row (the total is always given).
OVERDUE_LIMIT = 200
#: Customers whose visits are planned by frequency (leads are not due yet).
VISITED_STATUSES = ("active", "prospect")
#: The only order status that counts as a sale.
COUNTED_ORDER_STATUS = "submitted"

# -- visits ----------------------------------------------------------------------------


def planned_class(status: str, past_day: bool) -> str:
    """Where a visit planned in the period counts: completed, cancelled, missed or upcoming.

    `past_day`: its planned local day ended before now.
    """
    if status == "completed":
        return "completed"
    if status == "cancelled":
        return "cancelled"
    if status == "missed" or past_day:
        return "missed"
    return "upcoming"


def coverage_state(
    last_visit: datetime | None, every_days: int, as_of: datetime
) -> tuple[bool, int | None]:
    """(seen within the frequency, days overdue); days overdue is None when never seen."""
    if last_visit is None:
        return False, None
    since = as_of - last_visit
    if since <= timedelta(days=every_days):
        return True, 0
    return False, math.ceil(since / timedelta(days=1)) - every_days


# -- numbers ---------------------------------------------------------------------------


def ratio(part: int | Decimal, whole: int | Decimal) -> float | None:
    if not whole:
        return None
    return round(float(Decimal(part) / Decimal(whole)), 4)


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT, ROUND_HALF_UP))


def average(total: Decimal, count: int) -> Decimal | None:
    if not count:
        return None
    return (total / count).quantize(CENT, ROUND_HALF_UP)


# -- quotas ----------------------------------------------------------------------------


@dataclass
class Target:
    """Targets for a period (prorated from monthly quotas)."""

    revenue: Decimal = ZERO
    visits: int = 0
    currency: str | None = None
    months: list[dict[str, Any]] = field(default_factory=list)

    def __add__(self, other: Target) -> Target:
        currency = self.currency or other.currency
        if self.currency and other.currency and self.currency != other.currency:
            currency = "mixed"
        return Target(
            self.revenue + other.revenue,
            self.visits + other.visits,
            currency,
            self.months + other.months,
        )


def prorate(
    period: Period, quotas: Iterable[tuple[date, Decimal, int, str]]
) -> tuple[Target | None, list[str]]:
    """A rep's monthly quotas `(month, revenue, visits, currency)` -> the period's
    target (None without any quota) and the overlapped months without a quota."""
    by_month = {month: (revenue, visits, currency) for month, revenue, visits, currency in quotas}
    target: Target | None = None
    missing = []
    for month in period.months():
        if month not in by_month:
            missing.append(month_text(month))
            continue
        revenue, visits, currency = by_month[month]
        share = Decimal(period.days_in(month)) / Decimal(month_days(month))
        part = Target(
            (revenue * share).quantize(CENT, ROUND_HALF_UP),
            int((visits * share).quantize(Decimal(1), ROUND_HALF_UP)),
            currency,
            [
                {
                    "month": month_text(month),
                    "revenue_target": money(revenue),
                    "visits_target": visits,
                    "share": float(round(share, 4)),
                }
            ],
        )
        target = part if target is None else target + part
    return target, missing


# -- counts per rep and team -----------------------------------------------------------


@dataclass
class Overdue:
    customer_id: uuid.UUID
    name: str
    owner_id: uuid.UUID | None
    visit_every_days: int
    last_visit_at: datetime | None
    days_overdue: int | None

    def sort_key(self) -> tuple:
        # Never seen first, then the most overdue, then by name.
        return (
            self.days_overdue is not None,
            -(self.days_overdue or 0),
            self.name.casefold(),
            str(self.customer_id),
        )

    def as_json(self) -> dict[str, Any]:
        last = self.last_visit_at
        return {
            "id": str(self.customer_id),
            "name": self.name,
            "owner_id": str(self.owner_id) if self.owner_id else None,
            "visit_every_days": self.visit_every_days,
            "last_visit_at": utc_iso(last) if last else None,
            "days_overdue": self.days_overdue,
        }


@dataclass
class RepCounts:
    """Everything counted for one rep (or, summed, for a team) over a period."""

    visits_planned: int = 0
    visits_planned_completed: int = 0
    visits_cancelled: int = 0
    visits_missed: int = 0
    visits_upcoming: int = 0
    visits_completed: int = 0
    visits_checked_in: int = 0
    visits_verified: int = 0
    visits_converted: int = 0
    orders: int = 0
    revenue: Decimal = ZERO
    #: Submitted orders in other currencies than the report's: {currency: [count, total]}.
    other_currencies: dict[str, list] = field(default_factory=dict)
    customers_responsible: int = 0
    customers_covered: int = 0
    overdue: list[Overdue] = field(default_factory=list)
    new_customers: int = 0
    target: Target | None = None
    #: Actuals of the reps that have a target (what team attainment compares).
    targeted_revenue: Decimal = ZERO
    targeted_visits: int = 0
    missing_quota_months: list[str] = field(default_factory=list)

    def add_planned(self, status: str, past_day: bool, count: int) -> None:
        self.visits_planned += count
        kind = planned_class(status, past_day)
        attribute = "visits_planned_completed" if kind == "completed" else f"visits_{kind}"
        setattr(self, attribute, getattr(self, attribute) + count)

    def add_order_total(self, currency: str, report_currency: str, count: int, total: Decimal):
        if currency == report_currency:
            self.orders += count
            self.revenue += total
        else:
            entry = self.other_currencies.setdefault(currency, [0, ZERO])
            entry[0] += count
            entry[1] += total

    def set_target(self, target: Target | None, missing: list[str]) -> None:
        self.target = target
        self.missing_quota_months = missing
        if target is not None:
            self.targeted_revenue = self.revenue
            self.targeted_visits = self.visits_completed

    def __add__(self, other: RepCounts) -> RepCounts:
        total = RepCounts()
        for name in (
            "visits_planned",
            "visits_planned_completed",
            "visits_cancelled",
            "visits_missed",
            "visits_upcoming",
            "visits_completed",
            "visits_checked_in",
            "visits_verified",
            "visits_converted",
            "orders",
            "revenue",
            "customers_responsible",
            "customers_covered",
            "new_customers",
            "targeted_revenue",
            "targeted_visits",
        ):
            setattr(total, name, getattr(self, name) + getattr(other, name))
        for source in (self.other_currencies, other.other_currencies):
            for currency, (count, amount) in source.items():
                entry = total.other_currencies.setdefault(currency, [0, ZERO])
                entry[0] += count
                entry[1] += amount
        total.overdue = self.overdue + other.overdue
        if self.target is None or other.target is None:
            total.target = self.target or other.target
        else:
            total.target = self.target + other.target
        return total


def team_counts(reps: Iterable[RepCounts]) -> RepCounts:
    total = RepCounts()
    for counts in reps:
        total = total + counts
    return total


def quota_json(counts: RepCounts, report_currency: str, *, team: bool) -> dict[str, Any] | None:
    target = counts.target
    if target is None:
        return None
    same_currency = target.currency == report_currency
    revenue = counts.targeted_revenue if team else counts.revenue
    visits = counts.targeted_visits if team else counts.visits_completed
    body: dict[str, Any] = {
        "currency": target.currency,
        "revenue_target": money(target.revenue),
        "visits_target": target.visits,
        "revenue_attainment": ratio(revenue, target.revenue) if same_currency else None,
        "visits_attainment": ratio(visits, target.visits),
    }
    if not team:
        body["months"] = target.months
        body["missing_months"] = counts.missing_quota_months
    return body


def row_json(
    counts: RepCounts,
    report_currency: str,
    *,
    team: bool = False,
    overdue_limit: int = OVERDUE_LIMIT,
) -> dict[str, Any]:
    """The KPI numbers of one rep, or of a team (then quota compares reps with a quota)."""
    c = counts
    overdue = sorted(c.overdue, key=Overdue.sort_key)
    return {
        "visits_planned": c.visits_planned,
        "visits_planned_completed": c.visits_planned_completed,
        "visits_missed": c.visits_missed,
        "visits_cancelled": c.visits_cancelled,
        "visits_upcoming": c.visits_upcoming,
        "plan_adherence": ratio(c.visits_planned_completed, c.visits_planned - c.visits_upcoming),
        "visits_completed": c.visits_completed,
        "verified_check_in_rate": ratio(c.visits_verified, c.visits_checked_in),
        "orders": c.orders,
        "revenue": money(c.revenue),
        "average_order_value": money(average(c.revenue, c.orders)),
        "conversion_rate": ratio(c.visits_converted, c.visits_completed),
        "other_currencies": {
            currency: {"orders": count, "revenue": money(amount)}
            for currency, (count, amount) in sorted(c.other_currencies.items())
        },
        "customers_responsible": c.customers_responsible,
        "customers_covered": c.customers_covered,
        "coverage": ratio(c.customers_covered, c.customers_responsible),
        "overdue_total": len(overdue),
        "overdue_customers": [o.as_json() for o in overdue[:overdue_limit]],
        "new_customers": c.new_customers,
        "quota": quota_json(c, report_currency, team=team),
    }


@dataclass
class WeekCounts:
    visits_completed: int = 0
    orders: int = 0
    revenue: Decimal = ZERO


def trend_json(weeks: list[Week], counts: dict[int, WeekCounts]) -> list[dict[str, Any]]:
    """One entry per ISO week overlapping the period (clipped to it), in order."""
    rows = []
    for index, week in enumerate(weeks):
        c = counts.get(index, WeekCounts())
        rows.append(
            {
                "week_start": week.week_start.isoformat(),
                "from": week.first.isoformat(),
                "to": week.last.isoformat(),
                "visits_completed": c.visits_completed,
                "orders": c.orders,
                "revenue": money(c.revenue),
            }
        )
    return rows


def iter_weeks_bounds(weeks: list[Week]) -> Iterator[datetime]:
    """The UTC instants where a new week starts (after the first)."""
    for week in weeks[1:]:
        yield week.start
