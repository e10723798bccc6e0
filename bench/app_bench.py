"""Reps' app benchmark (`./bench/run app`): start-up offline, bundle size, first sync.

The app as a rep gets it: `clients/app/dist/` served at /app/ by `fieldsync serve` (one
gunicorn worker, SQLite), headless Chromium (Debian's) with its CPU slowed 4x through CDP
(`Emulation.setCPUThrottlingRate`), a phone's viewport, a fresh on-disk profile per run.
The data is the SDK bench's (bench/sdk_bench.py `seed`): one rep whose scope holds 5,000
customers and 10,000 contacts, visits, orders and tasks, so the first sync compares with
`./bench/run sdk`'s figure for the SDK alone.

Per run: open /app/, sign in through the form; the app's first `sync()` is timed inside the
page (a performance measure around it); once its service worker is active, the server is
stopped (really offline: nothing answers) and the page is reloaded: the time from the
navigation to the first Today screen drawn with its data is read from a performance mark.
The server is started again for the next run. In each run the SDK bench's page
(bench/sdk: the SDK alone, no app) also makes its first sync against the same server and
data, so the two compare under the same load. The JavaScript the app loads at start is
measured gzipped (level 9) from dist/, without the map screen's chunk (Leaflet).

    ./bench/run app            # 3 runs
    ./bench/run app --quick    # 500 customers + 1,000 children, 1 run
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
from pathlib import Path

from bench.common import PASSWORD, ROOT, start_server, stop_server
from bench.sdk_bench import (
    BUSY_LOOP,
    REP,
    build,
    chromium_path,
    in_browser,
    proxy_server,
    scope_records,
    seed,
)

DIST = ROOT / "clients" / "app" / "dist"
CPU_SLOWDOWN = 4
GOALS = {"start_s": 1.5, "js_kb": 200}
#: `./bench/run sdk`'s figure for the SDK alone (README, 2026-12-05): 15,003 records.
SDK_FIRST_SYNC_S = 1.01


def bundle_sizes() -> dict:
    """Bytes of each JavaScript file in dist/, raw and gzipped; which the start page loads."""
    if not (DIST / "index.html").is_file():
        raise SystemExit(f"{DIST} is missing: build the app (`. scripts/_venv.sh` does).")
    files = {}
    for path in sorted(DIST.rglob("*.js")):
        data = path.read_bytes()
        files[str(path.relative_to(DIST))] = (len(data), len(gzip.compress(data, 9)))
    leaflet = {name for name in files if Path(name).name.startswith("map-")}
    service_worker = {name for name in files if name == "sw.js" or name.startswith("workbox-")}
    languages = {
        name for name in files if Path(name).name.split("-")[0] in ("vi", "ar", "fa", "ru")
    }
    start = sorted(set(files) - leaflet - service_worker - languages)
    return {
        "files": files,
        "start": start,
        "start_gz": sum(files[n][1] for n in start),
        "one_language_gz": max((files[n][1] for n in languages), default=0),
        "leaflet_gz": sum(files[n][1] for n in leaflet),
        "sw_gz": sum(files[n][1] for n in service_worker),
    }


def sdk_alone(playwright, chromium: str, port: int, n: int) -> float:
    """The SDK bench's page (bench/sdk, the SDK without the app) on the same server and data,
    at the same moment: the fair comparison on a machine whose load changes."""
    proxy = proxy_server(port)
    try:
        origin = f"http://127.0.0.1:{proxy.server_address[1]}"
        call = {"email": REP, "password": PASSWORD, "run": n, "queries": ["nguyen"]}
        return in_browser(playwright, chromium, origin, "sdk", call)["syncMs"] / 1000
    finally:
        proxy.shutdown()


def one_run(playwright, chromium: str, url: str, workdir: Path, n: int, sdk: bool) -> dict:
    server, port = start_server(url, 1, workdir)
    origin = f"http://127.0.0.1:{port}"
    sdk_s = None
    if sdk and n % 2 == 1:  # interleaved: the SDK first every other run
        sdk_s = sdk_alone(playwright, chromium, port, n)
    with tempfile.TemporaryDirectory(prefix="app-bench-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            cdp = context.new_cdp_session(page)
            page.goto(f"{origin}/app/")
            page.get_by_test_id("login-email").wait_for()
            page.evaluate(BUSY_LOOP)
            before = page.evaluate(BUSY_LOOP)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            slowdown = page.evaluate(BUSY_LOOP) / before
            page.get_by_test_id("login-email").fill(REP)
            page.get_by_test_id("login-password").fill(PASSWORD)
            page.get_by_test_id("login-submit").click()
            page.get_by_test_id("screen-today").wait_for(timeout=180_000)  # after the first sync
            sync_ms = page.evaluate(
                "performance.getEntriesByName('fieldsync:first-sync', 'measure')[0].duration"
            )
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.wait_for_timeout(2000)  # the first sync's IndexedDB compaction settles
            if sdk and n % 2 == 0:
                sdk_s = sdk_alone(playwright, chromium, port, n)
        finally:
            stop_server(server)  # offline for real from here
        try:
            page.reload()
            cdp = context.new_cdp_session(page)  # a new document: throttle it again
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            page.reload()  # this load is the one timed, throttled from its first byte
            page.locator("[data-testid=screen-today] section").first.wait_for(timeout=60_000)
            page.wait_for_function(
                "performance.getEntriesByName('fieldsync:today').length > 0", timeout=60_000
            )
            start_ms = page.evaluate("performance.getEntriesByName('fieldsync:today')[0].startTime")
            served_by_worker = page.evaluate("!!navigator.serviceWorker.controller")
        finally:
            context.close()
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    outcome = {"sync_s": sync_ms / 1000, "start_s": start_ms / 1000, "slowdown": slowdown}
    outcome["offline_from_worker"] = served_by_worker
    outcome["sdk_s"] = sdk_s
    alone = f" (the SDK alone: {sdk_s:.2f} s)" if sdk_s is not None else ""
    print(
        f"  run {n + 1}: first sync {outcome['sync_s']:.2f} s{alone}; offline start to Today "
        f"{outcome['start_s']:.2f} s (service worker: {served_by_worker}); "
        f"CPU {slowdown:.1f}x slower",
        flush=True,
    )
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="500 customers, one run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    sizes = bundle_sizes()
    sdk = (ROOT / "bench" / "sdk" / "node_modules").is_dir()
    if sdk:
        build(sdk=True)  # bench/sdk's page: the SDK alone, for the comparison
    customers, children = (500, 1_000) if args.quick else (5_000, 10_000)
    runs = 1 if args.quick else args.runs
    print(f"Reps' app bench: {customers:,} customers + {children:,} children, {runs} run(s)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'app_bench.db'}"
        seed(url, customers, children)
        server, port = start_server(url, 1, workdir)
        try:
            records = scope_records(port)
        finally:
            stop_server(server)
        with sync_playwright() as playwright:
            results = [one_run(playwright, chromium, url, workdir, n, sdk) for n in range(runs)]
    sync_s = statistics.median(r["sync_s"] for r in results)
    alone = [r["sdk_s"] for r in results if r["sdk_s"] is not None]
    sdk_s = statistics.median(alone) if alone else SDK_FIRST_SYNC_S
    where = "measured alongside" if alone else "README, `./bench/run sdk`"
    start_s = statistics.median(r["start_s"] for r in results)
    js_kb = sizes["start_gz"] / 1024
    ok = lambda good: "✔" if good else "✘"  # noqa: E731
    print()
    print(f"| Figure (CPU {CPU_SLOWDOWN}x slower, median of {runs}) | Result | Goal |")
    print("| --- | --- | --- |")
    print(
        f"| Offline start to an interactive Today (service worker, {customers:,} customers) "
        f"| {start_s:.2f} s | ≤ {GOALS['start_s']} s {ok(start_s <= GOALS['start_s'])} |"
    )
    print(
        f"| App JavaScript at start, gzipped, without Leaflet ({', '.join(sizes['start'])}) "
        f"| {js_kb:.1f} KB (+ {sizes['one_language_gz'] / 1024:.1f} KB for a language other "
        f"than English; map screen with Leaflet {sizes['leaflet_gz'] / 1024:.1f} KB; service "
        f"worker {sizes['sw_gz'] / 1024:.1f} KB) | ≤ {GOALS['js_kb']} KB "
        f"{ok(js_kb <= GOALS['js_kb'])} |"
    )
    print(
        f"| First sync in the app, {records:,} records | {sync_s:.2f} s (the SDK alone, "
        f"{where}: {sdk_s:.2f} s) | within the SDK's figure (+10 %) "
        f"{ok(sync_s <= sdk_s * 1.1)} |"
    )
    print(
        "\nFigures measured while other programs load the machine are indicative only "
        "(2 shared cores)."
    )


if __name__ == "__main__":
    main()
