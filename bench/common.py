"""What the benchmarks share: databases, a server to drive, an app in process, HTTP, figures.

Each bench is its own script (`./bench/run NAME`); what two of them need is written once
here, so that a fix (how a server is waited for, how a percentile is taken) reaches them all
and their figures stay comparable.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient
    from ortools.constraint_solver.routing_parameters_pb2 import RoutingSearchParameters
    from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
#: The PostgreSQL server on which benches create and drop databases of their own.
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Every bench user's password and every bench app's key: throwaway data, nothing to guard.
PASSWORD = "bench-password-1"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
#: Login limits out of the way: a bench logs in far more often than any person would.
NO_LOGIN_LIMIT = "100000 per minute"


# -- databases -----------------------------------------------------------------------------


def pg_url(database: str, admin_url: str = PG_ADMIN_URL) -> str:
    """`database` on the same server as `admin_url`."""
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


def create_database(name: str, admin_url: str = PG_ADMIN_URL) -> str:
    """An empty database `name`, its URL; a leftover of an interrupted run is dropped first."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return pg_url(name, admin_url)


def drop_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    """FORCE: a loader's connection pool may still hold connections to it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_url(kind: str, workdir: Path, name: str = "fs_bench") -> str:
    """A fresh database `name`: a SQLite file in `workdir`, or dropped and created in PG."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{name}.db'}"
    return create_database(name)


# -- an app in process, and data through the one write path --------------------------------


def migrated_app(url: str, **config: Any) -> Flask:
    """An app on `url` at the latest migration: benches load their data through the app's
    own write path, on the schema the server runs."""
    from flask_migrate import upgrade

    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, **config})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    return app


def sqlite_app(workdir: Path) -> Flask:
    """A migrated app on a new SQLite file in `workdir`, for benches that time the server's
    work alone through the test client (no HTTP, no other process)."""
    return migrated_app(
        f"sqlite:///{workdir / f'{uuid.uuid4().hex}.db'}",
        LOGIN_LIMIT_PER_IP=NO_LOGIN_LIMIT,
        LOGIN_LIMIT_PER_ACCOUNT=NO_LOGIN_LIMIT,
    )


def record_writer(session: Session, now: datetime) -> Callable[..., Any]:
    """`add(Model, **values)`: a new record through `sync.changes`, the one write path, so
    that bench data has the versions and change-log rows a server's own writes have."""
    from sync.changes import create_record

    def add(model, **values):
        return create_record(session, model, values, now=now)

    return add


@dataclass
class Sizes:
    """How much `load_sync_data` loads."""

    rep_records: int
    admin_records: int
    devices: int
    mutations: int


def load_sync_data(url: str, sizes: Sizes) -> dict:
    """Users, territories and records through `sync.changes`, like any other write.

    One team; a rep per ten devices; the first rep's own territory with `rep_records`
    records, a territory all reps share with a customer per two mutations to push, and the
    rest up to `admin_records`. Each customer comes with a contact, a task and a visit.
    """
    from domain.models import Contact, Customer, Task, Team, Territory, User, Visit
    from server.auth.passwords import hash_password
    from server.extensions import db

    started = time.perf_counter()
    app = migrated_app(url)
    with app.app_context():
        session = db.session
        add = record_writer(session, datetime.now(UTC))
        hashed = hash_password(PASSWORD)

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


#: Opening hours a shop may have: none, a day with a lunch break, mornings, afternoons.
OPENING_HOURS = (
    None,
    {d: [["07:30", "11:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    {d: [["08:00", "12:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    {d: [["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
)


def seed_team(
    app: Flask, reps: int, shops: int, seed: int, spread: float = 0.06
) -> tuple[list[str], str, list[str]]:
    """One team, one territory, `reps` reps, `shops` never-visited shops around Saigon.

    Seeded, so that a route plan and a map are timed on the same day every run. Returns the
    reps' ids, the territory's id and the shops' ids; the manager is `manager@bench`, the
    reps `rep<n>@bench`.
    """
    from domain.models import Customer, Team, Territory, User
    from server.auth.passwords import hash_password
    from server.extensions import db

    rng = random.Random(seed)
    with app.app_context():
        s = db.session
        add = record_writer(s, datetime.now(UTC))

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
                    opening_hours=rng.choice(OPENING_HOURS),
                    tier=rng.choice("ABC"),
                ).id
            )
            for n in range(shops)
        ]
        s.commit()
        return [str(p.id) for p in people], str(territory.id), ids


def login_headers(client: FlaskClient, email: str) -> dict[str, str]:
    """The bearer header for `email`, through the test client (in-process benches)."""
    body = {"email": email, "password": PASSWORD, "device_id": "bench"}
    token = client.post("/api/v1/auth/login", json=body).json["access_token"]
    return {"Authorization": f"Bearer {token}"}


# -- a server in its own process ----------------------------------------------------------


def free_port() -> int:
    """A port free on 127.0.0.1 now: a server in another process cannot be given port 0 and
    tell us which it got."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(url: str, workdir: Path) -> dict[str, str]:
    """`fieldsync serve`'s environment for a bench: no login limits, no access log."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "FIELDSYNC_SECRET_KEY": SECRET,
        "FIELDSYNC_INSTANCE_PATH": str(workdir),
        "FIELDSYNC_LOGIN_LIMIT_PER_IP": NO_LOGIN_LIMIT,
        "FIELDSYNC_LOGIN_LIMIT_PER_ACCOUNT": NO_LOGIN_LIMIT,
        "FIELDSYNC_ACCESS_LOG": "",
    }


def wait_http(
    port: int, path: str, seconds: float = 60, process: subprocess.Popen | None = None
) -> None:
    """Return once `GET path` on 127.0.0.1:`port` answers 200.

    With `process` (the server), fail as soon as it exits: a server that cannot start says
    so at once instead of after the timeout. Plain `http.client`, so that no proxy setting
    in the environment stands between the bench and 127.0.0.1.
    """
    deadline = time.monotonic() + seconds
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except (http.client.HTTPException, OSError):
            pass
        finally:
            conn.close()
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"127.0.0.1:{port}{path} did not answer in {seconds} s")
        time.sleep(0.1)


def start_server(
    url: str,
    workers: int,
    workdir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    log: Path | None = None,
    seconds: float = 120,
) -> tuple[subprocess.Popen, int]:
    """`fieldsync serve` (gunicorn) on a free port, once it answers `/readyz`.

    In its own process group, so that `stop_server` stops its workers with it. Its output
    goes to `log` (appended) when given, else nowhere.
    """
    port = free_port()
    env = server_env(url, workdir) | (extra_env or {})
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    with contextlib.ExitStack() as stack:  # the server holds its own copy of the log
        out = stack.enter_context(log.open("ab")) if log else subprocess.DEVNULL
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_http(port, "/readyz", seconds, server)
    except RuntimeError:
        stop_server(server)
        raise
    return server, port


@contextlib.contextmanager
def seeded_server(
    kind: str, workdir: Path, database: str, sizes: Sizes
) -> Iterator[tuple[dict, int, subprocess.Popen]]:
    """A fieldsync peer for the block: `load_sync_data` on a fresh `kind` database, served
    (one worker on SQLite, two on PostgreSQL); yields the data, port and server, then stops
    the server and drops the PostgreSQL database."""
    url = database_url(kind, workdir, database)
    try:
        data = load_sync_data(url, sizes)
        server, port = start_server(url, 1 if kind == "sqlite" else 2, workdir)
        try:
            yield data, port, server
        finally:
            stop_server(server)
    finally:
        if kind == "postgres":
            drop_database(database)


def stop_server(server: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the server's process group; SIGKILL it if it is not gone in `timeout` s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout)


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children (its workers) now; none once it is gone."""
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


#: Clock ticks per second, the unit of CPU time in /proc/<pid>/stat.
TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads); 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_seconds(master: int) -> tuple[float, tuple[int, ...]]:
    """CPU seconds of a gunicorn master and its workers, and the workers' pids (a worker
    replaced between two readings takes its time with it: the caller checks)."""
    workers = tuple(sorted(worker_pids(master)))
    return process_cpu_seconds(master) + sum(map(process_cpu_seconds, workers)), workers


# -- HTTP ------------------------------------------------------------------------------------

_local = threading.local()


#: Requests turned away with 503 `overloaded` and sent again after `Retry-After`.
overload_retries = 0
_retries_lock = threading.Lock()


def request(port: int, method: str, path: str, body=None, token=None) -> tuple[int, dict]:
    """One request on this thread's keep-alive connection: a client thread reuses its
    connection as a phone would, and the bench times requests, not TCP handshakes.
    Like a phone, it waits `Retry-After` (with jitter) and tries again when the server
    says it is overloaded; `overload_retries` counts those."""
    global overload_retries
    for _ in range(30):
        status, answer, retry_after = _send(port, method, path, body, token)
        if status != 503 or answer.get("error", {}).get("code") != "overloaded":
            return status, answer
        with _retries_lock:
            overload_retries += 1
        time.sleep(retry_after * random.uniform(1.0, 1.5))
    return status, answer


def _send(port: int, method: str, path: str, body, token) -> tuple[int, dict, float]:
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
    retry_after = float(response.getheader("Retry-After") or 1)
    return response.status, json.loads(data or b"{}"), retry_after


def login(port: int, email: str, device: str) -> str:
    """An access token for `email` on `device`, from the server on `port`."""
    status, body = request(
        port,
        "POST",
        "/api/v1/auth/login",
        {"email": email, "password": PASSWORD, "device_id": device},
    )
    assert status == 200, body
    return body["access_token"]


# -- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """The sample's own value at rank `share` x n (no interpolation): one definition, so that
    every bench's p95 and p99 mean the same thing."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ortools_parameters(seconds: float) -> RoutingSearchParameters:
    """OR-Tools' search as the routing benches run it, the reference fieldsync's solver is
    held against: a cheapest-arc start, then guided local search until `seconds` are up.

    Imports OR-Tools (the `bench` extra) only when called: ImportError means it is absent.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(round(seconds * 1000))
    return params


def print_columns(rows: Sequence[Sequence[object]]) -> None:
    """Rows as left-aligned columns two spaces apart, the first row the header."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def full_pull(port: int, token: str) -> tuple[int, str]:
    """Every page of a first pull: how many changes, and the last cursor."""
    records, cursor = 0, None
    while True:
        path = "/api/v1/sync/pull?limit=5000" + (f"&cursor={cursor}" if cursor else "")
        status, page = request(port, "GET", path, token=token)
        assert status == 200, page
        records += len(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return records, cursor


def find_chromium() -> str | None:
    """Debian's Chromium (or `CHROMIUM_PATH`), for the browser tests and the SDK bench."""
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
