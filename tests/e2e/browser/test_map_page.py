"""The managers' map in headless Chromium: sign-in, layers, customer card, route, languages."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from domain.models import Contact, Customer, RoutePlan, User
from domain.timeline import visits
from server.demo import DOMAIN
from server.extensions import db
from sync.scopes import Scope

from .conftest import new_page, sign_in

DEMO_DAY = dt.date(2026, 11, 20)


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture(scope="module")
def expected(live_server):
    """What manager1 may see, straight from the database."""
    with live_server.app.app_context():
        manager = _user(f"manager1@{DOMAIN}")
        scope = Scope.for_user(db.session, manager)
        customers = db.session.scalars(
            select(Customer).where(Customer.deleted_at.is_(None), scope.customers_where())
        ).all()
        located = [c for c in customers if c.lat is not None and c.lon is not None]
        with_contact = db.session.execute(
            select(Customer.id, Customer.name, Contact.name)
            .join(Contact, Contact.customer_id == Customer.id)
            .where(Customer.id.in_([c.id for c in located]), Contact.deleted_at.is_(None))
            .order_by(Customer.name)
        ).first()
        plan = db.session.scalars(
            select(RoutePlan)
            .where(
                RoutePlan.plan_date == DEMO_DAY,
                RoutePlan.rep_id.in_(select(User.id).where(User.team_id == manager.team_id)),
            )
            .order_by(RoutePlan.rep_id)
        ).first()
        return {
            "located": len(located),
            "unlocated": len(customers) - len(located),
            "customer": {"id": str(with_contact[0]), "name": with_contact[1]},
            "contact": with_contact[2],
            "plan": {"rep_id": str(plan.rep_id), "stops": len(visits(plan.stops))},
        }


@pytest.fixture(scope="module")
def page(browser, live_server):
    page = new_page(browser, live_server)
    sign_in(page, "/map", "manager1")
    yield page
    page.context.close()


def count(page, selector: str) -> int:
    return page.locator(selector).count()


def test_manager_sees_their_customers_and_territories(page, expected):
    assert count(page, "path.fs-customer") == expected["located"]
    assert count(page, "path.fs-territory") == 2
    counts = page.evaluate("window.fieldsyncMap.counts")
    assert counts["customers"] == expected["located"]
    assert counts["needsLocation"] == expected["unlocated"] > 0
    assert count(page, "path.fs-overdue") == counts["overdue"]
    assert page.get_by_test_id("count-needs-location").inner_text() == str(expected["unlocated"])
    assert page.get_by_test_id("user-name").is_visible()
    assert page.js_errors == []


def test_toggle_the_customers_layer(page, expected):
    layer = page.get_by_test_id("layer-customers")
    layer.uncheck()
    assert count(page, "path.fs-customer") == 0
    assert count(page, "path.fs-territory") == 2  # the other layers stay
    layer.check()
    assert count(page, "path.fs-customer") == expected["located"]


def test_filters_requery_the_customers(page, expected):
    page.get_by_test_id("filter-overdue").select_option("true")
    page.wait_for_function(
        "document.querySelectorAll('path.fs-customer').length"
        " === document.querySelectorAll('path.fs-overdue').length"
    )
    overdue = page.evaluate("window.fieldsyncMap.counts.overdue")
    assert 0 < count(page, "path.fs-customer") == overdue < expected["located"]
    page.get_by_test_id("filter-overdue").select_option("")
    page.wait_for_function(f"window.fieldsyncMap.counts.customers === {expected['located']}")


def test_click_a_customer_opens_its_card(page, expected):
    customer = expected["customer"]
    marker = page.locator(f"path.fs-customer[data-customer-id='{customer['id']}']")
    # Markers may overlap: send the click to this one, as a user clicking it would.
    marker.dispatch_event("click")
    card = page.get_by_test_id("customer-card")
    card.get_by_test_id("card-contacts").wait_for()
    assert card.get_by_test_id("card-name").inner_text() == customer["name"]
    assert expected["contact"] in card.get_by_test_id("card-contacts").inner_text()
    assert card.get_by_test_id("card-visits").is_visible()
    assert page.js_errors == []


def test_route_of_a_rep_with_numbered_stops(page, expected, artifacts):
    plan = expected["plan"]
    page.get_by_test_id("route-rep").select_option(plan["rep_id"])
    page.get_by_test_id("route-date").fill(DEMO_DAY.isoformat())
    page.get_by_test_id("route-show").click()
    page.wait_for_function(f"window.fieldsyncMap.counts.stops === {plan['stops']}")
    stops = page.locator(".fs-stop")
    assert stops.count() == plan["stops"] > 0
    numbers = sorted(int(text) for text in stops.all_inner_texts())
    assert numbers == list(range(1, plan["stops"] + 1))
    assert count(page, "path.fs-route-line") == 1
    assert str(plan["stops"]) in page.get_by_test_id("route-stops").inner_text()
    page.screenshot(path=str(artifacts / "map.png"))


def test_a_day_without_a_plan_says_so(page, expected):
    page.get_by_test_id("route-rep").select_option(expected["plan"]["rep_id"])
    page.get_by_test_id("route-date").fill("2026-01-05")
    page.get_by_test_id("route-show").click()
    summary = page.get_by_test_id("route-summary")
    summary.locator(".fs-chip").first.wait_for()  # the dates that have a plan
    assert count(page, ".fs-stop") == 0
    summary.locator(".fs-chip").first.click()
    page.wait_for_function(f"window.fieldsyncMap.counts.stops === {expected['plan']['stops']}")


def test_languages_and_right_to_left(page, artifacts):
    select = page.get_by_test_id("language-select")
    layers_title = page.locator("[data-i18n='layers.title']")

    select.select_option("ar")
    page.wait_for_function("document.documentElement.lang === 'ar'")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert layers_title.text_content() == "الطبقات"
    # The layout mirrors: the sidebar is now on the right of the map.
    sidebar = page.get_by_test_id("sidebar").bounding_box()
    map_box = page.get_by_test_id("map").bounding_box()
    assert sidebar["x"] > map_box["x"]
    page.screenshot(path=str(artifacts / "map-ar.png"))

    select.select_option("fa")
    page.wait_for_function("document.documentElement.lang === 'fa'")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert layers_title.text_content() == "لایه‌ها"

    select.select_option("ru")
    page.wait_for_function("document.documentElement.lang === 'ru'")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    assert layers_title.text_content() == "Слои"

    select.select_option("en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.evaluate("localStorage.getItem('fieldsync.lang')") == "en"
    assert page.js_errors == []


def test_an_expired_access_token_is_refreshed_once(page, expected):
    page.evaluate(
        """() => {
          const session = JSON.parse(sessionStorage.getItem('fieldsync.session'));
          sessionStorage.setItem('fieldsync.old', session.refresh);
          session.access = 'expired.or.forged';
          sessionStorage.setItem('fieldsync.session', JSON.stringify(session));
        }"""
    )
    page.evaluate("window.fieldsyncMap.reload()")
    session = page.evaluate("JSON.parse(sessionStorage.getItem('fieldsync.session'))")
    assert session["access"] != "expired.or.forged"
    assert session["refresh"] != page.evaluate("sessionStorage.getItem('fieldsync.old')")
    assert count(page, "path.fs-customer") == expected["located"]
    assert page.locator("#fs-login").is_hidden()


def test_language_defaults_to_the_browser(browser, live_server):
    page = new_page(browser, live_server, locale="vi-VN")
    try:
        page.goto("/map")
        page.wait_for_function("document.documentElement.lang === 'vi'")
        assert page.get_by_test_id("login-submit").inner_text() == "Đăng nhập"
    finally:
        page.context.close()


def test_admin_sees_every_territory(browser, live_server):
    page = new_page(browser, live_server)
    try:
        sign_in(page, "/map", "admin")
        assert count(page, "path.fs-territory") == 4
    finally:
        page.context.close()


def test_a_rep_is_turned_away(browser, live_server):
    page = new_page(browser, live_server, bypass_csp=False)
    try:
        page.goto("/map")
        page.get_by_test_id("login-email").fill(f"rep1@{DOMAIN}")
        page.get_by_test_id("login-password").fill("demo-pass-2026")
        page.get_by_test_id("login-submit").click()
        error = page.get_by_test_id("login-error")
        error.wait_for()
        assert "managers and admins" in error.inner_text()
        assert page.locator("#fs-app").is_hidden()
        assert page.evaluate("sessionStorage.getItem('fieldsync.session')") is None
        assert page.js_errors == []  # nothing the Content-Security-Policy refused
    finally:
        page.context.close()


def test_wrong_password(browser, live_server):
    page = new_page(browser, live_server)
    try:
        page.goto("/map")
        page.get_by_test_id("login-email").fill(f"manager1@{DOMAIN}")
        page.get_by_test_id("login-password").fill("not-the-password")
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("login-error").wait_for()
        assert page.get_by_test_id("login-error").inner_text() == "Wrong email or password."
    finally:
        page.context.close()


def _open_balance_and_propose(page, k: int):
    page.get_by_test_id("balance-open").click()
    form = page.get_by_test_id("balance-form")
    form.get_by_test_id("balance-k").fill(str(k))
    form.get_by_test_id("balance-propose").click()
    form.get_by_test_id("balance-table").wait_for()
    return form


def test_balance_territories_proposes_and_discards(page, artifacts):
    form = _open_balance_and_propose(page, 4)
    table = form.get_by_test_id("balance-table")
    today = table.get_by_test_id("balance-today-imbalance").inner_text()
    assert float(today) >= 1.0  # today's imbalance, 2 decimals
    assert table.get_by_test_id("balance-today-count").inner_text() == "2"
    assert table.get_by_test_id("balance-proposal-count").inner_text() == "4"
    assert float(table.get_by_test_id("balance-proposal-imbalance").inner_text()) <= 1.15
    assert form.get_by_test_id("balance-parts").locator("tbody tr").count() == 4
    assert count(page, "path.fs-proposal") == 4
    page.screenshot(path=str(artifacts / "balance.png"))

    form.get_by_test_id("balance-discard").click()
    assert count(page, "path.fs-proposal") == 0
    assert count(page, "path.fs-territory") == 2  # nothing written
    page.get_by_test_id("panel-close").click()
    assert page.js_errors == []


# -- editing: these change the data, so they run last ---------------------------------


def _pixel(page, lat: float, lon: float) -> tuple[float, float]:
    """Page coordinates of a point of the map."""
    point = page.evaluate(
        "([lat, lon]) => window.fieldsyncMap.map.latLngToContainerPoint([lat, lon])", [lat, lon]
    )
    box = page.get_by_test_id("map").bounding_box()
    return box["x"] + point["x"], box["y"] + point["y"]


def _territory(name: str):
    from domain.models import Territory

    return db.session.scalar(select(Territory).where(Territory.name == name))


def _customers_in(live_server, box, margin):
    west, south, east, north = box
    with live_server.app.app_context():
        manager = _user(f"manager1@{DOMAIN}")
        scope = Scope.for_user(db.session, manager)
        rows = db.session.execute(
            select(Customer.id).where(
                Customer.deleted_at.is_(None),
                scope.customers_where(),
                Customer.lon > west + margin,
                Customer.lon < east - margin,
                Customer.lat > south + margin,
                Customer.lat < north - margin,
            )
        ).scalars()
        return {str(i) for i in rows}


def test_box_select_then_reassign_then_assign_by_location(page, live_server):
    if page.get_by_test_id("panel-close").is_visible():
        page.get_by_test_id("panel-close").click()
    page.get_by_test_id("route-clear").click()
    page.evaluate("window.fieldsyncMap.map.setView([10.82, 106.74], 14, {animate: false})")
    box = (106.725, 10.81, 106.745, 10.825)  # inside "Quận 1 – Bến Thành"
    west, south, east, north = box
    with live_server.app.app_context():
        source = _territory("Quận 1 – Bến Thành").id
        target = _territory("Bình Thạnh – Phú Nhuận").id

    page.get_by_test_id("tool-box-select").click()
    page.mouse.click(*_pixel(page, north, west))
    page.mouse.move(*_pixel(page, south, east), steps=5)
    page.mouse.click(*_pixel(page, south, east))
    form = page.get_by_test_id("reassign-form")
    form.wait_for()
    selected = set(page.evaluate("window.fieldsyncMap.selection()"))
    assert _customers_in(live_server, box, 0.0005) <= selected
    assert selected <= _customers_in(live_server, box, -0.0005)
    assert len(selected) > 3
    assert page.locator("path.fs-selected").count() == len(selected)

    form.get_by_test_id("reassign-territory").select_option(str(target))
    form.get_by_test_id("reassign-submit").click()
    form.get_by_test_id("reassign-confirm").click()
    page.get_by_test_id("toast").wait_for()
    assert f"{len(selected)} customers reassigned" in page.get_by_test_id("toast").inner_text()
    with live_server.app.app_context():
        moved = db.session.scalars(
            select(Customer.territory_id).where(Customer.id.in_([uuid.UUID(i) for i in selected]))
        ).all()
        assert set(moved) == {target}

    # Their location is in the first polygon: "assign by location" moves them back.
    page.get_by_test_id("tool-assign").click()
    assign = page.get_by_test_id("assign-form")
    assign.get_by_test_id("assign-preview-button").click()
    summary = assign.get_by_test_id("assign-summary")
    summary.wait_for()
    assert summary.inner_text().startswith(f"{len(selected)} to move")
    assign.get_by_test_id("assign-apply").click()
    page.wait_for_function("document.getElementById('fs-panel').hidden")
    with live_server.app.app_context():
        back = db.session.scalars(
            select(Customer.territory_id).where(Customer.id.in_([uuid.UUID(i) for i in selected]))
        ).all()
        assert set(back) == {source}
    assert page.js_errors == []


def test_draw_a_territory_then_edit_its_shape(page, live_server):
    page.evaluate("window.fieldsyncMap.map.setView([10.82, 106.80], 14, {animate: false})")
    corners = [(10.815, 106.792), (10.815, 106.808), (10.825, 106.808), (10.825, 106.792)]
    page.get_by_test_id("tool-draw").click()
    for lat, lon in corners:
        page.mouse.click(*_pixel(page, lat, lon))
    page.mouse.click(*_pixel(page, *corners[0]))  # back to the first corner: done
    form = page.get_by_test_id("territory-form")
    form.get_by_test_id("territory-name").fill("Thủ Đức – test")
    form.get_by_test_id("territory-save").click()
    page.wait_for_function("window.fieldsyncMap.counts.territories === 3")
    assert page.locator("path.fs-territory").count() == 3
    with live_server.app.app_context():
        created = _territory("Thủ Đức – test")
        ring = created.geometry["coordinates"][0]
        assert len(ring) == 5 and ring[0] == ring[-1]
        assert all(106.79 < lon < 106.81 and 10.81 < lat < 10.83 for lon, lat in ring)
        territory_id, version = str(created.id), created.version

    page.get_by_test_id("tool-edit").click()
    edit = page.get_by_test_id("edit-form")
    edit.get_by_test_id("edit-territory").select_option(territory_id)
    vertex = page.locator(".marker-icon:not(.marker-icon-middle)").first
    vertex.wait_for()
    start = vertex.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y + 30, steps=5)
    page.mouse.up()
    edit.get_by_test_id("edit-save").click()
    page.wait_for_function("document.getElementById('fs-panel').hidden")
    with live_server.app.app_context():
        edited = _territory("Thủ Đức – test")
        assert edited.version > version
        assert edited.geometry["coordinates"][0] != ring
    assert page.js_errors == []


def test_balance_territories_apply(page, live_server):
    """Last: replaces the team's territories (the tests above assume the demo's)."""
    from domain.models import Territory

    with live_server.app.app_context():
        team_id = _user(f"manager1@{DOMAIN}").team_id
        before = {
            t.id
            for t in db.session.scalars(
                select(Territory).where(
                    Territory.team_id == team_id, Territory.deleted_at.is_(None)
                )
            )
        }
    form = _open_balance_and_propose(page, 4)
    form.get_by_test_id("balance-apply").click()
    form.get_by_test_id("balance-confirm").click()
    page.wait_for_function("document.getElementById('fs-panel').hidden")
    toast = page.get_by_test_id("toast")
    toast.wait_for()
    assert "customers moved" in toast.inner_text()
    page.wait_for_function("window.fieldsyncMap.counts.territories >= 4")
    assert count(page, "path.fs-proposal") == 0
    with live_server.app.app_context():
        after = db.session.scalars(
            select(Territory).where(Territory.team_id == team_id, Territory.deleted_at.is_(None))
        ).all()
        assert len(after) == 4
        assert before <= {t.id for t in after}  # today's territories reused
    assert page.js_errors == []
