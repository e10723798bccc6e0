"""Times as fieldsync stores and sends them: aware UTC, ISO-8601 with a `Z`.

One format everywhere (records, plans, KPIs, GeoJSON): to the microsecond, so
two times compare the same as text and as times.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive time is taken to be UTC already (SQLite keeps no zone)."""
    if moment.tzinfo is UTC:  # the common case, on the hot path of every pull
        return moment
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_iso(moment: datetime) -> str:
    """`2026-11-20T01:30:00.000000Z`."""
    return as_utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO-8601 time (with `Z` or an offset; none: UTC) as an aware UTC datetime."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
