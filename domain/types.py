"""Column types that behave the same on SQLite and PostgreSQL, and the limits of each.

Validation takes its bounds from here (`domain.schemas`), so that a value the
schemas accept fits the column on both databases: SQLite would store almost
anything, PostgreSQL refuses it at commit, and a push would fail on every retry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.types import DateTime, TypeDecorator

from .times import clamped_utc

#: PostgreSQL `integer` (SQLAlchemy `Integer`): 32 bits, on SQLite too.
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
#: Integers inside JSON values: what JavaScript (and so every phone app) holds exactly.
JSON_INT_MAX = 2**53 - 1


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes everywhere.

    SQLite has no timezone type and hands back naive values; storing naive UTC
    and re-attaching UTC on load keeps comparisons and JSON output identical on
    both databases.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        # Stored values are validated (`domain.times.EARLIEST`..`LATEST`); only a filter
        # or a cursor can bring a time UTC cannot hold, and clamped it compares the same.
        value = clamped_utc(value)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator):
    """Exact decimal amounts.

    PostgreSQL stores NUMERIC; SQLite would round-trip NUMERIC through a float,
    so there the canonical decimal string is stored instead.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2):
        super().__init__()
        self.precision = precision
        self.scale = scale

    @property
    def max_value(self) -> Decimal:
        """The largest amount the column holds: 999,999,999,999.99 for NUMERIC(14, 2)."""
        return money_max(self.precision, self.scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(Decimal(1).scaleb(-self.scale))
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value).quantize(Decimal(1).scaleb(-self.scale))


def money_max(precision: int = 14, scale: int = 2) -> Decimal:
    """The largest NUMERIC(precision, scale): `precision - scale` nines, then `scale` nines."""
    return Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)


#: The largest amount a `Money()` column holds.
MONEY_MAX = money_max()
