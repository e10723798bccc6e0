"""Times as fieldsync stores and sends them: aware UTC, ISO-8601 with a `Z`.

One format everywhere (records, plans, KPIs, GeoJSON): to the microsecond, so
two times compare the same as text and as times.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

#: The instants fieldsync accepts: those every UTC offset can spell (an offset is
#: less than a day). PostgreSQL hands a `timestamptz` back in its session's time
#: zone and Python cannot go past years 1 and 9999 there, so a day's margin keeps
#: what is stored readable on both databases, whatever the zone.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
#: The calendar days whose midnight is an instant in that range in every zone.
FIRST_DAY: date = EARLIEST.date()
LAST_DAY: date = LATEST.date()


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive time is taken to be UTC already (SQLite keeps no zone)."""
    if moment.tzinfo is UTC:  # the common case, on the hot path of every pull
        return moment
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def in_range(moment: datetime) -> bool:
    """Whether the instant can be converted to UTC and lies in `EARLIEST`..`LATEST`.

    `0001-01-01T00:00:00+14:00` is in year 0 in UTC and `9999-12-31T23:59:59-12:00`
    in year 10000: converting them raises `OverflowError`, so they are out of range.
    """
    try:
        return EARLIEST <= as_utc(moment) <= LATEST
    except OverflowError:
        return False


def clamped_utc(moment: datetime) -> datetime:
    """`as_utc`, but an instant Python cannot hold in UTC becomes year 1's first or year
    9999's last instant: it compares the same with every time fieldsync stores."""
    try:
        return as_utc(moment)
    except OverflowError:
        low = moment.replace(tzinfo=None) < datetime(2, 1, 1)
        return datetime.min.replace(tzinfo=UTC) if low else datetime.max.replace(tzinfo=UTC)


def shifted(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, held within `EARLIEST`..`LATEST` instead of overflowing."""
    try:
        return min(max(moment + delta, EARLIEST), LATEST)
    except OverflowError:
        return EARLIEST if delta < timedelta(0) else LATEST


def utc_iso(moment: datetime) -> str:
    """`2026-11-20T01:30:00.000000Z`."""
    return as_utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO-8601 time (with `Z` or an offset; none: UTC) as an aware UTC datetime."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
