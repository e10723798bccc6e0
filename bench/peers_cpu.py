"""Server CPU time per small pull: fieldsync against Kinto (the pull goal of issue 18).

What a fleet costs on the server is dominated by phones polling with nothing or
a few changes waiting, so the goal is **CPU time per empty pull and per
10-change pull ≤ Kinto's**, as the median of at least five interleaved rounds.

Every peer is started once and seeded with the same customers (Kinto's records
carry every field of a fieldsync customer as fieldsync sends it, so they are as
wide as ours); ten of them are then updated. A 10-change pull asks from the
cursor (`_since` for Kinto) taken before the updates, an empty pull from the
one after: pulls change nothing, so each is repeated as often as needed. In
each round, every peer in turn (the order rotates) answers `--pulls` pulls of
each kind, once with `Accept-Encoding: identity` and once with `gzip`; the CPU
time is the server's process tree (the gunicorn master and its workers:
utime + stime from /proc) before and after those pulls, divided by their
number. The PostgreSQL backends serving the peer's database are read the same
way and shown beside (`+db`), but the goal is judged on the server process.
Ratios are fieldsync / Kinto within a round, then the median over rounds. The
goal is judged on PostgreSQL, like the goal it replaced; fieldsync on SQLite
against Kinto's memory backend (a dict in the process: no database at all) is
shown beside it.

Kinto does not compress its answers as it ships, so its `gzip` column is Kinto
as it ships to a client that accepts gzip; fieldsync's `gzip` column measures
its compression once the server negotiates it (the "served" column says which
encoding came back).
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg

from bench import peers_kinto
from bench.common import (
    PG_ADMIN_URL,
    Sizes,
    create_database,
    drop_database,
    login,
    print_columns,
    process_cpu_seconds,
    seeded_server,
    stop_server,
    tree_cpu_seconds,
)
from bench.peers import customer, customer_mutation, push_body, wide_customer

KINDS = ("empty pull", "10-change pull")
ENCODINGS = ("identity", "gzip")
CHANGES = 10
SEED = 500
BATCH = 100
FS_DATABASE = "fs_peers_cpu"
KINTO_DATABASE = "kinto_bench_cpu"


# -- CPU time from /proc -------------------------------------------------------------------


def backend_pids(database: str | None) -> list[int]:
    """The PostgreSQL backends connected to `database` (none for SQLite or memory)."""
    if database is None:
        return []
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    return [row[0] for row in rows]


# -- one client -----------------------------------------------------------------------------


class Client:
    """One keep-alive connection that says which encodings it accepts and decodes gzip."""

    def __init__(self, port: int, headers: dict[str, str]):
        self.headers = headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(
        self, method: str, path: str, body=None, encoding: str = "identity"
    ) -> tuple[int, dict, http.client.HTTPResponse, int]:
        """Status, parsed body, response, and bytes on the wire."""
        payload = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json", "Accept-Encoding": encoding}
        for attempt in (1, 2):  # a server closes a connection left idle (keep-alive timeout)
            try:
                self.conn.request(method, path, body=payload, headers={**headers, **self.headers})
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                self.conn.close()
                if attempt == 2:
                    raise
        wire = len(data)
        served = response.getheader("Content-Encoding", "identity")
        if served == "gzip":
            data = gzip.decompress(data)
        elif served != "identity":
            raise RuntimeError(f"{served} answered to Accept-Encoding: {encoding}")
        return response.status, orjson.loads(data or b"{}"), response, wire

    def close(self) -> None:
        self.conn.close()


# -- the peers ------------------------------------------------------------------------------


@dataclass
class Peer:
    """A running, seeded peer and the two pulls to repeat."""

    name: str
    server: object
    port: int
    client: Client
    paths: dict[str, str]
    #: Changes in a pull's answer.
    count: Callable[[dict], int]
    database: str | None
    record_bytes: int = 0
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        self.client.close()
        stop_server(self.server)
        for step in self.cleanup:
            step()


def start_fieldsync(kind: str, workdir: Path) -> tuple[Peer, dict]:
    """fieldsync seeded through the rep's pushes; also returns one customer as pulled."""
    team = Sizes(rep_records=0, admin_records=0, devices=10, mutations=0)
    running = contextlib.ExitStack()  # closed by `peer.close()`: server stopped, database dropped
    data, port, server = running.enter_context(seeded_server(kind, workdir, FS_DATABASE, team))
    try:
        token = login(port, data["rep"], f"peers-cpu-{uuid.uuid4()}")
    except BaseException:
        running.close()
        raise
    client = Client(port, {"Authorization": f"Bearer {token}"})
    peer = Peer(
        f"fieldsync-{kind}",
        server,
        port,
        client,
        {},
        lambda page: sum(1 for c in page["changes"] if c.get("table") == "customers"),
        FS_DATABASE if kind == "postgres" else None,
        cleanup=[running.close],
    )
    try:
        ids = [str(uuid.uuid4()) for _ in range(SEED)]
        versions: dict[str, int] = {}

        def push(mutations: list[dict]) -> None:
            status, reply, _, _ = client.call("POST", "/api/v1/sync/push", push_body(mutations))
            assert status == 200, reply
            for result in reply["results"]:
                assert result["status"] == "applied", result
                versions[result["record"]["id"]] = result["record"]["version"]

        for start in range(0, SEED, BATCH):
            now = datetime.now(UTC).isoformat()
            push(
                [
                    customer_mutation("create", ids[i], customer(i), now)
                    for i in range(start, min(SEED, start + BATCH))
                ]
            )
        before, sample = _fieldsync_head(client, None)
        now = datetime.now(UTC).isoformat()
        push(
            [
                customer_mutation(
                    "update",
                    ids[i],
                    {"notes": f"edit {i}: wants a callback"},
                    now,
                    versions[ids[i]],
                )
                for i in range(CHANGES)
            ]
        )
        after, _ = _fieldsync_head(client, before)
        pull = "/api/v1/sync/pull?limit=5000&cursor="
        peer.paths = {"empty pull": pull + after, "10-change pull": pull + before}
        peer.record_bytes = len(orjson.dumps(sample))
    except BaseException:
        peer.close()
        raise
    return peer, sample


def _fieldsync_head(client: Client, cursor: str | None) -> tuple[str, dict | None]:
    """Pull to the end from `cursor`: the cursor there and one customer record."""
    sample = None
    while True:
        path = "/api/v1/sync/pull?limit=5000" + (f"&cursor={cursor}" if cursor else "")
        status, page, _, _ = client.call("GET", path)
        assert status == 200, page
        for change in page["changes"]:
            if change.get("table") == "customers" and change.get("record"):
                sample = change["record"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return cursor, sample


def wide_record(i: int, template: dict | None) -> dict:
    """A Kinto record with every field of a fieldsync customer (as fieldsync sends one),
    the customer fields of record `i`, and fieldsync's own values for the rest."""
    if template is None:
        return wide_customer(i)
    record = dict(template)
    record.pop("id", None)
    record.update(customer(i))
    return record


def start_kinto(backend: str, workdir: Path, template: dict | None) -> Peer:
    """Kinto with the same customers, each as wide as fieldsync's."""
    database = KINTO_DATABASE if backend == "postgresql" else None
    cleanup = []
    if database:
        create_database(database)
        cleanup.append(lambda: drop_database(database))
    ini = peers_kinto.write_ini(backend, workdir, database or peers_kinto.DATABASE)
    server, port = peers_kinto.start(ini, 1 if backend == "memory" else 2)
    client = Client(port, {"Authorization": peers_kinto.AUTH})
    records = peers_kinto.RECORDS
    peer = Peer(
        f"kinto-{'memory' if backend == 'memory' else 'postgres'}",
        server,
        port,
        client,
        {},
        lambda page: len(page["data"]),
        database,
        cleanup=cleanup,
    )
    try:
        for path in ("/v1/buckets/bench", "/v1/buckets/bench/collections/customers"):
            status, reply, _, _ = client.call("PUT", path, {"data": {}})
            assert status in (200, 201), reply
        ids = [str(uuid.uuid4()) for _ in range(SEED)]
        for start in range(0, SEED, BATCH):
            body = {
                "defaults": {"method": "PUT"},
                "requests": [
                    {"path": f"{records[3:]}/{ids[i]}", "body": {"data": wide_record(i, template)}}
                    for i in range(start, min(SEED, start + BATCH))
                ],
            }
            status, reply, _, _ = client.call("POST", "/v1/batch", body)
            assert status == 200 and all(r["status"] == 201 for r in reply["responses"]), reply
        before = _kinto_etag(client)
        body = {
            "defaults": {"method": "PATCH"},
            "requests": [
                {
                    "path": f"{records[3:]}/{ids[i]}",
                    "body": {"data": {"notes": f"edit {i}: wants a callback"}},
                }
                for i in range(CHANGES)
            ],
        }
        status, reply, _, _ = client.call("POST", "/v1/batch", body)
        assert status == 200 and all(r["status"] == 200 for r in reply["responses"]), reply
        after = _kinto_etag(client)
        pull = f"{records}?_limit=10000&_since="
        peer.paths = {"empty pull": pull + after, "10-change pull": pull + before}
        _, page, _, _ = client.call("GET", f"{records}?_limit=1")
        peer.record_bytes = len(orjson.dumps(page["data"][0]))
    except BaseException:
        peer.close()
        raise
    return peer


def _kinto_etag(client: Client) -> str:
    status, page, response, _ = client.call("GET", f"{peers_kinto.RECORDS}?_limit=1")
    assert status == 200, page
    return response.getheader("ETag", "").strip('"')


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Sample:
    """One peer's pulls of one kind and encoding in one round."""

    cpu_ms: float  # server process tree, per pull
    db_ms: float  # PostgreSQL backends of its database, per pull
    wall_ms: float
    wire_bytes: int
    served: str


def measure(peer: Peer, kind: str, encoding: str, pulls: int) -> Sample:
    path, expected = peer.paths[kind], 0 if kind == "empty pull" else CHANGES
    for _ in range(3):  # warm the connection, the worker and the pool
        peer.client.call("GET", path, encoding=encoding)
    backends = backend_pids(peer.database)
    db_before = sum(map(process_cpu_seconds, backends))
    before, workers = tree_cpu_seconds(peer.server.pid)
    started = time.perf_counter()
    for _ in range(pulls):
        status, page, response, wire = peer.client.call("GET", path, encoding=encoding)
        assert status == 200 and peer.count(page) == expected, (peer.name, kind, page)
    wall = time.perf_counter() - started
    after, workers_after = tree_cpu_seconds(peer.server.pid)
    db_after = sum(map(process_cpu_seconds, backends))
    if workers != workers_after:
        raise RuntimeError(f"{peer.name}: a worker was replaced while measuring")
    return Sample(
        (after - before) * 1000 / pulls,
        (db_after - db_before) * 1000 / pulls,
        wall * 1000 / pulls,
        wire,
        response.getheader("Content-Encoding", "identity"),
    )


Results = dict[tuple[str, str, str], list[Sample]]


def interleave(peers: Sequence[Peer], rounds: int, pulls: int) -> Results:
    results: Results = {}
    for number in range(rounds):
        shift = number % len(peers)
        for peer in [*peers[shift:], *peers[:shift]]:
            for kind in KINDS:
                for encoding in ENCODINGS:
                    sample = measure(peer, kind, encoding, pulls)
                    results.setdefault((peer.name, kind, encoding), []).append(sample)
        print(f"  round {number + 1}/{rounds} done", flush=True)
    return results


# -- the table ------------------------------------------------------------------------------

PAIRS = (("fieldsync-postgres", "kinto-postgres"), ("fieldsync-sqlite", "kinto-memory"))


def spread(values: Sequence[float], digits: int = 2) -> str:
    """Median [min–max]."""
    return (
        f"{statistics.median(values):.{digits}f} "
        f"[{min(values):.{digits}f}–{max(values):.{digits}f}]"
    )


def print_cpu_table(results: Results, peers: Sequence[Peer], rounds: int, pulls: int) -> bool:
    print(
        f"\nServer CPU per small pull: {SEED} customers, {CHANGES} updated; "
        f"{rounds} interleaved rounds of {pulls} pulls per peer, kind and encoding; "
        "ms of CPU per pull, median [min–max] over rounds"
    )
    widths = ", ".join(f"{p.name} {p.record_bytes} B" for p in peers)
    print(f"one customer record as each peer sends it: {widths}")
    rows = [["peer", "pull", "Accept-Encoding", "served", "CPU ms", "+db ms", "wall ms", "bytes"]]
    for peer in peers:
        for kind in KINDS:
            for encoding in ENCODINGS:
                samples = results[(peer.name, kind, encoding)]
                rows.append(
                    [
                        peer.name,
                        kind,
                        encoding,
                        ",".join(sorted({s.served for s in samples})),
                        spread([s.cpu_ms for s in samples]),
                        spread([s.db_ms for s in samples]),
                        f"{statistics.median(s.wall_ms for s in samples):.2f}",
                        str(samples[-1].wire_bytes),
                    ]
                )
    print_columns(rows)
    for peer in peers:  # what accepting gzip costs each peer (issue 18: at most +15 %)
        cells = []
        for kind in KINDS:
            plain = results[(peer.name, kind, "identity")]
            packed = results[(peer.name, kind, "gzip")]
            extra = [(b.cpu_ms / a.cpu_ms - 1) * 100 for a, b in zip(plain, packed, strict=True)]
            cells.append(f"{kind} {spread(extra, 0)} %")
        print(f"CPU with gzip accepted vs identity, {peer.name}: " + ", ".join(cells))
    names = {p.name for p in peers}
    verdict, judged = True, False
    rows = [["fieldsync / Kinto CPU per pull", "pull", "Accept-Encoding", "ratio", "goal ≤ 1"]]
    for fs, kinto in PAIRS:
        if fs not in names or kinto not in names:
            continue
        for kind in KINDS:
            for encoding in ENCODINGS:
                ours = results[(fs, kind, encoding)]
                theirs = results[(kinto, kind, encoding)]
                ratios = [
                    a.cpu_ms / b.cpu_ms if b.cpu_ms else float("inf")
                    for a, b in zip(ours, theirs, strict=True)
                ]
                ok = statistics.median(ratios) <= 1.0
                if fs == "fieldsync-postgres":  # Kinto's memory backend keeps nothing
                    verdict &= ok
                    judged = True
                rows.append(
                    [
                        f"{fs} / {kinto}",
                        kind,
                        encoding,
                        spread(ratios),
                        "PASS" if ok else "FAIL",
                    ]
                )
    print_columns(rows)
    if judged:
        print(
            "goal (issue 18), on PostgreSQL like the goal it replaced: server CPU per empty "
            "pull and per 10-change pull ≤ Kinto's: " + ("PASS" if verdict else "FAIL")
        )
    return verdict


def run(chosen: Sequence[str], workdir: Path, rounds: int, pulls: int) -> bool:
    """Start the chosen peers, measure, print, stop them."""
    peers: list[Peer] = []
    template = None
    try:
        for name in ("fieldsync-sqlite", "fieldsync-postgres"):
            if name in chosen:
                here = workdir / f"cpu-{name}"
                here.mkdir()
                peer, sample = start_fieldsync(name.split("-")[1], here)
                peers.append(peer)
                template = template or sample
        for name, backend in (("kinto-memory", "memory"), ("kinto-postgres", "postgresql")):
            if name in chosen:
                here = workdir / f"cpu-{name}"
                here.mkdir()
                peers.append(start_kinto(backend, here, template))
        print(f"server CPU per small pull: {', '.join(p.name for p in peers)} up", flush=True)
        results = interleave(peers, rounds, pulls)
    finally:
        for peer in peers:
            peer.close()
    return print_cpu_table(results, peers, rounds, pulls)
