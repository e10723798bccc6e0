"""Poison values, generated: no input makes a push fail whole, nor any endpoint answer 500.

Hypothesis sends values built to hurt (unpaired surrogates, NUL, NaN and
Infinity, integers past 64 bits, times at years 1 and 9999 with extreme offsets,
deep JSON) as a record field in a push next to a good mutation, and as every
query parameter of every GET operation of openapi.yaml. The good mutation is
always applied, and nothing answers 5xx. Derandomised: the same cases on every
run. The table-driven cases are in tests/sync/test_poison_mutations.py and
tests/api/test_poison_values.py; this walks the space between them.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote_from_bytes

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.schemas import RECORD_SCHEMAS
from tests.support import ROOT
from tests.support.sync_calls import PUSH, mutation

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
WRITABLE = {
    table: sorted(k for k, f in RECORD_SCHEMAS[table]().load_fields.items() if not f.dump_only)
    for table in ("customers", "contacts", "visits", "orders", "tasks")
}
EDGE_TIMES = st.builds(
    lambda moment, hours: moment.replace(tzinfo=timezone(timedelta(hours=hours))).isoformat(),
    st.sampled_from(
        [
            datetime(1, 1, 1),
            datetime(1, 1, 2, 9),
            datetime(9999, 12, 31, 23, 59),
            datetime(2026, 11, 2),
        ]
    ),
    st.integers(-23, 23),
)
TEXTS = st.text(
    alphabet=st.sampled_from(["a", "é", "😀", "\x00", "\ud800", "\udfff", "\n", " "]), max_size=6
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXTS
    | EDGE_TIMES
    | st.sampled_from(["999999999999.99", "1000000000000.00", "1e30", "-0.001", "VND\n"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=12,
) | st.integers(10, 60).map(lambda n: json.loads("[" * n + "]" * n))


def _body(value) -> str:
    return json.dumps(value, allow_nan=True)  # NaN and Infinity as Python's json reads them


def test_a_generated_poison_field_never_blocks_the_push(client, world, login):
    headers = login("rep.a@example.com")
    customer = str(world.records["A"]["customers"])

    @SETTINGS
    @given(table=st.sampled_from(sorted(WRITABLE)), data=st.data())
    def push_one(table, data):
        field = data.draw(st.sampled_from(WRITABLE[table]), label="field")
        value = data.draw(VALUES, label="value")
        good = mutation("contacts", "create", uuid.uuid4(), {"customer_id": customer, "name": "K"})
        bad = mutation(table, "update", world.records["A"][table], {field: value}, 1)
        bad["changed_at"] = data.draw(EDGE_TIMES, label="changed_at")
        body = _body({"mutations": [bad, good]})
        response = client.post(PUSH, data=body, content_type="application/json", headers=headers)
        assert response.status_code == 200, response.get_json()
        first, second = response.json["results"]
        assert second["status"] == "applied", second
        if first["status"] == "rejected":
            assert first["error"]["code"] in ("validation_failed", "forbidden", "conflict")

    push_one()


def _get_operations() -> list[tuple[str, list[str]]]:
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    operations = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        if not operation or "{" in path:
            continue
        names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        if names:
            operations.append((path, names))
    return operations


QUERY_VALUES = (
    TEXTS
    | EDGE_TIMES
    | st.sampled_from(
        ["1e309", "nan", "-inf", "9" * 5000, str(2**31), str(2**63), "0001-01-01", "9999-12-31"]
    )
    | st.sampled_from(["2025-W53", "9999-W52", "0001-W01", "9999-12", "0000-01", "[" * 1000])
)


def _query_string(query: dict[str, str]) -> str:
    """Percent-encoded UTF-8; a lone surrogate as the bytes a broken client would send."""
    return "&".join(
        f"{name}={quote_from_bytes(value.encode('utf-8', 'surrogatepass'))}"
        for name, value in query.items()
    )


def test_generated_query_parameters_never_answer_5xx(client, world, login):
    headers = login("north.manager@example.com")
    operations = _get_operations()
    assert len(operations) > 10

    @SETTINGS
    @given(operation=st.sampled_from(operations), data=st.data())
    def get_one(operation, data):
        path, names = operation
        chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True), label="names")
        query = {name: data.draw(QUERY_VALUES, label=name) for name in chosen}
        response = client.get(f"{path}?{_query_string(query)}", headers=headers)
        assert response.status_code < 500, (path, query, response.get_json())
        if response.status_code >= 400:
            assert set(response.json["error"]) <= {"code", "message", "fields"}

    get_one()
