"""Reporting periods: a month, an ISO week or a range of local days, and their weeks.

A period is a range of local days in the configured time zone,
`[first 00:00, last + 1 day 00:00)`; instants are compared in UTC. Periods
near years 1 and 9999 are refused (`PeriodError`), not left to overflow: the
report needs the UTC instants of their days and the end of their last month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .times import FIRST_DAY, LAST_DAY

MAX_PERIOD_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """A period that cannot be read; `field` names the offending parameter."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_month(text: str) -> date:
    """`YYYY-MM` -> the first day of that month."""
    match = _MONTH.match(text or "")
    if not match:
        raise ValueError("Use a month as YYYY-MM.")
    year, month = int(match[1]), int(match[2])
    if not (1 <= month <= 12 and 1 <= year <= 9999):
        raise ValueError("Use a month as YYYY-MM.")
    return date(year, month, 1)


def month_text(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def month_days(first: date) -> int:
    return (next_month(first) - first).days


@dataclass(frozen=True)
class Period:
    """Local days `first`..`last` (inclusive) in `zone`."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.zone).astimezone(UTC)

    @property
    def start(self) -> datetime:
        """The first instant of the period, UTC."""
        return self.local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first instant after the period, UTC."""
        return self.local_midnight(self.last + timedelta(days=1))

    def months(self) -> list[date]:
        """First days of the months the period overlaps."""
        months, month = [], self.first.replace(day=1)
        while month <= self.last:
            months.append(month)
            month = next_month(month)
        return months

    def days_in(self, month: date) -> int:
        """How many days of `month` the period covers."""
        first = max(self.first, month)
        last = min(self.last, next_month(month) - timedelta(days=1))
        return max(0, (last - first).days + 1)

    def weeks(self) -> list[Week]:
        """ISO weeks (Monday first) overlapping the period, clipped to it."""
        weeks = []
        monday = self.first - timedelta(days=self.first.weekday())
        while monday <= self.last:
            first = max(monday, self.first)
            last = min(monday + timedelta(days=6), self.last)
            weeks.append(
                Week(
                    monday,
                    first,
                    last,
                    self.local_midnight(first),
                    self.local_midnight(last + timedelta(days=1)),
                )
            )
            monday += timedelta(days=7)
        return weeks


@dataclass(frozen=True)
class Week:
    week_start: date
    #: The week's days inside the period (the first and last weeks may be partial).
    first: date
    last: date
    start: datetime
    end: datetime


#: The days a period may cover: their midnights are instants in every zone, and so is
#: the end of their last month (quotas are prorated by whole months).
FIRST_PERIOD_DAY = FIRST_DAY
LAST_PERIOD_DAY = date(LAST_DAY.year, 11, 30)
OUT_OF_RANGE = f"A period must lie between {FIRST_PERIOD_DAY} and {LAST_PERIOD_DAY}."


def parse_period(
    period: str | None,
    first: date | None,
    last: date | None,
    today: date,
    zone: ZoneInfo,
) -> Period:
    """`period=YYYY-MM`, `period=YYYY-Www` (ISO week) or `from`+`to`; default: this month."""
    where = "period" if period is not None else "to"
    try:
        found = _parse_period(period, first, last, today, zone)
    except PeriodError:
        raise
    except (OverflowError, ValueError) as exc:  # a month or week ending past year 9999
        raise PeriodError(where, OUT_OF_RANGE) from exc
    if found.first < FIRST_PERIOD_DAY:
        raise PeriodError("period" if period is not None else "from", OUT_OF_RANGE)
    if found.last > LAST_PERIOD_DAY:
        raise PeriodError(where, OUT_OF_RANGE)
    return found


def _parse_period(
    period: str | None,
    first: date | None,
    last: date | None,
    today: date,
    zone: ZoneInfo,
) -> Period:
    if period is not None and (first is not None or last is not None):
        raise PeriodError("period", "Give either period or from and to, not both.")
    if period is not None:
        text = period.strip()
        if _MONTH.match(text):
            try:
                month = parse_month(text)
            except ValueError as exc:
                raise PeriodError("period", "No such month.") from exc
            return Period(month, next_month(month) - timedelta(days=1), zone)
        match = _WEEK.match(text)
        if match:
            try:
                monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
            except ValueError as exc:
                raise PeriodError("period", "No such ISO week.") from exc
            return Period(monday, monday + timedelta(days=6), zone)
        raise PeriodError("period", "Use YYYY-MM (a month) or YYYY-Www (an ISO week).")
    if first is None and last is None:
        month = today.replace(day=1)
        return Period(month, next_month(month) - timedelta(days=1), zone)
    if first is None or last is None:
        missing = "from" if first is None else "to"
        raise PeriodError(missing, "Give both from and to (YYYY-MM-DD).")
    if last < first:
        raise PeriodError("to", "to must not be before from.")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError("to", f"A period is at most {MAX_PERIOD_DAYS} days.")
    return Period(first, last, zone)
