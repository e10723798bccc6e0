"""The manager's map and dashboard on 10,000 customers: GeoJSON, KPIs, the balancer.

    python -m bench.map_bench [--customers 10000] [--runs 10]

Server time per request (in-process test client, SQLite), p50 and worst:
`GET /api/v1/geo/customers`, `GET /api/v1/kpis` (a month, the whole team) and
`POST /api/v1/territory-balancer/proposals` (k = 10) with the imbalance it reaches.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import login_headers, seed_team, sqlite_app
from domain.models import Customer, Team
from server.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = sqlite_app(Path(tmp))
        seed_team(app, 10, args.customers, seed=3)
        rng, now = random.Random(3), datetime.now(UTC)
        with app.app_context():  # a realistic mix of recent and old visits
            for customer in db.session.query(Customer):
                customer.last_visit_at = now - timedelta(days=rng.randint(0, 60))
            db.session.commit()
            team_id = str(db.session.query(Team.id).scalar())
        client = app.test_client()
        headers = login_headers(client, "manager@bench")

        def timed(runs: int, call) -> tuple[list[float], object]:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                response = call()
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.json
            return times, response

        times, response = timed(
            args.runs, lambda: client.get("/api/v1/geo/customers", headers=headers)
        )
        _report(
            f"GET /api/v1/geo/customers, {len(response.json['features'])} customers",
            times,
            "goal < 300 ms",
        )
        month = datetime.now(UTC).strftime("%Y-%m")
        times, _ = timed(
            args.runs,
            lambda: client.get(f"/api/v1/kpis?period={month}&team_id={team_id}", headers=headers),
        )
        _report(f"GET /api/v1/kpis, {month}, the team", times)
        times, response = timed(
            3,
            lambda: client.post(
                "/api/v1/territory-balancer/proposals",
                json={"team_id": team_id, "k": 10},
                headers=headers,
            ),
        )
        proposal = response.json["proposal"]
        _report(
            "POST /api/v1/territory-balancer/proposals, k = 10",
            times,
            f"imbalance {proposal['imbalance']:.3f}, compactness {proposal['compactness']:.2f}",
        )


def _report(title: str, times: list[float], note: str = "") -> None:
    print(f"\n{title}")
    print(f"  p50 {statistics.median(times):.0f} ms   worst {max(times):.0f} ms   {note}")


if __name__ == "__main__":
    main()
