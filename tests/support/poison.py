"""Poison values: what a phone or a client may send that no column can store.

One table for the REST tests (`tests/api/test_poison_values.py`) and the push
tests (`tests/sync/test_poison_mutations.py`), so both refuse the same values.
"""

from __future__ import annotations

import json
import uuid

import pytest

NEW = "new"  # a create: the bad record gets a fresh id


class Lit:
    """JSON text written as is: `1e309`, `NaN`, a 400-digit integer."""

    def __init__(self, text: str):
        self.text = text


def dumps(value) -> str:
    """JSON as a phone might send it, with `Lit` values spliced in verbatim."""
    literals: list[str] = []

    def default(obj):
        if isinstance(obj, Lit):
            literals.append(obj.text)
            return f"@@lit{len(literals) - 1}@@"
        raise TypeError(obj)

    text = json.dumps(value, default=default)
    for index, literal in enumerate(literals):
        text = text.replace(f'"@@lit{index}@@"', literal)
    return text


def post_json(client, url, value, headers):
    return client.post(url, data=dumps(value), content_type="application/json", headers=headers)


def polygon(corner) -> dict:
    return {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, corner], [0, 0]]]}


def nested(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


# (actor, table, op, target, fields, mutation keys, field named in the error)
CASES = {
    "nul_in_text": ("rep.a", "customers", "update", "A", {"notes": "a\x00b"}, {}, "notes"),
    "lone_surrogate_in_text": (
        "rep.a",
        "customers",
        "update",
        "A",
        {"name": "Shop \ud800"},
        {},
        "name",
    ),
    "nul_in_field_name": ("rep.a", "customers", "update", "A", {"notes\x00": "x"}, {}, None),
    "lone_surrogate_in_json_field": (
        "rep.a",
        "customers",
        "update",
        "A",
        {"opening_hours": {"mon": [["08:00", "12:00\udfff"]]}},
        {},
        "opening_hours",
    ),
    "lone_surrogate_in_order_line": (
        "rep.a",
        "orders",
        "create",
        NEW,
        {"lines": [{"quantity": "1", "unit_price": "1.00", "discount_pct": "0\ud800"}]},
        {},
        "lines",
    ),
    "product_price_beyond_column": (
        "admin",
        "products",
        "create",
        NEW,
        {"sku": "POISON-1", "name": "Gold", "unit_price": "1000000000000.00"},
        {},
        "unit_price",
    ),
    "line_price_beyond_column": (
        "rep.a",
        "orders",
        "create",
        NEW,
        {"lines": [{"quantity": "1", "unit_price": "1000000000000.00"}]},
        {},
        "lines",
    ),
    "order_total_beyond_column": (
        "rep.a",
        "orders",
        "create",
        NEW,
        {"lines": [{"quantity": "1", "unit_price": "999999999999.99"}] * 2},
        {},
        "lines",
    ),
    "price_with_more_digits_than_decimal_holds": (
        "admin",
        "products",
        "create",
        NEW,
        {"sku": "POISON-2", "name": "Gold", "unit_price": "1e30"},
        {},
        "unit_price",
    ),
    "currency_with_final_newline": (
        "rep.a",
        "orders",
        "create",
        NEW,
        {"currency": "VND\n"},
        {},
        "currency",
    ),
    "locale_longer_than_column": (
        "admin",
        "users",
        "update",
        "rep.a",
        {"locale": "en" + "-abcdefgh" * 5},
        {},
        "locale",
    ),
    "changed_at_before_year_1_in_utc": (
        "rep.a",
        "customers",
        "update",
        "A",
        {"notes": "x"},
        {"changed_at": "0001-01-01T00:00:00+14:00"},
        "changed_at",
    ),
    "changed_at_after_year_9999_in_utc": (
        "rep.a",
        "customers",
        "update",
        "A",
        {"notes": "x"},
        {"changed_at": "9999-12-31T23:59:59-12:00"},
        "changed_at",
    ),
    "due_at_after_year_9999_in_utc": (
        "rep.a",
        "tasks",
        "create",
        NEW,
        {"title": "Later", "due_at": "9999-12-31T23:59:59-12:00"},
        {},
        "due_at",
    ),
    "planned_at_before_year_1_in_utc": (
        "rep.a",
        "visits",
        "update",
        "A",
        {"planned_at": "0001-01-01T00:00:00+14:00"},
        {},
        "planned_at",
    ),
    "infinite_float": (
        "rep.a",
        "customers",
        "update",
        "A",
        {"lat": Lit("1e309"), "lon": 106.7},
        {},
        "lat",
    ),
    "nan_float": (
        "rep.a",
        "visits",
        "update",
        "A",
        {"check_in_accuracy_m": Lit("NaN")},
        {},
        "check_in_accuracy_m",
    ),
    "infinity_in_json_field": (
        "admin",
        "territories",
        "update",
        "A",
        {"geometry": polygon(Lit("1e309"))},
        {},
        "geometry",
    ),
    "nan_in_json_field": (
        "admin",
        "territories",
        "update",
        "A",
        {"geometry": polygon(Lit("NaN"))},
        {},
        "geometry",
    ),
    "huge_integer_in_json_field": (
        "admin",
        "territories",
        "update",
        "A",
        {"geometry": polygon(Lit("9" * 400))},
        {},
        "geometry",
    ),
    "deep_json_field": (
        "admin",
        "territories",
        "update",
        "A",
        {"geometry": {"type": "Polygon", "coordinates": nested(60)}},
        {},
        "geometry",
    ),
    "integer_beyond_int32": (
        "rep.a",
        "customers",
        "update",
        "A",
        {"visit_every_days": 2**31},
        {},
        "visit_every_days",
    ),
    "base_version_beyond_int32": (
        "rep.a",
        "customers",
        "update",
        "A",
        {"notes": "x"},
        {"base_version": 2**31},
        "base_version",
    ),
}


def push_params() -> list:
    """Every case, as a push mutation (NaN and Infinity reach the conflict log too)."""
    return [pytest.param(name, *case, id=name) for name, case in CASES.items()]


def rest_params() -> list:
    """The cases a REST create or patch can send (not a mutation's own keys)."""
    return [pytest.param(name, *case, id=name) for name, case in CASES.items() if not case[5]]


def target_id(world, table: str, target: str) -> uuid.UUID:
    if target == NEW:
        return uuid.uuid4()
    if table == "users":
        return world.users[target]
    if table == "territories":
        return world.territories[target]
    return world.records[target][table]


def complete(world, table: str, fields: dict) -> dict:
    """A create's required references: customer A, the active product on each line."""
    fields = dict(fields)
    if table in ("orders", "tasks"):
        fields.setdefault("customer_id", str(world.records["A"]["customers"]))
    if "lines" in fields:
        product = str(world.products["active"])
        fields["lines"] = [{"product_id": product, **line} for line in fields["lines"]]
    return fields
