"""Route plans from the database: choose the customers, ask `routing`, store `route_plans`.

No Flask here: the HTTP layer parses and serialises; tests call `Planner`
directly. Every read goes through the caller's scope *and* the planned rep's
scope, so a plan never contains a customer either of them may not see.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import Customer, RoutePlan, Task, Territory, User, Visit
from domain.timeline import LUNCH, VISIT, step_kind, visits
from domain.times import parse_iso, utc_iso
from routing import (
    NO_LOCATION,
    CustomerFacts,
    DayPlan,
    DayStep,
    Lunch,
    MatrixError,
    Place,
    PlannedLunch,
    PlannedStop,
    Visitable,
    WorkDay,
    clock_seconds,
    due_customers,
    overdue_ratio,
    plan,
    plan_day,
    priority,
)
from sync import Forbidden, Invalid, NotFound, RecordError, Scope, create_record, update_record

from .geocoding import geocode_missing
from .settings import RoutingSettings

WORKING_DAYS = 5


class PlanningError(RecordError):
    status = 422
    code = "cannot_plan"


class RoutingUnavailable(RecordError):
    status = 503
    code = "routing_unavailable"


@dataclass(frozen=True)
class DayOptions:
    """What a request may change about a rep's day; None: the configured default."""

    start: Place | None = None
    end: Place | None = None
    start_time: str | None = None
    end_time: str | None = None
    #: False: no lunch break.
    lunch: bool = True
    lunch_earliest: str | None = None
    lunch_latest: str | None = None
    lunch_minutes: int | None = None
    max_stops: int | None = None


@dataclass
class PlanSet:
    """Plans made together (a team's day or a week), with who and what was left out."""

    plans: list[RoutePlan]
    unassigned: list[dict[str, str]]
    skipped_reps: list[dict[str, str]] = field(default_factory=list)

    def balance(self) -> dict[str, Any]:
        """How evenly the work is spread: stops and working time, fewest to most."""
        busy = [p for p in self.plans if visits(p.stops)]
        work = [int((p.end_at - p.start_at).total_seconds()) for p in busy]
        stops = [len(visits(p.stops)) for p in self.plans]
        return {
            "stops_min": min(stops, default=0),
            "stops_max": max(stops, default=0),
            "work_s_min": min(work, default=0),
            "work_s_max": max(work, default=0),
            "imbalance": round(max(work) / min(work), 3) if work and min(work) else None,
        }


class Planner:
    """Plans for one caller (a rep for themselves, a manager for their teams, an admin)."""

    def __init__(
        self,
        session: Session,
        caller: User,
        settings: RoutingSettings,
        *,
        now: datetime | None = None,
    ):
        self.session = session
        self.caller = caller
        self.scope = Scope.for_user(session, caller)
        self.settings = settings
        self.zone = settings.zone
        self.now = now or datetime.now(UTC)
        self.provider = settings.provider()

    # -- entry points ------------------------------------------------------------

    def plan_day(
        self,
        rep_id: uuid.UUID | None,
        day: date,
        options: DayOptions = DayOptions(),
        *,
        customer_ids: Sequence[uuid.UUID] | None = None,
        locked_ids: Sequence[uuid.UUID] = (),
    ) -> RoutePlan:
        rep = self._rep(rep_id)
        ids = None if customer_ids is None else list(dict.fromkeys([*locked_ids, *customer_ids]))
        visitables, needs_location = self._candidates(rep, day, day, ids)
        missing = [i for i in locked_ids if str(i) not in {v.id for v in visitables}]
        if missing:  # locked customers that are not due today
            more, no_location = self._candidates(rep, day, day, missing)
            visitables, needs_location = visitables + more, needs_location + no_location
        work = self._work_day(rep, day, options)
        routed = self._route(
            lambda: plan_day(
                work,
                visitables,
                self.provider,
                locked=[str(i) for i in locked_ids],
                max_candidates=self.settings.max_candidates,
                time_limit_s=self.settings.time_limit_s,
            )
        )
        return self._save(routed, needs_location)

    def reoptimize(
        self,
        plan_id: uuid.UUID,
        position: Place,
        at: datetime | None = None,
        completed_ids: Iterable[uuid.UUID] = (),
    ) -> RoutePlan:
        """Plan the rest of the plan's day from where the rep is now, keeping stops made."""
        record = self.get(plan_id)
        rep = self._rep(record.rep_id)
        at = at or self.now
        midnight = self._midnight(record.plan_date)
        clock = int((at - midnight).total_seconds())
        if not 0 <= clock < 24 * 3600:
            raise PlanningError(
                f"`at` ({at.isoformat()}) is not on the plan's day {record.plan_date}.",
                code="not_plan_day",
            )
        completed = {str(i) for i in completed_ids} | self._visited(rep, record.plan_date)
        planned = visits(record.stops)
        done = [
            replace(self._stop_from_json(s, midnight), completed=True)
            for s in planned
            if s["customer_id"] in completed
        ]
        left = [s["customer_id"] for s in planned if s["customer_id"] not in completed]
        left += [u["customer_id"] for u in record.unassigned if u["reason"] != NO_LOCATION]
        left = [i for i in dict.fromkeys(left) if i not in completed]
        locked = [s["customer_id"] for s in planned if s.get("locked") and s["customer_id"] in left]
        visitables, needs_location = self._candidates(
            rep, record.plan_date, record.plan_date, [uuid.UUID(i) for i in left]
        )
        shift_end = int((record.shift_end_at - midnight).total_seconds())
        lunch = self._lunch(DayOptions())
        taken = None
        if record.lunch and parse_iso(record.lunch["end_at"]) <= at:
            lunch = None  # already taken: it stays in the timeline among the stops made
            taken = self._taken_lunch(record, midnight, completed)
        work = WorkDay(
            str(rep.id),
            record.plan_date,
            Place(record.start_lat, record.start_lon),
            Place(record.end_lat, record.end_lon),
            int((record.start_at - midnight).total_seconds()),
            shift_end,
            lunch,
        )
        routed = self._route(
            lambda: plan_day(
                work,
                visitables,
                self.provider,
                locked=locked,
                done=done,
                taken_lunch=taken,
                now=(position, clock),
                max_candidates=self.settings.max_candidates,
                time_limit_s=self.settings.time_limit_s,
            )
        )
        return self._save(routed, needs_location)

    def plan_team(self, territory_id: uuid.UUID, day: date, options: DayOptions) -> PlanSet:
        """Share a territory's due customers for `day` among the reps who may serve them."""
        if self.scope.is_rep:
            raise Forbidden("Only managers and admins plan a team's day.")
        if not self.scope.is_admin and territory_id not in self.scope.territory_ids:
            raise NotFound("No territory with this id.")
        reps = self.session.scalars(
            select(User)
            .where(
                User.territories.any(Territory.id == territory_id),
                User.role == "rep",
                User.active.is_(True),
                User.deleted_at.is_(None),
            )
            .order_by(User.email)
        ).all()
        reps = [r for r in reps if r.team_id in self.scope.team_ids or self.scope.is_admin]
        skipped, works = [], []
        for rep in reps:
            try:
                works.append(self._work_day(rep, day, options))
            except PlanningError as exc:
                skipped.append({"rep_id": str(rep.id), "reason": exc.code})
        if not works:
            raise PlanningError(
                "No rep of this territory can work that day (none has a start location).",
                code="no_reps",
            )
        scopes = {str(r.id): Scope.for_user(self.session, r) for r in reps}
        territory_customers = select(Customer).where(
            Customer.territory_id == territory_id, Customer.deleted_at.is_(None)
        )
        visitables, needs_location = self._visitables(
            list(self.session.scalars(territory_customers)), day, day, reps=reps, explicit=False
        )
        visitables = [
            replace(v, reps=_serving_reps(self.session.get(Customer, uuid.UUID(v.id)), scopes))
            for v in visitables
        ]
        return self._plan_days(works, visitables, needs_location, skipped)

    def plan_week(
        self, rep_id: uuid.UUID | None, first_day: date, options: DayOptions = DayOptions()
    ) -> PlanSet:
        """Spread a rep's customers over five working days, each seen by its due date."""
        rep = self._rep(rep_id)
        days = working_days(first_day, WORKING_DAYS)
        works = [self._work_day(rep, d, options) for d in days]
        visitables, needs_location = self._candidates(rep, days[0], days[-1], None)
        return self._plan_days(works, visitables, needs_location, [])

    def get(self, plan_id: uuid.UUID) -> RoutePlan:
        record = self.session.scalar(
            select(RoutePlan).where(
                RoutePlan.id == plan_id,
                RoutePlan.deleted_at.is_(None),
                self.scope.where(RoutePlan),
            )
        )
        if record is None:
            raise NotFound("No route plan with this id.")
        return record

    # -- who and what --------------------------------------------------------------

    def _rep(self, rep_id: uuid.UUID | None) -> User:
        rep_id = rep_id or self.caller.id
        if self.scope.is_rep and rep_id != self.caller.id:
            raise Forbidden("Reps plan only their own days.")
        rep = self.session.get(User, rep_id)
        visible = self.scope.is_admin or rep_id in self.scope.member_ids
        if rep is None or rep.deleted_at is not None or not visible:
            raise NotFound("No rep with this id.")
        if rep.role != "rep":
            raise PlanningError("Route plans are for reps.", code="not_a_rep")
        return rep

    def _candidates(
        self, rep: User, first: date, last: date, ids: Sequence[uuid.UUID] | None
    ) -> tuple[list[Visitable], list[str]]:
        rep_scope = Scope.for_user(self.session, rep)
        query = select(Customer).where(
            Customer.deleted_at.is_(None),
            rep_scope.customers_where(),
            self.scope.customers_where(),
        )
        if ids is not None:
            if len(ids) > self.settings.max_customers_per_request:
                raise Invalid(
                    {
                        "customer_ids": [
                            f"At most {self.settings.max_customers_per_request} customers per plan."
                        ]
                    }
                )
            customers = list(self.session.scalars(query.where(Customer.id.in_(ids))))
            missing = set(ids) - {c.id for c in customers}
            if missing:
                raise Invalid(
                    {
                        "customer_ids": [
                            f"No customer {i} for this rep." for i in sorted(map(str, missing))
                        ]
                    }
                )
        else:
            customers = list(self.session.scalars(query))
        return self._visitables(customers, first, last, reps=[rep], explicit=ids is not None)

    def _visitables(
        self,
        customers: list[Customer],
        first: date,
        last: date,
        *,
        reps: Sequence[User],
        explicit: bool,
    ) -> tuple[list[Visitable], list[str]]:
        by_id = {c.id: c for c in customers}
        if explicit:
            selected = [(c, overdue_ratio(_facts(c), last)) for c in customers]
        else:
            planned, tasks = self._planned_and_tasks(reps, first, last)
            facts = [_facts(c) for c in customers]
            due = due_customers(facts, last, planned=planned, tasks_due=tasks)
            selected = [(by_id[d.id], d.overdue_ratio) for d in due.due]
            selected += [
                (by_id[i], overdue_ratio(_facts(by_id[i]), last)) for i in due.needs_location
            ]
        # Only the customers to visit are worth a geocoding request.
        geocode_missing(
            self.session,
            [c for c, _ in selected if c.lat is None],
            self.settings,
            now=self.now,
            limit=self.settings.geocode_per_request,
        )
        needs_location = [str(c.id) for c, _ in selected if c.lat is None]
        visitables = []
        for customer, ratio in selected:
            if customer.lat is None:
                continue
            latest = None
            if first != last and customer.last_visit_at is not None:
                due_on = customer.last_visit_at.date() + timedelta(days=customer.visit_every_days)
                latest = due_on if due_on >= first else None
            visitables.append(
                Visitable(
                    str(customer.id),
                    Place(customer.lat, customer.lon),
                    customer.visit_minutes,
                    customer.opening_hours,
                    priority(ratio, customer.tier),
                    latest_day=latest,
                )
            )
        return visitables, needs_location

    def _planned_and_tasks(
        self, reps: Sequence[User], first: date, last: date
    ) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
        rep_ids = [r.id for r in reps]
        start, end = self._midnight(first), self._midnight(last + timedelta(days=1))
        planned = self.session.scalars(
            select(Visit.customer_id).where(
                Visit.rep_id.in_(rep_ids),
                Visit.status == "planned",
                Visit.deleted_at.is_(None),
                Visit.planned_at >= start,
                Visit.planned_at < end,
            )
        )
        tasks = self.session.scalars(
            select(Task.customer_id).where(
                Task.assignee_id.in_(rep_ids),
                Task.done.is_(False),
                Task.deleted_at.is_(None),
                Task.due_at < end,
            )
        )
        return set(planned), set(tasks)

    def _visited(self, rep: User, day: date) -> set[str]:
        start, end = self._midnight(day), self._midnight(day + timedelta(days=1))
        return {
            str(i)
            for i in self.session.scalars(
                select(Visit.customer_id).where(
                    Visit.rep_id == rep.id,
                    Visit.status == "completed",
                    Visit.deleted_at.is_(None),
                    Visit.check_in_at >= start,
                    Visit.check_in_at < end,
                )
            )
        }

    # -- days and times -------------------------------------------------------------

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone)

    def _at(self, day: date, seconds: int) -> datetime:
        return (self._midnight(day) + timedelta(seconds=seconds)).astimezone(UTC)

    def _lunch(self, options: DayOptions) -> Lunch | None:
        if not options.lunch:
            return None
        s = self.settings
        return Lunch(
            clock_seconds(options.lunch_earliest or s.lunch_earliest),
            clock_seconds(options.lunch_latest or s.lunch_latest),
            (options.lunch_minutes or s.lunch_minutes) * 60,
        )

    def _work_day(self, rep: User, day: date, options: DayOptions) -> WorkDay:
        start = options.start
        if start is None and rep.home_lat is not None and rep.home_lon is not None:
            start = Place(rep.home_lat, rep.home_lon)
        if start is None:
            raise PlanningError(
                f"{rep.name} has no start location: give `start` or set the rep's home.",
                code="no_start_location",
            )
        start_s = clock_seconds(options.start_time or self.settings.shift_start)
        end_s = clock_seconds(options.end_time or self.settings.shift_end)
        if end_s <= start_s:
            raise Invalid({"end_time": ["The shift must end after it starts."]})
        return WorkDay(
            str(rep.id),
            day,
            start,
            options.end or start,
            start_s,
            end_s,
            self._lunch(options),
            options.max_stops,
        )

    def _route(self, solve):
        try:
            return solve()
        except MatrixError as exc:
            raise RoutingUnavailable(str(exc)) from exc

    # -- storing -----------------------------------------------------------------------

    def _taken_lunch(
        self, record: RoutePlan, midnight: datetime, completed: set[str]
    ) -> PlannedLunch | None:
        """The plan's lunch step, already over, placed after the visits made before it.

        Plans stored before lunch became a step have none: only their `lunch` field.
        """
        made = 0
        for step in record.stops:
            if step_kind(step) == LUNCH:
                arrival = int((parse_iso(step["arrival_at"]) - midnight).total_seconds())
                return PlannedLunch(
                    Place(step["lat"], step["lon"]),
                    arrival,
                    step.get("waiting_s", 0),
                    step["service_s"],
                    step["travel_s"],
                    step["distance_m"],
                    after=made,
                )
            made += step["customer_id"] in completed
        return None

    def _step_json(self, day: date, step: DayStep) -> dict[str, Any]:
        """What a visit and the lunch break store alike: where, when, and the leg to it."""
        return {
            "kind": LUNCH if isinstance(step, PlannedLunch) else VISIT,
            "lat": step.place.lat,
            "lon": step.place.lon,
            "arrival_at": utc_iso(self._at(day, step.arrival_s)),
            "departure_at": utc_iso(self._at(day, step.departure_s)),
            "waiting_s": step.waiting_s,
            "service_s": step.service_s,
            "travel_s": step.travel_s,
            "distance_m": step.distance_m,
        }

    def _stop_from_json(self, stop: dict, midnight: datetime) -> PlannedStop:
        arrival = int((parse_iso(stop["arrival_at"]) - midnight).total_seconds())
        return PlannedStop(
            Place(stop["lat"], stop["lon"]),
            arrival,
            stop["waiting_s"],
            stop["service_s"],
            stop["travel_s"],
            stop["distance_m"],
            customer_id=stop["customer_id"],
            locked=stop.get("locked", False),
        )

    def _plan_days(
        self,
        works: Sequence[WorkDay],
        visitables: Sequence[Visitable],
        needs_location: list[str],
        skipped: list[dict[str, str]],
    ) -> PlanSet:
        """Several work days at once (a team's day or a week), balanced, each stored."""
        planning = self._route(
            lambda: plan(
                works,
                visitables,
                self.provider,
                balance=True,
                max_candidates=self.settings.max_candidates * len(works),
                time_limit_s=self.settings.time_limit_s * 2,
            )
        )
        records = [self._save(p, needs_location, unassigned=[]) for p in planning.plans]
        left = [{"customer_id": c, "reason": r} for c, r in planning.unassigned]
        left += [{"customer_id": c, "reason": NO_LOCATION} for c in needs_location]
        return PlanSet(records, left, skipped)

    def _save(
        self,
        routed: DayPlan,
        needs_location: list[str],
        unassigned: Sequence[tuple[str, str]] | None = None,
    ) -> RoutePlan:
        work = routed.work
        day = work.day
        names = dict(
            self.session.execute(
                select(Customer.id, Customer.name).where(
                    Customer.id.in_([uuid.UUID(s.customer_id) for s in routed.stops])
                )
            ).all()
        )
        stops = [
            self._step_json(day, s)
            if isinstance(s, PlannedLunch)
            else {
                **self._step_json(day, s),
                "customer_id": s.customer_id,
                "name": names.get(uuid.UUID(s.customer_id), ""),
                "locked": s.locked,
                "completed": s.completed,
            }
            for s in routed.timeline()
        ]
        left = routed.unassigned if unassigned is None else unassigned
        values: dict[str, Any] = {
            "rep_id": uuid.UUID(work.rep_id),
            "plan_date": day,
            "timezone": self.settings.timezone,
            "start_lat": work.start.lat,
            "start_lon": work.start.lon,
            "end_lat": work.end.lat,
            "end_lon": work.end.lon,
            "start_at": self._at(day, routed.depart_s),
            "end_at": self._at(day, routed.end_s),
            "shift_end_at": self._at(day, work.end_s),
            "stops": stops,
            "lunch": None
            if routed.lunch_s is None
            else {
                "start_at": utc_iso(self._at(day, routed.lunch_s[0])),
                "end_at": utc_iso(self._at(day, routed.lunch_s[1])),
            },
            "unassigned": [{"customer_id": c, "reason": r} for c, r in left]
            + [{"customer_id": c, "reason": NO_LOCATION} for c in needs_location],
            "needs_location": needs_location,
            "total_travel_s": routed.total_travel_s,
            "total_distance_m": routed.total_distance_m,
            "total_service_s": routed.total_service_s,
            "total_waiting_s": routed.total_waiting_s,
            "geometry": routed.geometry(),
            "travel_provider": self.settings.provider_name,
        }
        record = self.session.scalar(
            select(RoutePlan).where(
                RoutePlan.rep_id == values["rep_id"], RoutePlan.plan_date == day
            )
        )
        if record is None:
            return create_record(self.session, RoutePlan, values, now=self.now)
        values["deleted_at"] = None
        update_record(self.session, record, values, now=self.now)
        return record


def _serving_reps(customer: Customer, scopes: dict[str, Scope]) -> frozenset[str]:
    """The reps whose scope holds the customer: only they may visit it."""
    return frozenset(
        rep
        for rep, scope in scopes.items()
        if customer.territory_id in scope.territory_ids or customer.owner_id in scope.member_ids
    )


def _facts(customer: Customer) -> CustomerFacts:
    return CustomerFacts(
        customer.id,
        customer.tier,
        customer.visit_every_days,
        customer.last_visit_at,
        customer.lat,
        customer.lon,
        customer.status,
    )


def working_days(first: date, count: int) -> list[date]:
    """`count` weekdays from `first` on (weekends skipped)."""
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days
