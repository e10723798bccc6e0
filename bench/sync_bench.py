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
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from flask_migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-1"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"


@dataclass
class Sizes:
    rep_records: int
    admin_records: int
    devices: int
    mutations: int

    @classmethod
    def pick(cls, quick: bool) -> Sizes:
        return cls(2_000, 20_000, 20, 50) if quick else cls(20_000, 200_000, 200, 50)


# -- database and data ------------------------------------------------------------------


def database_url(kind: str, workdir: Path, name: str = "fs_bench") -> str:
    """A fresh database `name`: a SQLite file in `workdir`, or dropped and created in PG."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{name}.db'}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def load(url: str, sizes: Sizes) -> dict:
    """Users, territories and records through `sync.changes`, like any other write."""
    from domain.models import Contact, Customer, Task, Team, Territory, User, Visit
    from server import create_app
    from server.auth.passwords import hash_password
    from server.extensions import db
    from sync.changes import create_record

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    started = time.perf_counter()
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        session, now = db.session, datetime.now(UTC)
        hashed = hash_password(PASSWORD)

        def add(model, **values):
            return create_record(session, model, values, now=now)

        team = add(Team, name="Bench")
        admin = add(User, email="admin@bench.io", name="Admin", role="admin", password_hash=hashed)
        reps = [
            add(
                User,
                email=f"rep{i}@bench.io",
                name=f"Rep {i}",
                role="rep",
                team_id=team.id,
                password_hash=hashed,
            )
            for i in range(max(1, sizes.devices // 10))
        ]
        own = add(Territory, name="Rep scope", team_id=team.id)
        own.reps = [reps[0]]
        shared = add(Territory, name="Push floor", team_id=team.id)
        shared.reps = reps
        rest = add(Territory, name="Everything else", team_id=team.id)
        session.commit()

        def customers(territory, records: int, owner=None) -> list:
            made = []
            for i in range(records // 4):
                customer = add(
                    Customer,
                    name=f"Cửa hàng {i}",
                    territory_id=territory.id,
                    owner_id=owner,
                    lat=10.7 + i % 100 / 1000,
                    lon=106.6,
                    tier="B",
                )
                add(Contact, customer_id=customer.id, name=f"Chị {i}", phone="+84 90 000 0000")
                add(Task, customer_id=customer.id, assignee_id=reps[0].id, title=f"Gọi {i}")
                add(Visit, customer_id=customer.id, rep_id=reps[0].id, status="planned")
                made.append(customer.id)
                if i % 500 == 499:
                    session.commit()
            session.commit()
            return made

        customers(own, sizes.rep_records)
        floor = customers(shared, sizes.devices * sizes.mutations // 2)
        customers(rest, sizes.admin_records - sizes.rep_records - len(floor) * 4)
        if url.startswith("postgresql"):
            session.execute(db.text("ANALYZE"))
            session.commit()
        seconds = time.perf_counter() - started
        return {
            "admin": admin.email,
            "rep": reps[0].email,
            "reps": [r.email for r in reps],
            "floor": [str(i) for i in floor],
            "load_s": seconds,
        }


# -- server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(url: str, workdir: Path, secret: str = SECRET) -> dict[str, str]:
    """`fieldsync serve`'s environment for a bench: no login limits, no access log."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "FIELDSYNC_SECRET_KEY": secret,
        "FIELDSYNC_INSTANCE_PATH": str(workdir),
        "FIELDSYNC_LOGIN_LIMIT_PER_IP": "100000 per minute",
        "FIELDSYNC_LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
        "FIELDSYNC_ACCESS_LOG": "",
    }


def start_server(url: str, workers: int, workdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = server_env(url, workdir)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(300):
        try:
            status, _ = request(port, "GET", "/readyz")
            if status == 200:
                return server, port
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def stop_server(server: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the server's process group; SIGKILL it if it is not gone in `timeout` s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout)


def server_rss_mb(pid: int) -> float:
    """Resident memory of the gunicorn master and its workers, summed."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        return 0.0
    total_kb = 0
    for p in pids:
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


# -- HTTP ----------------------------------------------------------------------------------

_local = threading.local()


def request(port: int, method: str, path: str, body=None, token=None) -> tuple[int, dict]:
    """One request on this thread's keep-alive connection."""
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "port", None) != port:
        conn = _local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        _local.port = port
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = conn.getresponse()
        data = response.read()
    except (http.client.HTTPException, OSError):
        _local.conn = None
        raise
    return response.status, json.loads(data or b"{}")


def login(port: int, email: str, device: str) -> str:
    status, body = request(
        port,
        "POST",
        "/api/v1/auth/login",
        {"email": email, "password": PASSWORD, "device_id": device},
    )
    assert status == 200, body
    return body["access_token"]


def full_pull(port: int, token: str) -> tuple[int, str]:
    records, cursor = 0, None
    while True:
        path = "/api/v1/sync/pull?limit=5000" + (f"&cursor={cursor}" if cursor else "")
        status, page = request(port, "GET", path, token=token)
        assert status == 200, page
        records += len(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return records, cursor


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


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
    }


def run(kind: str, sizes: Sizes, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = database_url(kind, workdir)
        data = load(url, sizes)
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
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    sizes = Sizes.pick(args.quick)
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    results = [run(kind, sizes, args.concurrency) for kind in kinds]
    print_table(results, sizes)


if __name__ == "__main__":
    main()
