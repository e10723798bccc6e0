"""KPI definitions on plain numbers: periods, weeks, ratios, money and quotas (ADR 0009)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain import kpis, periods
from domain.times import parse_iso

HCM = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7, no daylight saving


def test_parse_period_month_week_range_and_default():
    today = date(2026, 11, 20)
    month = periods.parse_period("2026-11", None, None, today, HCM)
    assert (month.first, month.last, month.days) == (date(2026, 11, 1), date(2026, 11, 30), 30)
    # Local midnight in UTC+7 is 17:00 UTC the day before.
    assert month.start == parse_iso("2026-10-31T17:00:00")
    assert month.end == parse_iso("2026-11-30T17:00:00")
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
    assert weeks[1].start == parse_iso("2026-11-01T17:00:00")
    assert weeks[-1].end == period.end


def test_planned_classes_and_coverage_state():
    assert kpis.planned_class("completed", True) == "completed"
    assert kpis.planned_class("cancelled", True) == "cancelled"
    assert kpis.planned_class("missed", False) == "missed"
    assert kpis.planned_class("planned", True) == "missed"
    assert kpis.planned_class("in_progress", True) == "missed"
    assert kpis.planned_class("planned", False) == "upcoming"
    as_of = parse_iso("2026-11-20T05:00:00")
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
