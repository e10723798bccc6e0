"""KPIs and quotas: pure definitions, a hand-built month whose numbers are worked out
by hand below, scoping, and the quota endpoints."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.models import Customer, Order, Quota, Visit
from domain.times import parse_iso
from server.extensions import db
from sync.changes import create_record

KPIS = "/api/v1/kpis"
QUOTAS = "/api/v1/quotas"
#: "Now" for the API tests: Friday 2026-11-20 12:00 in Ho Chi Minh City.
NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
OLD = datetime(2026, 9, 1, tzinfo=UTC)
HERE = {"lat": 10.77, "lon": 106.70}


# -- pure functions --------------------------------------------------------------------


# -- the hand-built month --------------------------------------------------------------


def add(model, at: datetime, **values):
    return create_record(db.session, model, values, now=at)


def line(quantity: str, price: str) -> list[dict]:
    product = "00000000-0000-0000-0000-000000000000"
    return [{"product_id": product, "quantity": quantity, "unit_price": price, "discount_pct": "0"}]


@pytest.fixture
def month(app, world):
    """November 2026 for team North (rep.a, rep.a2); the world adds, per territory, an
    ownerless customer, a draft order and a visit planned for 2026-11-03 09:00 UTC that
    is still `planned` (so missed by the 20th)."""
    rep_a, rep_a2 = world.users["rep.a"], world.users["rep.a2"]
    ids = {}
    with app.app_context():

        def customer(key, owner, every, status="active", created=OLD, **extra):
            row = add(
                Customer,
                created,
                name=key,
                owner_id=owner,
                territory_id=world.territories["A"],
                status=status,
                visit_every_days=every,
                **HERE,
                **extra,
            )
            ids[key] = row.id
            return row

        alpha = customer("Alpha", rep_a, 7)
        bravo = customer("Bravo", rep_a, 14)
        charlie = customer("Charlie", rep_a, 30, "prospect", parse_iso("2026-11-10T03:00:00"))
        customer("Delta", rep_a, 30, "lead", parse_iso("2026-11-05T03:00:00"))
        customer("Echo", rep_a, 7)
        delta1 = customer("D1", rep_a2, 7)

        def visit(key, who, cust, planned, status, check_in=None, where=None):
            values = {"customer_id": cust.id, "rep_id": who, "status": status}
            values["planned_at"] = parse_iso(planned) if planned else None
            if check_in:
                values["check_in_at"] = parse_iso(check_in)
                if where:
                    values.update(check_in_lat=where[0], check_in_lon=where[1])
                    values["check_in_accuracy_m"] = 10
            row = add(Visit, OLD, **values)
            ids[key] = row.id
            return row

        near, far = (10.77, 106.70), (10.80, 106.70)  # at the shop; 3.3 km away
        v1 = visit("V1", rep_a, alpha, "2026-11-03T02:00", "completed", "2026-11-03T02:10", near)
        v2 = visit("V2", rep_a, alpha, "2026-11-18T03:00", "completed", "2026-11-18T03:05", far)
        visit("V3", rep_a, bravo, "2026-11-10T04:00", "missed")
        visit("V4", rep_a, bravo, "2026-11-12T04:00", "planned")  # day over: missed
        visit("V5", rep_a, bravo, "2026-11-14T04:00", "cancelled")
        visit("V6", rep_a, charlie, "2026-11-25T04:00", "planned")  # upcoming
        visit("V7", rep_a, charlie, "2026-11-20T03:00", "planned")  # today: still upcoming
        v8 = visit("V8", rep_a, charlie, None, "completed", "2026-11-19T08:00", near)
        # Planned Oct 31 23:30 local, checked in Nov 1 00:30 local: completed in November,
        # not planned in it; no fix, so unverified.
        v9 = visit("V9", rep_a, alpha, "2026-10-31T16:30", "completed", "2026-10-31T17:30")
        visit("V10", rep_a, bravo, "2026-10-20T03:00", "completed", "2026-10-20T03:00", near)
        gone = visit("V11", rep_a, alpha, "2026-11-05T03:00", "completed", "2026-11-05T03:00")
        gone.deleted_at = parse_iso("2026-11-06T00:00")
        w1 = visit("W1", rep_a2, delta1, "2026-11-05T03:00", "completed", "2026-11-05T03:00", near)

        def order(who, cust, status, lines, submitted=None, visit_row=None, currency="VND"):
            return add(
                Order,
                OLD,
                customer_id=cust.id,
                rep_id=who,
                visit_id=visit_row.id if visit_row else None,
                status=status,
                lines=lines,
                currency=currency,
                submitted_at=parse_iso(submitted) if submitted else None,
            )

        order(rep_a, alpha, "submitted", line("3", "19.99"), "2026-11-03T02:30", v1)  # 59.97
        order(rep_a, alpha, "submitted", line("7", "0.29"), "2026-11-03T02:40", v1)  # 2.03
        order(rep_a, charlie, "submitted", line("2", "33.34"), "2026-11-19T08:30", v8)  # 66.68
        order(rep_a, bravo, "draft", line("1", "100.00"))
        order(rep_a, alpha, "cancelled", line("1", "50.00"), "2026-11-18T03:10", v2)
        order(rep_a, alpha, "submitted", line("1", "5.00"), "2026-11-10T03:00", currency="USD")
        order(rep_a, alpha, "submitted", line("1", "1.00"), "2026-10-31T16:59")  # Oct 31 local
        # Sunday Nov 1 23:59:59 local: still the first (one-day) week.
        order(rep_a, alpha, "submitted", line("2", "4.99"), "2026-11-01T16:59:59", v9)  # 9.98
        order(rep_a2, delta1, "submitted", line("1", "1000.00"), "2026-11-05T03:30", w1)
        db.session.add(
            Quota(
                rep_id=rep_a,
                month=date(2026, 11, 1),
                revenue_target=Decimal("200.00"),
                visits_target=10,
                currency="VND",
                created_at=OLD,
                updated_at=OLD,
            )
        )
        db.session.commit()
        assert v2.location_status == "out_of_range" and v1.location_status == "verified"
    return ids


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr("server.kpis.routes.utc_now", lambda: NOW)


def rep_row(body, world, key):
    (row,) = [r for r in body["reps"] if r["rep_id"] == str(world.users[key])]
    return row


def test_hand_built_month(client, login, world, month, frozen):
    response = client.get(f"{KPIS}?period=2026-11", headers=login("north.manager@example.com"))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["period"] == {
        "from": "2026-11-01",
        "to": "2026-11-30",
        "timezone": "Asia/Ho_Chi_Minh",
        "days": 30,
        "as_of": "2026-11-20T05:00:00.000000Z",  # the month is not over: now
    }
    assert [r["name"] for r in body["reps"]] == ["Rep A", "Rep A2"]

    a = rep_row(body, world, "rep.a")
    # Planned in November (local): V1, V2 completed; V3 missed; V4 and the world's visit
    # planned (days over) -> missed; V5 cancelled; V6 and V7 (today) upcoming. V8 has no
    # plan, V9 was planned on Oct 31 local, V11 is deleted. 2 + 3 + 1 + 2 = 8.
    assert (
        a["visits_planned"],
        a["visits_planned_completed"],
        a["visits_missed"],
        a["visits_cancelled"],
        a["visits_upcoming"],
    ) == (8, 2, 3, 1, 2)
    assert a["plan_adherence"] == 0.3333  # 2 / (8 − 2)
    # Completed with check-in in November: V1, V2, V8, V9 (V10 in October, V11 deleted).
    assert a["visits_completed"] == 4
    assert a["verified_check_in_rate"] == 0.5  # V1, V8 verified; V2 out of range; V9 none
    # Submitted VND orders in November: 59.97 + 2.03 + 66.68 + 9.98 = 138.66 (not the
    # draft, the cancelled one, the USD one or the one of Oct 31 local).
    assert (a["orders"], a["revenue"]) == (4, "138.66")
    assert a["average_order_value"] == "34.67"  # 138.66 / 4 = 34.665, half-up
    assert a["other_currencies"] == {"USD": {"orders": 1, "revenue": "5.00"}}
    assert a["conversion_rate"] == 0.75  # V1, V8, V9 have orders; V2's was cancelled: 3 / 4
    # Owned active/prospect: Alpha (seen Nov 18, every 7: covered), Bravo (Oct 20 03:00,
    # every 14: 31.08 days -> 32 − 14 = 18 overdue), Charlie (Nov 19, every 30: covered),
    # Echo (never). Delta is a lead.
    assert (a["customers_responsible"], a["customers_covered"], a["coverage"]) == (4, 2, 0.5)
    assert a["overdue_total"] == 2
    assert [(o["name"], o["days_overdue"]) for o in a["overdue_customers"]] == [
        ("Echo", None),
        ("Bravo", 18),
    ]
    assert a["overdue_customers"][1]["last_visit_at"] == "2026-10-20T03:00:00.000000Z"
    assert a["new_customers"] == 2  # Charlie (Nov 10), Delta (Nov 5)
    assert a["quota"] == {
        "currency": "VND",
        "revenue_target": "200.00",
        "visits_target": 10,
        "revenue_attainment": 0.6933,  # 138.66 / 200
        "visits_attainment": 0.4,  # 4 / 10
        "months": [
            {"month": "2026-11", "revenue_target": "200.00", "visits_target": 10, "share": 1.0}
        ],
        "missing_months": [],
    }

    a2 = rep_row(body, world, "rep.a2")
    # W1 completed (verified, with a 1000.00 order); the world's visit missed.
    assert (a2["visits_planned"], a2["visits_missed"], a2["plan_adherence"]) == (2, 1, 0.5)
    assert (a2["visits_completed"], a2["orders"], a2["revenue"]) == (1, 1, "1000.00")
    assert (a2["average_order_value"], a2["conversion_rate"]) == ("1000.00", 1.0)
    # D1 seen Nov 5 03:00, every 7: 15.08 days -> 16 − 7 = 9 days overdue.
    assert (a2["coverage"], a2["overdue_customers"][0]["days_overdue"]) == (0.0, 9)
    assert a2["quota"] is None

    team = body["team"]
    assert team["reps"] == 2
    assert (team["visits_planned"], team["visits_planned_completed"]) == (10, 3)
    assert team["plan_adherence"] == 0.375  # 3 / (10 − 2)
    assert team["visits_completed"] == 5
    assert team["verified_check_in_rate"] == 0.6  # (2 + 1) / (4 + 1)
    assert (team["orders"], team["revenue"]) == (5, "1138.66")
    assert team["average_order_value"] == "227.73"  # 1138.66 / 5 = 227.732
    assert team["conversion_rate"] == 0.8  # (3 + 1) / 5
    assert (team["customers_responsible"], team["coverage"]) == (5, 0.4)
    assert [o["name"] for o in team["overdue_customers"]] == ["Echo", "Bravo", "D1"]
    # Only rep.a has a quota: her 138.66 and 4 visits against her targets.
    assert team["quota"]["revenue_attainment"] == 0.6933
    assert team["quota"]["visits_attainment"] == 0.4
    assert [t["team_id"] for t in body["teams"]] == [str(world.teams["North"])]

    # Weeks of November (Nov 1 is a Sunday): visits V9 | V1, W1 | – | V2, V8 | – | –.
    assert [
        (w["week_start"], w["visits_completed"], w["orders"], w["revenue"]) for w in body["trend"]
    ] == [
        ("2026-10-26", 1, 1, "9.98"),
        ("2026-11-02", 2, 3, "1062.00"),  # 59.97 + 2.03 + 1000.00
        ("2026-11-09", 0, 0, "0.00"),
        ("2026-11-16", 2, 1, "66.68"),
        ("2026-11-23", 0, 0, "0.00"),
        ("2026-11-30", 0, 0, "0.00"),
    ]
    assert body["trend"][0]["from"] == "2026-11-01"


def test_week_and_range_periods(client, login, world, month, frozen):
    headers = login("north.manager@example.com")
    body = client.get(f"{KPIS}?period=2026-W47&rep_id={world.users['rep.a']}", headers=headers).json
    a = body["reps"][0]
    # Nov 16–22: V2 and V8 completed, V7 upcoming; quota prorated 7/30 of the month:
    # 200.00 × 7 / 30 = 46.666… -> 46.67; 10 × 7 / 30 = 2.33 -> 2.
    assert (a["visits_completed"], a["visits_upcoming"], a["revenue"]) == (2, 1, "66.68")
    assert (a["quota"]["revenue_target"], a["quota"]["visits_target"]) == ("46.67", 2)
    assert len(body["trend"]) == 1
    body = client.get(f"{KPIS}?from=2026-10-31&to=2026-11-01", headers=headers).json
    # Oct 31 local holds the 1.00 order; Nov 1 holds V9 and the 9.98 order; October has
    # no quota.
    a = rep_row(body, world, "rep.a")
    assert (a["orders"], a["revenue"], a["visits_completed"]) == (2, "10.98", 1)
    assert a["quota"]["missing_months"] == ["2026-10"]


def test_scoping(client, login, world, month, frozen):
    rep = login("rep.a@example.com")
    body = client.get(KPIS, headers=rep).json
    assert [r["rep_id"] for r in body["reps"]] == [str(world.users["rep.a"])]
    assert body["period"]["from"] == "2026-11-01"  # default: this month
    other = client.get(f"{KPIS}?rep_id={world.users['rep.a2']}", headers=rep)
    assert other.status_code == 404 and other.json["error"]["code"] == "not_found"

    south = login("south.manager@example.com")
    assert client.get(f"{KPIS}?team_id={world.teams['North']}", headers=south).status_code == 404
    assert client.get(f"{KPIS}?rep_id={world.users['rep.a']}", headers=south).status_code == 404
    body = client.get(f"{KPIS}?team_id={world.teams['South']}", headers=south).json
    assert [r["rep_id"] for r in body["reps"]] == [str(world.users["rep.b"])]
    assert body["team"]["team_id"] == str(world.teams["South"])

    admin = login("admin@example.com")
    body = client.get(f"{KPIS}?period=2026-11", headers=admin).json
    assert len(body["reps"]) == 3 and len(body["teams"]) == 2
    assert body["team"]["revenue"] == "1138.66"
    missing = "00000000-0000-0000-0000-000000000001"
    assert client.get(f"{KPIS}?team_id={missing}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=2026-13", "period"),
        ("period=2026-W60", "period"),
        ("period=last-month", "period"),
        ("from=2026-11-01", "to"),
        ("from=2026-11-05&to=2026-11-01", "to"),
        ("from=2025-01-01&to=2026-01-02", "to"),
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("period=2026-11&from=2026-11-01&to=2026-11-02", "period"),
        ("rep_id=nope", "rep_id"),
        ("currency=dong", "currency"),
        ("overdue_limit=-1", "overdue_limit"),
    ],
)
def test_bad_inputs_are_422(client, login, world, query, field):
    response = client.get(f"{KPIS}?{query}", headers=login("north.manager@example.com"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert field in response.json["error"]["fields"]


def test_empty_scope_and_unauthenticated(client, login, world):
    assert client.get(KPIS).status_code == 401
    body = client.get(f"{KPIS}?period=2030-01", headers=login("rep.b@example.com")).json
    row = body["reps"][0]
    assert row["visits_planned"] == 0 and row["plan_adherence"] is None
    assert row["average_order_value"] is None and row["revenue"] == "0.00"


# -- quotas ----------------------------------------------------------------------------


def test_quota_put_get_delete_and_permissions(client, login, world):
    manager = login("north.manager@example.com")
    rep_a = world.users["rep.a"]
    url = f"{QUOTAS}/{rep_a}/2026-12"
    body = {"revenue_target": "1500000.50", "visits_target": 120}
    response = client.put(url, json=body, headers=manager)
    assert response.status_code == 200, response.json
    assert response.json["revenue_target"] == "1500000.50"
    assert response.json["month"] == "2026-12"
    assert response.json["updated_by"] == str(world.users["north.manager"])
    # Replacing keeps one row per rep and month.
    response = client.put(url, json={**body, "visits_target": 130}, headers=manager)
    assert response.json["visits_target"] == 130
    listed = client.get(f"{QUOTAS}?month=2026-12", headers=manager).json["items"]
    assert [(q["rep_id"], q["visits_target"]) for q in listed] == [(str(rep_a), 130)]
    # A rep reads their own quota but may not set one.
    rep = login("rep.a@example.com")
    assert len(client.get(QUOTAS, headers=rep).json["items"]) == 1
    forbidden = client.put(url, json=body, headers=rep)
    assert forbidden.status_code == 403 and forbidden.json["error"]["code"] == "forbidden"
    assert client.get(QUOTAS, headers=login("rep.a2@example.com")).json["items"] == []
    # The other team's manager: the rep does not exist for them.
    south = login("south.manager@example.com")
    assert client.put(url, json=body, headers=south).status_code == 404
    assert client.delete(url, headers=south).status_code == 404
    assert client.get(f"{QUOTAS}?rep_id={rep_a}", headers=south).status_code == 404
    assert client.get(QUOTAS, headers=south).json["items"] == []
    # Managers are not reps: no quota for them.
    assert (
        client.put(
            f"{QUOTAS}/{world.users['north.manager']}/2026-12", json=body, headers=manager
        ).status_code
        == 404
    )
    # Admins set any rep's quota.
    admin = login("admin@example.com")
    b_url = f"{QUOTAS}/{world.users['rep.b']}/2026-12"
    assert client.put(b_url, json=body, headers=admin).status_code == 200
    assert len(client.get(f"{QUOTAS}?month=2026-12", headers=admin).json["items"]) == 2
    assert client.delete(url, headers=rep).status_code == 403
    assert client.delete(url, headers=manager).status_code == 204
    assert client.delete(url, headers=manager).status_code == 404
    assert client.get(f"{QUOTAS}?month=2026-12", headers=manager).json["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"revenue_target": "-1.00", "visits_target": 10}, "revenue_target"),
        ({"revenue_target": "1.001", "visits_target": 10}, "revenue_target"),
        ({"revenue_target": "1e20", "visits_target": 10}, "revenue_target"),
        ({"revenue_target": "NaN", "visits_target": 10}, "revenue_target"),
        ({"revenue_target": "abc", "visits_target": 10}, "revenue_target"),
        ({"revenue_target": "10.00", "visits_target": -1}, "visits_target"),
        ({"revenue_target": "10.00", "visits_target": 100000}, "visits_target"),
        ({"revenue_target": "10.00", "visits_target": 2.5}, "visits_target"),
        ({"revenue_target": "10.00"}, "visits_target"),
        ({"revenue_target": "10.00", "visits_target": 1, "currency": "usd"}, "currency"),
    ],
)
def test_quota_refuses_bad_values(client, login, world, body, field):
    url = f"{QUOTAS}/{world.users['rep.a']}/2026-12"
    response = client.put(url, json=body, headers=login("north.manager@example.com"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "december", "0000-01"])
def test_quota_bad_month_is_422(client, login, world, month):
    url = f"{QUOTAS}/{world.users['rep.a']}/{month}"
    body = {"revenue_target": "1.00", "visits_target": 1}
    response = client.put(url, json=body, headers=login("north.manager@example.com"))
    assert response.status_code == 422
    assert "month" in response.json["error"]["fields"]
    listed = client.get(f"{QUOTAS}?month={month}", headers=login("admin@example.com"))
    assert listed.status_code == 422


def test_kpis_use_quota_set_through_the_api(client, login, world, frozen):
    manager = login("north.manager@example.com")
    rep_a = world.users["rep.a"]
    client.put(
        f"{QUOTAS}/{rep_a}/2026-11",
        json={"revenue_target": "0.00", "visits_target": 0},
        headers=manager,
    )
    quota = client.get(f"{KPIS}?rep_id={rep_a}", headers=manager).json["reps"][0]["quota"]
    # Zero targets: no attainment rather than a division by zero.
    assert quota["revenue_attainment"] is None and quota["visits_attainment"] is None
