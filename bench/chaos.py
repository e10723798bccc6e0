"""Load and chaos: reps come out of a dead zone at once, through crashes and lost answers.

    ./bench/run chaos                    # 200 reps x 100 mutations, 4 worker kills, 1 restart
    ./bench/run chaos --quick            # 20 reps x 20 mutations, 2 kills, 1 restart (CI)
    ./bench/run chaos --json report.json # the figures as JSON too ("-": standard output)
    ./bench/run chaos --system-cluster   # restart the system PostgreSQL (breaks its other users)

1. A PostgreSQL of its own (bench/chaos_pg.py: `initdb` into a temporary directory on a
   free port), migrated and seeded (bench/chaos_fleet.py): teams of reps and a manager,
   customers in each rep's territory and some shared by the team.
2. `fieldsync serve` (gunicorn, `--workers`) on 127.0.0.1, and in front of it a proxy
   (bench/chaos_proxy.py) that closes the phone's connection instead of passing on 20 % of
   the push answers, after the server committed them.
3. Every phone (the reference client, `fieldsync_client.SyncClient`, one thread each) logs in
   and pulls its scope, goes offline and queues its mutations, then all sync at once
   through the proxy. Meanwhile, as the acknowledged mutations pass set fractions, a
   gunicorn worker is killed with SIGKILL `--kills` times (gunicorn starts another) and
   PostgreSQL is restarted with `-m immediate` (a crash: recovery from the WAL).
4. When every phone is done, each pulls once more, and bench/chaos_verify.py checks the
   three zeros against the database: acknowledged mutations missing from the data and the
   conflict log, mutations applied twice, changes a phone failed to pull.

Exit status 1 if any of the three is not zero, a mutation went unacknowledged or a phone
gave up. The phones run on the same 2-core machine as the server, PostgreSQL and the
proxy: the figures are a floor.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.chaos_fleet import Device, Metrics, Plan, queue_offline_edits, seed
from bench.chaos_pg import DATABASE, SystemCluster, ThrowawayCluster
from bench.chaos_verify import self_test, verify
from bench.common import (
    PG_ADMIN_URL,
    ROOT,
    free_port,
    percentile,
    start_server,
    stop_server,
    wait_http,
    worker_pids,
)


@dataclass
class Options:
    reps: int = 200
    mutations: int = 100
    team_size: int = 10
    own_customers: int = 10
    shared_customers: int = 5
    workers: int = 3
    servers: int = 1
    kills: int = 4
    restarts: int = 1
    drop: float = 0.2
    drop_pull: float = 0.0
    push_batch: int = 0  # 0: a quarter of the outbox, so each phone pushes 4 batches
    retries: int = 30
    backoff_cap_s: float = 5.0
    max_in_flight: int | None = None
    system_cluster: bool = False
    seed: int = 7
    quick: bool = False
    self_test: bool = False

    @property
    def batch(self) -> int:
        return self.push_batch or max(1, -(-self.mutations // 4))

    @property
    def manager_mutations(self) -> int:
        return max(2, self.mutations // 10)


def parse_args(argv: list[str] | None = None) -> tuple[Options, str | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="20 reps x 20 mutations, 2 workers, 2 kills (the CI size)",
    )
    parser.add_argument("--reps", type=int)
    parser.add_argument("--mutations", type=int, help="queued per rep (a manager: a tenth)")
    parser.add_argument("--team-size", type=int, default=10)
    parser.add_argument("--own-customers", type=int, help="per rep (default 10, quick 5)")
    parser.add_argument(
        "--shared-customers", type=int, help="per team, each with a contact (default 5, quick 2)"
    )
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers per app server (default 3, quick 2)"
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="app servers on the one database; each phone's requests alternate between them",
    )
    parser.add_argument("--kills", type=int, help="worker SIGKILLs (default 4, quick 2)")
    parser.add_argument("--restarts", type=int, default=1, help="PostgreSQL restarts")
    parser.add_argument(
        "--drop",
        type=float,
        default=0.2,
        help="share of push answers the proxy loses after the commit",
    )
    parser.add_argument(
        "--drop-pull", type=float, default=0.0, help="share of pull answers the proxy loses"
    )
    parser.add_argument(
        "--push-batch",
        type=int,
        default=0,
        help="mutations per push (default: a quarter of the outbox)",
    )
    parser.add_argument("--retries", type=int, default=30, help="the client's retries per request")
    parser.add_argument(
        "--max-in-flight",
        type=int,
        help="FIELDSYNC_MAX_IN_FLIGHT for the server (default: its own)",
    )
    parser.add_argument(
        "--system-cluster",
        action="store_true",
        help="use and restart the system PostgreSQL (BENCH_POSTGRES_URL, "
        "pg_ctlcluster) instead of a throwaway cluster",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="then break the data once per zero: each check must see it",
    )
    parser.add_argument("--json", metavar="PATH", help="write the report as JSON ('-': stdout)")
    args = parser.parse_args(argv)
    quick = args.quick
    options = Options(
        reps=args.reps or (20 if quick else 200),
        mutations=args.mutations or (20 if quick else 100),
        team_size=args.team_size,
        own_customers=args.own_customers or (5 if quick else 10),
        shared_customers=args.shared_customers or (2 if quick else 5),
        workers=args.workers or (2 if quick else 3),
        servers=args.servers,
        kills=args.kills if args.kills is not None else (2 if quick else 4),
        restarts=args.restarts,
        drop=args.drop,
        drop_pull=args.drop_pull,
        push_batch=args.push_batch,
        retries=args.retries,
        max_in_flight=args.max_in_flight,
        system_cluster=args.system_cluster,
        seed=args.seed,
        quick=quick,
        self_test=args.self_test,
    )
    if options.servers < 1:
        parser.error("--servers must be at least 1")
    if options.own_customers < 2 or options.shared_customers < 1:
        parser.error("--own-customers must be at least 2 and --shared-customers at least 1")
    return options, args.json


# -- server and proxy ---------------------------------------------------------------------


def start_fieldsync(url: str, options: Options, workdir: Path) -> tuple[subprocess.Popen, int]:
    """`fieldsync serve` with the run's workers and in-flight bound, logging to server.log
    (whose tracebacks the report counts)."""
    extra = {}
    if options.max_in_flight is not None:
        extra["FIELDSYNC_MAX_IN_FLIGHT"] = str(options.max_in_flight)
    return start_server(
        url, options.workers, workdir, extra_env=extra, log=workdir / "server.log", seconds=120
    )


def start_proxy(
    upstreams: list[int], options: Options, workdir: Path
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proxy = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.chaos_proxy",
            "--port",
            str(port),
            *(f"--upstream={upstream}" for upstream in upstreams),
            "--drop-push",
            str(options.drop),
            "--drop-pull",
            str(options.drop_pull),
            "--out",
            str(workdir),
            "--seed",
            str(options.seed),
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    wait_http(port, "/healthz", 30, proxy)
    return proxy, port


# -- chaos -----------------------------------------------------------------------------------


class Chaos(threading.Thread):
    """Kills workers and restarts PostgreSQL as the acknowledged mutations pass fractions."""

    def __init__(self, masters: list[int], cluster, metrics: Metrics, options: Options):
        super().__init__(daemon=True)
        self.masters, self.cluster, self.metrics = masters, cluster, metrics
        self.random = random.Random(options.seed)
        kills = options.kills
        fractions = [0.1 + 0.8 * i / (kills - 1) for i in range(kills)] if kills > 1 else [0.3]
        restarts = [0.5 + 0.3 * i / max(1, options.restarts - 1) for i in range(options.restarts)]
        self.schedule = sorted(
            [(f, "kill") for f in fractions[:kills]] + [(f, "restart") for f in restarts]
        )
        self.done = threading.Event()
        self.events: list[dict] = []
        self.started = time.perf_counter()

    def run(self) -> None:
        for fraction, action in self.schedule:
            while self.metrics.progress < fraction:
                if self.done.wait(0.005):
                    return
            at = time.perf_counter() - self.started
            if action == "kill":
                workers = [pid for master in self.masters for pid in worker_pids(master)]
                if not workers:
                    self.events.append({"action": "kill", "at_s": at, "error": "no worker"})
                    continue
                pid = self.random.choice(workers)
                os.kill(pid, signal.SIGKILL)
                self.events.append(
                    {
                        "action": "kill",
                        "at_s": round(at, 2),
                        "pid": pid,
                        "progress": round(self.metrics.progress, 2),
                    }
                )
            else:
                try:
                    seconds = self.cluster.restart()
                except Exception as exc:  # reported, and the run fails verification
                    self.events.append({"action": "restart", "at_s": at, "error": str(exc)})
                    continue
                self.events.append(
                    {
                        "action": "restart",
                        "at_s": round(at, 2),
                        "down_s": round(seconds, 2),
                        "progress": round(self.metrics.progress, 2),
                        "command": self.cluster.restart_command,
                    }
                )


# -- the run ----------------------------------------------------------------------------------


def _pool_map(function, items, threads: int = 8) -> None:
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(function, item) for item in items]:
            future.result()


def drive(
    plan: Plan,
    options: Options,
    cluster,
    servers: list[tuple[subprocess.Popen, int]],
    proxy_port: int,
) -> tuple[list[Device], Metrics, Chaos, dict]:
    # Outside the drain (initial sync, final pull) phone i talks to app server i mod N.
    direct = [f"http://127.0.0.1:{port}" for _, port in servers]
    metrics = Metrics(0)
    people = plan.reps + plan.managers
    devices = [
        Device(
            person,
            direct[i % len(direct)],
            metrics,
            seed=options.seed * 100_003 + i,
            retries=options.retries,
            push_batch=options.batch,
            backoff_cap_s=options.backoff_cap_s,
        )
        for i, person in enumerate(people)
    ]
    # Before the dead zone: signed in, scope pulled.
    started = time.perf_counter()
    _pool_map(lambda d: d.client.sync(), devices)
    timings = {"initial_sync_s": time.perf_counter() - started}
    # In the dead zone: the last hour's edits, queued on each phone.
    dead_zone = datetime.now(UTC) - timedelta(hours=1)
    started = time.perf_counter()
    for device in devices:
        count = options.mutations if device.person.role == "rep" else options.manager_mutations
        queue_offline_edits(device, plan, count, dead_zone)
    timings["queue_s"] = time.perf_counter() - started
    metrics.total_mutations = sum(len(d.queued) for d in devices)
    # Out of the dead zone, all at once, through the proxy; chaos meanwhile.
    for device in devices:
        device.transport.base_url = f"http://127.0.0.1:{proxy_port}"
    gate = threading.Barrier(len(devices) + 1)

    def sync(device: Device) -> None:
        gate.wait()
        try:
            device.client.sync()
        except Exception as exc:  # the phone gave up: reported, and the run fails
            device.error = f"{type(exc).__name__}: {exc}"[:300]
        device.finished_at = time.perf_counter()

    threads = [threading.Thread(target=sync, args=(d,), daemon=True) for d in devices]
    for thread in threads:
        thread.start()
    chaos = Chaos([server.pid for server, _ in servers], cluster, metrics, options)
    metrics.recording = True
    gate.wait()
    chaos.started = time.perf_counter()
    chaos.start()
    for thread in threads:
        thread.join()
    metrics.recording = False
    chaos.done.set()
    chaos.join()
    timings["drain_s"] = max(d.finished_at for d in devices) - (
        metrics.first_request or chaos.started
    )
    # Quiet again: every phone pulls once more, straight from an app server (another one
    # than before the dead zone when there are several).
    for i, device in enumerate(devices):
        device.transport.base_url = direct[(i + 1) % len(direct)]
    started = time.perf_counter()
    _pool_map(lambda d: d.client.pull(), [d for d in devices if d.error is None])
    timings["final_pull_s"] = time.perf_counter() - started
    return devices, metrics, chaos, timings


def run(options: Options) -> dict:
    cluster = SystemCluster(PG_ADMIN_URL) if options.system_cluster else ThrowawayCluster()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fieldsync-chaos-") as tmp:
        workdir = Path(tmp)
        cluster.start()
        timings = {"database_start_s": time.perf_counter() - started}
        try:
            plan = seed(
                cluster.url,
                options.reps,
                options.team_size,
                options.own_customers,
                options.shared_customers,
            )
            mark = time.perf_counter()
            servers: list[tuple[subprocess.Popen, int]] = []
            proxy = None
            try:
                for _ in range(options.servers):
                    servers.append(start_fieldsync(cluster.url, options, workdir))
                timings["server_start_s"] = time.perf_counter() - mark
                proxy, proxy_port = start_proxy([port for _, port in servers], options, workdir)
                devices, metrics, chaos, phases = drive(plan, options, cluster, servers, proxy_port)
                timings |= phases
                workers_after = sum(len(worker_pids(server.pid)) for server, _ in servers)
            finally:
                if proxy is not None:
                    stop_server(proxy)
                for server, _ in servers:
                    stop_server(server)
            proxy_stats = json.loads((workdir / "stats.json").read_text())
            mark = time.perf_counter()
            verdict = verify(cluster.url, devices, workdir / "dropped.jsonl")
            timings["verify_s"] = time.perf_counter() - mark
            caught = (
                self_test(cluster.url, devices, workdir / "dropped.jsonl", verdict)
                if options.self_test
                else None
            )
            server_errors = _server_errors(workdir / "server.log")
        finally:
            cluster.stop()
    timings["seed_s"] = plan.seed_s
    timings["total_s"] = time.perf_counter() - started
    result = report(
        options,
        plan,
        devices,
        metrics,
        chaos,
        timings,
        proxy_stats,
        verdict,
        workers_after,
        server_errors,
    )
    if caught is not None:
        result["self_test"] = caught
        result["ok"] = result["ok"] and all(caught.values())
    return result


def _server_errors(log: Path) -> int:
    """Tracebacks the server logged (unhandled errors: 500s)."""
    return log.read_text(errors="replace").count("Traceback") if log.exists() else 0


def report(
    options,
    plan,
    devices,
    metrics,
    chaos,
    timings,
    proxy_stats,
    verdict,
    workers_after,
    server_errors,
) -> dict:
    total = metrics.total_mutations
    every = [s for values in metrics.latencies.values() for s in values]
    statuses = Counter()
    for device in devices:
        for result in device.results.values():
            statuses[result["status"]] += 1
    retries = dict(metrics.retries)
    dropped = sum(v for k, v in proxy_stats.items() if k.endswith(".dropped"))
    lost = sum(v for k, v in proxy_stats.items() if k.endswith(".upstream_lost"))
    refused = sum(v for k, v in proxy_stats.items() if k.endswith(".upstream_refused"))
    gave_up = [f"{d.person.email}: {d.error}" for d in devices if d.error]
    kills = [e for e in chaos.events if e["action"] == "kill" and "error" not in e]
    finished = sorted(d.finished_at - (metrics.first_request or 0) for d in devices)
    last = max(devices, key=lambda d: d.finished_at)
    restarts = [e for e in chaos.events if e["action"] == "restart" and "error" not in e]
    return {
        "options": asdict(options) | {"push_batch": options.batch},
        "database": DATABASE,
        "phones": {"reps": len(plan.reps), "managers": len(plan.managers)},
        "mutations": total,
        "shared_mutations": sum(
            1
            for d in devices
            for m in d.queued
            if (m.get("fields") or {}).get("notes", "").startswith("shared")
        ),
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "mutations_per_s": round(total / timings["drain_s"], 1) if timings["drain_s"] else 0,
        "latency_ms": {
            kind: {
                "p50": round(statistics.median(values) * 1000, 1),
                "p99": round(percentile(values, 0.99) * 1000, 1),
                "count": len(values),
            }
            for kind, values in (("all", every), *sorted(metrics.latencies.items()))
            if values
        },
        "phones_done_s": {
            "p50": round(statistics.median(finished), 2),
            "p90": round(percentile(finished, 0.9), 2),
            "last": round(finished[-1], 2),
        },
        "last_phone": {"email": last.person.email, "timeline": last.transport.timeline},
        "answers": dict(sorted(metrics.answers.items())),
        "transport_failures": dict(sorted(metrics.failures.items())),
        "retries": {
            "total": sum(retries.values()),
            "no_response": retries.get("no_response", 0),
            "of_which_dropped_by_proxy": dropped,
            "of_which_worker_killed": lost,
            "503_overloaded": retries.get("503 overloaded", 0),
            "503_database_unavailable": retries.get("503 database_unavailable", 0),
            "other_5xx": sum(
                v
                for k, v in retries.items()
                if k[:1] == "5" and not k.startswith(("503 overloaded", "503 database_unavailable"))
            ),
            "429": sum(v for k, v in retries.items() if k.startswith("429")),
            "connection_refused": retries.get("refused", 0) + refused,
            "timeout": retries.get("timeout", 0),
            "by_cause": retries,
        },
        "retry_after_s": {
            "count": len(metrics.retry_after_seen),
            "max": max(metrics.retry_after_seen, default=0),
        },
        "chaos": {
            "events": chaos.events,
            "kills": len(kills),
            "restarts": len(restarts),
            "planned": {"kills": options.kills, "restarts": options.restarts},
            "workers_after": workers_after,
            "server_tracebacks": server_errors,
        },
        "proxy": proxy_stats,
        "results": dict(statuses),
        "conflict_log_entries": verdict.conflict_entries,
        "zeros": {
            "acknowledged_missing": verdict.missing,
            "applied_twice": verdict.applied_twice,
            "not_pulled": verdict.not_pulled,
        },
        "unacknowledged": verdict.unacknowledged,
        "gave_up": gave_up,
        "examples": dict(verdict.examples),
        "ok": not (
            verdict.missing
            or verdict.applied_twice
            or verdict.not_pulled
            or verdict.unacknowledged
            or gave_up
        ),
        "chaos_complete": len(kills) == options.kills and len(restarts) == options.restarts,
    }


def print_report(r: dict) -> None:
    o = r["options"]
    lat, ret, chaos = r["latency_ms"], r["retries"], r["chaos"]
    where = "system cluster, pg_ctlcluster" if o["system_cluster"] else "throwaway cluster"
    print(
        f"chaos: {r['phones']['reps']} reps + {r['phones']['managers']} managers, "
        f"{r['mutations']:,} queued mutations ({r['shared_mutations']:,} on shared records), "
        f"push batches of {o['push_batch']}, {o['servers']} app server(s) x "
        f"{o['workers']} gunicorn workers, "
        f"PostgreSQL ({where}), {o['drop']:.0%} of push answers lost after the commit"
    )

    def ms(kind: str) -> str:
        entry = lat.get(kind)
        return f"{entry['p50']:.0f} / {entry['p99']:.0f}" if entry else "-"

    restarts = [e for e in chaos["events"] if e["action"] == "restart"]
    rows = [
        (
            "drain time (s): first request to the last phone done",
            f"{r['timings_s']['drain_s']:.1f}",
        ),
        (
            "phones done after p50 / p90 / last (s)",
            " / ".join(f"{r['phones_done_s'][k]:.1f}" for k in ("p50", "p90", "last")),
        ),
        ("mutations/s (queued mutations / drain time)", f"{r['mutations_per_s']:,.0f}"),
        ("request latency p50 / p99 ms (answered 200)", ms("all")),
        ("  push p50 / p99 ms", ms("push")),
        ("  pull p50 / p99 ms", ms("pull")),
        (
            "retries (all causes)",
            f"{ret['total']:,}"
            + (
                f" (Retry-After up to {r['retry_after_s']['max']:.0f} s)"
                if r["retry_after_s"]["count"]
                else ""
            ),
        ),
        ("  dropped response (proxy, after the commit)", f"{ret['of_which_dropped_by_proxy']:,}"),
        ("  connection lost (worker killed)", f"{ret['of_which_worker_killed']:,}"),
        ("  503 overloaded (Retry-After)", f"{ret['503_overloaded']:,}"),
        ("  503 database_unavailable (PostgreSQL restart)", f"{ret['503_database_unavailable']:,}"),
        ("  other 5xx", f"{ret['other_5xx']:,}"),
        ("  connection refused", f"{ret['connection_refused']:,}"),
        ("  timeout", f"{ret['timeout']:,}"),
        (
            "worker SIGKILLs / PostgreSQL restarts",
            f"{chaos['kills']} / {chaos['restarts']}"
            + (f" (down {restarts[0].get('down_s', '?')} s)" if restarts else ""),
        ),
        (
            "results applied / merged / rejected",
            " / ".join(str(r["results"].get(k, 0)) for k in ("applied", "merged", "rejected")),
        ),
        ("conflict-log entries", f"{r['conflict_log_entries']:,}"),
        (
            "requests per app server (through the proxy)",
            " / ".join(
                f"{v:,}" for k, v in sorted(r["proxy"].items()) if k.startswith("upstream.")
            ),
        ),
        ("(i) acknowledged mutations missing", str(r["zeros"]["acknowledged_missing"])),
        ("(ii) mutations applied twice", str(r["zeros"]["applied_twice"])),
        ("(iii) changes a phone failed to pull", str(r["zeros"]["not_pulled"])),
        (
            "phones that gave up / mutations unacknowledged",
            f"{len(r['gave_up'])} / {r['unacknowledged']}",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    t = r["timings_s"]
    print(
        f"(PostgreSQL start {t['database_start_s']:.1f} s, seed {t['seed_s']:.1f} s, "
        f"server start {t['server_start_s']:.1f} s, initial sync {t['initial_sync_s']:.1f} s, "
        f"final pull {t['final_pull_s']:.1f} s, verification {t['verify_s']:.1f} s, "
        f"whole run {t['total_s']:.1f} s)"
    )
    if not r["chaos_complete"]:
        print(
            f"WARNING: planned {chaos['planned']}, done {chaos['kills']} kills and "
            f"{chaos['restarts']} restarts: the phones drained first"
        )
    if chaos["server_tracebacks"]:
        print(f"WARNING: the server logged {chaos['server_tracebacks']} tracebacks")
    for kind, examples in r["examples"].items():
        for example in examples:
            print(f"  {kind}: {example}")
    for line in r["gave_up"][:5]:
        print(f"  gave up: {line}")
    if "self_test" in r:
        print(
            "self-test, each check sees its fault: "
            + ", ".join(
                f"{name} {'caught' if seen else 'MISSED'}" for name, seen in r["self_test"].items()
            )
        )
    print("OK: the three zeros hold" if r["ok"] else "FAILED")


def main(argv: list[str] | None = None) -> int:
    options, json_path = parse_args(argv)
    result = run(options)
    if json_path == "-":
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        print_report(result)
        if json_path:
            Path(json_path).write_text(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
