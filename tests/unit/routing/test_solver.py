"""The VROOM-backed solver: every plan keeps its constraints and its arithmetic adds up."""

from __future__ import annotations

import itertools
import random

import pytest

from routing.matrix import GreatCircleProvider
from routing.solver import (
    CLOSED_THAT_DAY,
    MAX_STOPS_REACHED,
    NO_TIME_LEFT,
    OUTSIDE_SHIFT,
    SHIFT_TOO_SHORT,
    Lunch,
    Shift,
    Stop,
    Window,
    solve,
)

H = 3600
HOME = (10.780, 106.690)


def city(count: int, seed: int = 4):
    rng = random.Random(seed)
    points = [HOME] + [
        (10.74 + rng.random() * 0.08, 106.64 + rng.random() * 0.08) for _ in range(count)
    ]
    return GreatCircleProvider().matrix(points)


def day_shift(**extra) -> Shift:
    values = {"start_s": 8 * H, "end_s": 17 * H, "lunch": Lunch(11 * H + 1800, 13 * H, 45 * 60)}
    return Shift("rep", 0, 0, **{**values, **extra})


def check_route(route, matrix, stops, shift):
    by_key = {s.key: s for s in stops}
    assert route[0].kind == "start" and route[-1].kind == "end"
    assert route[0].departure_s >= shift.start_s and route[-1].arrival_s <= shift.end_s
    location = route[0].location
    for previous, step in itertools.pairwise(route):
        here = step.location if step.location is not None else location
        travel = int(matrix.seconds[location][here])
        assert step.travel_s == travel
        assert step.arrival_s == previous.departure_s + travel  # the arithmetic adds up
        location = here
        start = step.arrival_s + step.waiting_s
        if step.kind == "stop":
            stop = by_key[step.key]
            assert step.service_s == stop.service_s
            if stop.windows:
                assert any(w.start_s <= start <= w.end_s for w in stop.windows)
        if step.kind == "break":
            assert shift.lunch.earliest_s <= start <= shift.lunch.latest_s
            assert step.service_s == shift.lunch.duration_s


def test_a_day_respects_opening_hours_shift_and_lunch():
    matrix = city(20)
    morning, afternoon = Window(8 * H, 11 * H + 1800), Window(14 * H, 17 * H)
    stops = [
        Stop(f"c{i}", i, 20 * 60, (morning, afternoon) if i % 3 else (afternoon,), priority=i)
        for i in range(1, 21)
    ]
    shift = day_shift()
    plan = solve(matrix, [shift], stops)
    route = plan.routes["rep"]
    check_route(route, matrix, stops, shift)
    served = {s.key for s in route if s.kind == "stop"}
    assert len(served) >= 10
    assert served | {key for key, _ in plan.unassigned} == {s.key for s in stops}
    assert sum(s.kind == "break" for s in route) == 1


def test_unassigned_reasons():
    matrix = city(5)
    shift = day_shift(lunch=None)
    stops = [
        Stop("closed", 1, 600, ()),
        Stop("night", 2, 600, (Window(20 * H, 22 * H),)),
        Stop("marathon", 3, 10 * H),
        Stop("fine", 4, 600),
    ]
    plan = solve(matrix, [shift], stops)
    reasons = dict(plan.unassigned)
    assert reasons == {
        "closed": CLOSED_THAT_DAY,
        "night": OUTSIDE_SHIFT,
        "marathon": SHIFT_TOO_SHORT,
    }
    assert [s.key for s in plan.routes["rep"] if s.kind == "stop"] == ["fine"]


def test_too_many_stops_for_one_day_come_back_as_no_time_left():
    matrix = city(40)
    stops = [Stop(f"c{i}", i, 45 * 60) for i in range(1, 41)]
    plan = solve(matrix, [day_shift()], stops)
    served = [s for s in plan.routes["rep"] if s.kind == "stop"]
    assert 5 <= len(served) < 40
    assert {reason for _, reason in plan.unassigned} == {NO_TIME_LEFT}
    assert len(served) + len(plan.unassigned) == 40


def test_max_stops():
    matrix = city(10)
    stops = [Stop(f"c{i}", i, 600) for i in range(1, 11)]
    plan = solve(matrix, [day_shift(max_stops=4)], stops)
    assert sum(s.kind == "stop" for s in plan.routes["rep"]) == 4
    assert {reason for _, reason in plan.unassigned} == {MAX_STOPS_REACHED}


def test_high_priority_stops_are_kept_when_the_day_is_full():
    matrix = city(30)
    stops = [Stop(f"c{i}", i, 50 * 60, priority=100 if i <= 3 else 0) for i in range(1, 31)]
    plan = solve(matrix, [day_shift()], stops)
    served = {s.key for s in plan.routes["rep"] if s.kind == "stop"}
    assert {"c1", "c2", "c3"} <= served


@pytest.mark.parametrize("stops", [[], [Stop("closed", 1, 600, ())]])
def test_an_empty_day_is_an_honest_empty_route(stops):
    matrix = city(2)
    plan = solve(matrix, [day_shift()], stops)
    assert [s.kind for s in plan.routes["rep"]] == ["start", "end"]
