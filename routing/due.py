"""Which customers a rep should see on a day, most urgent first.

A customer is due when `visit_every_days` have passed since its last visit
(never visited: due now). The overdue ratio (days since the last visit ÷
frequency) ranks them, tier breaking ties; planned visits and tasks due that
day are always included. Customers without coordinates are returned as
`needs_location`, never silently dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

TIER_WEIGHT = {"A": 3, "B": 2, "C": 1}
#: Ratio given to customers never visited: as urgent as a visit one cycle late.
NEVER_VISITED_RATIO = 2.0


@dataclass(frozen=True)
class CustomerFacts:
    id: uuid.UUID
    tier: str
    visit_every_days: int
    last_visit_at: datetime | None
    lat: float | None
    lon: float | None
    status: str = "active"


@dataclass(frozen=True)
class DueCustomer:
    id: uuid.UUID
    #: Days since the last visit ÷ frequency: 1.0 = due today, 1.5 = half a cycle late.
    overdue_ratio: float
    tier: str
    reasons: tuple[str, ...]
    #: 0-100 for the solver: overdue A-tier first.
    priority: int


@dataclass
class DueList:
    due: list[DueCustomer] = field(default_factory=list)
    needs_location: list[uuid.UUID] = field(default_factory=list)


def overdue_ratio(customer: CustomerFacts, day: date) -> float:
    if customer.last_visit_at is None:
        return NEVER_VISITED_RATIO
    days = (day - customer.last_visit_at.date()).days
    return max(days, 0) / max(customer.visit_every_days, 1)


def priority(ratio: float, tier: str) -> int:
    """Map urgency to VROOM's 0-100 priority: ratio dominates, tier breaks ties."""
    return min(100, int(min(ratio, 3.0) * 25) + TIER_WEIGHT.get(tier, 1) * 8)


def due_customers(
    customers: Iterable[CustomerFacts],
    day: date,
    *,
    planned: Iterable[uuid.UUID] = (),
    tasks_due: Iterable[uuid.UUID] = (),
) -> DueList:
    planned, tasks_due = set(planned), set(tasks_due)
    result = DueList()
    for customer in customers:
        if customer.status == "inactive" and customer.id not in planned:
            continue
        ratio = overdue_ratio(customer, day)
        reasons = []
        if ratio > 1.0:
            reasons.append("overdue")
        elif ratio == 1.0:
            reasons.append("due")
        if customer.id in planned:
            reasons.append("planned")
        if customer.id in tasks_due:
            reasons.append("task_due")
        if not reasons:
            continue
        if customer.lat is None or customer.lon is None:
            result.needs_location.append(customer.id)
            continue
        result.due.append(
            DueCustomer(
                customer.id,
                round(ratio, 3),
                customer.tier,
                tuple(reasons),
                priority(ratio, customer.tier),
            )
        )
    result.due.sort(key=lambda d: (-d.overdue_ratio, -TIER_WEIGHT.get(d.tier, 1), str(d.id)))
    return result
