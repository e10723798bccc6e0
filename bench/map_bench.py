"""GeoJSON for the map: 10,000 customers through `GET /api/v1/geo/customers`.

    python -m bench.map_bench [--customers 10000] [--runs 10]

Server time per request (in-process test client, SQLite), p50 and worst.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.routing_bench import _app, _login, _seed
from domain.models import Customer
from server.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp))
        _seed(app, 10, args.customers, seed=3)
        rng, now = random.Random(3), datetime.now(UTC)
        with app.app_context():  # a realistic mix of recent and old visits
            for customer in db.session.query(Customer):
                customer.last_visit_at = now - timedelta(days=rng.randint(0, 60))
            db.session.commit()
        client = app.test_client()
        headers = _login(client, "manager@bench")
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get("/api/v1/geo/customers", headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        count = len(response.json["features"])
    print(f"\nGET /api/v1/geo/customers, {count} customers")
    print(f"  p50 {statistics.median(times):.0f} ms   worst {max(times):.0f} ms   (goal < 300 ms)")


if __name__ == "__main__":
    main()
