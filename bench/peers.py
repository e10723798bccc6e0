"""Peers side by side: fieldsync and Kinto 26.x on the same sync workload.

One client on 127.0.0.1, the same stdlib keep-alive HTTP code for both peers,
parsing answers with orjson as a phone parses them natively: CPython's own
decoder spends longer on a 3 MB page (about 60 ms) than either server does
building it, so it would measure the client more than the servers.

1. create N customer-like records in batches of 100
   (fieldsync: `POST /api/v1/sync/push` with 100 creates; Kinto: `POST /v1/batch`
   with 100 `PUT`s, each record with every field fieldsync sends of a customer,
   so that both store and send records as wide);
2. full pull of all changes since zero (fieldsync: `GET /api/v1/sync/pull` with no
   cursor, limit 5,000, following `has_more`; Kinto: `GET .../records?_limit=10000`,
   both at their maximum page size, following `Next-Page`);
3. U updates of two fields in batches of 100, each with the version it was based
   on (fieldsync: `base_version`; Kinto: batch `PATCH` with `If-Match`);
4. incremental pull from the stored cursor / `_since=<ETag>`.

Pulls change nothing, so each pull step runs five times from the same starting
point and the median run counts; writes run once.

fieldsync runs under `fieldsync serve` on SQLite and PostgreSQL (database
`fs_peers`), Kinto under gunicorn with the same process model on its memory and
PostgreSQL backends (database `kinto_bench`); see bench/peers_kinto.py.

    ./bench/run peers            # 5,000 records, 1,000 updates
    ./bench/run peers --quick    # 1,000 records, 200 updates
    ./bench/run peers --peers fieldsync-postgres,kinto-postgres
    ./bench/run peers --cpu-only --rounds 7   # only the CPU per small pull (issue 18)

Then, unless `--no-cpu`, the server CPU time per empty pull and per 10-change pull,
interleaved, with and without gzip: see bench/peers_cpu.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from bench import peers_kinto
from bench.common import (
    Sizes,
    create_database,
    drop_database,
    login,
    percentile,
    print_columns,
    seeded_server,
    stop_server,
)

PEERS = ("fieldsync-sqlite", "fieldsync-postgres", "kinto-memory", "kinto-postgres")
PAIRS = (("fieldsync-postgres", "kinto-postgres"), ("fieldsync-sqlite", "kinto-memory"))
STEPS = ("create", "full pull", "update", "incremental pull")
# Goals on PostgreSQL: writes >= 5x Kinto (issue 6 item 3). Issue 18 replaced the pull
# goal (>= 2x) with server CPU per small pull <= Kinto's (bench/peers_cpu.py): pull
# rates are shown, not judged.
GOALS = {"create": 5.0, "update": 5.0}
BATCH = 100
READ_RUNS = 5
FS_DATABASE = "fs_peers"
KINTO_AUTH = peers_kinto.AUTH
RECORDS = peers_kinto.RECORDS


@dataclass
class Step:
    records: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    sent: int = 0  # request body bytes
    received: int = 0  # response body bytes
    parse_seconds: float = 0.0  # the client's JSON decoding, inside `seconds`

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies, 0.95) * 1000 if self.latencies else 0.0


# -- one client, the same for both peers ----------------------------------------------------


class Client:
    """One keep-alive connection; every request is timed."""

    def __init__(self, port: int, headers: dict[str, str]):
        self.port, self.headers = port, headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(
        self, method: str, path: str, body=None, step: Step | None = None
    ) -> tuple[int, dict, http.client.HTTPResponse]:
        payload = json.dumps(body) if body is not None else None
        started = time.perf_counter()
        try:
            self.conn.request(
                method,
                path,
                body=payload,
                headers={"Content-Type": "application/json", **self.headers},
            )
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            raise
        received = time.perf_counter()
        parsed = orjson.loads(data or b"{}")
        if step is not None:
            step.parse_seconds += time.perf_counter() - received
            step.latencies.append(time.perf_counter() - started)
            step.sent += len(payload or "")
            step.received += len(data)
        return response.status, parsed, response

    def close(self) -> None:
        self.conn.close()


def customer(i: int) -> dict:
    return {
        "name": f"Cửa hàng {i}",
        "address": f"{i} Lê Lợi",
        "city": "Hồ Chí Minh",
        "postal_code": "700000",
        "phone": f"+84 90 {i:07d}",
        "email": f"shop{i}@bench.io",
        "lat": 10.7 + i % 100 / 1000,
        "lon": 106.6,
        "tier": "B",
        "notes": "Opens at 7, ask for the owner.",
    }


#: What fieldsync adds to a customer it sends (its own fields and the defaults of the rest),
#: with values like a rep's new customer: Kinto is given these too, so that both peers
#: store and send records as wide (issue 18: "Kinto gets records with our fields").
SERVER_FIELDS = {
    "version": 1,
    "created_at": "2026-12-05T04:01:05.214170Z",
    "updated_at": "2026-12-05T04:01:05.214170Z",
    "deleted_at": None,
    "country": None,
    "territory_id": None,
    "owner_id": "b03b0777-582d-477a-839b-201d094dac3d",
    "status": "lead",
    "visit_every_days": 30,
    "visit_minutes": 30,
    "opening_hours": None,
    "last_visit_at": None,
    "location_approved": False,
    "proposed_lat": None,
    "proposed_lon": None,
    "proposed_by": None,
    "proposed_at": None,
}


def wide_customer(i: int) -> dict:
    """Customer `i` with every field fieldsync sends of a customer (for Kinto)."""
    return {**SERVER_FIELDS, **customer(i)}


def edit(i: int) -> dict:
    return {"notes": f"edit {i}: wants a callback", "phone": f"+84 91 {i:07d}"}


def customer_mutation(
    op: str, record_id: str, fields: dict, changed_at: str, base_version: int | None = None
) -> dict:
    """One pushed change of a customer, as a phone sends it: the shape every bench pushes."""
    mutation = {
        "id": str(uuid.uuid4()),
        "table": "customers",
        "op": op,
        "record_id": record_id,
        "changed_at": changed_at,
        "fields": fields,
    }
    if base_version is not None:
        mutation["base_version"] = base_version
    return mutation


def push_body(mutations: list[dict]) -> dict:
    """A `/sync/push` request of `mutations`, sent now."""
    return {
        "schema_version": 1,
        "device_time": datetime.now(UTC).isoformat(),
        "mutations": mutations,
    }


def timed(step: Step, work) -> Step:
    started = time.perf_counter()
    work()
    step.seconds = time.perf_counter() - started
    return step


def timed_reads(step: Step, pull) -> Step:
    """Pulls change nothing, so each is run READ_RUNS times from the same starting point:
    the step is the median run (one cold request says more about the worker's start-up
    than about the pull), its p95 is over the requests of every run."""
    runs = []
    for _ in range(READ_RUNS):
        run = Step()
        runs.append(timed(run, lambda run=run: pull(run)))
    median = sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]
    step.records, step.seconds = median.records, median.seconds
    step.sent, step.received = median.sent, median.received
    step.parse_seconds = median.parse_seconds
    step.latencies = [latency for run in runs for latency in run.latencies]
    return step


# -- fieldsync ------------------------------------------------------------------------------


def fieldsync_workload(port: int, email: str, records: int, updates: int) -> dict[str, Step]:
    token = login(port, email, f"peers-{uuid.uuid4()}")
    client = Client(port, {"Authorization": f"Bearer {token}"})
    ids = [str(uuid.uuid4()) for _ in range(records)]
    versions: dict[str, int] = {}
    steps = {name: Step() for name in STEPS}
    state: dict[str, str] = {}

    def push(mutations: list[dict], step: Step) -> None:
        status, reply, _ = client.call("POST", "/api/v1/sync/push", push_body(mutations), step)
        assert status == 200, reply
        for result in reply["results"]:
            assert result["status"] == "applied", result
            versions[result["record"]["id"]] = result["record"]["version"]
        step.records += len(mutations)

    def create() -> None:
        for start in range(0, records, BATCH):
            now = datetime.now(UTC).isoformat()
            push(
                [
                    customer_mutation("create", ids[i], customer(i), now)
                    for i in range(start, min(records, start + BATCH))
                ],
                steps["create"],
            )

    def pull(step: Step, since: str | None) -> None:
        while True:
            path = "/api/v1/sync/pull?limit=5000" + (f"&cursor={since}" if since else "")
            status, page, _ = client.call("GET", path, step=step)
            assert status == 200, page
            step.records += sum(1 for c in page["changes"] if c.get("table") == "customers")
            since = page["cursor"]
            if not page["has_more"]:
                state["cursor"] = since
                return

    def update() -> None:
        for start in range(0, updates, BATCH):
            now = datetime.now(UTC).isoformat()
            push(
                [
                    customer_mutation("update", ids[i], edit(i), now, versions[ids[i]])
                    for i in range(start, min(updates, start + BATCH))
                ],
                steps["update"],
            )

    try:
        timed(steps["create"], create)
        timed_reads(steps["full pull"], lambda step: pull(step, None))
        cursor = state["cursor"]
        timed(steps["update"], update)
        timed_reads(steps["incremental pull"], lambda step: pull(step, cursor))
    finally:
        client.close()
    assert steps["full pull"].records == records, steps["full pull"].records
    assert steps["incremental pull"].records == updates, steps["incremental pull"].records
    return steps


def run_fieldsync(kind: str, sizes: tuple[int, int], workdir: Path) -> dict[str, Step]:
    # One team, one rep and their territory through the write path; no customers.
    team = Sizes(rep_records=0, admin_records=0, devices=10, mutations=0)
    with seeded_server(kind, workdir, FS_DATABASE, team) as (data, port, _):
        return fieldsync_workload(port, data["rep"], *sizes)


# -- Kinto ----------------------------------------------------------------------------------


def kinto_workload(port: int, records: int, updates: int) -> dict[str, Step]:
    client = Client(port, {"Authorization": KINTO_AUTH})
    ids = [str(uuid.uuid4()) for _ in range(records)]
    versions: dict[str, int] = {}
    steps = {name: Step() for name in STEPS}
    state: dict[str, str] = {}

    for path in ("/v1/buckets/bench", "/v1/buckets/bench/collections/customers"):
        status, reply, _ = client.call("PUT", path, {"data": {}})
        assert status in (200, 201), reply

    def batch(requests: list[dict], method: str, step: Step) -> None:
        status, reply, _ = client.call(
            "POST", "/v1/batch", {"defaults": {"method": method}, "requests": requests}, step
        )
        assert status == 200, reply
        for sub in reply["responses"]:
            assert sub["status"] in (200, 201), sub
            data = sub["body"]["data"]
            versions[data["id"]] = data["last_modified"]
        step.records += len(requests)

    def create() -> None:
        for start in range(0, records, BATCH):
            batch(
                [
                    {"path": f"{RECORDS[3:]}/{ids[i]}", "body": {"data": wide_customer(i)}}
                    for i in range(start, min(records, start + BATCH))
                ],
                "PUT",
                steps["create"],
            )

    def pull(step: Step, since: str | None) -> None:
        path = f"{RECORDS}?_limit=10000" + (f"&_since={since}" if since else "")
        while path:
            status, page, response = client.call("GET", path, step=step)
            assert status == 200, page
            step.records += len(page["data"])
            if since is None:  # the collection's timestamp, from the full pull's first page
                state.setdefault("etag", response.getheader("ETag", "").strip('"'))
            following = response.getheader("Next-Page")
            path = None
            if following:
                parts = urlsplit(following)
                path = parts.path + (f"?{parts.query}" if parts.query else "")

    def update() -> None:
        for start in range(0, updates, BATCH):
            batch(
                [
                    {
                        "path": f"{RECORDS[3:]}/{ids[i]}",
                        "body": {"data": edit(i)},
                        "headers": {"If-Match": f'"{versions[ids[i]]}"'},
                    }
                    for i in range(start, min(updates, start + BATCH))
                ],
                "PATCH",
                steps["update"],
            )

    try:
        timed(steps["create"], create)
        timed_reads(steps["full pull"], lambda step: pull(step, None))
        timed(steps["update"], update)
        since = state["etag"]
        timed_reads(steps["incremental pull"], lambda step: pull(step, since))
    finally:
        client.close()
    assert steps["full pull"].records == records, steps["full pull"].records
    assert steps["incremental pull"].records == updates, steps["incremental pull"].records
    return steps


def run_kinto(backend: str, sizes: tuple[int, int], workdir: Path) -> dict[str, Step]:
    try:
        if backend == "postgresql":
            create_database(peers_kinto.DATABASE)
        ini = peers_kinto.write_ini(backend, workdir)
        server, port = peers_kinto.start(ini, 1 if backend == "memory" else 2)
        try:
            return kinto_workload(port, *sizes)
        finally:
            stop_server(server)
    finally:
        if backend == "postgresql":
            drop_database(peers_kinto.DATABASE)


# -- table ------------------------------------------------------------------------------------


def print_table(results: dict[str, dict[str, Step]], sizes: tuple[int, int], version: str) -> bool:
    records, updates = sizes
    print(
        f"\nPeers: {records:,} creates in batches of {BATCH}, full pull, {updates:,} updates, "
        f"incremental pull; one client on 127.0.0.1; Kinto {version}"
    )
    peers = [p for p in PEERS if p in results]
    head = ["step", *(f"{p} rec/s | p95 ms" for p in peers)]
    pairs = [(f, k) for f, k in PAIRS if f in results and k in results]
    head += [f"{f.split('-')[1]}/{k.split('-')[1]} rec/s ratio" for f, k in pairs]
    head.append("goal (postgres)")
    rows = [head]
    verdict = True
    for step in STEPS:
        row = [step]
        for peer in peers:
            s = results[peer][step]
            row.append(f"{s.rate:>9,.0f} | {s.p95_ms:7.1f}")
        for f, k in pairs:
            kinto_rate = results[k][step].rate
            ratio = results[f][step].rate / kinto_rate if kinto_rate else float("inf")
            cell = f"{ratio:.2f}×"
            if f == "fieldsync-postgres" and step in GOALS:
                ok = ratio >= GOALS[step]
                verdict &= ok
                cell += " PASS" if ok else " FAIL"
            row.append(cell)
        row.append(f"≥ {GOALS[step]:.0f}×" if step in GOALS else "see CPU table")
        rows.append(row)
    print_columns(rows)
    if ("fieldsync-postgres", "kinto-postgres") in pairs:
        print("goal on PostgreSQL (writes ≥ 5× Kinto): " + ("PASS" if verdict else "FAIL"))
    print("requests / KB sent / KB received / ms of the client's JSON decoding, per step:")
    for peer in peers:
        cells = [
            f"{step} {len(s.latencies)}/{s.sent // 1024}/{s.received // 1024}"
            f"/{s.parse_seconds * 1000:.0f}"
            for step, s in results[peer].items()
        ]
        print(f"  {peer}: " + ", ".join(cells))
    secs = {p: sum(results[p][s].seconds for s in STEPS) for p in peers}
    print("wall time per peer (s): " + ", ".join(f"{p} {v:.1f}" for p, v in secs.items()))
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 records, 200 updates")
    parser.add_argument("--records", type=int, help="records to create (default 5,000)")
    parser.add_argument("--updates", type=int, help="records to update (default 1,000)")
    parser.add_argument(
        "--peers", default=",".join(PEERS), help=f"comma-separated subset of {', '.join(PEERS)}"
    )
    parser.add_argument("--cpu-only", action="store_true", help="only CPU per small pull")
    parser.add_argument("--no-cpu", action="store_true", help="skip CPU per small pull")
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds of the CPU table (≥ 5)"
    )
    parser.add_argument("--pulls", type=int, help="pulls per peer, kind and encoding per round")
    args = parser.parse_args()
    records = args.records or (1_000 if args.quick else 5_000)
    updates = min(records, args.updates or (200 if args.quick else 1_000))
    sizes = (records, updates)
    chosen = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = set(chosen) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    version = peers_kinto.ensure_venv() if any(p.startswith("kinto") for p in chosen) else "-"
    results: dict[str, dict[str, Step]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for peer in PEERS:
            if peer not in chosen or args.cpu_only:
                continue
            workdir = Path(tmp) / peer
            workdir.mkdir()
            started = time.perf_counter()
            if peer.startswith("fieldsync"):
                results[peer] = run_fieldsync(peer.split("-")[1], sizes, workdir)
            else:
                results[peer] = run_kinto(
                    "memory" if peer == "kinto-memory" else "postgresql", sizes, workdir
                )
            p50 = statistics.median(results[peer]["create"].latencies) * 1000
            print(
                f"{peer}: done in {time.perf_counter() - started:.0f} s (create p50 {p50:.0f} ms)",
                flush=True,
            )
        if results:
            print_table(results, sizes, version)
        if not args.no_cpu:
            from bench import peers_cpu

            pulls = args.pulls or (40 if args.quick else 100)
            cpu_dir = Path(tmp) / "cpu"
            cpu_dir.mkdir()
            peers_cpu.run(chosen, cpu_dir, args.rounds, pulls)


if __name__ == "__main__":
    main()
