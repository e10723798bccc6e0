"""Which customers are due on a day: frequency boundaries, ranking, missing coordinates."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from routing.due import CustomerFacts, due_customers, overdue_ratio, priority

DAY = date(2026, 11, 23)


def customer(days_ago: int | None, every: int = 7, tier: str = "B", **extra) -> CustomerFacts:
    last = (
        None
        if days_ago is None
        else datetime(2026, 11, 23, 9, tzinfo=UTC) - timedelta(days=days_ago)
    )
    values = {"lat": 10.77, "lon": 106.70, **extra}
    return CustomerFacts(
        uuid.uuid4(),
        tier,
        every,
        last,
        values["lat"],
        values["lon"],
        values.get("status", "active"),
    )


def test_frequency_boundaries():
    not_yet, due, overdue = customer(6), customer(7), customer(8)
    result = due_customers([not_yet, due, overdue], DAY)
    by_id = {d.id: d for d in result.due}
    assert not_yet.id not in by_id
    assert by_id[due.id].reasons == ("due",) and by_id[due.id].overdue_ratio == 1.0
    assert by_id[overdue.id].reasons == ("overdue",)
    assert overdue_ratio(overdue, DAY) == 8 / 7


def test_most_overdue_first_then_tier():
    a_late = customer(14, tier="A")  # ratio 2.0
    c_later = customer(30, every=10, tier="C")  # ratio 3.0
    b_due = customer(7, tier="B")  # ratio 1.0
    a_due = customer(7, tier="A")  # ratio 1.0
    order = [d.id for d in due_customers([b_due, a_late, a_due, c_later], DAY).due]
    assert order == [c_later.id, a_late.id, a_due.id, b_due.id]


def test_never_visited_is_due_and_priorities_rank_urgency():
    fresh = customer(None)
    [item] = due_customers([fresh], DAY).due
    assert item.reasons == ("overdue",)
    assert priority(2.0, "A") > priority(2.0, "C") > priority(1.0, "C")
    assert 0 <= priority(50.0, "A") <= 100


def test_planned_visits_and_tasks_are_always_included():
    planned, tasked, neither = customer(1), customer(2), customer(3)
    result = due_customers(
        [planned, tasked, neither], DAY, planned=[planned.id], tasks_due=[tasked.id]
    )
    reasons = {d.id: d.reasons for d in result.due}
    assert reasons == {planned.id: ("planned",), tasked.id: ("task_due",)}


def test_customers_without_coordinates_are_listed_not_dropped():
    lost = customer(30, lat=None, lon=None)
    result = due_customers([lost], DAY)
    assert result.due == [] and result.needs_location == [lost.id]


def test_inactive_customers_only_when_planned():
    inactive = customer(30, status="inactive")
    assert due_customers([inactive], DAY).due == []
    assert [d.id for d in due_customers([inactive], DAY, planned=[inactive.id]).due] == [
        inactive.id
    ]
