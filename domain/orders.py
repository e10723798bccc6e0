"""Order arithmetic, exact to the cent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def line_total(line: Mapping[str, Any]) -> Decimal:
    quantity = Decimal(str(line["quantity"]))
    price = Decimal(str(line["unit_price"]))
    discount = Decimal(str(line.get("discount_pct") or 0))
    return quantity * price * (HUNDRED - discount) / HUNDRED


def order_total(lines: Iterable[Mapping[str, Any]] | None) -> Decimal:
    """Sum of the lines, rounded half-up to the cent once, at the end."""
    total = sum((line_total(line) for line in lines or ()), Decimal(0))
    return total.quantize(CENT, rounding=ROUND_HALF_UP)
