"""No poison pills (issue 14, point 7): one bad value rejects its mutation, never the push.

A value the server cannot store (NUL, a lone surrogate, an amount or integer
beyond its column, a time UTC cannot hold, NaN or Infinity, a deep JSON value)
used to fail the whole push with a 500, on every retry: the phone's outbox was
blocked for good. Each is now `rejected` with `validation_failed` naming the
field, the other mutations of the batch are applied, a replay answers the
same, nothing of the bad one is stored, and the rejection is in the conflict log.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sync.merge import effective_time
from tests.support.poison import (
    Lit,
    complete,
    post_json,
    push_params,
    target_id,
)
from tests.support.sync_calls import PUSH, mutation

WM_URL = "/api/v1/sync/watermelon"


def _record(client, headers, table, record_id):
    response = client.get(f"/api/v1/{table}/{record_id}", headers=headers)
    return response.status_code, response.json


@pytest.mark.parametrize(
    ("name", "actor", "table", "op", "target", "fields", "keys", "field"), push_params()
)
def test_a_poison_value_rejects_its_mutation_and_the_batch_goes_on(
    client, world, login, name, actor, table, op, target, fields, keys, field
):
    headers, admin = login(f"{actor}@example.com"), login("admin@example.com", device_id="reader")
    customer = str(world.records["A"]["customers"])
    record_id = target_id(world, table, target)
    before = _record(client, admin, table, record_id)
    good_first = mutation(
        "contacts", "create", uuid.uuid4(), {"customer_id": customer, "name": "K"}
    )
    bad = mutation(
        table, op, record_id, complete(world, table, fields), 1 if op == "update" else None
    )
    bad.update(keys)
    task = world.records["A"]["tasks"]
    good_last = mutation("tasks", "update", task, {"title": "Call back"}, 1)
    body = {"mutations": [good_first, bad, good_last]}

    response = post_json(client, PUSH, body, headers)
    assert response.status_code == 200, response.json
    first, rejected, last = response.json["results"]
    assert (first["status"], last["status"]) == ("applied", "applied")
    assert rejected["status"] == "rejected", rejected
    assert rejected["error"]["code"] == "validation_failed"
    if field is None:  # the field's name itself was the poison: named printably
        assert list(rejected["error"]["fields"]) == ["notes\\u0000"]
    else:
        assert field in rejected["error"]["fields"], rejected["error"]

    # Nothing of the bad mutation was stored; the good ones were.
    assert _record(client, admin, table, record_id) == before
    assert _record(client, admin, "tasks", task)[1]["title"] == "Call back"
    assert _record(client, admin, "contacts", good_first["record_id"])[0] == 200

    # The phone retries (it never saw the answer): the same results, replayed.
    again = post_json(client, PUSH, body, headers)
    assert again.status_code == 200, again.json
    assert again.json["results"] == [{**r, "replayed": True} for r in response.json["results"]]
    assert _record(client, admin, table, record_id) == before

    # The rejection is in the conflict log (rule 6), and the log can be read.
    logged = client.get("/api/v1/conflicts", query_string={"record_id": record_id}, headers=admin)
    assert logged.status_code == 200, logged.json
    [entry] = [e for e in logged.json["items"] if e["mutation_id"] == bad["id"]]
    assert (entry["kind"], entry["code"]) == ("rejected", "validation_failed")


@pytest.mark.parametrize(
    ("body_text", "message"),
    [
        pytest.param("[" * 1000 + "]" * 1000, "nested more than", id="1000-deep"),
        pytest.param('{"a": ' + "9" * 5000 + "}", "more than 4300 digits", id="5000-digit"),
    ],
)
@pytest.mark.parametrize("url", [PUSH, WM_URL])
def test_a_body_the_parser_cannot_read_is_400_not_500(
    client, world, login, url, body_text, message
):
    """Python's json raises RecursionError (deep) or ValueError (digits): both were 500s.
    Such a body is not JSON any client can have queued from valid records."""
    fields = '{"notes": ' + body_text + "}"
    m = mutation("customers", "update", world.records["A"]["customers"], {}, 1)
    text = json.dumps({"mutations": [m]}).replace('"fields": {}', '"fields": ' + fields)
    response = client.post(
        url, data=text, content_type="application/json", headers=login("rep.a@example.com")
    )
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "malformed_json"
    assert message in response.json["error"]["message"]


@pytest.mark.parametrize(
    "device_time",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"],
)
def test_a_device_clock_utc_cannot_hold_is_422_for_the_request(client, world, login, device_time):
    """`device_time` is the phone's clock when it sends, not a queued value: the request
    is refused (a retry sends a new one), never a 500."""
    m = mutation("customers", "update", world.records["A"]["customers"], {"notes": "x"}, 1)
    body = {"mutations": [m], "device_time": device_time}
    response = client.post(PUSH, json=body, headers=login("rep.a@example.com"))
    assert response.status_code == 422, response.json
    assert "device_time" in response.json["error"]["fields"]


@pytest.mark.parametrize(
    ("changed_at", "device_time"),
    [
        ("0001-01-02T00:00:00Z", "9999-12-30T00:00:00Z"),  # clock far ahead: skew ≈ -8000 y
        ("9999-12-30T00:00:00Z", "0001-01-02T00:00:00Z"),  # clock far behind: skew ≈ +8000 y
    ],
)
def test_an_edit_time_plus_skew_beyond_the_calendar_is_applied(
    client, world, login, changed_at, device_time
):
    """`changed_at + skew` used to overflow (a 500 on every retry); it is held in range."""
    m = mutation("customers", "update", world.records["A"]["customers"], {"notes": "x"}, 1)
    m["changed_at"] = changed_at
    body = {"mutations": [m], "device_time": device_time}
    response = client.post(PUSH, json=body, headers=login("rep.a@example.com"))
    assert response.status_code == 200, response.json
    assert response.json["results"][0]["status"] == "applied"


def test_effective_time_never_overflows():
    now = datetime(2026, 11, 2, tzinfo=UTC)
    early, late = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
    assert effective_time(early, -timedelta(days=10), now).year == 1
    assert effective_time(late, timedelta(days=10), now) == now
    assert effective_time(now - timedelta(hours=1), timedelta(minutes=5), now) == now - timedelta(
        minutes=55
    )


# -- WatermelonDB push: the same values, as raw records --------------------------------

DAY_ONE_MS = -62135596800000  # 0001-01-01T00:00:00Z
# (table, raw values, field named in the rejection; None: applied)
WM_CASES = {
    "nul_in_text": ("customers", {"notes": "a\x00b"}, "notes"),
    "lone_surrogate_in_text": ("customers", {"name": "Shop \ud800"}, "name"),
    "integer_beyond_int32": ("customers", {"visit_every_days": 2**31}, "visit_every_days"),
    "infinite_float": ("customers", {"lat": Lit("1e309"), "lon": 106.7}, "lat"),
    "infinity_in_json_text": (
        "customers",
        {"opening_hours": '{"mon": [[1e309, 1]]}'},
        "opening_hours",
    ),
    "nan_in_json_text": ("customers", {"opening_hours": '{"mon": [[NaN, 1]]}'}, "opening_hours"),
    "surrogate_in_json_text": (
        "customers",
        {"opening_hours": '{"mon": [["08:00", "12:00\\udfff"]]}'},
        "opening_hours",
    ),
    "deep_json_text": ("customers", {"opening_hours": "[" * 1000 + "]" * 1000}, "opening_hours"),
    "date_at_year_1": ("tasks", {"due_at": DAY_ONE_MS}, "due_at"),
    "edit_time_at_year_1": ("customers", {"notes": "x", "updated_at": DAY_ONE_MS}, None),
}


@pytest.mark.parametrize(
    ("name", "table", "raw_values", "field"),
    [pytest.param(name, *case, id=name) for name, case in WM_CASES.items()],
)
def test_watermelon_push_rejects_the_poisoned_record_alone(
    client, world, login, name, table, raw_values, field
):
    headers, admin = login("rep.a@example.com"), login("admin@example.com", device_id="reader")
    pulled = client.get(WM_URL, query_string={"last_pulled_at": "null"}, headers=headers).json
    raws = {(t, raw["id"]): raw for t, part in pulled["changes"].items() for raw in part["created"]}
    customer_id = str(world.records["A"]["customers"])
    record_id = str(world.records["A"][table])
    visit_id = str(world.records["A"]["visits"])
    bad = {**raws[(table, record_id)], **raw_values}
    visit = {**raws[("visits", visit_id)], "notes": "Good visit"}
    contact = {"id": str(uuid.uuid4()), "customer_id": customer_id, "name": "New contact"}
    before = _record(client, admin, table, record_id)
    body = {
        "changes": {
            table: {"created": [], "updated": [bad], "deleted": []},
            "contacts": {"created": [contact], "updated": [], "deleted": []},
            "visits": {"created": [], "updated": [visit], "deleted": []},
        },
        "lastPulledAt": pulled["timestamp"],
    }

    response = post_json(client, WM_URL, body, headers)
    assert response.status_code == 200, response.json
    assert _record(client, admin, "visits", visit_id)[1]["notes"] == "Good visit"
    assert _record(client, admin, "contacts", contact["id"])[0] == 200
    if field is None:  # a value the engine holds within range: applied, no overflow
        assert response.json["rejected"] == []
        return
    assert response.json["experimentalRejectedIds"] == {table: [record_id]}
    [rejected] = response.json["rejected"]
    assert rejected["code"] == "validation_failed"
    assert field in rejected["fields"], rejected
    assert _record(client, admin, table, record_id) == before

    again = post_json(client, WM_URL, body, headers)
    assert again.status_code == 200, again.json
    assert again.json["rejected"] == response.json["rejected"]
    assert _record(client, admin, table, record_id) == before


def test_an_order_total_from_product_prices_beyond_the_column_rejects_the_mutation(
    client, world, login
):
    admin = login("admin@example.com", device_id="reader")
    product = {"unit_price": "999999999999.99"}
    url = f"/api/v1/products/{world.products['active']}"
    assert client.patch(url, json=product, headers=admin).status_code == 200
    line = {"product_id": str(world.products["active"]), "quantity": "2"}  # price: the product's
    fields = {"customer_id": str(world.records["A"]["customers"]), "lines": [line]}
    body = {"mutations": [mutation("orders", "create", uuid.uuid4(), fields)]}
    response = post_json(client, PUSH, body, login("rep.a@example.com"))
    assert response.status_code == 200, response.json
    [result] = response.json["results"]
    assert (result["status"], result["error"]["code"]) == ("rejected", "validation_failed")
    assert "lines" in result["error"]["fields"]
