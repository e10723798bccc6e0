"""The managers' dashboard in headless Chromium: KPI table per rep, team row, trend chart."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.models import User
from server.demo import DOMAIN
from server.extensions import db

from .conftest import new_page, sign_in


@pytest.fixture(scope="module")
def team_reps(live_server):
    with live_server.app.app_context():
        manager = db.session.scalar(select(User).where(User.email == f"manager1@{DOMAIN}"))
        return set(
            db.session.scalars(
                select(User.name).where(User.team_id == manager.team_id, User.role == "rep")
            )
        )


@pytest.fixture(scope="module")
def page(browser, live_server, team_reps):
    page = new_page(browser, live_server)
    sign_in(page, "/dashboard", "manager1")
    yield page
    page.context.close()


def test_kpi_table_has_a_row_per_rep_and_a_team_row(page, team_reps, artifacts):
    page.get_by_test_id("period").fill("2026-11")
    page.get_by_test_id("period").dispatch_event("change")
    page.wait_for_function("window.fieldsyncDashboard.ready && window.fieldsyncDashboard.rows > 0")
    rows = page.get_by_test_id("kpi-rep-row")
    assert rows.count() == len(team_reps) == 4
    names = {rows.nth(i).locator("th").inner_text() for i in range(rows.count())}
    assert names == team_reps
    team = page.get_by_test_id("kpi-team-row")
    assert team.is_visible()
    report = page.evaluate("window.fieldsyncDashboard.report")
    assert len(report["trend"]) >= 4
    completed = report["team"]["visits_completed"]
    assert completed > 0
    cell = team.locator("[data-kpi='visits_completed']").inner_text()
    assert cell.replace(",", "") == str(completed)
    canvas = page.get_by_test_id("trend-chart")
    assert canvas.is_visible()
    assert canvas.bounding_box()["height"] > 200
    assert page.evaluate("Chart.getChart(document.getElementById('fs-trend')) !== undefined")
    assert page.get_by_test_id("dashboard-error").is_hidden()
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    assert page.js_errors == []


def test_dashboard_in_arabic(page):
    page.get_by_test_id("language-select").select_option("ar")
    page.wait_for_function("document.documentElement.dir === 'rtl'")
    head = page.locator("#fs-kpi-head th").first.inner_text()
    assert head == "المندوب"
    page.get_by_test_id("language-select").select_option("en")
    page.wait_for_function("document.documentElement.dir === 'ltr'")
