"""Route planning through the API: a rep's day and a team's day, timed end to end.

    python -m bench.routing_bench [--runs 30] [--quick]

A rep's day: 25 candidate shops with opening hours and a lunch break, planned
with `POST /api/v1/route-plans` (matrix + solve + store), p50/p95 over runs;
its travel time is compared with VROOM at its highest exploration level and
OR-Tools, both given 10 s. A team's day: 10 reps sharing 300 due shops
(`POST /api/v1/route-plans/team`). SQLite in a temporary directory.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import login_headers, ortools_parameters, percentile, seed_team, sqlite_app
from domain.models import Customer
from domain.timeline import visits
from routing.matrix import GreatCircleProvider
from routing.planner import Place, Visitable, WorkDay, opening_windows
from routing.solver import Lunch, Shift, Stop, solve
from server.extensions import db

DAY = date(2026, 11, 25)


def rep_day(app, runs: int, seed: int = 1) -> dict:
    _, _, shop_ids = seed_team(app, 1, 25, seed=seed, spread=0.03)
    client = app.test_client()
    headers = login_headers(client, "rep0@bench")
    body = {"date": DAY.isoformat(), "customer_ids": shop_ids}
    times, plan = [], None
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post("/api/v1/route-plans", json=body, headers=headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 201, response.json
        plan = response.json
    return {"times": times, "plan": plan, "shops": shop_ids}


def _reference_travel(app, plan: dict, shop_ids: list[str], ortools_s: float) -> dict:
    """The same day solved by VROOM (exploration 5, 10 s) and OR-Tools (10 s)."""
    with app.app_context():
        customers = {str(c.id): c for c in db.session.query(Customer).all()}
    home = Place(plan["start_lat"], plan["start_lon"])
    shops = [
        Visitable(
            i,
            Place(customers[i].lat, customers[i].lon),
            customers[i].visit_minutes,
            customers[i].opening_hours,
        )
        for i in shop_ids
    ]
    work = WorkDay(
        "r",
        DAY,
        home,
        home,
        8 * 3600,
        17 * 3600 + 1800,
        Lunch(11 * 3600 + 1800, 13 * 3600, 45 * 60),
    )
    points = [(home.lat, home.lon), *((c.place.lat, c.place.lon) for c in shops)]
    matrix = GreatCircleProvider().matrix(points)
    stops = [
        Stop(c.id, n, c.visit_minutes * 60, opening_windows(c.opening_hours, DAY))
        for n, c in enumerate(shops, 1)
    ]
    shift = Shift("r", 0, 0, work.start_s, work.end_s, lunch=work.lunch)
    vroom_plan = solve(matrix, [shift], stops, time_limit_s=10, exploration_level=5)
    vroom_travel = sum(s.travel_s for s in vroom_plan.routes["r"])
    result = {"vroom_max": (vroom_travel, len(vroom_plan.unassigned))}
    try:
        result["ortools"] = _ortools_day(matrix.seconds, stops, work, ortools_s)
    except ImportError:
        print("  (OR-Tools not installed: pip install -e '.[bench]' to compare with it)")
    return result


def _ortools_day(seconds, stops: list[Stop], work: WorkDay, limit_s: float) -> tuple[int, int]:
    """One vehicle with opening windows and the lunch break, as in the plan."""
    from ortools.constraint_solver import pywrapcp

    manager = pywrapcp.RoutingIndexManager(len(stops) + 1, 1, 0)
    model = pywrapcp.RoutingModel(manager)
    service = [0, *(s.service_s for s in stops)]

    def travel(i: int, j: int) -> int:
        return int(seconds[manager.IndexToNode(i)][manager.IndexToNode(j)])

    def busy(i: int, j: int) -> int:
        return travel(i, j) + service[manager.IndexToNode(i)]

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(travel))
    model.AddDimension(model.RegisterTransitCallback(busy), 24 * 3600, 24 * 3600, False, "time")
    clock = model.GetDimensionOrDie("time")
    for node, stop in enumerate(stops, 1):
        index = manager.NodeToIndex(node)
        model.AddDisjunction([index], 10_000_000)
        if stop.windows:
            windows = sorted(stop.windows, key=lambda w: w.start_s)
            clock.CumulVar(index).SetRange(windows[0].start_s, windows[-1].end_s)
            for before, after in itertools.pairwise(windows):
                clock.CumulVar(index).RemoveInterval(before.end_s + 1, after.start_s - 1)
    for index in (model.Start(0), model.End(0)):
        clock.CumulVar(index).SetRange(work.start_s, work.end_s)
    if work.lunch:
        lunch = work.lunch
        visits = [service[manager.IndexToNode(i)] for i in range(model.Size())]
        lunch_break = model.solver().FixedDurationIntervalVar(
            lunch.earliest_s, lunch.latest_s, lunch.duration_s, False, "lunch"
        )
        clock.SetBreakIntervalsOfVehicle([lunch_break], 0, visits)
    solution = model.SolveWithParameters(ortools_parameters(limit_s))
    index, total, served = model.Start(0), 0, 0
    while not model.IsEnd(index):
        following = solution.Value(model.NextVar(index))
        total += travel(index, following)
        served += 1
        index = following
    return total, len(stops) - (served - 1)


def team_day(app, runs: int) -> dict:
    _, territory, _ = seed_team(app, 10, 300, seed=2)
    client = app.test_client()
    headers = login_headers(client, "manager@bench")
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post(
            "/api/v1/route-plans/team",
            json={"territory_id": territory, "date": DAY.isoformat()},
            headers=headers,
        )
        times.append(time.perf_counter() - started)
        assert response.status_code == 201, response.json
        result = response.json
    return {"times": times, "result": result}


def _quality(workdir: Path, seeds: range, reference_s: float) -> list[tuple[int, int, dict]]:
    """Per seeded day: our travel (one API plan), and the references' (travel, unassigned)."""
    rows = []
    for seed in seeds:
        app = sqlite_app(workdir)
        day = rep_day(app, 1, seed)
        plan = day["plan"]
        refs = _reference_travel(app, plan, day["shops"], reference_s)
        rows.append((seed, plan["total_travel_s"], len(plan["unassigned"]), refs))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="few runs, short references")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        day = rep_day(sqlite_app(workdir), runs)
        quality = _quality(workdir, range(1, 2 if args.quick else 6), 2 if args.quick else 10)
        team = team_day(sqlite_app(workdir), max(1, runs // 10))

    ms = [t * 1000 for t in day["times"]]
    print("\nA rep's day: 25 candidate shops, opening hours, lunch, via POST /api/v1/route-plans")
    print(
        f"  runs {len(ms)}   p50 {statistics.median(ms):7.1f} ms   p95 "
        f"{percentile(ms, 0.95):7.1f} ms   (goal p95 <= 200 ms)"
    )
    print("  travel time (s) vs VROOM at exploration 5 and OR-Tools, 10 s each:")
    print(f"  {'day':>4} {'ours':>7} {'vroom_max':>10} {'ortools':>8} {'gap %':>7}")
    gaps = []
    for seed, ours, unassigned, refs in quality:
        fair = [t for t, left in refs.values() if left <= unassigned]
        best = min(fair) if fair else None
        gap = 100 * (ours - best) / best if best else float("nan")
        gaps.append(gap)
        cells = [
            f"{refs[k][0]:>{w}}" if k in refs else f"{'-':>{w}}"
            for k, w in (("vroom_max", 10), ("ortools", 8))
        ]
        print(f"  {seed:>4} {ours:>7} {cells[0]} {cells[1]} {gap:>+7.2f}")
    print(f"  worst gap to the best reference {max(gaps):+.2f} % (goal <= 2 %)")
    team_s = team["times"]
    balance = team["result"]["balance"]
    served = sum(len(visits(p["stops"])) for p in team["result"]["plans"])
    print("\nA team's day: 10 reps, 300 due shops, via POST /api/v1/route-plans/team")
    print(f"  runs {len(team_s)}   max {max(team_s):.2f} s   (goal <= 3 s)")
    print(
        f"  served {served}, unassigned {len(team['result']['unassigned'])}, "
        f"stops per rep {balance['stops_min']}-{balance['stops_max']}, "
        f"work imbalance {balance['imbalance']}"
    )


if __name__ == "__main__":
    main()
