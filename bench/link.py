"""Link bench: fieldsync and Kinto where reps live, over an emulated slow mobile link.

A throttling proxy on 127.0.0.1 (bench/link_proxy.py) stands between one phone and the
server and emulates three links: "edge of coverage" (256 kbit/s down, 128 up, 600 ms round
trip), "3G" (1.5 Mbit/s, 750 kbit/s, 300 ms) and "4G" (10 Mbit/s both ways, 60 ms). Over each:

(a) first sync of a rep scope of 5,000 records (1,250 customers, each with a contact, a
    task and a visit; loaded through fieldsync's write path; Kinto gets the very records
    fieldsync sends, in one collection, a `table` field on each: one request can fetch them
    all, the layout most favourable to Kinto);
(b) after a dead zone (a new connection): push 100 queued edits, then pull the 200 changes
    others made meanwhile (and the phone's own, which both peers send back); fieldsync's
    phone does both in one request, as the SDK does (a push carrying its pull, ADR 0028;
    `--separate-pull`: a push, then a pull);
(c) an empty pull, right after (b) on the same connection.

The phone behaves like a real one (bench/link_fronts.py): one keep-alive connection,
`Accept-Encoding: zstd, br, gzip`, answers decoded whatever came back, the JSON parsed (with
orjson), pushes to fieldsync gzip-compressed as the SDK, the reps' app and the Python
client send them (`--plain-push`: uncompressed; Kinto and nginx read no compressed body).
Its first sync is the streamed pull (`/sync/pull/stream`; `--pages`: pages of
`/sync/pull`), its other pulls `/sync/pull`; it sends no `limit`, so the server's default
page size counts.

Printed per scenario: seconds (median of the runs), bytes on the wire each way (TCP
payload), requests and new connections (counted by the proxy), and the ratio to Kinto as it
ships (gunicorn, memory backend: the faster of its two, no compression) and to Kinto behind
nginx with gzip (Debian's nginx, installed with apt when missing). Then issue 18's goals as
PASS/FAIL, the server's CPU per pull with and without compression, and point 3: the first
sync in pages of 500 and 5,000 and as a stream, all gzip-compressed alike (bench/
link_fronts.py's relay), on the slow links. Figures are indicative: the link bounds most of
them, but the server and the proxy share the machine with whatever else runs.

    ./bench/run link                 # 5,000 records; about 6 minutes once compression is in
    ./bench/run link --quick         # 1,000 records, SQLite and Kinto, one run per link
    ./bench/run link --links 3g --peers fieldsync-sqlite,kinto --plain-push
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench import peers_kinto
from bench.common import (
    Sizes,
    login,
    print_columns,
    seeded_server,
    stop_server,
    tree_cpu_seconds,
)
from bench.link_fronts import ACCEPT, Nginx, Phone, PullRelay
from bench.link_proxy import LINKS, LinkProxy, LinkStats
from bench.peers import KINTO_AUTH, customer_mutation, push_body
from bench.sync_bench import RssSampler

PEERS = ("fieldsync-sqlite", "fieldsync-postgres", "kinto", "kinto-nginx")
RUNS = {"edge": 1, "3g": 2, "4g": 2}  # a slow link's run is long and link-bound: fewer runs
PUSHES, OTHERS = 100, 200
FS_DATABASE = "fs_link"
KINTO_RECORDS = "/v1/buckets/bench/collections/records/records"
#: Issue 18's goals: seconds per link for (a) and (b); bytes of (a) against today's; Kinto.
SECONDS_GOALS = {("3g", "a"): 3.0, ("3g", "b"): 2.0, ("edge", "a"): 12.0, ("edge", "b"): 6.0}
BYTES_GOAL = 0.10
CPU_GOAL = 0.15  # compression may add at most 15 % to the server's CPU time per pull
CPU_RUNS = 5
KINTO_GOALS = {"kinto": 3.0, "kinto-nginx": 1.5}
PULL, STREAM = "/api/v1/sync/pull", "/api/v1/sync/pull/stream"
#: Point 3: first-sync variants, each through the relay with gzip.
VARIANTS = (
    ("pages of 500", PULL, {"limit": "500"}),
    ("pages of 5,000", PULL, {"limit": "5000"}),
    ("stream, pages of 5,000", STREAM, {}),
    ("stream, pages of 1,000", STREAM, {"limit": "1000"}),
)


@dataclass
class Measure:
    """One scenario's run: time and what crossed the link."""

    seconds: float
    changes: int
    wire: LinkStats

    @property
    def kb_down(self) -> float:
        return self.wire.down_bytes / 1024

    @property
    def kb_up(self) -> float:
        return self.wire.up_bytes / 1024


def measured(proxy: LinkProxy, work: Callable[[], int]) -> Measure:
    before = proxy.stats.snapshot()
    started = time.perf_counter()
    changes = work()
    seconds = time.perf_counter() - started
    time.sleep(0.05)  # let the proxy's thread account the last bytes it delivered
    return Measure(seconds, changes, proxy.stats.since(before))


def median(runs: list[Measure]) -> Measure:
    return sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]


@dataclass
class Outcome:
    a: Measure
    b: Measure
    c: Measure
    encodings: Counter[str] = field(default_factory=Counter)


# -- fieldsync --------------------------------------------------------------------------------


class FieldsyncPeer:
    """A rep's phone on fieldsync, and an admin who edits the rep's customers meanwhile."""

    def __init__(
        self,
        port: int,
        rep: str,
        admin: str,
        gzip_push: bool,
        first_path: str,
        separate_pull: bool = False,
    ):
        self.port, self.gzip_push, self.first_path = port, gzip_push, first_path
        self.separate_pull = separate_pull
        self.token = login(port, rep, f"link-phone-{uuid.uuid4()}")
        self.admin_token = login(port, admin, "link-admin")
        self.versions: dict[str, int] = {}
        self.customers: list[str] = []
        self.cursor: str | None = None
        self.records: list[tuple[str, dict]] = []
        self.round = 0

    def phone(self, port: int, accept: str | None = None) -> Phone:
        headers = {"Authorization": f"Bearer {self.token}"}
        if accept is not None:
            return Phone(port, headers, accept=accept, gzip_push=self.gzip_push)
        return Phone(port, headers, gzip_push=self.gzip_push)

    def _pull(self, phone: Phone, cursor: str | None, extra: dict[str, str], path=PULL) -> int:
        changes = 0
        while True:
            query = {**extra, **({"cursor": cursor} if cursor else {})}
            status, answer, _ = phone.call("GET", f"{path}?{urlencode(query)}")
            assert status == 200, answer
            for page in answer if isinstance(answer, list) else [answer]:
                changes += self._take(page)
                cursor, more = page["cursor"], page["has_more"]
            if not more:
                self.cursor = cursor
                return changes

    def _take(self, page: dict) -> int:
        """Keep the versions of a page's records; the number of its changes."""
        for change in page["changes"]:
            if change["op"] == "put":
                record = change["record"]
                self.versions[record["id"]] = record["version"]
        return len(page["changes"])

    def first_sync(self, phone: Phone, path: str | None = None, **extra: str) -> int:
        """Pages, or one stream (`first_path`), until `has_more` is false."""
        return self._pull(phone, None, extra, path or self.first_path)

    def keep_records(self) -> None:
        """The scope's records, straight from the server (no link): Kinto gets them."""
        phone = Phone(self.port, {"Authorization": f"Bearer {self.token}"}, accept="identity")
        cursor, self.records = None, []
        while True:
            query = {"limit": "5000", **({"cursor": cursor} if cursor else {})}
            _, page, _ = phone.call("GET", "/api/v1/sync/pull?" + urlencode(query))
            self.records += [(c["table"], c["record"]) for c in page["changes"] if c["op"] == "put"]
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        phone.close()
        self.customers = sorted(r["id"] for t, r in self.records if t == "customers")

    def _mutations(self, ids: list[str], who: str) -> dict:
        now = datetime.now(UTC).isoformat()
        return push_body(
            [
                customer_mutation(
                    "update", record_id, edit(who, i, self.round), now, self.versions[record_id]
                )
                for i, record_id in enumerate(ids)
            ]
        )

    def _settle(self, results: list[dict]) -> None:
        for result in results:
            assert result["status"] in ("applied", "merged"), result
            self.versions[result["record"]["id"]] = result["record"]["version"]

    def others_change(self) -> None:
        self.round += 1
        ids = self.customers[PUSHES : PUSHES + OTHERS]
        body = self._mutations(ids, "office")
        office = Phone(
            self.port, {"Authorization": f"Bearer {self.admin_token}"}, accept="identity"
        )
        status, reply, _ = office.call("POST", "/api/v1/sync/push", body)
        office.close()
        assert status == 200, reply
        self._settle(reply["results"])

    def after_dead_zone(self, phone: Phone) -> int:
        """One request, as the SDK syncs: the push carries the pull (ADR 0028); then pull on
        only while `has_more` (`separate_pull`: push, then pull, as before)."""
        body = self._mutations(self.customers[:PUSHES], "rep")
        if not self.separate_pull:
            body["pull"] = {"cursor": self.cursor}
        status, reply, _ = phone.call("POST", "/api/v1/sync/push", body)
        if status != 200 and self.gzip_push:
            raise SystemExit(f"the server refused a gzip-compressed push: {reply}")
        assert status == 200, reply
        self._settle(reply["results"])
        if self.separate_pull:
            pulled = self._pull(phone, self.cursor, {})
        else:
            page = reply["pull"]
            pulled, self.cursor = self._take(page), page["cursor"]
            if page["has_more"]:
                pulled += self._pull(phone, self.cursor, {})
        assert pulled >= OTHERS, f"{pulled} changes pulled, {OTHERS} made by others"
        return len(body["mutations"]) + pulled

    def empty_pull(self, phone: Phone) -> int:
        status, page, _ = phone.call("GET", f"{PULL}?{urlencode({'cursor': self.cursor})}")
        assert status == 200 and not page["has_more"], page
        self.cursor = page["cursor"]
        # Empty, unless the server's horizon held back changes (another transaction was
        # open on the database server during the last pull): they come now, once.
        return len(page["changes"])


def edit(who: str, i: int, round: int) -> dict:
    """New values each round: a write that changes nothing is no change to pull."""
    return {
        "notes": f"{who} {i}, round {round}: wants a callback on Friday",
        "phone": f"+84 9{round % 10} {i:07d}",
    }


# -- Kinto ------------------------------------------------------------------------------------


class KintoPeer:
    """The same phone on Kinto: one collection with the scope's records; `_since` pulls."""

    def __init__(self, port: int):
        self.port = port
        self.versions: dict[str, int] = {}
        self.customers: list[str] = []
        self.etag = ""
        self.round = 0

    def phone(self, port: int) -> Phone:
        # Neither Kinto nor nginx (by default) reads a compressed request body.
        return Phone(port, {"Authorization": KINTO_AUTH})

    def load(self, records: list[tuple[str, dict]]) -> None:
        loader = Phone(self.port, {"Authorization": KINTO_AUTH}, accept="identity")
        for path in ("/v1/buckets/bench", "/v1/buckets/bench/collections/records"):
            status, reply, _ = loader.call("PUT", path, {"data": {}})
            assert status in (200, 201), reply
        for start in range(0, len(records), 100):
            requests = [
                {
                    "path": f"{KINTO_RECORDS[3:]}/{record['id']}",
                    "body": {"data": {**record, "table": table}},
                }
                for table, record in records[start : start + 100]
            ]
            self._batch(loader, "PUT", requests)
        loader.close()
        self.customers = sorted(r["id"] for t, r in records if t == "customers")

    def _batch(self, phone: Phone, method: str, requests: list[dict]) -> None:
        status, reply, _ = phone.call(
            "POST", "/v1/batch", {"defaults": {"method": method}, "requests": requests}
        )
        assert status == 200, reply
        for sub in reply["responses"]:
            assert sub["status"] in (200, 201), sub
            data = sub["body"]["data"]
            self.versions[data["id"]] = data["last_modified"]

    def _pull(self, phone: Phone, since: str | None) -> int:
        path = f"{KINTO_RECORDS}?_limit=10000" + (f"&_since={since}" if since else "")
        changes = 0
        while path:
            status, page, response = phone.call("GET", path)
            assert status == 200, page
            for record in page["data"]:
                self.versions[record["id"]] = record["last_modified"]
            changes += len(page["data"])
            # nginx's gzip weakens the ETag (W/"…"): the timestamp is the same.
            etag = response.getheader("ETag", "").removeprefix("W/").strip('"')
            self.etag = etag or self.etag
            following = response.getheader("Next-Page")
            path = None
            if following:
                parts = urlsplit(following)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
        return changes

    def first_sync(self, phone: Phone) -> int:
        return self._pull(phone, None)

    def _patches(self, ids: list[str], who: str) -> list[dict]:
        return [
            {
                "path": f"{KINTO_RECORDS[3:]}/{record_id}",
                "body": {"data": edit(who, i, self.round)},
                "headers": {"If-Match": f'"{self.versions[record_id]}"'},
            }
            for i, record_id in enumerate(ids)
        ]

    def others_change(self) -> None:
        self.round += 1
        office = Phone(self.port, {"Authorization": KINTO_AUTH}, accept="identity")
        patches = self._patches(self.customers[PUSHES : PUSHES + OTHERS], "office")
        for start in range(0, len(patches), 100):  # Kinto's batch limit
            self._batch(office, "PATCH", patches[start : start + 100])
        office.close()

    def after_dead_zone(self, phone: Phone) -> int:
        self._batch(phone, "PATCH", self._patches(self.customers[:PUSHES], "rep"))
        pulled = self._pull(phone, self.etag)
        assert pulled >= OTHERS, f"{pulled} changes pulled, {OTHERS} made by others"
        return PUSHES + pulled

    def empty_pull(self, phone: Phone) -> int:
        assert self._pull(phone, self.etag) == 0
        return 0


# -- a peer over a link -------------------------------------------------------------------------


def over_link(
    peer: FieldsyncPeer | KintoPeer, port: int, key: str, runs: int, seed: int
) -> Outcome:
    """(a), (b) and (c) over link `key` to 127.0.0.1:`port`; medians of `runs` runs."""
    firsts, deads, empties = [], [], []
    encodings: Counter[str] = Counter()
    with LinkProxy(port, LINKS[key], seed) as proxy:
        for _ in range(runs):
            phone = peer.phone(proxy.port)
            firsts.append(measured(proxy, lambda phone=phone: peer.first_sync(phone)))
            encodings += phone.encodings
            phone.close()
        for _ in range(runs):
            peer.others_change()  # while the phone is in the dead zone; not timed
            phone = peer.phone(proxy.port)  # the dead zone dropped its connection
            deads.append(measured(proxy, lambda phone=phone: peer.after_dead_zone(phone)))
            empties.append(measured(proxy, lambda phone=phone: peer.empty_pull(phone)))
            encodings += phone.encodings
            phone.close()
    return Outcome(median(firsts), median(deads), median(empties), encodings)


def first_sync_variants(
    peer: FieldsyncPeer, server_pid: int, links: list[str], quick: bool
) -> dict[tuple[str, str], tuple[Measure, float]]:
    """Point 3: the first sync in pages of 500, of 5,000 and as one stream, gzip alike,
    with the server's peak memory (RSS of gunicorn and its workers) while it ran."""
    found = {}
    with PullRelay(peer.port) as relay:
        for key in links:
            runs = 1 if quick or key == "edge" else 2
            with LinkProxy(relay.port, LINKS[key], seed=3) as proxy:
                for name, path, extra in VARIANTS:
                    measures, peak = [], 0.0
                    for _ in range(runs):
                        phone = peer.phone(proxy.port, accept="gzip")
                        sampler = RssSampler(server_pid)
                        sampler.start()
                        measures.append(
                            measured(
                                proxy,
                                lambda phone=phone, path=path, extra=extra: peer.first_sync(
                                    phone, path, **extra
                                ),
                            )
                        )
                        peak = max(peak, sampler.stop())
                        phone.close()
                    found[(key, name)] = (median(measures), peak)
    return found


def compression_cpu(peer: FieldsyncPeer, server_pid: int) -> dict[str, tuple[float, float]]:
    """Server CPU per first sync and per 10 empty pulls, uncompressed and as a phone asks
    (`Accept-Encoding: zstd, br, gzip`): medians of interleaved runs, on 127.0.0.1."""
    cpu: dict[tuple[str, str], list[float]] = {}
    for _ in range(CPU_RUNS):
        for accept in ("identity", ACCEPT):
            phone = peer.phone(peer.port, accept=accept)
            for what, work in (
                ("first sync", lambda phone=phone: peer.first_sync(phone)),
                ("10 empty pulls", lambda phone=phone: [peer.empty_pull(phone) for _ in range(10)]),
            ):
                before = tree_cpu_seconds(server_pid)[0]
                work()
                cpu.setdefault((what, accept), []).append(tree_cpu_seconds(server_pid)[0] - before)
            phone.close()
    return {
        what: (statistics.median(cpu[(what, "identity")]), statistics.median(cpu[(what, ACCEPT)]))
        for what in ("first sync", "10 empty pulls")
    }


def today_bytes(peer: FieldsyncPeer) -> Measure:
    """Today's first sync: uncompressed pages of 500 (the server's default before issue 18),
    over 4G: the bytes do not depend on the link."""
    with LinkProxy(peer.port, LINKS["4g"]) as proxy:
        phone = peer.phone(proxy.port, accept="identity")
        found = measured(proxy, lambda: peer.first_sync(phone, PULL, limit="500"))
        phone.close()
    return found


# -- runs -------------------------------------------------------------------------------------


def run_fieldsync(
    kind: str, args: argparse.Namespace, workdir: Path, report: dict
) -> list[tuple[str, dict]]:
    sizes = Sizes(args.records, args.records, 10, 0)
    with seeded_server(kind, workdir, FS_DATABASE, sizes) as (data, port, server):
        print(f"  loaded in {data['load_s']:.0f} s", flush=True)
        first = PULL if args.pages else STREAM
        peer = FieldsyncPeer(
            port, data["rep"], data["admin"], args.gzip_push, first, args.separate_pull
        )
        peer.keep_records()
        name = f"fieldsync-{kind}"
        for key in args.links if name in args.peers else ():
            report["outcomes"][(name, key)] = found = over_link(peer, port, key, runs(args, key), 1)
            progress(name, key, found)
        if name in args.peers and kind == "sqlite":
            report["today"] = today_bytes(peer)
            report["cpu"] = compression_cpu(peer, server.pid)
            if not args.no_variants:
                slow = [key for key in args.links if key != "4g"] or args.links
                report["variants"] = first_sync_variants(peer, server.pid, slow, args.quick)
                print("  first-sync variants: done", flush=True)
        return peer.records


def run_kinto(
    records: list[tuple[str, dict]], args: argparse.Namespace, workdir: Path, report: dict
) -> None:
    ini = peers_kinto.write_ini("memory", workdir)
    server, port = peers_kinto.start(ini, 1)
    try:
        kinto = KintoPeer(port)
        kinto.load(records)
        for name in ("kinto", "kinto-nginx"):
            if name not in args.peers:
                continue
            nginx = (
                Nginx(port, workdir).wait("/v1/__heartbeat__") if name == "kinto-nginx" else None
            )
            try:
                for key in args.links:
                    target = nginx.port if nginx else port
                    found = over_link(kinto, target, key, runs(args, key), 1)
                    report["outcomes"][(name, key)] = found
                    progress(name, key, found)
            finally:
                if nginx:
                    nginx.stop()
    finally:
        stop_server(server)


def progress(name: str, key: str, found: Outcome) -> None:
    steps = ", ".join(
        f"({step}) {m.seconds:.2f} s {m.kb_down:,.0f} KB {m.wire.requests} req {m.changes} ch"
        for step, m in (("a", found.a), ("b", found.b), ("c", found.c))
    )
    print(f"  {name} over {key}: {steps}", flush=True)


def runs(args: argparse.Namespace, key: str) -> int:
    return 1 if args.quick else RUNS[key]


# -- the table --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_report(report: dict, args: argparse.Namespace) -> None:
    outcomes: dict[tuple[str, str], Outcome] = report["outcomes"]
    print(
        f"\nLink bench: (a) first sync of a {args.records:,}-record rep scope; (b) after a dead "
        f"zone, push {PUSHES} and pull {OTHERS} changes by others; (c) an empty pull. "
        "Seconds (median), KB down/up on the wire, requests (+ new connections)."
    )
    rows = [
        [
            "link",
            "peer",
            "(a) s",
            "(a) KB ↓/↑",
            "(a) req",
            "(b) s",
            "(b) KB ↓/↑",
            "(b) req",
            "(c) s",
            "(c) req",
            "answers",
        ]
    ]
    for key in args.links:
        for name in PEERS:
            o = outcomes.get((name, key))
            if o is None:
                continue
            cells = [LINKS[key].name, name]
            for m in (o.a, o.b):
                cells += [f"{m.seconds:.2f}", f"{m.kb_down:,.0f}/{m.kb_up:,.0f}"]
                cells.append(f"{m.wire.requests}+{m.wire.connections}")
            cells += [f"{o.c.seconds:.2f}", f"{o.c.wire.requests}+{o.c.wire.connections}"]
            cells.append(",".join(f"{e} {n}" for e, n in sorted(o.encodings.items())))
            rows.append(cells)
    print_columns(rows)

    print("\nRatios (Kinto's seconds / fieldsync's: how many times faster):")
    rows = [["link", "fieldsync", "against", "(a)", "(b)", "(c)"]]
    for key in args.links:
        for fs in ("fieldsync-sqlite", "fieldsync-postgres"):
            for kinto in ("kinto", "kinto-nginx"):
                f, k = outcomes.get((fs, key)), outcomes.get((kinto, key))
                if f and k:
                    rows.append(
                        [
                            LINKS[key].name,
                            fs,
                            kinto,
                            *(
                                f"{getattr(k, s).seconds / getattr(f, s).seconds:.2f}×"
                                for s in "abc"
                            ),
                        ]
                    )
    if len(rows) > 1:
        print_columns(rows)

    print("\nGoals (issue 18):")
    lines = []
    for fs in ("fieldsync-sqlite", "fieldsync-postgres"):
        for (key, step), goal in SECONDS_GOALS.items():
            o = outcomes.get((fs, key))
            if o:
                s = getattr(o, step).seconds
                ok = verdict(s <= goal)
                lines.append(f"{fs} {LINKS[key].name} ({step}) {s:.2f} s ≤ {goal:.0f} s: {ok}")
        today = report.get("today")
        for key in args.links:
            o = outcomes.get((fs, key))
            if o and today:
                share = o.a.wire.down_bytes / today.wire.down_bytes
                lines.append(
                    f"{fs} {LINKS[key].name} (a) {o.a.kb_down:,.0f} KB down = {share:.1%} of "
                    f"today's {today.kb_down:,.0f} KB (uncompressed pages of 500) ≤ 10 %: "
                    + verdict(share <= BYTES_GOAL)
                )
                c = o.c.wire
                one = c.requests == 1 and c.connections == 0
                lines.append(
                    f"{fs} {LINKS[key].name} (c) {c.requests} request(s), {c.connections} new "
                    f"connection(s): exactly one round trip: {verdict(one)}"
                )
            for kinto, goal in KINTO_GOALS.items():
                k = outcomes.get((kinto, key))
                if o and k:
                    for step in "ab":
                        ratio = getattr(k, step).seconds / getattr(o, step).seconds
                        lines.append(
                            f"{fs} {LINKS[key].name} ({step}) {ratio:.2f}× {kinto} ≥ {goal}×: "
                            f"{verdict(ratio >= goal)}"
                        )
    for line in lines:
        print("  " + line)

    cpu = report.get("cpu")
    if cpu:
        print(
            "\nServer CPU on fieldsync-sqlite, uncompressed → as the phone asks (zstd, br, gzip):"
        )
        for what, (plain, packed) in cpu.items():
            extra = packed / plain - 1 if plain else 0.0
            print(
                f"  {what}: {plain * 1000:.0f} → {packed * 1000:.0f} ms ({extra:+.0%}) "
                f"≤ +{CPU_GOAL:.0%}: {verdict(extra <= CPU_GOAL)}"
            )

    variants = report.get("variants")
    if variants:
        print(
            "\nPoint 3, first sync on fieldsync-sqlite: pages or one stream, all gzip level 6 "
            "through the same relay; peak server RSS while it ran:"
        )
        rows = [["link", "variant", "s", "KB ↓/↑", "req", "server MB"]]
        for (key, name), (m, peak) in variants.items():
            rows.append(
                [
                    LINKS[key].name,
                    name,
                    f"{m.seconds:.2f}",
                    f"{m.kb_down:,.0f}/{m.kb_up:,.0f}",
                    str(m.wire.requests),
                    f"{peak:.0f}",
                ]
            )
        print_columns(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="1,000 records, SQLite and Kinto, one run"
    )
    parser.add_argument("--records", type=int, help="records in the rep's scope (default 5,000)")
    parser.add_argument("--links", default="edge,3g,4g", help="comma-separated: edge, 3g, 4g")
    parser.add_argument("--peers", help=f"comma-separated subset of {', '.join(PEERS)}")
    parser.add_argument(
        "--plain-push",
        dest="gzip_push",
        action="store_false",
        help="fieldsync's pushes uncompressed (default: gzip, as its clients send them)",
    )
    parser.add_argument(
        "--pages", action="store_true", help="first syncs in pages (default: the streamed pull)"
    )
    parser.add_argument(
        "--separate-pull",
        action="store_true",
        help="(b) as a push, then a pull (default: one push carrying the pull, ADR 0028)",
    )
    parser.add_argument("--no-variants", action="store_true", help="skip point 3's page sizes")
    args = parser.parse_args()
    args.records = args.records or (1_000 if args.quick else 5_000)
    args.links = [k.strip() for k in args.links.split(",") if k.strip()]
    default = "fieldsync-sqlite,kinto,kinto-nginx" if args.quick else ",".join(PEERS)
    args.peers = [p.strip() for p in (args.peers or default).split(",") if p.strip()]
    if set(args.links) - set(LINKS) or set(args.peers) - set(PEERS):
        parser.error(f"links: {', '.join(LINKS)}; peers: {', '.join(PEERS)}")
    if any(p.startswith("kinto") for p in args.peers):
        print(f"Kinto {peers_kinto.ensure_venv()}", flush=True)
    report: dict[str, Any] = {"outcomes": {}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        records: list[tuple[str, dict]] = []
        for kind in ("sqlite", "postgres"):
            name = f"fieldsync-{kind}"
            needed = name in args.peers or (kind == "sqlite" and not records)
            if needed and (name in args.peers or any(p.startswith("kinto") for p in args.peers)):
                workdir = Path(tmp) / name
                workdir.mkdir()
                print(f"{name}: loading {args.records:,} records ...", flush=True)
                kept = run_fieldsync(kind, args, workdir, report)
                records = records or kept
        if any(p.startswith("kinto") for p in args.peers):
            workdir = Path(tmp) / "kinto"
            workdir.mkdir()
            print(f"kinto: loading {len(records):,} records ...", flush=True)
            run_kinto(records, args, workdir, report)
    print_report(report, args)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
