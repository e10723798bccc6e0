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
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from flask_migrate import upgrade

from domain.models import Customer, Team, Territory, User
from routing.matrix import GreatCircleProvider
from routing.planner import Place, Visitable, WorkDay, opening_windows
from routing.solver import Lunch, Shift, Stop, solve
from server import create_app
from server.auth.passwords import hash_password
from server.extensions import db
from sync.changes import create_record

DAY = date(2026, 11, 25)
HOURS = (
    None,
    {d: [["07:30", "11:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    {d: [["08:00", "12:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    {d: [["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
)
PASSWORD = "bench-pass-2026"


def _seed(
    app, reps: int, shops: int, seed: int, spread: float = 0.06
) -> tuple[list[str], str, list[str]]:
    """One team, one territory, `reps` reps, `shops` never-visited shops around Saigon."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with app.app_context():
        s = db.session

        def add(model, **values):
            return create_record(s, model, values, now=now)

        team = add(Team, name="Bench")
        territory = add(Territory, name="Bench", team_id=team.id)
        password = hash_password(PASSWORD)
        manager = add(
            User,
            email="manager@bench",
            name="Manager",
            role="manager",
            team_id=team.id,
            password_hash=password,
        )
        team.managers = [manager]
        people = [
            add(
                User,
                email=f"rep{n}@bench",
                name=f"Rep {n}",
                role="rep",
                team_id=team.id,
                password_hash=password,
                home_lat=10.77 + rng.uniform(-0.05, 0.05),
                home_lon=106.68 + rng.uniform(-0.05, 0.05),
            )
            for n in range(reps)
        ]
        territory.reps = people
        ids = [
            str(
                add(
                    Customer,
                    name=f"Shop {n}",
                    territory_id=territory.id,
                    status="active",
                    lat=10.77 + rng.uniform(-spread, spread),
                    lon=106.68 + rng.uniform(-spread, spread),
                    visit_minutes=rng.choice((10, 15, 20)),
                    opening_hours=rng.choice(HOURS),
                    tier=rng.choice("ABC"),
                ).id
            )
            for n in range(shops)
        ]
        s.commit()
        return [str(p.id) for p in people], str(territory.id), ids


def _login(client, email: str) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "device_id": "bench"}
    token = client.post("/api/v1/auth/login", json=body).json["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rep_day(app, runs: int, seed: int = 1) -> dict:
    _, _, shop_ids = _seed(app, 1, 25, seed=seed, spread=0.03)
    client = app.test_client()
    headers = _login(client, "rep0@bench")
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
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

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
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(limit_s * 1000))
    solution = model.SolveWithParameters(params)
    index, total, served = model.Start(0), 0, 0
    while not model.IsEnd(index):
        following = solution.Value(model.NextVar(index))
        total += travel(index, following)
        served += 1
        index = following
    return total, len(stops) - (served - 1)


def team_day(app, runs: int) -> dict:
    _, territory, _ = _seed(app, 10, 300, seed=2)
    client = app.test_client()
    headers = _login(client, "manager@bench")
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


def _app(workdir: Path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / f'{uuid.uuid4().hex}.db'}",
            "SECRET_KEY": "bench-secret-" + "x" * 40,
            "LOGIN_LIMIT_PER_IP": "100000 per minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
        }
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    return app


def _quality(workdir: Path, seeds: range, reference_s: float) -> list[tuple[int, int, dict]]:
    """Per seeded day: our travel (one API plan), and the references' (travel, unassigned)."""
    rows = []
    for seed in seeds:
        app = _app(workdir)
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
        day = rep_day(_app(workdir), runs)
        quality = _quality(workdir, range(1, 2 if args.quick else 6), 2 if args.quick else 10)
        team = team_day(_app(workdir), max(1, runs // 10))

    ms = [t * 1000 for t in day["times"]]
    print("\nA rep's day: 25 candidate shops, opening hours, lunch, via POST /api/v1/route-plans")
    print(
        f"  runs {len(ms)}   p50 {statistics.median(ms):7.1f} ms   p95 "
        f"{_percentile(ms, 0.95):7.1f} ms   (goal p95 <= 200 ms)"
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
    served = sum(len(p["stops"]) for p in team["result"]["plans"])
    print("\nA team's day: 10 reps, 300 due shops, via POST /api/v1/route-plans/team")
    print(f"  runs {len(team_s)}   max {max(team_s):.2f} s   (goal <= 3 s)")
    print(
        f"  served {served}, unassigned {len(team['result']['unassigned'])}, "
        f"stops per rep {balance['stops_min']}-{balance['stops_max']}, "
        f"work imbalance {balance['imbalance']}"
    )


if __name__ == "__main__":
    main()
