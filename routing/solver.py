"""Build a VROOM problem from a rep's day and read the plan back (via pyvroom).

Times are seconds since midnight of the plan's day, in the rep's time zone;
locations are indexes into the travel matrix. Stops VROOM cannot fit come back
as `unassigned` with a reason a rep or a manager can act on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import vroom

from .matrix import TravelMatrix

CLOSED_THAT_DAY = "closed_that_day"
OUTSIDE_SHIFT = "outside_shift"
SHIFT_TOO_SHORT = "shift_too_short"
NO_TIME_LEFT = "no_time_left"
MAX_STOPS_REACHED = "max_stops_reached"
NO_REP_ALLOWED = "no_rep_allowed"

#: VROOM's exploration level by problem size, measured on 2 cores within a 1 s
#: budget (`./bench/run routing`, `./bench/run solomon`): a rep's day (up to 60
#: stops) finishes a level-5 search in about 0.1 s, and level 3 was up to 14 %
#: longer there; on 100 stops and more, level 3 finishes more of its search in
#: the budget than level 5 (Solomon: 3.0 % vs 6.1 % from the best known).
SMALL_PROBLEM = 60
EXPLORATION_SMALL, EXPLORATION_LARGE = 5, 3
#: VROOM divides its timeout among its searches in advance; with more threads
#: than cores the system hands the time of searches that finish early to the
#: others (Solomon, 2 cores: 6 threads 2.84-2.91 %, 4 threads 2.83-3.08 %, 2: 3.3 %).
THREADS = 6
#: Solves of a small problem with the jobs in different orders (see `_best_of`).
RESTARTS = 3
#: Share of the time limit given to VROOM's search; the rest builds the problem
#: and reads the answer, so that the whole call stays within the limit.
SEARCH_SHARE = 0.93


@dataclass(frozen=True)
class Window:
    start_s: int
    end_s: int


@dataclass(frozen=True)
class Stop:
    key: str
    location: int
    service_s: int
    #: None: any time; empty: closed that day.
    windows: tuple[Window, ...] | None = None
    priority: int = 0
    #: Load taken from the vehicle (benchmarks with capacities; field sales uses 0).
    demand: int = 0
    #: Keys of the shifts that may serve this stop (None: any).
    allowed: frozenset[str] | None = None


@dataclass(frozen=True)
class Lunch:
    earliest_s: int
    latest_s: int
    duration_s: int


@dataclass(frozen=True)
class Shift:
    key: str
    start: int
    end: int
    start_s: int
    end_s: int
    lunch: Lunch | None = None
    max_stops: int | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class Step:
    kind: str  # "start", "stop", "break" or "end"
    key: str | None
    location: int | None
    arrival_s: int
    waiting_s: int
    service_s: int
    #: Travel from the previous step.
    travel_s: int
    distance_m: int

    @property
    def departure_s(self) -> int:
        return self.arrival_s + self.waiting_s + self.service_s


@dataclass
class Plan:
    routes: dict[str, list[Step]] = field(default_factory=dict)
    unassigned: list[tuple[str, str]] = field(default_factory=list)


def _fits_somewhere(stop: Stop, shifts: Sequence[Shift]) -> str | None:
    """Why a stop cannot be served by any shift, before asking the solver."""
    if stop.windows is not None and not stop.windows:
        return CLOSED_THAT_DAY
    if stop.allowed is not None:
        shifts = [s for s in shifts if s.key in stop.allowed]
        if not shifts:
            return NO_REP_ALLOWED
    if all(stop.service_s > shift.end_s - shift.start_s for shift in shifts):
        return SHIFT_TOO_SHORT
    windows = stop.windows or (Window(0, 24 * 3600),)
    overlaps = any(
        min(w.end_s, s.end_s) - max(w.start_s, s.start_s) >= 0 for w in windows for s in shifts
    )
    return None if overlaps else OUTSIDE_SHIFT


def solve(
    matrix: TravelMatrix,
    shifts: Sequence[Shift],
    stops: Sequence[Stop],
    *,
    time_limit_s: float = 1.0,
    exploration_level: int | None = None,
    threads: int = THREADS,
) -> Plan:
    """Routes for `shifts` through as many `stops` as fit, most urgent first.

    Stops that no shift could ever serve are explained before the solver runs;
    the solver's leftovers are `no_time_left` (or `max_stops_reached`).
    `exploration_level`: None picks one by problem size (see SMALL_PROBLEM).
    """
    plan = Plan()
    candidates = []
    for stop in stops:
        reason = _fits_somewhere(stop, shifts) if shifts else NO_TIME_LEFT
        if reason:
            plan.unassigned.append((stop.key, reason))
        else:
            candidates.append(stop)
    if not shifts or not candidates:
        plan.routes = {s.key: _empty_route(s, matrix) for s in shifts}
        return plan
    small = len(candidates) <= SMALL_PROBLEM
    if exploration_level is None:
        exploration_level = EXPLORATION_SMALL if small else EXPLORATION_LARGE
    solution = _best_of(
        lambda order, budget: _problem(matrix, shifts, candidates, order).solve(
            exploration_level=exploration_level,
            nb_threads=threads,
            timeout=timedelta(seconds=budget),
        ),
        candidates,
        time_limit_s * SEARCH_SHARE,
        RESTARTS if small else 1,
    )
    for route in solution["routes"]:
        shift = shifts[route["vehicle"]]
        plan.routes[shift.key] = _steps(route["steps"], candidates)
    for shift in shifts:
        plan.routes.setdefault(shift.key, _empty_route(shift, matrix))
    full = {
        s.key
        for s in shifts
        if s.max_stops is not None
        and sum(step.kind == "stop" for step in plan.routes[s.key]) >= s.max_stops
    }
    reason = MAX_STOPS_REACHED if full and len(full) == len(shifts) else NO_TIME_LEFT
    plan.unassigned += [(candidates[job["id"]].key, reason) for job in solution["unassigned"]]
    return plan


def _best_of(run, candidates: Sequence[Stop], budget_s: float, attempts: int) -> dict:
    """The best of `attempts` solves with the jobs in different orders.

    VROOM's result depends on the order it is given the jobs; on a rep's day a
    few orders (each ~0.05 s) found up to 6 % less travel than one. Better
    means: less priority left out, then fewer left out, then lower cost.
    """
    started = time.perf_counter()
    best, best_key = None, None
    order = list(range(len(candidates)))
    for attempt in range(attempts):
        elapsed = time.perf_counter() - started
        if attempt and elapsed * (attempt + 1) / attempt > budget_s:
            break  # another attempt would not fit in the budget
        if attempt:
            random.Random(attempt).shuffle(order)
        solution = run(order, max(budget_s - elapsed, 0.01)).to_dict()
        left = [candidates[job["id"]] for job in solution["unassigned"]]
        key = (sum(s.priority for s in left), len(left), solution["summary"]["cost"])
        if best_key is None or key < best_key:
            best, best_key = solution, key
    return best


def _problem(
    matrix: TravelMatrix, shifts: Sequence[Shift], stops: Sequence[Stop], order: Sequence[int]
) -> vroom.Input:
    """The VROOM input; job ids are indexes into `stops`, added in `order`."""
    skills = _skills(stops)
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=matrix.seconds)
    problem.set_distances_matrix(profile="car", matrix_input=matrix.metres)
    for number, shift in enumerate(shifts):
        breaks = []
        lunch = _lunch_within(shift)
        if lunch:
            breaks = [
                vroom.Break(
                    1,
                    time_windows=[vroom.TimeWindow(lunch.earliest_s, lunch.latest_s)],
                    service=lunch.duration_s,
                )
            ]
        limits: dict = {}
        if shift.max_stops is not None:
            limits["max_tasks"] = shift.max_stops
        if shift.capacity is not None:
            limits["capacity"] = vroom.Amount([shift.capacity])
        if skills:
            limits["skills"] = {n for allowed, n in skills.items() if shift.key in allowed}
        problem.add_vehicle(
            vroom.Vehicle(
                number,
                start=shift.start,
                end=shift.end,
                time_window=vroom.TimeWindow(shift.start_s, shift.end_s),
                breaks=breaks,
                **limits,
            )
        )
    for number in order:
        stop = stops[number]
        windows = [vroom.TimeWindow(w.start_s, w.end_s) for w in stop.windows or ()]
        problem.add_job(
            vroom.Job(
                number,
                location=stop.location,
                default_service=stop.service_s,
                priority=max(0, min(100, stop.priority)),
                **({"delivery": vroom.Amount([stop.demand])} if stop.demand else {}),
                **({"skills": {skills[stop.allowed]}} if stop.allowed is not None else {}),
                **({"time_windows": windows} if windows else {}),
            )
        )
    return problem


def _lunch_within(shift: Shift) -> Lunch | None:
    """The part of the lunch window that fits the shift; none when nothing does.

    A morning-only or afternoon-only shift has no lunch; VROOM refuses a break
    that cannot be taken inside the vehicle's hours.
    """
    lunch = shift.lunch
    if lunch is None:
        return None
    earliest = max(lunch.earliest_s, shift.start_s)
    latest = min(lunch.latest_s, shift.end_s - lunch.duration_s)
    return Lunch(earliest, latest, lunch.duration_s) if earliest <= latest else None


def _skills(stops: Sequence[Stop]) -> dict[frozenset[str], int]:
    """One VROOM skill per distinct set of allowed shifts.

    VROOM skills are all-of; "any of these reps" becomes one skill that every
    rep of the set has.
    """
    sets = {stop.allowed for stop in stops if stop.allowed is not None}
    return {allowed: number for number, allowed in enumerate(sorted(sets, key=sorted), 1)}


def _steps(raw: list[dict], stops: Sequence[Stop]) -> list[Step]:
    steps, travelled, distance = [], 0, 0
    for step in raw:
        kind = {"job": "stop"}.get(step["type"], step["type"])
        travel = step["duration"] - travelled
        metres = step.get("distance", 0) - distance
        travelled, distance = step["duration"], step.get("distance", 0)
        key = stops[step["id"]].key if kind == "stop" else None
        steps.append(
            Step(
                kind,
                key,
                step.get("location_index"),
                step["arrival"],
                step["waiting_time"],
                step["service"],
                travel,
                metres,
            )
        )
    return steps


def _empty_route(shift: Shift, matrix: TravelMatrix) -> list[Step]:
    travel = int(matrix.seconds[shift.start][shift.end])
    metres = int(matrix.metres[shift.start][shift.end])
    return [
        Step("start", None, shift.start, shift.start_s, 0, 0, 0, 0),
        Step("end", None, shift.end, shift.start_s + travel, 0, 0, travel, metres),
    ]
