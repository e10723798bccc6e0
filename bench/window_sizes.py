"""What the history window saves: a demo rep's first sync with and without it (ADR 0024).

    .venv/bin/python -m bench.window_sizes [--rep rep1] [--limit 5000] [--months 12]
                                           [--db sqlite|postgres]

Seeds the demo distributor into a temporary SQLite file (or a PostgreSQL
database `fs_window_sizes` on `BENCH_POSTGRES_URL`'s server), then pulls a rep's
whole scope through the test client (uncompressed JSON, as the server writes
it) on two days: today, and 120 days after the demo's history ends (when all
of it is older than 90 days). Prints records, visits, orders, bytes and pages
and the best time of three through the test client (in-process) per case.
The demo's history is the month before 2026-11-20, so until about
2027-02-18 a 90-day window leaves it whole. `--months N` then gives the rep's
customers N months of history at the demo's rhythm (the month repeated, a
month earlier each time) and measures again: how a phone grows over the years
without the window, and stays bounded with it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from bench.common import database_url, drop_database, migrated_app
from server.demo import BASE, DOMAIN, PASSWORD, seed_demo_data
from server.extensions import db
from sync import settings


def first_sync(client, headers, limit: int) -> dict:
    """The best of three first syncs (ms; the machine may be busy), and what they sent."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        totals = one_sync(client, headers, limit)
        times.append((time.perf_counter() - started) * 1000)
    return {**totals, "ms": round(min(times))}


def one_sync(client, headers, limit: int) -> dict:
    totals = {"records": 0, "visits": 0, "orders": 0, "bytes": 0, "pages": 0}
    cursor = None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/sync/pull", query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        body = response.json
        totals["bytes"] += len(response.data)
        totals["pages"] += 1
        totals["records"] += len(body["changes"])
        for table in ("visits", "orders"):
            totals[table] += sum(1 for c in body["changes"] if c["table"] == table)
        cursor = body["cursor"]
        if not body["has_more"]:
            return totals


def add_months(session, rep_email: str, months: int) -> None:
    """Copies of the rep's scope's visits and orders, 30 days earlier each month."""
    from sqlalchemy import select

    from domain.models import Order, User, Visit
    from sync import Scope, create_record

    user = session.scalar(select(User).where(User.email == rep_email))
    scope = Scope.for_user(session, user)
    visit_fields = (
        "customer_id",
        "rep_id",
        "status",
        "planned_at",
        "check_in_at",
        "check_out_at",
        "outcome",
    )
    order_fields = ("customer_id", "rep_id", "status", "lines", "currency", "submitted_at")
    for model, fields in ((Visit, visit_fields), (Order, order_fields)):
        originals = session.scalars(select(model).where(scope.where(model))).all()
        for month in range(1, months):
            shift = timedelta(days=30 * month)
            for record in originals:
                if record.status in ("planned", "draft"):
                    continue
                values = {f: getattr(record, f) for f in fields}
                for key, value in values.items():
                    if isinstance(value, datetime):
                        values[key] = value - shift
                create_record(session, model, values, now=record.created_at - shift)
            session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rep", default="rep1")
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--months", type=int, default=0)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = migrated_app(database_url(args.db, Path(tmp), "fs_window_sizes"))
        with app.app_context():
            seed_demo_data(db.session)
            db.session.commit()
            if args.db == "postgres":  # as autovacuum would: plans need the statistics
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
        client = app.test_client()
        body = {"email": f"{args.rep}@{DOMAIN}", "password": PASSWORD, "device_id": "bench"}
        token = client.post("/api/v1/auth/login", json=body).json["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        configured = settings.current()
        days = {
            "today": datetime.now(UTC),
            "history end + 120 d": BASE + timedelta(days=120),
        }
        rows = [("case", "records", "visits", "orders", "bytes", "pages", "ms")]

        def measure(label: str, now: datetime) -> None:
            for window in (0, configured.window_days_rep or 90):
                settings.configure(replace(configured, window_days_rep=window))
                with mock.patch("server.sync.routes.utc_now", lambda now=now: now):
                    got = first_sync(client, headers, args.limit)
                name = f"{label}, {f'{window}-day window' if window else 'no window'}"
                rows.append((name, *(got[k] for k in rows[0][1:])))

        for label, now in days.items():
            measure(label, now)
        if args.months > 1:
            with app.app_context():
                add_months(db.session, f"{args.rep}@{DOMAIN}", args.months)
                if args.db == "postgres":
                    db.session.execute(db.text("ANALYZE"))
                    db.session.commit()
            measure(f"{args.months} months of history", BASE + timedelta(days=1))
        settings.configure(configured)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if args.db == "postgres":
            drop_database("fs_window_sizes")
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            print(
                "  ".join(
                    str(v).rjust(w) if i else str(v).ljust(w)
                    for i, (v, w) in enumerate(zip(row, widths, strict=True))
                )
            )


if __name__ == "__main__":
    main()
