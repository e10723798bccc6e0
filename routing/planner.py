"""Plan work days: one rep's day, a team's day, or one rep's week.

Every plan is the same problem for the solver: one vehicle per (rep, day), each
with its own shift, lunch and start/end point; one job per customer, with its
opening hours on the days it may be seen. A week is five vehicles of one rep
whose shifts lie on consecutive days (time runs on from the first day's
midnight, so Tuesday 09:00 is 86,400 + 32,400 s), which lets VROOM choose the
day and the order together.

Times are seconds since local midnight of the first planned day; results give
each stop's time since midnight of its own day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from .matrix import MatrixProvider
from .solver import Lunch, Shift, Step, Stop, Window, solve

DAY_S = 24 * 3600
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Customers beyond this many (the least urgent) are not offered to the solver.
OVER_CANDIDATE_LIMIT = "over_candidate_limit"
NO_LOCATION = "no_location"


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float


@dataclass(frozen=True)
class Visitable:
    """A customer as the planner sees it."""

    id: str
    place: Place
    visit_minutes: int
    #: `{"mon": [["08:00", "12:00"], ...]}`; None: open any time; a missing day: closed.
    opening_hours: Mapping[str, Sequence[Sequence[str]]] | None = None
    #: 0-100, most urgent highest (see `due.priority`).
    priority: int = 0
    #: Reps who may serve this customer (None: any rep of the plan).
    reps: frozenset[str] | None = None
    #: The last planned day it may be seen on (None: any); keeps a week plan within frequency.
    latest_day: date | None = None


@dataclass(frozen=True)
class WorkDay:
    """One rep's working day: where it starts and ends, and its hours."""

    rep_id: str
    day: date
    start: Place
    end: Place
    start_s: int
    end_s: int
    lunch: Lunch | None = None
    max_stops: int | None = None

    @property
    def key(self) -> str:
        return f"{self.rep_id}/{self.day.isoformat()}"


@dataclass(frozen=True)
class DayStep:
    """A step of a rep's day as its timeline shows it: where, when, and the leg to it.

    The legs add up: `arrival_s` (seconds since midnight of the plan's day) is the
    previous departure plus `travel_s` (from the previous step, or the start); the work
    starts after `waiting_s` and lasts `service_s`.
    """

    place: Place
    arrival_s: int
    waiting_s: int
    service_s: int
    travel_s: int
    distance_m: int

    @property
    def start_s(self) -> int:
        return self.arrival_s + self.waiting_s

    @property
    def departure_s(self) -> int:
        return self.start_s + self.service_s


@dataclass(frozen=True, kw_only=True)
class PlannedStop(DayStep):
    customer_id: str
    locked: bool = False
    completed: bool = False


@dataclass(frozen=True, kw_only=True)
class PlannedLunch(DayStep):
    """The lunch break as a step of the day, so that a rep's timeline shows it. Its
    `travel_s` is non-zero when the rep drives to the next place first and has lunch on
    arrival; `waiting_s` when the rep is free before the lunch window opens."""

    #: How many visits come before it in the day.
    after: int


@dataclass
class DayPlan:
    work: WorkDay
    #: The visits, in order (`timeline()` puts the lunch break among them).
    stops: list[PlannedStop] = field(default_factory=list)
    lunch: PlannedLunch | None = None
    #: Leaving the start point.
    depart_s: int = 0
    #: Arrival back at the end point, with the last leg.
    end_s: int = 0
    end_travel_s: int = 0
    end_distance_m: int = 0
    unassigned: list[tuple[str, str]] = field(default_factory=list)
    #: Where a re-plan during the day picked up (after the stops already made).
    resumed_at: Place | None = None

    @property
    def lunch_s(self) -> tuple[int, int] | None:
        """(start, end) seconds since midnight, when the lunch break is taken."""
        return None if self.lunch is None else (self.lunch.start_s, self.lunch.departure_s)

    def timeline(self) -> list[DayStep]:
        """The day's steps in order: the visits, and the lunch break where it is taken."""
        steps: list[DayStep] = list(self.stops)
        if self.lunch is not None:
            steps.insert(min(self.lunch.after, len(steps)), self.lunch)
        return steps

    @property
    def total_travel_s(self) -> int:
        return sum(s.travel_s for s in self.timeline()) + self.end_travel_s

    @property
    def total_distance_m(self) -> int:
        return sum(s.distance_m for s in self.timeline()) + self.end_distance_m

    @property
    def total_service_s(self) -> int:
        """Time spent at customers (the lunch break is not service)."""
        return sum(s.service_s for s in self.stops)

    @property
    def total_waiting_s(self) -> int:
        return sum(s.waiting_s for s in self.timeline())

    @property
    def work_s(self) -> int:
        """Time from leaving the start to arriving at the end."""
        return self.end_s - self.depart_s

    def geometry(self) -> dict:
        """GeoJSON LineString (lon, lat) from the start through every stop to the end.

        Legs are straight lines: the travel matrix gives times, not road shapes.
        """
        done = [s.place for s in self.stops if s.completed]
        todo = [s.place for s in self.stops if not s.completed]
        resumed = [self.resumed_at] if self.resumed_at else []
        places = [self.work.start, *done, *resumed, *todo, self.work.end]
        return {
            "type": "LineString",
            "coordinates": [[round(p.lon, 6), round(p.lat, 6)] for p in places],
        }


@dataclass
class Planning:
    plans: list[DayPlan]
    #: Customers no plan could take, with the reason.
    unassigned: list[tuple[str, str]]


def opening_windows(
    hours: Mapping[str, Sequence[Sequence[str]]] | None, day: date
) -> tuple[Window, ...] | None:
    """The day's opening windows in seconds since midnight (None: no restriction)."""
    if hours is None:
        return None
    return tuple(
        Window(clock_seconds(start), clock_seconds(end))
        for start, end in hours.get(WEEKDAYS[day.weekday()], ())
    )


def clock_seconds(hhmm: str) -> int:
    """ "08:30" -> seconds since midnight."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def plan(
    days: Sequence[WorkDay],
    customers: Sequence[Visitable],
    provider: MatrixProvider,
    *,
    balance: bool = False,
    max_candidates: int | None = None,
    time_limit_s: float = 1.0,
    leave_late: bool = True,
) -> Planning:
    """Assign customers to work days and order each day.

    `balance`: spread the stops evenly. VROOM minimises travel and has no notion
    of fairness, so this solves twice: first with a loose cap per day to learn
    how many stops fit, then with caps that share exactly that many evenly; the
    second answer is kept if it still serves as many customers.
    """
    if not days:
        raise ValueError("Plan at least one work day.")
    ranked = sorted(customers, key=lambda c: -c.priority)
    skipped: list[tuple[str, str]] = []
    if max_candidates is not None and len(ranked) > max_candidates:
        skipped = [(c.id, OVER_CANDIDATE_LIMIT) for c in ranked[max_candidates:]]
        ranked = ranked[:max_candidates]
    first = min(d.day for d in days)
    offsets = [(d.day - first).days * DAY_S for d in days]
    points = [(p.lat, p.lon) for d in days for p in (d.start, d.end)]
    points += [(c.place.lat, c.place.lon) for c in ranked]
    matrix = provider.matrix(points)
    stops = [_stop(c, 2 * len(days) + number, days, offsets) for number, c in enumerate(ranked)]

    def attempt(caps: Sequence[int | None], limit: float):
        shifts = [
            _shift(d, offset, index, cap)
            for index, (d, offset, cap) in enumerate(zip(days, offsets, caps, strict=True))
        ]
        return shifts, solve(matrix, shifts, stops, time_limit_s=limit)

    if balance and len(days) > 1:
        loose = math.ceil(len(ranked) / len(days)) + 1
        shifts, solved = attempt([loose] * len(days), time_limit_s / 2)
        served = len(ranked) - len(solved.unassigned)
        even = [served // len(days) + (i < served % len(days)) for i in range(len(days))]
        fair_shifts, fair = attempt(even, time_limit_s / 2)
        if len(fair.unassigned) <= len(solved.unassigned):
            shifts, solved = fair_shifts, fair
    else:
        shifts, solved = attempt([None] * len(days), time_limit_s)
    by_id = {c.id: c for c in ranked}
    plans = [
        _day_plan(d, offset, solved.routes[shift.key], by_id, leave_late)
        for d, offset, shift in zip(days, offsets, shifts, strict=True)
    ]
    return Planning(plans, solved.unassigned + skipped)


def _shift(day: WorkDay, offset: int, index: int, fair_share: int | None) -> Shift:
    """The solver's vehicle for a work day, its times counted from the first day."""
    lunch = day.lunch
    if lunch is not None:
        lunch = Lunch(lunch.earliest_s + offset, lunch.latest_s + offset, lunch.duration_s)
    caps = [c for c in (day.max_stops, fair_share) if c is not None]
    return Shift(
        day.key,
        2 * index,
        2 * index + 1,
        day.start_s + offset,
        day.end_s + offset,
        lunch=lunch,
        max_stops=min(caps) if caps else None,
    )


def _stop(
    customer: Visitable, location: int, days: Sequence[WorkDay], offsets: Sequence[int]
) -> Stop:
    allowed = [
        (d, offset)
        for d, offset in zip(days, offsets, strict=True)
        if (customer.reps is None or d.rep_id in customer.reps)
        and (customer.latest_day is None or d.day <= customer.latest_day)
    ]
    windows: tuple[Window, ...] | None = None
    if customer.opening_hours is not None:
        seen: set[int] = set()
        collected: list[Window] = []
        for d, offset in allowed:
            if offset in seen:
                continue
            seen.add(offset)
            for w in opening_windows(customer.opening_hours, d.day) or ():
                collected.append(Window(w.start_s + offset, w.end_s + offset))
        windows = tuple(sorted(collected, key=lambda w: w.start_s))
    restricted = customer.reps is not None or customer.latest_day is not None
    return Stop(
        customer.id,
        location,
        customer.visit_minutes * 60,
        windows,
        customer.priority,
        allowed=frozenset(d.key for d, _ in allowed) if restricted else None,
    )


def _day_plan(
    day: WorkDay,
    offset: int,
    steps: list[Step],
    customers: Mapping[str, Visitable],
    leave_late: bool,
) -> DayPlan:
    """Read a route back as a timeline a rep can follow.

    VROOM's service start times are kept (they respect every window); arrivals
    are recomputed as "leave as soon as free, drive, then wait", so that each
    leg adds up: arrival = departure from the previous step + travel. The lunch
    break is a step of its own: taken where the rep is, or, when VROOM drives
    first and has lunch on arrival, at the next place (a customer or the end),
    whose visit then follows the break with no travel. With `leave_late`, the
    rep leaves the start as late as the first stop allows (not when continuing
    from a stop already made).
    """
    result = DayPlan(day)
    free_at: int | None = None
    here = day.start
    #: The lunch was driven to the next place: it takes that place's position.
    lunch_at_next = False
    for step in steps:
        begins = step.arrival_s + step.waiting_s - offset
        if step.kind == "start":
            continue
        if free_at is None:
            late = begins - step.travel_s if leave_late else day.start_s
            free_at = result.depart_s = max(day.start_s, late)
        arrival = free_at + step.travel_s
        if step.kind == "break":
            result.lunch = PlannedLunch(
                here,
                arrival,
                begins - arrival,
                step.service_s,
                step.travel_s,
                step.distance_m,
                after=len(result.stops),
            )
            lunch_at_next = step.travel_s > 0
            free_at = result.lunch.departure_s
            continue
        place = customers[step.key].place if step.kind == "stop" else day.end
        if lunch_at_next and result.lunch is not None:
            result.lunch = replace(result.lunch, place=place)
            lunch_at_next = False
        if step.kind == "stop":
            stop = PlannedStop(
                place,
                arrival,
                begins - arrival,
                step.service_s,
                step.travel_s,
                step.distance_m,
                customer_id=step.key,
            )
            result.stops.append(stop)
            free_at, here = stop.departure_s, place
        elif step.kind == "end":
            result.end_s = max(arrival, free_at)
            result.end_travel_s, result.end_distance_m = step.travel_s, step.distance_m
    return result


def plan_day(
    day: WorkDay,
    customers: Sequence[Visitable],
    provider: MatrixProvider,
    *,
    locked: Sequence[str] = (),
    done: Sequence[PlannedStop] = (),
    taken_lunch: PlannedLunch | None = None,
    now: tuple[Place, int] | None = None,
    max_candidates: int | None = None,
    time_limit_s: float = 1.0,
) -> DayPlan:
    """One rep's day.

    `locked`: customers to visit first, in this order (promised appointments);
    the solver plans the rest of the day from the last of them.
    `done` and `now`: a re-plan during the day keeps the stops already made as
    they were and plans the rest from where the rep is, at that time;
    `taken_lunch` is a lunch break already over, kept among the `done` stops
    (its `after` counts them).
    """
    by_id = {c.id: c for c in customers}
    current = day
    if now is not None:
        # A lunch window already past is dropped by the solver (`solver._lunch_within`).
        current = replace(day, start=now[0], start_s=max(now[1], day.start_s))
    fixed, unassigned, rest = _visit_in_order([by_id[i] for i in locked], current, provider)
    free = [c for c in customers if c.id not in set(locked)]
    resumed = bool(fixed) or now is not None
    planning = plan(
        [rest],
        free,
        provider,
        max_candidates=max_candidates,
        time_limit_s=time_limit_s,
        leave_late=not resumed,
    )
    result = planning.plans[0]
    result.work = day
    if resumed:
        result.depart_s = day.start_s
    result.resumed_at = current.start if now is not None else None
    result.stops = [*done, *fixed, *result.stops]
    if result.lunch is not None:
        result.lunch = replace(result.lunch, after=result.lunch.after + len(done) + len(fixed))
    elif taken_lunch is not None:
        result.lunch = taken_lunch
    result.unassigned = unassigned + planning.unassigned
    return result


def _visit_in_order(
    customers: Sequence[Visitable], day: WorkDay, provider: MatrixProvider
) -> tuple[list[PlannedStop], list[tuple[str, str]], WorkDay]:
    """Visit `customers` in the given order from the day's start, waiting for opening time.

    Returns the stops made, those that could not be made, and the rest of the
    day (starting where and when the last stop ends).
    """
    if not customers:
        return [], [], day
    points = [(day.start.lat, day.start.lon), *((c.place.lat, c.place.lon) for c in customers)]
    matrix = provider.matrix(points)
    stops: list[PlannedStop] = []
    unassigned: list[tuple[str, str]] = []
    here, clock, place = 0, day.start_s, day.start
    for index, customer in enumerate(customers, 1):
        travel = int(matrix.seconds[here][index])
        arrival = clock + travel
        service = customer.visit_minutes * 60
        windows = opening_windows(customer.opening_hours, day.day)
        begin = _earliest_start(windows, arrival)
        if begin is None or begin + service > day.end_s:
            unassigned.append((customer.id, "closed_that_day" if windows == () else "no_time_left"))
            continue
        stops.append(
            PlannedStop(
                customer.place,
                arrival,
                begin - arrival,
                service,
                travel,
                int(matrix.metres[here][index]),
                customer_id=customer.id,
                locked=True,
            )
        )
        here, clock, place = index, begin + service, customer.place
    rest = replace(day, start=place, start_s=clock)
    if day.max_stops is not None:
        rest = replace(rest, max_stops=max(0, day.max_stops - len(stops)))
    return stops, unassigned, rest


def _earliest_start(windows: tuple[Window, ...] | None, arrival: int) -> int | None:
    if windows is None:
        return arrival
    for window in windows:
        if arrival <= window.end_s:
            return max(arrival, window.start_s)
    return None
