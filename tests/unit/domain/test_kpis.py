"""KPI definitions on plain numbers: periods, weeks, ratios, money and quotas (ADR 0009)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain import kpis, periods
from domain.models import Customer, Order, Quota, Visit
from server.extensions import db
from sync.changes import create_record

HCM = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7, no daylight saving


OLD = datetime(2026, 9, 1, tzinfo=UTC)


HERE = {"lat": 10.77, "lon": 106.70}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


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
        charlie = customer("Charlie", rep_a, 30, "prospect", utc("2026-11-10T03:00:00"))
        customer("Delta", rep_a, 30, "lead", utc("2026-11-05T03:00:00"))
        customer("Echo", rep_a, 7)
        delta1 = customer("D1", rep_a2, 7)

        def visit(key, who, cust, planned, status, check_in=None, where=None):
            values = {"customer_id": cust.id, "rep_id": who, "status": status}
            values["planned_at"] = utc(planned) if planned else None
            if check_in:
                values["check_in_at"] = utc(check_in)
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
        gone.deleted_at = utc("2026-11-06T00:00")
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
                submitted_at=utc(submitted) if submitted else None,
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


def test_parse_period_month_week_range_and_default():
    today = date(2026, 11, 20)
    month = periods.parse_period("2026-11", None, None, today, HCM)
    assert (month.first, month.last, month.days) == (date(2026, 11, 1), date(2026, 11, 30), 30)
    # Local midnight in UTC+7 is 17:00 UTC the day before.
    assert month.start == utc("2026-10-31T17:00:00")
    assert month.end == utc("2026-11-30T17:00:00")
    week = periods.parse_period("2026-W47", None, None, today, HCM)
    assert (week.first, week.last) == (date(2026, 11, 16), date(2026, 11, 22))
    span = periods.parse_period(None, date(2026, 2, 27), date(2026, 3, 2), today, HCM)
    assert span.days == 4 and span.months() == [date(2026, 2, 1), date(2026, 3, 1)]
    assert periods.parse_period(None, None, None, today, HCM).first == date(2026, 11, 1)
    longest = periods.parse_period(None, date(2025, 1, 1), date(2026, 1, 1), today, HCM)
    assert longest.days == periods.MAX_PERIOD_DAYS == 366
    december = periods.parse_period(None, None, None, date(2026, 12, 31), HCM)
    assert december.last == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("period", "first", "last", "field"),
    [
        ("2026-13", None, None, "period"),
        ("2026-W54", None, None, "period"),
        ("November", None, None, "period"),
        ("2026-11", date(2026, 11, 1), None, "period"),
        (None, date(2026, 11, 1), None, "to"),
        (None, None, date(2026, 11, 1), "from"),
        (None, date(2026, 11, 2), date(2026, 11, 1), "to"),
        (None, date(2025, 1, 1), date(2026, 1, 2), "to"),  # 367 days
    ],
)
def test_parse_period_refuses(period, first, last, field):
    with pytest.raises(periods.PeriodError) as caught:
        periods.parse_period(period, first, last, date(2026, 11, 20), HCM)
    assert caught.value.field == field


def test_weeks_are_iso_weeks_clipped_to_the_period():
    period = periods.parse_period("2026-11", None, None, date(2026, 11, 20), HCM)
    weeks = period.weeks()
    # 2026-11-01 is a Sunday: the first week is that one day; Monday 30 is the last.
    assert [w.week_start for w in weeks] == [
        date(2026, 10, 26),
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
    ]
    assert (weeks[0].first, weeks[0].last) == (date(2026, 11, 1), date(2026, 11, 1))
    assert weeks[1].start == utc("2026-11-01T17:00:00")
    assert weeks[-1].end == period.end


def test_planned_classes_and_coverage_state():
    assert kpis.planned_class("completed", True) == "completed"
    assert kpis.planned_class("cancelled", True) == "cancelled"
    assert kpis.planned_class("missed", False) == "missed"
    assert kpis.planned_class("planned", True) == "missed"
    assert kpis.planned_class("in_progress", True) == "missed"
    assert kpis.planned_class("planned", False) == "upcoming"
    as_of = utc("2026-11-20T05:00:00")
    assert kpis.coverage_state(None, 7, as_of) == (False, None)
    assert kpis.coverage_state(as_of - timedelta(days=7), 7, as_of) == (True, 0)
    # 7 days and 1 hour: 8 days when rounded up, 1 day overdue.
    assert kpis.coverage_state(as_of - timedelta(days=7, hours=1), 7, as_of) == (False, 1)


def test_ratios_money_and_average_half_up():
    assert kpis.ratio(1, 3) == 0.3333
    assert kpis.ratio(1, 0) is None
    assert kpis.average(Decimal("138.66"), 4) == Decimal("34.67")  # 34.665: half-up, not even
    assert kpis.average(Decimal("1.00"), 0) is None
    assert kpis.money(Decimal("5")) == "5.00"


def test_prorate_months_and_partial_periods():
    quotas = [
        (date(2026, 2, 1), Decimal("280.00"), 28, "VND"),
        (date(2026, 3, 1), Decimal("310.00"), 31, "VND"),
    ]
    # Feb 27 – Mar 2: 2/28 of February (280.00 × 2/28 = 20.00, 28 × 2/28 = 2 visits)
    # + 2/31 of March (310.00 × 2/31 = 20.00, 31 × 2/31 = 2 visits).
    period = periods.Period(date(2026, 2, 27), date(2026, 3, 2), HCM)
    target, missing = kpis.prorate(period, quotas)
    assert (target.revenue, target.visits, missing) == (Decimal("40.00"), 4, [])
    whole = periods.Period(date(2026, 3, 1), date(2026, 3, 31), HCM)
    assert kpis.prorate(whole, quotas)[0].revenue == Decimal("310.00")
    april = periods.Period(date(2026, 3, 31), date(2026, 4, 1), HCM)
    target, missing = kpis.prorate(april, quotas)
    assert (target.revenue, target.visits, missing) == (Decimal("10.00"), 1, ["2026-04"])
    assert kpis.prorate(periods.Period(date(2026, 5, 1), date(2026, 5, 2), HCM), quotas)[0] is None


def test_team_row_is_ratio_of_sums_not_average_of_ratios():
    a, b = kpis.RepCounts(), kpis.RepCounts()
    a.visits_completed, a.visits_converted = 1, 1  # 100 %
    b.visits_completed, b.visits_converted = 9, 0  # 0 %
    row = kpis.row_json(kpis.team_counts([a, b]), "VND", team=True)
    assert row["conversion_rate"] == 0.1  # 1 / 10, not (1 + 0) / 2
