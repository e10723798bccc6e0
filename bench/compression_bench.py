"""Compressed pulls: bytes of a rep's first sync of the demo, and the server CPU they add.

    python -m bench.compression_bench [--db sqlite|postgres] [--runs 7] [--rep rep1]

On the demo distributor (`server/demo.py`), one rep's first sync (`GET
/api/v1/sync/pull?limit=5000` until `has_more` is false, and WatermelonDB's
`GET /api/v1/sync/watermelon`) is made through the app in process, as a phone
with `Accept-Encoding: identity`, `zstd`, `br` and `gzip`, interleaved, `--runs`
times each. Printed:

- bytes on the wire per coding (the answers' bodies), and the ratio to plain JSON;
- the server's CPU time per first sync (this thread's CPU time around the requests:
  the test client adds the same small cost to every coding), median of the runs,
  and what compression adds to it in %; the issue's bound is +15 %;
- a sweep of levels: each coding's time to compress the same pages at other levels,
  as a share of the plain pull's CPU time, to show why the levels are what they are;
- with `--live`, the same first sync over HTTP from `fieldsync serve` (gunicorn, one
  worker): the worker's CPU time (utime + stime from /proc, in blocks of 5 first syncs
  per coding, interleaved) per first sync, as the server really spends it, sending
  included.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import brotli

from bench.common import (
    TICKS,
    create_database,
    drop_database,
    migrated_app,
    print_columns,
    process_cpu_seconds,
    start_server,
    stop_server,
    worker_pids,
)
from server.compression import CODINGS, CompressionSettings
from server.demo import DOMAIN, PASSWORD, seed_demo_data
from server.extensions import db

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

#: The issue's bound on the CPU compression may add to a pull.
MAX_ADDED = 0.15
SWEEP = {
    "zstd": (1, 2, 3, 4, 6),
    "br": (1, 2, 3, 4, 5),
    "gzip": (1, 2, 3, 4, 6),
}


def compressor(coding: str, level: int):
    """The one-shot call flask-compress makes for `coding` at `level`."""
    if coding == "zstd":
        return lambda data: zstd.compress(data, level)
    if coding == "br":
        return lambda data: brotli.compress(data, quality=level)
    return lambda data: gzip.compress(data, level)


def first_sync(client, headers: dict[str, str], coding: str) -> tuple[int, int, list[bytes]]:
    """Every page of a first pull as a phone accepting `coding`: (changes, wire bytes,
    bodies as sent)."""
    send = {**headers, "Accept-Encoding": coding}
    changes, wire, bodies, cursor = 0, 0, [], None
    while True:
        query = {"limit": 5000, "schema_version": 1} | ({"cursor": cursor} if cursor else {})
        response = client.get("/api/v1/sync/pull", query_string=query, headers=send)
        assert response.status_code == 200, response.status_code
        assert response.headers.get("Content-Encoding", "identity") == coding or (
            len(response.data) < CompressionSettings().min_bytes
        ), response.headers
        wire += len(response.data)
        bodies.append(response.data)
        page = response.get_json() if coding == "identity" else None
        if page is None:
            page = _decoded_json(response.data, coding)
        changes += len(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, wire, bodies


def watermelon_sync(client, headers: dict[str, str], coding: str) -> tuple[int, list[bytes]]:
    send = {**headers, "Accept-Encoding": coding}
    query = {"schema_version": 1}
    response = client.get("/api/v1/sync/watermelon", query_string=query, headers=send)
    assert response.status_code == 200, (response.status_code, response.data[:300])
    return len(response.data), [response.data]


def _decoded_json(data: bytes, coding: str) -> dict:
    if coding == "zstd":
        data = zstd.decompress(data)
    elif coding == "br":
        data = brotli.decompress(data)
    elif coding == "gzip":
        data = gzip.decompress(data)
    return json.loads(data)


def login(client, email: str) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "device_id": "compression-bench"}
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rep", default="rep1")
    parser.add_argument("--live", action="store_true", help="also over HTTP, gunicorn")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        else:
            url = create_database("fs_bench_compression")
        try:
            run(url, args)
        finally:
            if args.db == "postgres":
                drop_database("fs_bench_compression")


def run(url: str, args: argparse.Namespace) -> None:
    app = migrated_app(url)
    started = time.perf_counter()
    with app.app_context():
        seed_demo_data(db.session)
        db.session.commit()
    print(f"demo seeded on {args.db} in {time.perf_counter() - started:.0f} s")
    settings = CompressionSettings()
    print(
        f"levels: zstd {settings.zstd_level}, br {settings.br_level}, gzip "
        f"{settings.gzip_level}; answers under {settings.min_bytes} bytes go as they are"
    )
    client = app.test_client()
    headers = login(client, f"{args.rep}@{DOMAIN}")
    codings = ("identity", *CODINGS)
    cpu: dict[str, list[float]] = {c: [] for c in codings}
    wire: dict[str, int] = {}
    melon_cpu: dict[str, list[float]] = {c: [] for c in codings}
    melon_wire: dict[str, int] = {}
    changes = 0
    plain_pages: list[bytes] = []
    melon_plain: list[bytes] = []
    for _ in range(args.runs):  # interleaved: drift in the machine's speed hits all alike
        for coding in codings:
            before = time.thread_time()
            changes, wire[coding], bodies = first_sync(client, headers, coding)
            cpu[coding].append(time.thread_time() - before)
            if coding == "identity":
                plain_pages = bodies
            before = time.thread_time()
            melon_wire[coding], bodies = watermelon_sync(client, headers, coding)
            melon_cpu[coding].append(time.thread_time() - before)
            if coding == "identity":
                melon_plain = bodies

    print(f"\n{args.rep}'s first sync: {changes} changes in {len(plain_pages)} page(s)")
    for title, sizes, times in (
        ("GET /api/v1/sync/pull (limit 5000, every page)", wire, cpu),
        ("GET /api/v1/sync/watermelon (one answer)", melon_wire, melon_cpu),
    ):
        plain = statistics.median(times["identity"])
        rows = [("coding", "bytes", "vs plain", "server CPU ms (median)", "added")]
        for coding in codings:
            median = statistics.median(times[coding])
            rows.append(
                (
                    coding,
                    f"{sizes[coding]:,}",
                    f"{sizes[coding] / sizes['identity']:.1%}",
                    f"{median * 1000:.1f} ({min(times[coding]) * 1000:.1f}–"
                    f"{max(times[coding]) * 1000:.1f})",
                    "" if coding == "identity" else f"{(median - plain) / plain:+.1%}",
                )
            )
        print(f"\n{title}, {args.runs} interleaved runs on {args.db}:")
        print_columns(rows)

    plain = statistics.median(cpu["identity"])
    print(
        "\nLevels: time to compress the same pages (median of "
        f"{args.runs}), as a share of the plain pull's CPU ({plain * 1000:.1f} ms); "
        f"bound +{MAX_ADDED:.0%}"
    )
    rows = [("coding", "level", "bytes", "compress ms", "share", "")]
    chosen = {"zstd": settings.zstd_level, "br": settings.br_level, "gzip": settings.gzip_level}
    for coding, levels in SWEEP.items():
        for level in levels:
            squeeze = compressor(coding, level)
            times = []
            for _ in range(args.runs):
                before = time.thread_time()
                size = sum(len(squeeze(page)) for page in plain_pages)
                times.append(time.thread_time() - before)
            spent = statistics.median(times)
            mark = "chosen" if level == chosen[coding] else ""
            if spent / plain > MAX_ADDED:
                mark = (mark + " over the bound").strip()
            rows.append(
                (coding, level, f"{size:,}", f"{spent * 1000:.1f}", f"{spent / plain:.1%}", mark)
            )
    print_columns(rows)
    del melon_plain
    if args.live:
        dispose(app)
        live(url, args, codings)


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def live(url: str, args: argparse.Namespace, codings: tuple[str, ...]) -> None:
    """The first sync over HTTP from one gunicorn worker: its CPU time per coding."""
    block = 5
    with tempfile.TemporaryDirectory() as workdir:
        server, port = start_server(url, 1, Path(workdir))
        try:
            (worker,) = worker_pids(server.pid)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            body = {"email": f"{args.rep}@{DOMAIN}", "password": PASSWORD, "device_id": "live"}
            conn.request(
                "POST", "/api/v1/auth/login", json.dumps(body), {"Content-Type": "application/json"}
            )
            token = json.loads(conn.getresponse().read())["access_token"]
            conn.close()
            path = "/api/v1/sync/pull?limit=5000&schema_version=1"
            cpu: dict[str, list[float]] = {c: [] for c in codings}
            wire: dict[str, int] = {}
            for _ in range(max(1, args.runs // 2)):
                for coding in codings:
                    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": coding}
                    before = process_cpu_seconds(worker)
                    for _ in range(block):
                        status, data = _get(port, path, headers)
                        assert status == 200, status
                    cpu[coding].append((process_cpu_seconds(worker) - before) / block)
                    wire[coding] = len(data)
        finally:
            stop_server(server)
    tick_ms = 1000 / TICKS
    plain = statistics.mean(cpu["identity"])
    rows = [("coding", "bytes", "worker CPU ms per first sync (mean)", "added")]
    for coding in codings:
        mean = statistics.mean(cpu[coding])
        rows.append(
            (
                coding,
                f"{wire[coding]:,}",
                f"{mean * 1000:.1f}",
                "" if coding == "identity" else f"{(mean - plain) / plain:+.1%}",
            )
        )
    print(
        f"\nOver HTTP (gunicorn, 1 worker, {args.db}): {len(cpu['identity']) * block} first "
        f"syncs per coding in blocks of {block}, interleaved; CPU in {tick_ms:.0f} ms ticks"
    )
    print_columns(rows)


if __name__ == "__main__":
    main()
