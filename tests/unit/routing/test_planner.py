"""The planner's promises, checked independently on random days, weeks and teams."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from routing.matrix import GreatCircleProvider
from routing.planner import (
    WEEKDAYS,
    DayPlan,
    Place,
    PlannedLunch,
    PlannedStop,
    Visitable,
    WorkDay,
    opening_windows,
    plan,
    plan_day,
)
from routing.solver import Lunch

PROVIDER = GreatCircleProvider()
MONDAY = date(2026, 11, 23)
HOME = Place(10.78, 106.69)
LUNCH = Lunch(11 * 3600 + 1800, 13 * 3600, 45 * 60)
HOURS = (
    None,
    {d: [["07:30", "11:30"], ["13:30", "18:00"]] for d in WEEKDAYS[:6]},
    {d: [["09:00", "12:00"]] for d in WEEKDAYS[:5]},
    {"mon": [["14:00", "17:00"]], "thu": [["08:00", "10:00"]]},
)


def shops(seed: int, count: int, **extra) -> list[Visitable]:
    rng = random.Random(seed)
    return [
        Visitable(
            f"c{n}",
            Place(10.76 + rng.uniform(-0.04, 0.04), 106.68 + rng.uniform(-0.04, 0.04)),
            rng.choice((10, 20, 30, 45)),
            rng.choice(HOURS),
            rng.randint(0, 100),
            **extra,
        )
        for n in range(count)
    ]


def workday(day: date = MONDAY, rep: str = "r1", **extra) -> WorkDay:
    values = {"start_s": 8 * 3600, "end_s": 17 * 3600 + 1800, "lunch": LUNCH, **extra}
    return WorkDay(rep, day, HOME, HOME, **values)


def check(day_plan: DayPlan, customers: list[Visitable]) -> None:
    """Independent check: shift, opening hours, lunch, and every leg of the timeline adds up.

    Each step (visit or lunch break) arrives at the previous departure plus its
    travel, which is the matrix's from the previous place; a visit's waiting
    never holds the lunch break.
    """
    work, by_id = day_plan.work, {c.id: c for c in customers}
    assert day_plan.depart_s >= work.start_s
    clock, here = day_plan.depart_s, work.start
    timeline = day_plan.timeline()
    breaks = [s for s in timeline if isinstance(s, PlannedLunch)]
    assert [s for s in timeline if isinstance(s, PlannedStop)] == day_plan.stops
    assert len(breaks) <= 1
    if work.lunch and day_plan.stops:
        assert len(breaks) == 1
    if breaks:
        lunch = breaks[0]
        assert work.lunch is not None
        assert work.lunch.earliest_s <= lunch.start_s <= work.lunch.latest_s
        assert lunch.service_s == work.lunch.duration_s
        assert day_plan.lunch_s == (lunch.start_s, lunch.departure_s)
    else:
        assert day_plan.lunch_s is None
    for step in timeline:
        matrix = PROVIDER.matrix([(here.lat, here.lon), (step.place.lat, step.place.lon)])
        assert (step.travel_s, step.distance_m) == (matrix.seconds[0][1], matrix.metres[0][1])
        assert step.arrival_s == clock + step.travel_s
        assert step.waiting_s >= 0
        begins = step.arrival_s + step.waiting_s
        if isinstance(step, PlannedStop):
            customer = by_id[step.customer_id]
            assert step.service_s == customer.visit_minutes * 60
            windows = opening_windows(customer.opening_hours, work.day)
            if windows is not None:
                assert any(w.start_s <= begins <= w.end_s for w in windows), step
        clock, here = step.departure_s, step.place
    home = PROVIDER.matrix([(here.lat, here.lon), (work.end.lat, work.end.lon)])
    assert day_plan.end_travel_s == home.seconds[0][1]
    assert day_plan.end_s == clock + day_plan.end_travel_s
    assert day_plan.end_s <= work.end_s
    assert day_plan.total_travel_s == sum(s.travel_s for s in timeline) + day_plan.end_travel_s
    if work.max_stops is not None:
        assert len(day_plan.stops) <= work.max_stops


@pytest.mark.parametrize("seed", range(6))
def test_random_days_keep_every_constraint(seed):
    customers = shops(seed, 30)
    day = workday(MONDAY + timedelta(days=seed % 5))
    result = plan_day(day, customers, PROVIDER, time_limit_s=0.5)
    check(result, customers)
    served = {s.customer_id for s in result.stops}
    assert served.isdisjoint(c for c, _ in result.unassigned)
    assert served | {c for c, _ in result.unassigned} == {c.id for c in customers}
    assert len(served) >= 8


def test_locked_stops_keep_their_order_and_the_rest_follows():
    customers = shops(11, 20)
    open_all_day = [c for c in customers if c.opening_hours is None][:3]
    locked = [c.id for c in reversed(open_all_day)]
    result = plan_day(workday(), customers, PROVIDER, locked=locked, time_limit_s=0.5)
    assert [s.customer_id for s in result.stops[:3]] == locked
    assert all(s.locked for s in result.stops[:3]) and not result.stops[3].locked
    check(result, customers)


def test_each_reason_for_leaving_a_customer_out():
    anywhere = Place(10.78, 106.70)
    customers = [
        Visitable("closed", anywhere, 20, {"sun": [["08:00", "12:00"]]}),
        Visitable("evening", anywhere, 20, {"mon": [["18:30", "21:00"]]}),
        Visitable("long", anywhere, 600),
        *[Visitable(f"busy{n}", anywhere, 150, None, priority=n) for n in range(6)],
    ]
    result = plan_day(workday(), customers, PROVIDER, time_limit_s=0.5)
    reasons = dict(result.unassigned)
    assert reasons["closed"] == "closed_that_day"
    assert reasons["evening"] == "outside_shift"
    assert reasons["long"] == "shift_too_short"
    busy_left = [c for c in reasons if c.startswith("busy")]
    assert busy_left and {reasons[c] for c in busy_left} == {"no_time_left"}
    # The most urgent are the ones planned.
    assert {s.customer_id for s in result.stops} == {"busy5", "busy4", "busy3"}

    capped = plan_day(workday(max_stops=2), shops(3, 10), PROVIDER, time_limit_s=0.5)
    assert len(capped.stops) == 2
    assert {r for _, r in capped.unassigned} == {"max_stops_reached"}

    limited = plan_day(workday(), shops(4, 10), PROVIDER, max_candidates=4, time_limit_s=0.5)
    assert [r for _, r in limited.unassigned].count("over_candidate_limit") == 6


def test_a_week_sees_each_customer_once_by_its_latest_day_with_balanced_days():
    rng = random.Random(5)
    customers = [
        Visitable(
            c.id,
            c.place,
            c.visit_minutes,
            c.opening_hours,
            c.priority,
            latest_day=MONDAY + timedelta(days=rng.randint(0, 4)) if rng.random() < 0.5 else None,
        )
        for c in shops(5, 45)
    ]
    days = [workday(MONDAY + timedelta(days=k)) for k in range(5)]
    result = plan(days, customers, PROVIDER, balance=True, time_limit_s=2)
    by_id = {c.id: c for c in customers}
    seen = [s.customer_id for p in result.plans for s in p.stops]
    assert len(seen) == len(set(seen))
    for day_plan in result.plans:
        check(day_plan, customers)
        for stop in day_plan.stops:
            latest = by_id[stop.customer_id].latest_day
            assert latest is None or day_plan.work.day <= latest
    counts = [len(p.stops) for p in result.plans]
    assert max(counts) - min(counts) <= 1
    assert len(seen) + len(result.unassigned) == len(customers)


def test_a_team_day_respects_who_may_serve_whom():
    customers = shops(8, 40)
    only_r1 = {c.id for c in customers[:10]}
    customers = [
        Visitable(
            c.id,
            c.place,
            c.visit_minutes,
            c.opening_hours,
            c.priority,
            reps=frozenset({"r1"}) if c.id in only_r1 else frozenset({"r1", "r2", "r3"}),
        )
        for c in customers
    ] + [Visitable("nobody", HOME, 10, reps=frozenset({"r9"}))]
    days = [workday(rep=r) for r in ("r1", "r2", "r3")]
    result = plan(days, customers, PROVIDER, balance=True, time_limit_s=2)
    for day_plan in result.plans:
        check(day_plan, customers)
        if day_plan.work.rep_id != "r1":
            assert only_r1.isdisjoint(s.customer_id for s in day_plan.stops)
    assert ("nobody", "no_rep_allowed") in result.unassigned


@pytest.mark.parametrize(
    ("hours", "lunch_taken"),
    [((13.5, 17.5), False), ((8, 11), False), ((12.5, 17.5), True), ((8, 17.5), True)],
)
def test_a_shift_keeps_only_the_lunch_it_can_hold(hours, lunch_taken):
    customers = [Visitable(f"c{n}", Place(10.76 + n / 1000, 106.67), 20) for n in range(5)]
    day = workday(start_s=int(hours[0] * 3600), end_s=int(hours[1] * 3600))
    result = plan_day(day, customers, PROVIDER, time_limit_s=0.5)
    assert len(result.stops) == 5 and (result.lunch_s is not None) == lunch_taken
    if lunch_taken:
        assert day.start_s <= result.lunch_s[0] <= LUNCH.latest_s


def test_the_lunch_break_is_one_step_of_the_timeline_where_it_is_taken():
    customers = shops(2, 25)
    result = plan_day(workday(), customers, PROVIDER, time_limit_s=0.5)
    check(result, customers)
    timeline = result.timeline()
    (lunch,) = [s for s in timeline if isinstance(s, PlannedLunch)]
    position = timeline.index(lunch)
    assert 0 < position < len(timeline) and position == lunch.after
    before = timeline[position - 1]
    # Taken where the rep is, or at the next place after driving there.
    assert lunch.place == before.place or (
        lunch.travel_s > 0 and timeline[position + 1].place == lunch.place
    )
    assert lunch.departure_s - lunch.start_s == LUNCH.duration_s
    # The visits' waiting no longer holds the lunch.
    assert all(s.waiting_s < LUNCH.duration_s for s in result.stops if s.arrival_s >= lunch.start_s)


def test_a_day_without_lunch_has_no_lunch_step():
    customers = shops(2, 25)
    result = plan_day(workday(lunch=None), customers, PROVIDER, time_limit_s=0.5)
    check(result, customers)
    assert result.lunch is None and result.timeline() == result.stops


def test_a_replan_keeps_a_lunch_already_taken_among_the_stops_made():
    customers = shops(2, 25)
    first = plan_day(workday(), customers, PROVIDER, time_limit_s=0.5)
    lunch = first.lunch
    assert lunch is not None
    done = first.stops[: lunch.after]
    rest = [c for c in customers if c.id not in {s.customer_id for s in done}]
    now = (done[-1].place, lunch.departure_s + 60)
    again = plan_day(
        workday(), rest, PROVIDER, done=done, taken_lunch=lunch, now=now, time_limit_s=0.5
    )
    timeline = again.timeline()
    assert timeline[: lunch.after + 1] == [*done, lunch]
    assert sum(isinstance(s, PlannedLunch) for s in timeline) == 1
