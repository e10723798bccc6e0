"""Validation bounds are the columns' real limits, and the checks never raise anything else.

What a schema accepts must fit its column on SQLite and PostgreSQL alike
(issue 14, point 7): a value PostgreSQL refuses only at commit fails a push on
every retry. These tests walk every request schema the API reads, and check
the bound-keeping pieces with generated input (hypothesis, a few hundred
examples: well under a second).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate

from domain.periods import PeriodError, parse_period
from domain.schemas import (
    MAX_JSON_DEPTH,
    RECORD_SCHEMAS,
    Day,
    ExactDecimal,
    OrderSchema,
    Pattern,
    UTCDateTime,
    value_problem,
)
from domain.times import EARLIEST, LATEST, clamped_utc, shifted
from domain.types import INT32_MAX, INT32_MIN, MONEY_MAX, Money
from server.app import api_features

FAST = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
#: Integers the API reads that no column holds: compared with the supported versions
#: (any other answers 426), never stored. Not ours to bound (sync/, watermelon/ schemas).
UNSTORED_INTEGERS = {
    "GET sync.pull.schema_version",
    "GET sync.pull_stream.schema_version",
    "GET watermelon.WatermelonSync.schema_version",
}
#: Compared with a 64-bit column (`sync_changes.seq`): bounded by it, not by 32 bits.
BIGINT_INPUTS = {
    f"GET {table}.History.before" for table in RECORD_SCHEMAS if table != "route_plans"
}


def _request_schemas():
    for blueprint in api_features():
        for endpoint, methods in blueprint._docs.items():
            for method, doc in methods.items():
                if not doc or method == "parameters":
                    continue
                for parameter in (doc.get("arguments") or {}).get("parameters", []):
                    yield f"{method.upper()} {blueprint.name}.{endpoint}", parameter["schema"]


def _load_fields(schema, path: str):
    schema = schema() if isinstance(schema, type) else schema
    for name, field in schema.load_fields.items():
        yield from _with_inner(field, f"{path}.{name}")


def _with_inner(field: fields.Field, path: str):
    yield path, field
    if isinstance(field, fields.Nested):
        nested = field.nested
        yield from _load_fields(nested if isinstance(nested, (type, Schema)) else nested(), path)
    elif isinstance(field, fields.List):
        yield from _with_inner(field.inner, f"{path}[]")
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        yield from _with_inner(field.value_field, f"{path}{{}}")


def _every_input_field():
    found = {}
    for where, schema in _request_schemas():
        found.update(_load_fields(schema, where))
    for table, schema in RECORD_SCHEMAS.items():  # what sync push loads per mutation
        found.update(_load_fields(schema, f"PUSH {table}"))
    return found


INPUT_FIELDS = _every_input_field()


def _range(field: fields.Field) -> validate.Range | None:
    return next((v for v in field.validators if isinstance(v, validate.Range)), None)


def test_the_walk_sees_the_inputs_it_should():
    assert "PUT kpis.QuotaItem.visits_target" in INPUT_FIELDS
    assert "POST sync.push.mutations[].base_version" in INPUT_FIELDS
    assert "PUSH orders.lines[].unit_price" in INPUT_FIELDS
    assert len(INPUT_FIELDS) > 200


def test_every_integer_input_is_bounded_by_a_32_bit_column():
    unbounded = [
        path
        for path, field in INPUT_FIELDS.items()
        if isinstance(field, fields.Integer)
        and path not in UNSTORED_INTEGERS
        and not (path in BIGINT_INPUTS and (r := _range(field)) and r.max <= 2**63 - 1)
        and not (
            (bounds := _range(field))
            and bounds.min is not None
            and bounds.max is not None
            and INT32_MIN <= bounds.min <= bounds.max <= INT32_MAX
        )
    ]
    assert unbounded == []


def test_every_decimal_input_has_a_maximum_a_money_column_holds():
    for path, field in INPUT_FIELDS.items():
        if isinstance(field, fields.Decimal):
            bounds = _range(field)
            assert isinstance(field, ExactDecimal) and bounds and bounds.max is not None, path
            assert bounds.max <= MONEY_MAX, path
            if path.endswith(("unit_price", "revenue_target")):  # stored in Money columns
                assert bounds.max == MONEY_MAX, path


def test_every_float_input_refuses_nan_and_infinity():
    assert [p for p, f in INPUT_FIELDS.items() if isinstance(f, fields.Float) and f.allow_nan] == []


def test_every_time_and_day_input_is_bounded():
    wrong = [
        path
        for path, field in INPUT_FIELDS.items()
        if (isinstance(field, fields.DateTime) and not isinstance(field, UTCDateTime))
        or (isinstance(field, fields.Date) and not isinstance(field, Day))
    ]
    assert wrong == []


def test_every_text_input_is_bounded():
    unbounded = [
        path
        for path, field in INPUT_FIELDS.items()
        if type(field) in (fields.String, fields.Email)
        and not any(
            isinstance(v, (validate.Length, validate.OneOf, validate.Regexp))
            for v in field.validators
        )
    ]
    assert unbounded == []


def test_money_bounds_are_the_column_precision():
    assert Money().max_value == MONEY_MAX == Decimal("999999999999.99")
    assert Money(14, 2).impl.precision == 14
    price = RECORD_SCHEMAS["products"]().fields["unit_price"]
    assert price.deserialize("999999999999.99") == MONEY_MAX
    for too_much in ("1000000000000.00", "1e30", "9" * 5000):
        with pytest.raises(ValidationError):
            price.deserialize(too_much)


def test_an_order_total_beyond_the_column_is_an_error_of_lines():
    line = {"product_id": "00000000-0000-0000-0000-000000000001", "quantity": "1"}
    fits = [{**line, "unit_price": "999999999999.99"}]
    assert OrderSchema(partial=True).load({"lines": fits})
    with pytest.raises(ValidationError) as refused:
        OrderSchema(partial=True).load({"lines": fits * 2})
    assert list(refused.value.messages) == ["lines"]


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("0001-01-01T00:00:00+14:00", False),  # year 0 in UTC
        ("9999-12-31T23:59:59-12:00", False),  # year 10000 in UTC
        ("0001-01-01T00:00:00Z", False),  # some time zone could not spell it
        ("0001-01-02T00:00:00Z", True),
        ("0001-01-02T13:59:00+14:00", False),
        ("9999-12-30T23:59:59.999999Z", True),
        ("9999-12-30T13:00:00-12:00", False),
        ("2026-11-02T09:00:00+07:00", True),
    ],
)
def test_utc_date_time_keeps_to_what_every_zone_can_spell(text, accepted):
    field = UTCDateTime()
    if accepted:
        assert EARLIEST <= field.deserialize(text) <= LATEST
    else:
        with pytest.raises(ValidationError):
            field.deserialize(text)


@FAST
@given(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), None]))
    | st.datetimes(timezones=st.just(timezone(timedelta(hours=-12)))),
)
def test_utc_date_time_accepts_or_refuses_never_raises(moment):
    try:
        value = UTCDateTime().deserialize(moment.isoformat())
    except ValidationError:
        return
    assert value.tzinfo is UTC and EARLIEST <= value <= LATEST


@FAST
@given(st.dates())
def test_day_accepts_or_refuses_never_raises(day):
    try:
        value = Day().deserialize(day.isoformat())
    except ValidationError:
        return
    assert datetime.combine(value, datetime.min.time(), timezone(timedelta(hours=14))) >= datetime(
        1, 1, 1, tzinfo=UTC
    )


@FAST
@given(st.datetimes(timezones=st.just(UTC)), st.timedeltas())
def test_shifted_times_stay_in_range(moment, delta):
    assert EARLIEST <= shifted(moment, delta) <= LATEST


@FAST
@given(st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=h)) for h in (-12, 14)])))
def test_clamped_utc_never_overflows(moment):
    assert clamped_utc(moment).tzinfo is UTC


@FAST
@given(
    st.integers(0, 9999),
    st.integers(0, 99),
    st.booleans(),
    st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Ho_Chi_Minh"]),
)
def test_a_period_parses_or_is_refused_never_raises(year, number, week, zone):
    text = f"{year:04d}-W{number:02d}" if week else f"{year:04d}-{number:02d}"
    try:
        period = parse_period(text, None, None, date(2026, 1, 1), ZoneInfo(zone))
    except PeriodError:
        return
    # Everything the KPI report computes from a period:
    assert period.start < period.end
    assert period.weeks() and period.months()
    assert all(period.days_in(month) for month in period.months())


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(alphabet=st.characters(codec=None, categories=None), max_size=5)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=20,
)


@FAST
@given(JSON_VALUES)
def test_a_json_value_without_problem_can_be_written_everywhere(value):
    """What `value_problem` lets through, orjson (stored pull JSON) and PostgreSQL's json
    (no NaN, no Infinity: `allow_nan=False`) both take, as UTF-8. Inside a list: a scalar at
    the top is its field's business (`value_problem`), and Hypothesis draws different
    examples when other tests have loaded other modules (it mines their constants)."""
    value = [value]
    if value_problem(value) is not None:
        return
    orjson.dumps(value)
    json.dumps(value, allow_nan=False).encode("utf-8")
    json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


def test_value_problem_walks_deep_values_without_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert value_problem(value) == f"Nested more than {MAX_JSON_DEPTH} levels deep."
    assert value_problem({"mon": [[math.inf]]}) is not None
    assert value_problem({"a\x00": 1}) is not None
    assert value_problem("Café 😀") is None


@pytest.mark.parametrize(
    ("pattern", "text"),
    [(r"^[A-Z]{3}$", "VND\n"), (r"^\S+$", "abc\n"), (r"^#[0-9a-fA-F]{6}$", "#aabbcc\n")],
)
def test_a_pattern_must_match_the_whole_text(pattern, text):
    """`re.match` lets `$` match before a final newline: "VND\\n" did not fit varchar(3)."""
    with pytest.raises(ValidationError):
        Pattern(pattern)(text)
    assert Pattern(pattern)(text.strip()) == text.strip()
