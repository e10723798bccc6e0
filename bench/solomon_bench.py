"""Route quality on the Solomon VRPTW instances: fieldsync's solver against two yardsticks.

Per instance, three solvers get every vehicle from the header:

* fieldsync: `routing.solver.solve` (VROOM) with its default exploration level;
* nn: nearest neighbour, what a rep does by hand (nearest feasible customer next,
  a new vehicle when none fits);
* ortools: OR-Tools routing, PATH_CHEAPEST_ARC then GUIDED_LOCAL_SEARCH.

The solvers need integers, so coordinates, times and service are scaled by SCALE.
Travel times are rounded up, so a plan feasible in integers is feasible in doubles;
every plan is then re-checked and measured here in doubles (Euclidean distance,
travel time = distance) and compared with the distance-only best known solution
measured the same way.

    python -m bench.solomon_bench                      # all 56 instances
    python -m bench.solomon_bench --quick              # one instance per family
    python -m bench.solomon_bench --instances C101,R201 --time-limit 1.0 --no-ortools
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from routing.matrix import TravelMatrix
from routing.solver import Shift, Stop, Window, solve

from .common import ortools_parameters
from .solomon_data import BestKnown, Instance, load_best_known, load_instances

try:
    from ortools.constraint_solver import pywrapcp
except ImportError:  # optional: pip install -e '.[bench]'
    pywrapcp = None

SCALE = 100
#: Slack for comparing doubles when re-checking time windows.
EPS = 1e-6
#: OR-Tools may drop a customer at this price rather than fail to find any plan.
DROP_PENALTY = 10**8
#: Extra keyword arguments for `solve` (from --exploration / --threads); empty: its defaults.
SOLVE_OPTIONS: dict = {}

Matrices = tuple[np.ndarray, np.ndarray]  # (scaled travel times, scaled distances)
Solver = Callable[[Instance, Matrices, float], list[list[int]]]


@dataclass
class Outcome:
    """One solver's plan on one instance, measured in doubles."""

    routes: list[list[int]]
    seconds: float
    distance: float
    unserved: int
    problems: list[str]

    @property
    def vehicles(self) -> int:
        return sum(1 for route in self.routes if route)

    def gap(self, best: BestKnown) -> float:
        # + 0.0 so that a tie with the best known prints as 0.00, not -0.00.
        return round(100 * (self.distance - best.distance) / best.distance, 2) + 0.0


def scaled(value: float) -> int:
    return round(value * SCALE)


def integer_matrices(instance: Instance) -> Matrices:
    """Scaled distances (rounded) and travel times (rounded up, never optimistic)."""
    xy = np.array([(c.x, c.y) for c in instance.customers])
    exact = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * SCALE
    travel = np.ceil(exact - 1e-9).astype(np.int64)
    return travel, np.rint(exact).astype(np.int64)


# -- solvers ----------------------------------------------------------------------------


def fieldsync(instance: Instance, matrices: Matrices, time_limit: float) -> list[list[int]]:
    depot = instance.depot
    shifts = [
        Shift(f"v{k}", 0, 0, scaled(depot.ready), scaled(depot.due), capacity=instance.capacity)
        for k in range(instance.vehicles)
    ]
    stops = [
        Stop(
            str(c.number),
            c.number,
            scaled(c.service),
            windows=(Window(scaled(c.ready), scaled(c.due)),),
            demand=c.demand,
        )
        for c in instance.customers[1:]
    ]
    plan = solve(TravelMatrix(*matrices), shifts, stops, time_limit_s=time_limit, **SOLVE_OPTIONS)
    return [
        [int(step.key) for step in steps if step.kind == "stop"] for steps in plan.routes.values()
    ]


def nearest_neighbour(instance: Instance, _matrices: Matrices, _limit: float) -> list[list[int]]:
    """Nearest feasible customer next (waiting allowed); a new vehicle when none fits.

    Like a rep with a pen, it ignores the fleet size: needing more vehicles than the
    header offers shows up as a constraint problem, not as customers left out.
    """
    depot, customers = instance.depot, instance.customers
    unvisited = set(range(1, len(customers)))
    routes: list[list[int]] = []
    while unvisited:
        route, here, clock, load = [], 0, depot.ready, 0
        while True:
            feasible = []
            for j in unvisited:
                c = customers[j]
                start = max(clock + instance.distance(here, j), c.ready)
                if (
                    load + c.demand <= instance.capacity
                    and start <= c.due
                    and start + c.service + instance.distance(j, 0) <= depot.due
                ):
                    feasible.append((instance.distance(here, j), j, start))
            if not feasible:
                break
            _, here, start = min(feasible)
            route.append(here)
            unvisited.remove(here)
            clock, load = start + customers[here].service, load + customers[here].demand
        if not route:
            break  # what is left does not fit even an empty vehicle
        routes.append(route)
    return routes


def ortools(instance: Instance, matrices: Matrices, time_limit: float) -> list[list[int]]:
    travel, metres = matrices
    customers, depot = instance.customers, instance.depot
    manager = pywrapcp.RoutingIndexManager(len(customers), instance.vehicles, 0)
    model = pywrapcp.RoutingModel(manager)
    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitMatrix(metres.tolist()))

    # Time at node i + service at i + travel i->j = time at j; waiting is slack.
    service = np.array([scaled(c.service) for c in customers], dtype=np.int64)
    horizon = scaled(depot.due)
    timed = model.RegisterTransitMatrix((travel + service[:, None]).tolist())
    model.AddDimension(timed, horizon, horizon, False, "Time")
    clock = model.GetDimensionOrDie("Time")
    for c in customers[1:]:
        clock.CumulVar(manager.NodeToIndex(c.number)).SetRange(scaled(c.ready), scaled(c.due))
        model.AddDisjunction([manager.NodeToIndex(c.number)], DROP_PENALTY)
    for v in range(instance.vehicles):
        clock.CumulVar(model.Start(v)).SetRange(scaled(depot.ready), horizon)
        clock.CumulVar(model.End(v)).SetRange(scaled(depot.ready), horizon)

    demand = model.RegisterUnaryTransitVector([c.demand for c in customers])
    model.AddDimension(demand, 0, instance.capacity, True, "Capacity")

    solution = model.SolveWithParameters(ortools_parameters(time_limit))
    if solution is None:
        return []
    routes = []
    for v in range(instance.vehicles):
        route, index = [], solution.Value(model.NextVar(model.Start(v)))
        while not model.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(model.NextVar(index))
        routes.append(route)
    return routes


# -- checking and measuring -------------------------------------------------------------


def check(instance: Instance, routes: list[list[int]]) -> list[str]:
    """Constraint violations of a plan, measured in doubles (empty: feasible)."""
    problems = []
    depot, customers = instance.depot, instance.customers
    visits = [j for route in routes for j in route]
    if len(visits) != len(set(visits)):
        problems.append("a customer is visited twice")
    used = sum(1 for route in routes if route)
    if used > instance.vehicles:
        problems.append(f"{used} vehicles, the fleet has {instance.vehicles}")
    for route in routes:
        if sum(customers[j].demand for j in route) > instance.capacity:
            problems.append(f"over capacity on route starting {route[0]}")
        here, clock = 0, depot.ready
        for j in route:
            clock = max(clock + instance.distance(here, j), customers[j].ready)
            if clock > customers[j].due + EPS:
                problems.append(f"late at {j} by {clock - customers[j].due:.3f}")
            clock, here = clock + customers[j].service, j
        if route and clock + instance.distance(here, 0) > depot.due + EPS:
            problems.append(f"back late after {here}")
    return problems


def run(solver: Solver, instance: Instance, matrices: Matrices, time_limit: float) -> Outcome:
    started = time.perf_counter()
    routes = solver(instance, matrices, time_limit)
    seconds = time.perf_counter() - started
    served = {j for route in routes for j in route}
    return Outcome(
        routes,
        seconds,
        sum(instance.route_distance(route) for route in routes),
        len(instance.customers) - 1 - len(served),
        check(instance, routes),
    )


# -- printing ---------------------------------------------------------------------------

PER_SOLVER = (("veh", 4), ("dist", 8), ("gap%", 6), ("s", 5), ("miss", 4))


def header(labels: list[str]) -> str:
    first = f"{'':<8} {'best known':>13}"
    second = f"{'instance':<8} {'veh':>4} {'dist':>8}"
    group_width = sum(width + 1 for _, width in PER_SOLVER) - 1
    for label in labels:
        first += "  " + label.center(group_width, "-")
        second += "  " + " ".join(f"{name:>{width}}" for name, width in PER_SOLVER)
    return f"{first}\n{second}"


def row(instance: Instance, best: BestKnown, outcomes: list[Outcome]) -> str:
    line = f"{instance.name:<8} {best.vehicles:>4} {best.distance:>8.2f}"
    for o in outcomes:
        flag = "!" if o.problems else ""
        line += (
            f"  {o.vehicles:>4} {o.distance:>8.2f} {o.gap(best):>6.2f} {o.seconds:>5.2f}"
            f" {o.unserved:>3}{flag:<1}"
        )
    return line.rstrip()


def summary(labels: list[str], results: list[tuple[Instance, BestKnown, list[Outcome]]]) -> str:
    families = sorted({instance.family for instance, _, _ in results}, key=lambda f: (len(f), f))
    width = max(9, *(len(label) for label in labels))
    lines = ["Average gap % to the distance-only best known, by family:"]
    lines.append(f"{'family':<6} {'n':>3}" + "".join(f" {label:>{width}}" for label in labels))
    for family in [*families, "all"]:
        chosen = [r for r in results if family in ("all", r[0].family)]
        gaps = [
            statistics.fmean(outcomes[k].gap(best) for _, best, outcomes in chosen)
            for k in range(len(labels))
        ]
        lines.append(
            f"{family:<6} {len(chosen):>3}" + "".join(f" {gap:>{width}.2f}" for gap in gaps)
        )

    lines += ["", "Per solver over all instances:"]
    lines.append(
        f"{'solver':<{width}} {'avg gap%':>8} {'max gap%':>8} {'avg veh':>7} {'avg s':>6}"
        f" {'max s':>6} {'incomplete':>10} {'unserved':>8} {'infeasible':>10}"
    )
    best_vehicles = statistics.fmean(best.vehicles for _, best, _ in results)
    lines.append(f"{'best known':<{width}} {0:>8.2f} {0:>8.2f} {best_vehicles:>7.2f}")
    for k, label in enumerate(labels):
        mine = [(best, outcomes[k]) for _, best, outcomes in results]
        gaps = [o.gap(best) for best, o in mine]
        times = [o.seconds for _, o in mine]
        lines.append(
            f"{label:<{width}} {statistics.fmean(gaps):>8.2f} {max(gaps):>8.2f}"
            f" {statistics.fmean(o.vehicles for _, o in mine):>7.2f}"
            f" {statistics.fmean(times):>6.2f} {max(times):>6.2f}"
            f" {sum(o.unserved > 0 for _, o in mine):>10} {sum(o.unserved for _, o in mine):>8}"
            f" {sum(bool(o.problems) for _, o in mine):>10}"
        )
    return "\n".join(lines)


def goal(results: list[tuple[Instance, BestKnown, list[Outcome]]]) -> str:
    ours = [(best, outcomes[0]) for _, best, outcomes in results]
    gap = statistics.fmean(o.gap(best) for best, o in ours)
    slowest = max(o.seconds for _, o in ours)
    complete = all(o.unserved == 0 and not o.problems for _, o in ours)
    verdict = "met" if gap <= 3 and slowest <= 1 and complete else "NOT met"
    return (
        f"Goal (fieldsync avg gap <= 3%, <= 1 s per instance, all served): {verdict}"
        f" (avg gap {gap:.2f}%, slowest {slowest:.2f} s,"
        f" {'all' if complete else 'NOT all'} customers served feasibly)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", help="comma-separated names, e.g. C101,R201")
    parser.add_argument("--time-limit", type=float, default=1.0, help="seconds per solve")
    parser.add_argument(
        "--exploration", type=int, help="fieldsync: VROOM exploration level 0-5 (default: solve's)"
    )
    parser.add_argument("--threads", type=int, help="fieldsync: VROOM threads (default: solve's)")
    parser.add_argument("--no-ortools", action="store_true", help="skip the OR-Tools column")
    parser.add_argument("--quick", action="store_true", help="one instance per family")
    args = parser.parse_args()
    if args.exploration is not None:
        SOLVE_OPTIONS["exploration_level"] = args.exploration
    if args.threads is not None:
        SOLVE_OPTIONS["threads"] = args.threads

    names = args.instances.split(",") if args.instances else None
    instances = load_instances(names)
    if args.quick:
        firsts = {}
        for instance in instances:
            firsts.setdefault(instance.family, instance)
        instances = list(firsts.values())
    best_known = load_best_known()

    solvers: list[tuple[str, Solver]] = [("fieldsync", fieldsync), ("nn", nearest_neighbour)]
    if args.no_ortools:
        pass
    elif pywrapcp is None:
        print("OR-Tools is not installed, skipping it: pip install -e '.[bench]' (or ortools)")
    else:
        solvers.append(("ortools", ortools))
    labels = [label for label, _ in solvers]

    print(
        f"Solomon VRPTW, {len(instances)} instances, time limit {args.time_limit:g} s,"
        f" fieldsync options {SOLVE_OPTIONS or 'default'},"
        f" integer scale x{SCALE}; distances in doubles; gap to distmin (recomputed in doubles)"
    )
    print("miss = customers not served; ! = plan breaks a constraint (see below)\n")
    print(header(labels))
    results = []
    for instance in instances:
        matrices = integer_matrices(instance)
        outcomes = [run(solver, instance, matrices, args.time_limit) for _, solver in solvers]
        best = best_known[instance.name]
        results.append((instance, best, outcomes))
        print(row(instance, best, outcomes), flush=True)

    for instance, _, outcomes in results:
        for label, outcome in zip(labels, outcomes, strict=True):
            if outcome.problems:
                print(f"! {instance.name} {label}: {'; '.join(outcome.problems[:3])}")
    print()
    print(summary(labels, results))
    print()
    print(goal(results))


if __name__ == "__main__":
    main()
