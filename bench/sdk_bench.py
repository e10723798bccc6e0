"""SDK benchmark: @fieldsync/client vs WatermelonDB on a first sync, in a slowed-down browser.

One rep whose scope holds 5,000 customers (Vietnamese, Cyrillic, Arabic, Latin and Greek
names) and 10,000 children (contacts, visits, orders, tasks), loaded through the one write
path into SQLite and served by `fieldsync serve` (one gunicorn worker). Headless Chromium
(Debian's, through Playwright), its CPU slowed 4x through CDP
(`Emulation.setCPUThrottlingRate`), each run in a fresh on-disk profile (so a fresh
IndexedDB), runs of the two sides interleaved:

(a) @fieldsync/client (clients/js): `new SyncClient({baseUrl, storage: new
    IndexedDBStorage(...)})`, `signIn()`, then the first `sync()` is timed until it resolves
    (applied to IndexedDB); then 200 searches `search('customers', q, {limit: 50})`.
(b) WatermelonDB 0.28, LokiJS web adapter (`useIncrementalIndexedDB: true`, `useWebWorker:
    false`), schema of clients/watermelondb/, `synchronize()` against
    `/api/v1/sync/watermelon`: timed until `synchronize()` resolves and until Loki has
    saved to IndexedDB (`saveDatabase`); the latter is the figure compared.

The page and the bundles (esbuild, bench/sdk/) are served from the same origin as the API:
a small proxy here serves them and forwards `/api/*` to the server (the server sends no
CORS headers). Both sides go through the same proxy.

    ./bench/run sdk            # 5,000 customers + 10,000 children, 3 runs each
    ./bench/run sdk --quick    # 500 + 1,000, 3 runs each: a smoke run
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import random
import statistics
import subprocess
import tempfile
import threading
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import (
    PASSWORD,
    ROOT,
    find_chromium,
    full_pull,
    login,
    migrated_app,
    percentile,
    print_columns,
    record_writer,
    start_server,
    stop_server,
)

SDK_DIR = ROOT / "bench" / "sdk"
DIST = SDK_DIR / "dist"
SDK_SOURCE = ROOT / "clients" / "js" / "src" / "index.js"
REP = "rep@sdk.bench"
CPU_SLOWDOWN = 4
SEARCH_P95_GOAL_MS = 50.0

# -- names in several scripts ------------------------------------------------------------

VI_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Đặng", "Bùi"]
VI_GIVEN = ["Văn An", "Thị Bích", "Minh Đức", "Thu Hà", "Quốc Hùng", "Ngọc Lan", "Đức Thắng"]
VI_SHOPS = ["Tạp hóa", "Cửa hàng", "Nhà thuốc", "Quán", "Siêu thị mini"]
# Vietnamese names as they are written in Russian, and Russian ones.
RU_VI_SURNAMES = ["Нгуен", "Чан", "Ле", "Фам", "Хоанг"]
RU_VI_GIVEN = ["Ван Ан", "Тхи Бить", "Минь Дык", "Тху Ха"]
RU_NAMES = ["Алёна Петрова", "Иванов Сергей", "Фёдоров Пётр", "Ольга Смирнова", "Дмитрий Козлов"]
RU_SHOPS = ["Магазин", "Аптека", "Продукты", "Лавка"]
# Arabic, some written with their short vowels (harakat), as people sometimes type them.
AR_NAMES = ["مُحَمَّد علي", "محمد حسن", "أحمد سعيد", "فاطمة الزهراء", "عُمَر خالد", "يوسف"]
AR_SHOPS = ["بقالة", "صيدلية", "متجر"]
LATIN = ["François Dubois", "José Núñez", "Müller & Söhne", "Zoë Renée", "Ångström AB"]
GREEK = ["Παπαδόπουλος", "Καφενείο Γιώργος", "Φαρμακείο Ελένη"]

#: What the searches ask for: Latin without accents, with them, in capitals, prefixes,
#: Cyrillic for Vietnamese names, Arabic without harakat, and queries with no match.
QUERIES = [
    "nguyen", "Nguyễn", "NGUYEN", "nguy", "Нгуен", "нгуен", "tap hoa", "tạp hóa", "dang",
    "Đặng", "duc", "huynh", "pham thi", "nha thuoc", "sieu thi", "алена", "Алёна", "федоров",
    "иванов", "магазин", "апт", "محمد", "مُحَمَّد", "بقالة", "عمر", "francois", "nunez",
    "muller", "zoe", "angstrom", "παπαδοπουλος", "φαρμακειο", "quan", "le", "hoang van",
    "xyzzy", "щщщ", "غغغ",
]  # fmt: skip


def customer_name(rng: random.Random, i: int) -> str:
    kind = i % 10
    if kind < 5:  # half Vietnamese, the field's common case
        person = f"{rng.choice(VI_SURNAMES)} {rng.choice(VI_GIVEN)}"
        return person if kind == 0 else f"{rng.choice(VI_SHOPS)} {person}"
    if kind < 7:
        if kind == 5:
            return f"{rng.choice(RU_SHOPS)} {rng.choice(RU_VI_SURNAMES)} {rng.choice(RU_VI_GIVEN)}"
        return f"{rng.choice(RU_SHOPS)} {rng.choice(RU_NAMES)}"
    if kind < 9:
        return f"{rng.choice(AR_SHOPS)} {rng.choice(AR_NAMES)}"
    return rng.choice(LATIN + GREEK) + f" {i}"


def fold(text: str) -> str:
    """Lower case without accents or marks (harakat too): what a search should ignore."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def search_text(name: str, address: str, city: str) -> str:
    """A customer's folded name, address and city: what its search key holds."""
    return "|".join(fold(part) for part in (name, address, city))


def expected_hits(query: str, texts: list[str]) -> int:
    """Customers whose folded name, address or city contain the folded query: a reference
    computed here, independently of the SDK, for what a search should find."""
    folded = " ".join(fold(query).split())
    return sum(folded in text for text in texts)


# -- data ----------------------------------------------------------------------------------


def seed(url: str, customers: int, children: int) -> dict:
    """One team, one territory, one rep; `customers` customers in it and `children`
    contacts, visits, orders and tasks (a quarter each), through `sync.changes`."""
    from domain.models import Contact, Customer, Order, Task, Team, Territory, User, Visit
    from server.auth.passwords import hash_password
    from server.extensions import db

    started = time.perf_counter()
    rng = random.Random(16)
    app = migrated_app(url)
    texts = []
    with app.app_context():
        session = db.session
        now = datetime.now(UTC)
        add = record_writer(session, now)
        team = add(Team, name="SDK bench")
        rep = add(
            User,
            email=REP,
            name="Rep",
            role="rep",
            team_id=team.id,
            password_hash=hash_password(PASSWORD),
        )
        territory = add(Territory, name="Rep scope", team_id=team.id)
        territory.reps = [rep]
        session.commit()
        ids = []
        for i in range(customers):
            name, address, city = customer_name(rng, i), f"{i} Lê Lợi", "Hồ Chí Minh"
            texts.append(search_text(name, address, city))
            customer = add(
                Customer,
                name=name,
                territory_id=territory.id,
                address=address,
                city=city,
                lat=10.7 + rng.uniform(-0.1, 0.1),
                lon=106.6 + rng.uniform(-0.1, 0.1),
                tier=rng.choice("ABC"),
                status="active",
            )
            ids.append(customer.id)
            if i % 500 == 499:
                session.commit()
        session.commit()
        for n in range(children):
            customer_id = ids[n % len(ids)]
            kind = n % 4
            if kind == 0:
                add(Contact, customer_id=customer_id, name=f"Chị {n}", phone="+84 90 000 0000")
            elif kind == 1:
                add(
                    Visit,
                    customer_id=customer_id,
                    rep_id=rep.id,
                    status="planned",
                    planned_at=now + timedelta(days=n % 30),
                )
            elif kind == 2:
                add(Order, customer_id=customer_id, rep_id=rep.id, status="draft", lines=[])
            else:
                add(Task, customer_id=customer_id, assignee_id=rep.id, title=f"Gọi lại {n}")
            if n % 500 == 499:
                session.commit()
        session.commit()
    return {"texts": texts, "load_s": time.perf_counter() - started}


def scope_records(port: int) -> int:
    """How many records the rep's first pull holds (our protocol, all pages)."""
    return full_pull(port, login(port, REP, "bench-count"))[0]


# -- the page's origin: bundles here, /api/* forwarded to the server ------------------------

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host"}
PAGE = """<!doctype html><meta charset="utf-8"><title>fieldsync sdk bench</title>
<script src="/bench/{side}.js"></script>"""


def proxy_server(api_port: int) -> http.server.ThreadingHTTPServer:
    local = threading.local()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def do_PUT(self):
            self.handle_any()

        def do_PATCH(self):
            self.handle_any()

        def do_DELETE(self):
            self.handle_any()

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.path.startswith("/api/"):
                status, headers, data = self.forward(body)
            elif self.path.startswith("/bench/") and self.path.endswith(".html"):
                side = self.path.removeprefix("/bench/").removesuffix(".html")
                status, data = 200, PAGE.format(side=side).encode()
                headers = [("Content-Type", "text/html; charset=utf-8")]
            elif self.path.startswith("/bench/") and self.path.endswith(".js"):
                file = DIST / Path(self.path).name
                if file.is_file():
                    status, data = 200, file.read_bytes()
                    headers = [("Content-Type", "text/javascript; charset=utf-8")]
                else:
                    status, headers, data = 404, [], b""
            else:
                status, headers, data = 404, [], b""
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def forward(self, body):
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            for _ in range(2):  # a kept-alive connection the server closed: open a new one
                conn = getattr(local, "conn", None)
                if conn is None:
                    conn = local.conn = http.client.HTTPConnection("127.0.0.1", api_port, 300)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    local.conn = None
            else:
                return 502, [], b"proxy: the server did not answer"
            kept = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
            ]
            return response.status, kept, data

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# -- the browser ---------------------------------------------------------------------------


def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        raise SystemExit("Chromium is not installed: apt-get install -y chromium")
    return path


#: The same work before and after the throttle: how much slower the page really runs.
BUSY_LOOP = """() => { const t = performance.now(); let x = 0;
  for (let i = 0; i < 3e6; i++) x = (x + i * 7) % 1000003;
  return performance.now() - t + (x < 0 ? 1 : 0) }"""


def in_browser(playwright, chromium: str, origin: str, side: str, args: dict) -> dict:
    """One run of one side: a fresh on-disk profile (a fresh IndexedDB, stored as an app's
    would be, not in an incognito context's memory), the CPU slowed down, the page's
    `bench<Side>(args)`."""
    with tempfile.TemporaryDirectory(prefix=f"sdk-bench-{side}-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{origin}/bench/{side}.html")
            page.evaluate(BUSY_LOOP)  # once to warm the JIT up
            before = page.evaluate(BUSY_LOOP)
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            after = page.evaluate(BUSY_LOOP)
            function = {"sdk": "benchSdk", "watermelon": "benchWatermelon"}[side]
            try:
                outcome = page.evaluate(f"(args) => window.{function}(args)", args)
            except Exception as exc:
                raise RuntimeError(f"{side}: {exc}; page errors: {errors}") from exc
            outcome["slowdown"] = after / before if before else float("nan")
            return outcome
        finally:
            context.close()


# -- the run -------------------------------------------------------------------------------


def build(sdk: bool) -> dict:
    """esbuild both bundles (the SDK's only when its source exists)."""
    out = subprocess.run(
        ["node", str(SDK_DIR / "build.mjs"), *([] if sdk else ["--only", "watermelon"])],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def search_queries(count: int) -> list[str]:
    rng = random.Random(200)
    queries = list(QUERIES)
    while len(queries) < count:
        queries.append(rng.choice(QUERIES))
    return queries[:count]


def run(args: argparse.Namespace) -> dict:
    from playwright.sync_api import sync_playwright

    customers, children = (500, 1_000) if args.quick else (5_000, 10_000)
    built = build(sdk=not args.no_sdk)
    sides = ["watermelon", "sdk"] if built.get("sdk") else ["watermelon"]
    chromium = chromium_path()
    queries = search_queries(args.searches)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'sdk_bench.db'}"
        data = seed(url, customers, children)
        server, port = start_server(url, 1, workdir)
        proxy = proxy_server(port)
        origin = f"http://127.0.0.1:{proxy.server_address[1]}"
        results: dict[str, list[dict]] = {side: [] for side in sides}
        errors: dict[str, str] = {}
        try:
            records = scope_records(port)
            with sync_playwright() as playwright:
                for n in range(args.runs):
                    # Interleaved, and each side first every other run.
                    for side in sides if n % 2 == 0 else sides[::-1]:
                        if side in errors:
                            continue
                        call = {"email": REP, "password": PASSWORD, "run": n}
                        if side == "sdk":
                            call["queries"] = queries
                        try:
                            outcome = in_browser(playwright, chromium, origin, side, call)
                        except Exception as exc:  # the SDK may be unfinished: say so
                            errors[side] = str(exc)[:600]
                            continue
                        results[side].append(outcome)
                        print(f"  run {n + 1} {side}: {summary(side, outcome)}", flush=True)
        finally:
            proxy.shutdown()
            stop_server(server)
    return {
        "customers": customers,
        "children": children,
        "records": records,
        "load_s": data["load_s"],
        "texts": data["texts"],
        "queries": queries,
        "results": results,
        "errors": errors,
        "sdk_built": bool(built.get("sdk")),
    }


def summary(side: str, outcome: dict) -> str:
    if side == "watermelon":
        return (
            f"synchronize() {outcome['syncMs'] / 1000:.2f} s, saved to IndexedDB "
            f"{outcome['persistedMs'] / 1000:.2f} s, {outcome['records']} records "
            f"({outcome['persistence']})"
        )
    searches = [s["ms"] for s in outcome["searches"]]
    p95 = percentile(searches, 0.95) if searches else float("nan")
    return f"sync() {outcome['syncMs'] / 1000:.2f} s, search p95 {p95:.1f} ms"


def requests_row(label: str, runs: list[dict]) -> tuple[str, str, str, str]:
    """The pull requests of a side's sync (resource timing): count, time, bytes."""
    count = runs[0]["requests"]["count"]
    seconds = statistics.median(x["requests"]["ms"] for x in runs) / 1000
    megabytes = runs[0]["requests"]["bytes"] / 1e6
    return (
        f"  {label}: of which pull requests (first to last byte), s",
        f"{seconds:.2f} ({count} request{'s' if count != 1 else ''}, {megabytes:.1f} MB)",
        "",
        "",
    )


def report(r: dict) -> None:
    wm, sdk = r["results"].get("watermelon", []), r["results"].get("sdk", [])
    rows = [("measure", "value", "goal", "")]
    rows.append(("database", "SQLite, fieldsync serve, 1 gunicorn worker", "", ""))
    rows.append(("browser", f"headless Chromium, CPU {CPU_SLOWDOWN}x slower (CDP)", "", ""))
    slowdowns = [x["slowdown"] for side in r["results"].values() for x in side]
    if slowdowns:
        rows.append(
            (
                "  measured slowdown of a busy loop (median)",
                f"{statistics.median(slowdowns):.1f}x",
                "",
                "",
            )
        )
    rows.append(("customers + children in the rep's scope", f"{r['customers']:,} + "
                 f"{r['children']:,}", "", ""))  # fmt: skip
    rows.append(("records in the rep's first pull (server)", f"{r['records']:,}", "", ""))
    rows.append(("load (s, through the write path)", f"{r['load_s']:.0f}", "", ""))

    wm_saved = statistics.median(x["persistedMs"] for x in wm) / 1000 if wm else None
    if wm:
        rows.append(
            ("WatermelonDB runs / records in Loki", f"{len(wm)} / {wm[0]['records']:,}", "", "")
        )
        rows.append(
            (
                "WatermelonDB synchronize() resolved, s (median)",
                f"{statistics.median(x['syncMs'] for x in wm) / 1000:.2f}",
                "",
                "",
            )
        )
        rows.append(
            ("WatermelonDB + saved to IndexedDB, s (median)", f"{wm_saved:.2f}", "", "compared")
        )
        rows.append(requests_row("WatermelonDB", wm))
    else:
        rows.append(("WatermelonDB", "no run finished", "", r["errors"].get("watermelon", "")))

    if sdk:
        sdk_s = statistics.median(x["syncMs"] for x in sdk) / 1000
        searches = [s["ms"] for x in sdk for s in x["searches"]]
        p50, p95 = statistics.median(searches), percentile(searches, 0.95)
        rows.append(("SDK runs / records pulled", f"{len(sdk)} / {sdk[0]['records']:,}", "", ""))
        fetch_errors = {x["defaultFetchError"] for x in sdk if x.get("defaultFetchError")}
        if fetch_errors:
            rows.append(
                (
                    "  NOTE: new SyncClient({baseUrl, storage}) could not sign in",
                    "; ".join(fetch_errors)[-110:],
                    "",
                    "measured with fetch: (u, i) => fetch(u, i) passed in",
                )
            )
        rows.append(("SDK sync() applied to IndexedDB, s (median)", f"{sdk_s:.2f}", "", ""))
        rows.append(requests_row("SDK", sdk))
        if wm:
            wm_sync = statistics.median(x["syncMs"] for x in wm) / 1000
            for label, wm_s in (
                ("saved to IndexedDB, compared", wm_saved),
                ("synchronize() resolved", wm_sync),
            ):
                rows.append(
                    (
                        f"WatermelonDB s / SDK s ({label})",
                        f"{wm_s / sdk_s:.2f}x",
                        "at least as fast as WatermelonDB (≥ 1.00x)",
                        "PASS" if sdk_s <= wm_s else "MISS",
                    )
                )
        rows.append((f"SDK search p50 ms ({len(searches)} searches)", f"{p50:.1f}", "", ""))
        rows.append(
            (
                "SDK search p95 ms",
                f"{p95:.1f}",
                f"search p95 ≤ {SEARCH_P95_GOAL_MS:.0f} ms",
                "PASS" if p95 <= SEARCH_P95_GOAL_MS else "MISS",
            )
        )
        # The answers against a reference computed here (not a goal, a check that the
        # searches timed are searches that find what they should).
        last = sdk[-1]["searches"]
        expected = {q: min(50, expected_hits(q, r["texts"])) for q in r["queries"]}
        wrong = sorted({f"{s['q']} ({s['hits']}, expected {expected[s['q']]})"
                        for s in last if s["hits"] != expected[s["q"]]})  # fmt: skip
        with_hits = sum(1 for s in last if s["hits"])
        rows.append(("SDK searches with results", f"{with_hits}/{len(last)}", "", ""))
        kept = [x.get("persisted") or {} for x in sdk]
        rows.append(
            (
                "SDK customers found after reopening IndexedDB (each run)",
                ", ".join(
                    f"{k.get('customers', 0):,}{'' if k.get('cursor') else ' (no cursor)'}"
                    for k in kept
                ),
                f"{r['customers']:,}",
                "PASS"
                if all(k.get("customers") == r["customers"] and k.get("cursor") for k in kept)
                else "MISS",
            )
        )
        rows.append(
            (
                "  hit counts unlike the folded-substring reference",
                "; ".join(wrong) or "none",
                "",
                "",
            )
        )
    else:
        why = (
            r["errors"].get("sdk", "")
            if r["sdk_built"]
            else f"pending: {SDK_SOURCE.relative_to(ROOT)} does not exist yet"
        )
        rows.append(("SDK (@fieldsync/client)", "not measured", "", why))
        rows.append(("at least as fast as WatermelonDB", "-", "", "PENDING"))
        rows.append((f"search p95 ≤ {SEARCH_P95_GOAL_MS:.0f} ms", "-", "", "PENDING"))
    for side, error in r["errors"].items():
        if r["results"].get(side):  # some runs finished, a later one failed
            rows.append((f"{side}: a run failed", error.splitlines()[0][:200], "", ""))
    print_columns(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 customers + 1,000 children")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (median)")
    parser.add_argument("--searches", type=int, default=200, help="SDK searches per run")
    parser.add_argument("--no-sdk", action="store_true", help="WatermelonDB side only")
    args = parser.parse_args()
    report(run(args))


if __name__ == "__main__":
    main()
