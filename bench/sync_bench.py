"""Sync benchmark: push throughput, initial sync and empty pulls through the real server.

Loads a dataset through the one write path, starts `fieldsync serve` (gunicorn)
on 127.0.0.1 and drives it over HTTP with concurrent clients. The clients run
on the same 2-core machine as the server, so the figures are a floor.

    ./bench/run              # full: 200,000 records, 200 devices x 50 mutations
    ./bench/run --quick      # a smoke run in about a minute
    ./bench/run --db sqlite  # one database only
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import common
from bench.common import (
    Sizes,
    database_url,
    full_pull,
    load_sync_data,
    login,
    percentile,
    print_columns,
    request,
    start_server,
    stop_server,
    worker_pids,
)


def pick_sizes(quick: bool) -> Sizes:
    return Sizes(2_000, 20_000, 20, 50) if quick else Sizes(20_000, 200_000, 200, 50)


# -- server memory ------------------------------------------------------------------------


def server_rss_mb(pid: int) -> float:
    """Resident memory of the gunicorn master and its workers, summed."""
    total_kb = 0
    for p in [pid, *worker_pids(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, server_rss_mb(self.pid))
            time.sleep(0.05)

    def stop(self) -> float:
        self.running = False
        self.join()
        return self.peak


# -- scenarios ----------------------------------------------------------------------------


def initial_sync(port: int, server_pid: int, email: str) -> dict:
    token = login(port, email, f"sync-{uuid.uuid4()}")
    sampler = RssSampler(server_pid)
    sampler.start()
    started = time.perf_counter()
    records, cursor = full_pull(port, token)
    seconds = time.perf_counter() - started
    return {
        "records": records,
        "seconds": seconds,
        "rate": records / seconds,
        "peak_rss_mb": sampler.stop(),
        "token": token,
        "cursor": cursor,
    }


def empty_pulls(port: int, token: str, cursor: str, count: int = 200) -> dict:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        status, page = request(port, "GET", f"/api/v1/sync/pull?cursor={cursor}", token=token)
        latencies.append(time.perf_counter() - started)
        assert status == 200 and not page["changes"], page
        cursor = page["cursor"]
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
    }


def push(port: int, data: dict, sizes: Sizes, concurrency: int) -> dict:
    """Each device pushes one batch: 90 % its own customers, 10 % records all edit."""
    floor = data["floor"]
    hot, own = floor[:50], floor[50:]
    per_device = max(1, len(own) // sizes.devices)
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        tokens = list(
            pool.map(
                lambda d: login(port, data["reps"][d % len(data["reps"])], f"bench-{d}"),
                range(sizes.devices),
            )
        )

    def batch(device: int) -> list[dict]:
        start = datetime.now(UTC) - timedelta(hours=1)
        mine = own[device * per_device : (device + 1) * per_device] or own[:1]
        mutations = []
        for i in range(sizes.mutations):
            target = hot[i % len(hot)] if i % 10 == 0 else mine[i % len(mine)]
            mutations.append(
                {
                    "id": str(uuid.uuid4()),
                    "table": "customers",
                    "op": "update",
                    "record_id": target,
                    "base_version": 1,
                    "changed_at": (start + timedelta(seconds=i)).isoformat(),
                    "fields": {"notes": f"device {device} edit {i}", "phone": f"+84 {device} {i}"},
                }
            )
        return mutations

    bodies = [
        {"schema_version": 1, "device_time": datetime.now(UTC).isoformat(), "mutations": batch(d)}
        for d in range(sizes.devices)
    ]

    def send(device: int) -> tuple[float, dict]:
        started = time.perf_counter()
        status, body = request(
            port, "POST", "/api/v1/sync/push", bodies[device], token=tokens[device]
        )
        assert status == 200, body
        return time.perf_counter() - started, body

    retried_before = common.overload_retries
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(send, range(sizes.devices)))
    seconds = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for _, body in outcomes:
        for result in body["results"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    latencies = [latency for latency, _ in outcomes]
    total = sizes.devices * sizes.mutations
    return {
        "mutations": total,
        "seconds": seconds,
        "rate": total / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "statuses": statuses,
        "overload_retries": common.overload_retries - retried_before,
    }


def run(kind: str, sizes: Sizes, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = database_url(kind, workdir)
        data = load_sync_data(url, sizes)
        server, port = start_server(url, 1 if kind == "sqlite" else 2, workdir)
        try:
            rep = initial_sync(port, server.pid, data["rep"])
            admin = initial_sync(port, server.pid, data["admin"])
            idle = empty_pulls(port, rep["token"], rep["cursor"])
            pushed = push(port, data, sizes, concurrency)
        finally:
            stop_server(server)
    return {
        "db": kind,
        "load_s": data["load_s"],
        "rep": rep,
        "admin": admin,
        "empty": idle,
        "push": pushed,
    }


def print_table(results: list[dict], sizes: Sizes) -> None:
    rows = [("measure", *(r["db"] for r in results), "goal")]
    rows.append(("load (s, through the write path)", *(f"{r['load_s']:.0f}" for r in results), ""))
    for key, label in (("rep", "rep scope"), ("admin", "admin scope")):
        rows.append(
            (f"initial sync {label}: records", *(str(r[key]["records"]) for r in results), "")
        )
        rows.append(
            (f"initial sync {label}: s", *(f"{r[key]['seconds']:.2f}" for r in results), "")
        )
        rows.append(
            (
                f"initial sync {label}: records/s",
                *(f"{r[key]['rate']:,.0f}" for r in results),
                "≥ 20,000",
            )
        )
        rows.append(
            (
                f"initial sync {label}: peak server RSS MB",
                *(f"{r[key]['peak_rss_mb']:.0f}" for r in results),
                "≤ 300" if key == "admin" else "",
            )
        )
    rows.append(("empty pull p50 ms", *(f"{r['empty']['p50_ms']:.1f}" for r in results), ""))
    rows.append(("empty pull p95 ms", *(f"{r['empty']['p95_ms']:.1f}" for r in results), "≤ 20"))
    rows.append(
        (
            f"push {sizes.devices}×{sizes.mutations}: mutations/s",
            *(f"{r['push']['rate']:,.0f}" for r in results),
            "≥ 2,000 (PostgreSQL)",
        )
    )
    rows.append(("push request p50 ms", *(f"{r['push']['p50_ms']:.0f}" for r in results), ""))
    rows.append(("push request p95 ms", *(f"{r['push']['p95_ms']:.0f}" for r in results), ""))
    rows.append(("push results", *(json.dumps(r["push"]["statuses"]) for r in results), ""))
    rows.append(
        (
            "pushes sent again after 503 overloaded",
            *(str(r["push"]["overload_retries"]) for r in results),
            "",
        )
    )
    print_columns(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    sizes = pick_sizes(args.quick)
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    results = [run(kind, sizes, args.concurrency) for kind in kinds]
    print_table(results, sizes)


if __name__ == "__main__":
    main()
