"""The reps' app at /app/ on an emulated phone (390x844, touch, geolocation), really offline.

One live server behind a proxy that the test cuts (tests/support/cut_proxy.py): Chromium's
offline emulation does not stop the service worker's requests, so offline here means the
server cannot be reached at all. The flow is one rep's day, in order, sharing one browser
context (its service worker and IndexedDB are the phone's memory): sign in and first sync;
offline; reload from the service worker; check in near one customer and far from another;
a visit, an order with three lines, a task, a prospect; close and reopen; back online, the
outbox drains and the server holds each record once; a conflict on a phone number; the
manager revokes the device and the phone's data is wiped. Then Arabic and Vietnamese walk
every screen. Each screen is saved as a screenshot in docs/app/ (the README shows them) and
no screen may be wider than the phone.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from geopy.distance import geodesic
from sqlalchemy import select

from domain.models import Customer, Order, Product, RoutePlan, Task, User, Visit
from domain.times import utc_now
from server.demo import DOMAIN, PASSWORD
from server.extensions import db
from server.reps_app import service as app_service
from sync import update_record
from tests.support import ROOT
from tests.support.browser import watch_errors
from tests.support.cut_proxy import CutProxy
from tests.support.live_server import LiveServer, live_demo_server, unavailable

pytestmark = pytest.mark.e2e

SHOTS = ROOT / "docs" / "app"
PHONE = {"width": 390, "height": 844}
REP = f"rep1@{DOMAIN}"
MANAGER = f"manager1@{DOMAIN}"


@pytest.fixture(scope="module")
def server(demo) -> Iterator[tuple[LiveServer, CutProxy]]:
    if not app_service.built():
        unavailable(
            f"{app_service.DIST} is missing: build the reps' app (`. scripts/_venv.sh` does)."
        )
    with live_demo_server(demo, "reps_app", MAP_TILE_URL=None) as live:
        proxy = CutProxy(int(live.url.rsplit(":", 1)[1]))
        try:
            yield live, proxy
        finally:
            proxy.cut()


def phone(browser, proxy: CutProxy, locale: str, at: tuple[float, float]):
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        timezone_id="Asia/Ho_Chi_Minh",
        base_url=proxy.url,
        geolocation={"latitude": at[0], "longitude": at[1], "accuracy": 12},
        permissions=["geolocation"],
        service_workers="allow",
    )
    context.set_default_timeout(15_000)
    return context


def screen(page, name: str) -> None:
    try:
        page.get_by_test_id(f"screen-{name}").wait_for()
    except Exception:
        page.screenshot(path="/tmp/app-fail.png")
        print("BODY", page.content()[:2000])
        raise


def fits(page, where: str) -> None:
    width, inner, doc = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth]"
    )
    assert inner == PHONE["width"], f"{where}: the viewport became {inner} px"
    assert max(width, doc) <= inner, f"{where}: the page is {max(width, doc)} px wide"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)  # let fonts and the last render settle
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def go(page, route: str, name: str) -> None:
    page.evaluate("(r) => { location.hash = r }", route)
    screen(page, name)


def sign_in(page, email: str) -> None:
    page.goto("/app/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    screen(page, "today")
    # The service worker has precached the app shell: from now on it starts offline.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def outbox(page) -> int:
    go(page, "#/sync", "sync")
    return int(page.get_by_test_id("outbox-count").inner_text())


def sync_until_drained(page) -> None:
    go(page, "#/sync", "sync")
    for _ in range(20):
        button = page.get_by_test_id("sync-now")
        button.wait_for()
        if (
            page.get_by_test_id("outbox-count").inner_text() == "0"
            and not page.locator("[data-testid=sync-error]").count()
        ):
            return
        if button.is_enabled():
            button.click()
        page.wait_for_timeout(500)
    raise AssertionError("the outbox did not drain")


def world(app, email: str):
    with app.app_context():
        rep = db.session.scalar(select(User).where(User.email == email))
        plan = db.session.scalars(
            select(RoutePlan).where(RoutePlan.rep_id == rep.id).order_by(RoutePlan.plan_date)
        ).all()[-1]
        stops = [s for s in plan.stops if s.get("kind", "visit") == "visit"]
        customers = {
            c.id: c
            for c in db.session.scalars(
                select(Customer).where(
                    Customer.id.in_([uuid.UUID(s["customer_id"]) for s in stops])
                )
            )
        }
        near = next(s for s in stops if customers[uuid.UUID(s["customer_id"])].location_approved)
        far = next(
            s
            for s in stops
            if geodesic((s["lat"], s["lon"]), (near["lat"], near["lon"])).meters > 1500
            and customers[uuid.UUID(s["customer_id"])].location_approved
        )
        near_customer = customers[uuid.UUID(near["customer_id"])]
        products = db.session.scalars(
            select(Product).where(Product.active.is_(True)).order_by(Product.sort_key)
        ).all()
        return {
            "rep_id": rep.id,
            "near": near_customer.id,
            "near_at": (near_customer.lat, near_customer.lon),
            "far": uuid.UUID(far["customer_id"]),
            "prices": [p.unit_price for p in products],
            "names": [p.name for p in products],
        }


def with_lunch_step(app, email: str) -> None:
    """The rep's plan as the server now stores it: lunch as a step of the timeline (kind
    "lunch", between visits), visits with kind "visit" (older plans have no kind)."""
    with app.app_context():
        rep = db.session.scalar(select(User).where(User.email == email))
        plan = db.session.scalars(
            select(RoutePlan).where(RoutePlan.rep_id == rep.id).order_by(RoutePlan.plan_date)
        ).all()[-1]
        if any(stop.get("kind") == "lunch" for stop in plan.stops):
            return  # planned by a server that already makes lunch a step
        stops = [{**stop, "kind": "visit"} for stop in plan.stops]
        third = stops[2]
        lunch = {
            "kind": "lunch",
            "arrival_at": third["departure_at"],
            "departure_at": third["departure_at"],
            "service_s": 3600,
            "lat": third["lat"],
            "lon": third["lon"],
            "travel_s": 0,
            "distance_m": 0,
        }
        update_record(db.session, plan, {"stops": [*stops[:3], lunch, *stops[3:]]}, now=utc_now())
        db.session.commit()


def manager_headers(app) -> dict[str, str]:
    answer = app.test_client().post(
        "/api/v1/auth/login",
        json={"email": MANAGER, "password": PASSWORD, "device_id": "manager-desk"},
    )
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


def test_a_reps_day_offline(browser, server):
    live, proxy = server
    w = world(live.app, REP)
    with_lunch_step(live.app, REP)
    started = datetime.now(UTC) - timedelta(minutes=5)  # the phone's check-ins are "now"
    context = phone(browser, proxy, "en-US", w["near_at"])
    page = context.new_page()
    errors = watch_errors(page)

    # Sign in and first sync.
    page.goto("/app/")
    screen(page, "login")
    fits(page, "login")
    shot(page, "login")
    sign_in(page, REP)
    page.get_by_test_id("step-visit").first.wait_for()
    assert page.get_by_test_id("step-visit").count() >= 3
    # Lunch is a step of the timeline, between visits; the visits keep their numbers.
    assert page.get_by_test_id("step-lunch").count() == 1
    later = page.locator("[data-testid=step-lunch] ~ [data-testid=step-visit]").count()
    visits = page.get_by_test_id("step-visit").count()
    after_lunch = page.locator("[data-testid=step-lunch] + [data-testid=step-visit] .what")
    assert after_lunch.inner_text().startswith(f"{visits - later + 1}.")
    fits(page, "today")
    shot(page, "today")
    go(page, "#/map", "map")
    page.locator(".leaflet-interactive").first.wait_for()
    fits(page, "map")
    shot(page, "map")

    # Offline for real: the server cannot be reached, then the app starts from its
    # service worker and shows today's plan from the phone's copy.
    proxy.cut()
    go(page, "#/today", "today")
    page.reload()
    screen(page, "today")
    page.get_by_test_id("step-visit").first.wait_for()
    assert page.get_by_test_id("step-visit").count() >= 3

    # Check in near the first customer: a visit with an outcome, notes and a next step.
    go(page, f"#/customer/{w['near']}", "customer")
    page.get_by_test_id("check-in").click()
    screen(page, "visit")
    page.get_by_test_id("outcome-order").click()
    page.get_by_test_id("visit-notes").fill("Wants the summer promotion")
    page.get_by_test_id("next-step").fill("Bring the new price list")
    page.get_by_test_id("visit-save").click()
    page.wait_for_timeout(200)
    fits(page, "visit")

    # An order with three lines and its exact total.
    page.get_by_test_id("visit-order").click()
    screen(page, "order")
    quantities = ["2", "3", "1.5"]
    for index, quantity in enumerate(quantities):
        page.get_by_test_id("qty").nth(index).fill(quantity)
    expected = sum(
        (Decimal(q) * w["prices"][i] for i, q in enumerate(quantities)), Decimal(0)
    ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert page.get_by_test_id("order-total").get_attribute("data-value") == str(expected)
    fits(page, "order")
    shot(page, "order")
    page.get_by_test_id("order-submit").click()
    screen(page, "customer")
    fits(page, "customer")
    shot(page, "customer")

    # Check out there; then check in far from the second customer (still standing at the first).
    page.get_by_test_id("open-visit").click()
    screen(page, "visit")
    shot(page, "visit")
    page.get_by_test_id("check-out").click()
    screen(page, "customer")
    go(page, f"#/customer/{w['far']}", "customer")
    page.get_by_test_id("check-in").click()
    screen(page, "visit")
    page.get_by_test_id("outcome-not_available").click()
    page.get_by_test_id("check-out").click()
    screen(page, "customer")

    # A task for the far customer, and a prospect found on the street.
    page.get_by_test_id("new-task").click()
    screen(page, "task")
    page.get_by_test_id("task-title").fill("Call back about the cooler")
    page.get_by_test_id("task-save").click()
    screen(page, "customer")
    go(page, "#/customers", "customers")
    page.get_by_test_id("near-me").click()
    page.get_by_test_id("customer-distance").first.wait_for()
    fits(page, "customers")
    shot(page, "customers")
    page.get_by_test_id("new-prospect").click()
    screen(page, "prospect")
    page.get_by_test_id("prospect-name").fill("Tạp hóa Bà Tư")
    page.get_by_test_id("prospect-phone").fill("+84 90 555 0101")
    page.get_by_test_id("prospect-locate").click()
    page.get_by_test_id("prospect-position").wait_for()
    fits(page, "prospect")
    shot(page, "prospect")
    page.get_by_test_id("prospect-save").click()
    screen(page, "customer")

    # Search works offline, accent- and case-insensitively.
    go(page, "#/customers", "customers")
    page.get_by_test_id("customer-search").fill("TAP HOA BA TU")
    page.get_by_text("Tạp hóa Bà Tư").first.wait_for()

    # visit create, its save (outcome + notes) and the next-step task, the order, check-out;
    # the second visit and its check-out; the task; the prospect.
    waiting = 9
    assert outbox(page) == waiting
    # Signing out now would strand them: the app says so before it does.
    go(page, "#/settings", "settings")
    page.get_by_test_id("sign-out").click()
    assert str(waiting) in page.get_by_test_id("sign-out-warning").inner_text()
    go(page, "#/tasks", "tasks")
    fits(page, "tasks")
    shot(page, "tasks")

    # Close the app and open it again, still offline: everything is there.
    page.close()
    page = context.new_page()
    watch_errors(page, into=errors)
    page.goto("/app/")
    screen(page, "today")
    page.get_by_test_id("banner-sync").wait_for()
    assert outbox(page) == waiting
    page.locator(".banner.offline").wait_for()  # the start's sync found no server
    shot(page, "sync-offline")
    go(page, f"#/customer/{w['near']}", "customer")
    page.get_by_test_id("visit-row").first.wait_for()
    page.get_by_test_id("order-row").first.wait_for()

    # The server is back: the outbox drains, each record reached the server once.
    proxy.restore()
    sync_until_drained(page)
    with live.app.app_context():
        visits = db.session.scalars(
            select(Visit).where(
                Visit.rep_id == w["rep_id"],
                Visit.customer_id.in_([w["near"], w["far"]]),
                Visit.check_in_at >= started,
            )
        ).all()
        by_customer = {v.customer_id: v for v in visits}
        assert len(visits) == 2
        assert by_customer[w["near"]].location_status == "verified"
        assert by_customer[w["near"]].check_in_accuracy_m == 12
        assert by_customer[w["near"]].status == "completed"
        assert by_customer[w["far"]].location_status == "out_of_range"
        orders = db.session.scalars(
            select(Order).where(Order.visit_id == by_customer[w["near"]].id)
        ).all()
        assert len(orders) == 1
        assert orders[0].status == "submitted" and len(orders[0].lines) == 3
        assert orders[0].total == expected
        titles = ["Bring the new price list", "Call back about the cooler"]
        tasks = db.session.scalars(select(Task).where(Task.title.in_(titles))).all()
        assert sorted(t.title for t in tasks) == titles
        prospects = db.session.scalars(
            select(Customer).where(Customer.name == "Tạp hóa Bà Tư")
        ).all()
        assert len(prospects) == 1
        assert prospects[0].status == "prospect" and prospects[0].location_approved is False
        assert prospects[0].lat == pytest.approx(w["near_at"][0])
    go(page, f"#/visit/{by_customer[w['near']].id}", "visit")
    page.get_by_text("Verified").first.wait_for()
    shot(page, "check-in-verified")
    # A submitted order is read-only on the phone.
    go(page, f"#/order/{orders[0].id}", "order")
    assert page.get_by_test_id("order-status").inner_text() == "Submitted"
    assert page.get_by_test_id("order-submit").count() == 0
    assert page.get_by_test_id("qty").count() == 0

    # A phone number edited on both sides while the rep is offline: the manager's edit is
    # the later one, so the server keeps it and the Sync screen shows both values.
    proxy.cut()
    go(page, f"#/customer/{w['near']}", "customer")
    page.get_by_test_id("edit-phone").click()
    page.get_by_test_id("phone-input").fill("+84 90 111 1111")
    page.get_by_test_id("phone-save").click()
    page.get_by_test_id("edit-phone").wait_for()
    headers = manager_headers(live.app)
    client = live.app.test_client()
    answer = client.patch(
        f"/api/v1/customers/{w['near']}", json={"phone": "+84 90 222 2222"}, headers=headers
    )
    assert answer.status_code == 200, answer.json
    proxy.restore()
    sync_until_drained(page)
    conflict = page.get_by_test_id("conflict").first
    conflict.wait_for()
    assert "+84 90 111 1111" in conflict.get_by_test_id("conflict-yours").inner_text()
    assert "+84 90 222 2222" in conflict.get_by_test_id("conflict-server").inner_text()
    fits(page, "sync")
    shot(page, "sync")
    go(page, "#/settings", "settings")
    fits(page, "settings")
    shot(page, "settings")

    # The manager revokes the device: the phone's data is wiped at its next sync.
    devices = client.get("/api/v1/devices", headers=headers).json["items"]
    mine = [
        d
        for d in devices
        if d["user_id"] == str(w["rep_id"])
        and not d["ended_at"]
        and (d["device_name"] or "").startswith("fieldsync Field")
    ]
    assert len(mine) == 1
    answer = client.post(
        f"/api/v1/devices/{mine[0]['id']}/revoke", json={"wipe": True}, headers=headers
    )
    assert answer.status_code in (200, 204), answer.json
    go(page, "#/sync", "sync")
    page.get_by_test_id("sync-now").click()
    page.get_by_test_id("wiped").wait_for()
    left = page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open('fieldsync-app')
            open.onsuccess = () => {
              const db = open.result
              const names = [...db.objectStoreNames]
              if (!names.length) { resolve(0); return }
              const tx = db.transaction(names, 'readonly')
              let count = 0
              for (const name of names) tx.objectStore(name).getAll().onsuccess = (e) => {
                count += JSON.stringify(e.target.result).split('"customer_id"').length - 1
              }
              tx.oncomplete = () => resolve(count)
            }
          })"""
    )
    assert left == 0, "records are left on the revoked phone"
    shot(page, "wiped")
    assert errors == []
    context.close()


@pytest.mark.parametrize("locale, rep", [("ar", "rep3"), ("vi", "rep5")])
def test_every_screen_fits_a_phone_in(browser, server, locale, rep, tmp_path, monkeypatch):
    live, proxy = server
    proxy.restore()
    w = world(live.app, f"{rep}@{DOMAIN}")
    context = phone(browser, proxy, locale, w["near_at"])
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, f"{rep}@{DOMAIN}")
    assert page.evaluate("document.documentElement.dir") == ("rtl" if locale == "ar" else "ltr")
    assert page.evaluate("document.documentElement.lang") == locale
    fits(page, f"{locale} today")
    shot(page, f"{locale}-today")
    for route, name in [
        ("#/map", "map"),
        ("#/customers", "customers"),
        (f"#/customer/{w['near']}", "customer"),
        (f"#/order/new?customer={w['near']}", "order"),
        ("#/tasks", "tasks"),
        ("#/sync", "sync"),
        ("#/settings", "settings"),
        ("#/prospect", "prospect"),
    ]:
        go(page, route, name)
        if name == "order":
            page.get_by_test_id("qty-plus").first.click()
        fits(page, f"{locale} {name}")
        if name in ("customer", "order"):
            shot(page, f"{locale}-{name}")
    go(page, f"#/customer/{w['near']}", "customer")
    page.get_by_test_id("check-in").click()
    screen(page, "visit")
    fits(page, f"{locale} visit")
    shot(page, f"{locale}-visit")

    # The phone's storage is full: the app says so, keeps what was typed, loses nothing queued.
    # IndexedDB refuses writes as a full disk makes it (QuotaExceededError); Chromium's CDP
    # quota override does not reach IndexedDB in this headless build.
    waiting = outbox(page)
    go(page, f"#/task/new?customer={w['near']}", "task")
    page.evaluate(
        """() => {
          const add = IDBObjectStore.prototype.add
          window.restoreDisk = () => { IDBObjectStore.prototype.add = add }
          IDBObjectStore.prototype.add = function () {
            throw new DOMException('The disk is full', 'QuotaExceededError')
          }
        }"""
    )
    page.get_by_test_id("task-title").fill("x" * 200)
    page.get_by_test_id("task-save").click()
    page.get_by_test_id("banner-storage").wait_for()
    page.get_by_test_id("save-failed").wait_for()
    assert page.get_by_test_id("task-title").input_value() == "x" * 200
    fits(page, f"{locale} storage full")
    page.evaluate("window.restoreDisk()")
    assert outbox(page) == waiting

    # A new version is deployed: the app offers it and waits for the rep to take it.
    release = tmp_path / "dist"
    shutil.copytree(app_service.DIST, release)
    with (release / "sw.js").open("a") as worker:
        worker.write(f"\n// release {locale}\n")
    monkeypatch.setattr(app_service, "DIST", release)
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    page.get_by_test_id("banner-update").wait_for()
    fits(page, f"{locale} new version")
    page.get_by_test_id("banner-update").get_by_role("button").click()
    page.get_by_test_id("banner-update").wait_for(state="detached")  # reloaded into it
    screen(page, "sync")
    assert page.evaluate("navigator.serviceWorker.controller.state") == "activated"
    assert errors == []
    context.close()


def test_the_app_is_served_with_a_strict_policy(server):
    live, _ = server
    client = live.app.test_client()
    page = client.get("/app/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "connect-src 'self'" in policy
    assert page.headers["Cache-Control"] == "no-cache"
    worker = client.get("/app/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/app/"
    assert worker.headers["Cache-Control"] == "no-cache"
    asset = next(Path(app_service.DIST, "assets").glob("index-*.js")).name
    assert "immutable" in client.get(f"/app/assets/{asset}").headers["Cache-Control"]
