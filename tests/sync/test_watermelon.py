"""WatermelonDB's sync contract at `/api/v1/sync/watermelon` (ADR 0011, docs/watermelondb.md)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import pytest

from sync.watermelon import TABLES, columns
from tests.support.sync_calls import mutation, results

URL = "/api/v1/sync/watermelon"


def now_ms() -> int:
    return int(time.time() * 1000)


def pull(client, headers, last_pulled_at=None, **params):
    query = {
        "last_pulled_at": "null" if last_pulled_at is None else last_pulled_at,
        "schema_version": 1,
        **params,
    }
    response = client.get(URL, query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert isinstance(body["timestamp"], int)
    for table, part in body["changes"].items():
        assert table in TABLES and set(part) == {"created", "updated", "deleted"}
        ids = [r["id"] for r in part["created"] + part["updated"]] + part["deleted"]
        assert len(ids) == len(set(ids)), f"duplicate ids in {table}"
        for raw in part["created"] + part["updated"]:
            assert "_status" not in raw and "_changed" not in raw
    return body


def push(client, headers, changes, last_pulled_at, status=200, **extra):
    body = {"changes": changes, "lastPulledAt": last_pulled_at, **extra}
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == status, response.json
    return response.json


def ids(body, table, kind):
    part = body["changes"][table][kind]
    return {r if kind == "deleted" else r["id"] for r in part}


def raw_of(body, table, record_id):
    part = body["changes"][table]
    for raw in part["created"] + part["updated"]:
        if raw["id"] == str(record_id):
            return raw
    raise AssertionError(f"{table} {record_id} not in the pull")


def synced(client, headers):
    """A device after its first sync: (timestamp, raw records by (table, id))."""
    body = pull(client, headers)
    local = {}
    for table, part in body["changes"].items():
        for raw in part["created"]:
            local[(table, raw["id"])] = raw
    return body["timestamp"], local


def test_first_sync_sends_the_scope_as_created_raw_records(client, world, login):
    body = pull(client, login("rep.a@example.com"))
    a = world.records["A"]
    for table in ("customers", "contacts", "visits", "orders", "tasks"):
        assert ids(body, table, "created") == {str(a[table])}
        assert body["changes"][table]["updated"] == []
    assert ids(body, "territories", "created") == {str(world.territories["A"])}
    customer = raw_of(body, "customers", a["customers"])
    assert isinstance(customer["updated_at"], int) and isinstance(customer["created_at"], int)
    assert customer["version"] == 1
    order = raw_of(body, "orders", a["orders"])
    assert isinstance(order["lines"], str) and isinstance(json.loads(order["lines"]), list)
    assert set(order) <= set(columns("orders"))
    # first_sync with 0 is the same
    assert ids(pull(client, login("rep.a@example.com"), 0), "customers", "created") == {
        str(a["customers"])
    }


def test_an_idle_pull_is_empty_and_keeps_its_timestamp_usable(client, world, login):
    headers = login("rep.a@example.com")
    ts, _ = synced(client, headers)
    body = pull(client, headers, ts)
    assert set(body["changes"]) == set(TABLES)
    assert all(not any(part.values()) for part in body["changes"].values())
    assert body["timestamp"] >= ts


def test_own_push_is_not_echoed_as_created(client, world, login):
    headers = login("rep.a@example.com")
    ts, _local = synced(client, headers)
    contact_id, order_id = str(uuid.uuid4()), str(uuid.uuid4())
    customer = str(world.records["A"]["customers"])
    product = str(world.products["active"])
    changes = {
        "contacts": {
            "created": [
                {
                    "id": contact_id,
                    "customer_id": customer,
                    "name": "Chị Lan",
                    "phone": "+84 1",
                    "created_at": now_ms(),
                    "updated_at": now_ms(),
                    "_status": "created",
                    "_changed": "",
                }
            ],
            "updated": [],
            "deleted": [],
        },
        "orders": {
            "created": [
                {
                    "id": order_id,
                    "customer_id": customer,
                    "status": "draft",
                    "currency": "VND",
                    "lines": json.dumps([{"product_id": product, "quantity": "2"}]),
                    "total": "999999.00",
                    "_status": "created",
                    "_changed": "",
                }
            ],
            "updated": [],
            "deleted": [],
        },
    }
    result = push(client, headers, changes, ts)
    assert result["experimentalRejectedIds"] == {} and result["rejected"] == []
    body = pull(client, headers, ts)
    assert contact_id not in ids(body, "contacts", "created") | ids(body, "contacts", "updated")
    # an order gets server-derived fields: it comes back, as `updated`, with its total
    assert order_id not in ids(body, "orders", "created")
    echoed = raw_of(body, "orders", order_id)
    assert echoed["total"] != "999999.00"
    # another device of the same rep sees both as created
    other = pull(client, login("rep.a@example.com", device_id="tablet"), ts)
    assert contact_id in ids(other, "contacts", "created")


def test_created_of_an_existing_record_updates_it(client, world, login):
    headers = login("rep.a@example.com")
    ts, local = synced(client, headers)
    cid = str(world.records["A"]["customers"])
    raw = {**local[("customers", cid)], "phone": "+84 777", "updated_at": now_ms()}
    result = push(
        client, headers, {"customers": {"created": [raw], "updated": [], "deleted": []}}, ts
    )
    assert result["rejected"] == []
    record = client.get(f"/api/v1/customers/{cid}", headers=headers).json
    assert record["phone"] == "+84 777"


def test_updated_of_a_missing_record_creates_it(client, world, login):
    headers = login("rep.a@example.com")
    ts, _ = synced(client, headers)
    task_id = str(uuid.uuid4())
    raw = {
        "id": task_id,
        "customer_id": str(world.records["A"]["customers"]),
        "title": "Gọi lại",
        "done": False,
        "_status": "updated",
        "_changed": "title",
    }
    result = push(client, headers, {"tasks": {"created": [], "updated": [raw], "deleted": []}}, ts)
    assert result["rejected"] == []
    assert client.get(f"/api/v1/tasks/{task_id}", headers=headers).json["title"] == "Gọi lại"


def test_updated_of_a_deleted_record_is_not_resurrected(client, world, login):
    headers = login("rep.a@example.com")
    ts, local = synced(client, headers)
    task = str(world.records["A"]["tasks"])
    assert client.delete(
        f"/api/v1/tasks/{task}", headers=login("north.manager@example.com")
    ).status_code in (200, 204)
    raw = {**local[("tasks", task)], "title": "still here?", "updated_at": now_ms()}
    result = push(client, headers, {"tasks": {"created": [], "updated": [raw], "deleted": []}}, ts)
    assert [r["code"] for r in result["rejected"]] == ["record_deleted"]
    assert result["experimentalRejectedIds"] == {}  # delete wins: the pull tells the device
    assert client.get(f"/api/v1/tasks/{task}", headers=headers).status_code == 404
    assert task in ids(pull(client, headers, ts), "tasks", "deleted")


def test_deleting_a_missing_record_is_a_no_op(client, world, login):
    headers = login("rep.a@example.com")
    ts, _ = synced(client, headers)
    task = str(world.records["A"]["tasks"])
    gone = [str(uuid.uuid4()), "not-a-uuid"]
    result = push(
        client, headers, {"tasks": {"created": [], "updated": [], "deleted": [*gone, task]}}, ts
    )
    assert result["rejected"] == [] and result["experimentalRejectedIds"] == {}
    assert client.get(f"/api/v1/tasks/{task}", headers=headers).status_code == 404
    again = push(client, headers, {"tasks": {"created": [], "updated": [], "deleted": [task]}}, ts)
    assert again["rejected"] == []


def test_server_change_after_last_pull_is_merged_per_field(client, world, login):
    headers = login("rep.a@example.com")
    manager = login("north.manager@example.com")
    ts, local = synced(client, headers)
    cid = str(world.records["A"]["customers"])
    edited_on_phone = now_ms()
    time.sleep(0.01)
    patched = client.patch(
        f"/api/v1/customers/{cid}",
        json={"phone": "+84 manager", "notes": "from the office"},
        headers=manager,
    )
    assert patched.status_code == 200, patched.json
    raw = {
        **local[("customers", cid)],
        "phone": "+84 phone",
        "city": "Thủ Đức",
        "updated_at": edited_on_phone,
        "_status": "updated",
        "_changed": "phone,city",
    }
    result = push(
        client, headers, {"customers": {"created": [], "updated": [raw], "deleted": []}}, ts
    )
    assert result["rejected"] == []
    [conflict] = result["conflicts"]
    assert {f["field"] for f in conflict["fields"]} >= {"phone"}
    record = client.get(f"/api/v1/customers/{cid}", headers=headers).json
    assert record["phone"] == "+84 manager"  # the later edit (the manager's) wins
    assert record["city"] == "Thủ Đức"  # an untouched field on the server: the phone's
    assert record["notes"] == "from the office"  # the phone's stale copy lost to the office
    log = client.get(f"/api/v1/conflicts?record_id={cid}", headers=manager).json["items"]
    lost = {(e["field"], e["loser"]): e for e in log}
    assert lost[("phone", "device")]["lost_values"] == {"phone": "+84 phone"}
    # the next pull gives the device the merged record
    merged = raw_of(pull(client, headers, ts), "customers", cid)
    assert merged["phone"] == "+84 manager" and merged["city"] == "Thủ Đức"


def _phone_sets(client, headers, cid, field, value, edited_ms):
    """Another device's edit, made at `edited_ms` and received now (our own push)."""
    version = client.get(f"/api/v1/customers/{cid}", headers=headers).json["version"]
    edited = datetime.fromtimestamp(edited_ms / 1000, UTC)
    [result] = results(
        client,
        headers,
        mutation("customers", "update", cid, {field: value}, version, changed_at=edited),
    )
    assert result["status"] == "applied", result


@pytest.mark.parametrize("tablet_edited_later", [True, False])
def test_an_edit_made_before_another_device_sent_its_own_is_concurrent(
    client, world, login, tablet_edited_later
):
    """What `synchronize()` really sends: it pulls first, so the pushed `version` is the
    latest even though the edit was made before that version reached the server. The
    edit time decides: the later edit wins, the loser is in the conflict log, and a
    device whose value lost gets the winner on its next pull."""
    cid = str(world.records["A"]["customers"])
    phone = login("rep.a@example.com", device_id="phone")
    tablet = login("north.manager@example.com", device_id="tablet")
    ts, _ = synced(client, tablet)
    now = now_ms()
    phone_edit, tablet_edit = (now - 2000, now - 1000)
    if not tablet_edited_later:
        phone_edit, tablet_edit = tablet_edit, phone_edit
    _phone_sets(client, phone, cid, "notes", "from the phone", phone_edit)
    pulled = pull(client, tablet, ts)  # synchronize(): pull, keep local edits, push
    raw = {
        **raw_of(pulled, "customers", cid),
        "notes": "from the tablet",
        "updated_at": tablet_edit,
        "_status": "updated",
        "_changed": "notes",
    }
    result = push(
        client,
        tablet,
        {"customers": {"created": [], "updated": [raw], "deleted": []}},
        pulled["timestamp"],
    )
    assert result["experimentalRejectedIds"] == {}
    winner, loser = (
        ("from the tablet", "server") if tablet_edited_later else ("from the phone", "device")
    )
    assert client.get(f"/api/v1/customers/{cid}", headers=tablet).json["notes"] == winner
    log = client.get(f"/api/v1/conflicts?record_id={cid}", headers=tablet).json["items"]
    assert [(e["field"], e["loser"]) for e in log] == [("notes", loser)]
    following = pull(client, tablet, pulled["timestamp"])
    if tablet_edited_later:  # the tablet has the winner already: nothing to send
        assert cid not in ids(following, "customers", "updated")
    else:
        assert raw_of(following, "customers", cid)["notes"] == "from the phone"


def test_a_sequential_edit_is_not_a_conflict(client, world, login):
    """An edit made after the device pulled the other device's value simply applies."""
    cid = str(world.records["A"]["customers"])
    phone = login("rep.a@example.com", device_id="phone")
    tablet = login("north.manager@example.com", device_id="tablet")
    ts, _ = synced(client, tablet)
    _phone_sets(client, phone, cid, "notes", "from the phone", now_ms() - 1000)
    pulled = pull(client, tablet, ts)
    time.sleep(0.01)
    raw = {
        **raw_of(pulled, "customers", cid),
        "notes": "from the tablet",
        "updated_at": now_ms(),
        "_status": "updated",
        "_changed": "notes",
    }
    result = push(
        client,
        tablet,
        {"customers": {"created": [], "updated": [raw], "deleted": []}},
        pulled["timestamp"],
    )
    assert result["conflicts"] == []
    assert client.get(f"/api/v1/conflicts?record_id={cid}", headers=tablet).json["items"] == []


#: Schemas an app may declare (issue 14): which columns it leaves out, whether its models
#: stamp `updated_at` (WatermelonDB does only when the model has `updatedAt`; a declared
#: column then keeps the value last pulled), and how far its clock runs ahead (ms).
APP_SCHEMAS = {
    "ours": ((), True, 0),
    "no-version": (("version",), True, 0),
    "no-updated-at": (("updated_at", "created_at"), False, 0),
    "neither": (("version", "updated_at", "created_at"), False, 0),
    "unstamped-updated-at": (("version",), False, 60_000),
}


class AppDevice:
    """A WatermelonDB device with an app's own schema, syncing as `synchronize()` does:
    edits stay local, then one pull (local edits kept on top of the pulled record) and
    one push of them with the timestamp of that pull."""

    def __init__(self, client, headers, app_schema):
        self.client, self.headers = client, headers
        self.dropped, self.stamps, self.ahead = APP_SCHEMAS[app_schema]
        self.timestamp, pulled = synced(client, headers)
        self.local = {key: self._declared(raw) for key, raw in pulled.items()}
        self.edits: dict[tuple[str, str], dict] = {}

    def _declared(self, raw):
        return {k: v for k, v in raw.items() if k not in self.dropped}

    def clock(self, offset_ms: int = 0) -> int:
        return now_ms() + self.ahead + offset_ms

    def edit(self, table, record_id, offset_ms: int = 0, **fields):
        """A local edit, made `offset_ms` from now (by the device's clock)."""
        key = (table, str(record_id))
        edit = self.edits.setdefault(key, {})
        edit.update(fields)
        if self.stamps:
            edit["updated_at"] = self.clock(offset_ms)

    def synchronize(self, before_push=None):
        body = pull(self.client, self.headers, self.timestamp)
        for table, part in body["changes"].items():
            for raw in part["created"] + part["updated"]:
                self.local[(table, raw["id"])] = self._declared(raw)
        changes = {}
        for (table, record_id), edit in self.edits.items():
            raw = self._declared({**self.local[(table, record_id)], **edit})
            changes.setdefault(table, {"created": [], "updated": [], "deleted": []})
            changes[table]["updated"].append(raw)
        self.timestamp, self.edits = body["timestamp"], {}
        if not changes:
            return None
        if before_push:
            before_push()
        extra = {"device_time": self.clock()} if self.ahead else {}
        return push(self.client, self.headers, changes, self.timestamp, **extra)


def conflict_log(client, headers, record_id):
    items = client.get(f"/api/v1/conflicts?record_id={record_id}", headers=headers).json["items"]
    return [(e["field"], e["loser"], e["lost_values"], e["kept_values"]) for e in items]


@pytest.mark.parametrize("app_schema", APP_SCHEMAS)
def test_sequential_edits_are_no_conflicts_whatever_columns_the_app_declares(
    client, world, login, app_schema
):
    """Issue 14: without a `version` column every field another user ever changed passed
    for concurrent, and the conflict log filled with entries whose "restore" would undo
    the device's real, later edit."""
    cid = str(world.records["A"]["customers"])
    manager = login("north.manager@example.com")
    device = AppDevice(client, login("rep.a@example.com"), app_schema)
    device.edit("customers", cid, notes="first")
    assert device.synchronize()["conflicts"] == []
    time.sleep(0.01)
    patched = client.patch(f"/api/v1/customers/{cid}", json={"notes": "office"}, headers=manager)
    assert patched.status_code == 200, patched.json
    time.sleep(0.01)
    assert device.synchronize() is None  # pulls "office", nothing to push
    time.sleep(0.01)
    device.edit("customers", cid, notes="second", phone="+84 2")
    result = device.synchronize()
    assert result["rejected"] == [] and result["conflicts"] == []
    assert conflict_log(client, manager, cid) == []
    record = client.get(f"/api/v1/customers/{cid}", headers=manager).json
    assert (record["notes"], record["phone"]) == ("second", "+84 2")
    assert device.synchronize() is None


@pytest.mark.parametrize("device_edited_later", [True, False])
@pytest.mark.parametrize("app_schema", ["ours", "no-version"])
def test_a_concurrent_edit_is_merged_by_edit_time_and_logged_once(
    client, world, login, app_schema, device_edited_later
):
    """Both edit the field between two pulls of the device; the other edit reaches the
    server after the device's edit was made: the later edit wins, the loser is logged."""
    cid = str(world.records["A"]["customers"])
    tablet = login("north.manager@example.com", device_id="tablet")
    device = AppDevice(client, login("rep.a@example.com"), app_schema)
    mine, theirs = (-1000, -2000) if device_edited_later else (-2000, -1000)
    device.edit("customers", cid, mine, notes="from the phone")
    _phone_sets(client, tablet, cid, "notes", "from the tablet", now_ms() + theirs)
    result = device.synchronize()
    assert result["rejected"] == []
    winner, loser = (
        ("from the phone", "server") if device_edited_later else ("from the tablet", "device")
    )
    assert client.get(f"/api/v1/customers/{cid}", headers=tablet).json["notes"] == winner
    lost = "from the tablet" if device_edited_later else "from the phone"
    assert conflict_log(client, tablet, cid) == [
        ("notes", loser, {"notes": lost}, {"notes": winner})
    ]
    assert len(result["conflicts"]) == (0 if device_edited_later else 1)


@pytest.mark.parametrize("app_schema", ["no-updated-at", "neither"])
def test_without_an_edit_time_a_change_after_the_pull_is_concurrent(
    client, world, login, app_schema
):
    """Without `updated_at` the base is the version the device last pulled, and the edit
    counts as made when it arrives: a change after that pull is concurrent, and loses."""
    cid = str(world.records["A"]["customers"])
    manager = login("north.manager@example.com")
    device = AppDevice(client, login("rep.a@example.com"), app_schema)
    device.edit("customers", cid, notes="from the phone")

    def office_edits():  # between the pull and the push of the same synchronize()
        patched = client.patch(
            f"/api/v1/customers/{cid}", json={"notes": "office"}, headers=manager
        )
        assert patched.status_code == 200, patched.json

    result = device.synchronize(before_push=office_edits)
    assert result["rejected"] == [] and result["conflicts"] == []
    assert client.get(f"/api/v1/customers/{cid}", headers=manager).json["notes"] == "from the phone"
    assert conflict_log(client, manager, cid) == [
        ("notes", "server", {"notes": "office"}, {"notes": "from the phone"})
    ]


def test_nulls_for_columns_that_cannot_be_null_mean_not_set(client, world, login):
    """WatermelonDB sends every column, null where the app set nothing."""
    headers = login("rep.a@example.com")
    ts, local = synced(client, headers)
    cid = str(world.records["A"]["customers"])
    task_id = str(uuid.uuid4())
    task = {column: None for column in columns("tasks")}
    task.update(id=task_id, customer_id=cid, title="Call back", _status="created")
    customer = {
        **local[("customers", cid)],
        "status": None,
        "tier": None,
        "notes": "null elsewhere",
        "updated_at": now_ms(),
        "_status": "updated",
    }
    result = push(
        client,
        headers,
        {
            "tasks": {"created": [task], "updated": [], "deleted": []},
            "customers": {"created": [], "updated": [customer], "deleted": []},
        },
        ts,
    )
    assert result["experimentalRejectedIds"] == {} and result["rejected"] == []
    stored = client.get(f"/api/v1/tasks/{task_id}", headers=headers).json
    assert stored["done"] is False and stored["title"] == "Call back"
    kept = client.get(f"/api/v1/customers/{cid}", headers=headers).json
    assert kept["status"] == local[("customers", cid)]["status"]
    assert kept["notes"] == "null elsewhere"


def test_a_customer_reassigned_away_comes_back_deleted(client, world, login):
    headers = login("rep.a@example.com")
    ts, _ = synced(client, headers)
    a = world.records["A"]
    moved = client.patch(
        f"/api/v1/customers/{a['customers']}",
        json={"territory_id": str(world.territories["B"])},
        headers=login("admin@example.com"),
    )
    assert moved.status_code == 200, moved.json
    body = pull(client, headers, ts)
    for table in ("customers", "contacts", "visits", "orders", "tasks"):
        assert ids(body, table, "deleted") == {str(a[table])}
    # the gainer gets it whole, as created
    rep_b = login("rep.b@example.com")
    ts_b, _ = synced(client, rep_b)
    moved_back = client.patch(
        f"/api/v1/customers/{a['customers']}",
        json={"territory_id": str(world.territories["A"])},
        headers=login("admin@example.com"),
    )
    assert moved_back.status_code == 200
    assert ids(pull(client, rep_b, ts_b), "customers", "deleted") == {str(a["customers"])}
    back = pull(client, headers, body["timestamp"])
    for table in ("customers", "contacts", "visits", "orders", "tasks"):
        assert ids(back, table, "created") == {str(a[table])}


def test_a_territory_taken_from_the_rep_deletes_its_records(client, world, login):
    headers = login("rep.a@example.com")
    ts, _ = synced(client, headers)
    territory = str(world.territories["A"])
    changed = client.patch(
        f"/api/v1/territories/{territory}",
        json={"rep_ids": [str(world.users["rep.a2"])]},
        headers=login("admin@example.com"),
    )
    assert changed.status_code == 200, changed.json
    body = pull(client, headers, ts)
    a = world.records["A"]
    for table in ("customers", "contacts", "visits", "orders", "tasks"):
        assert str(a[table]) in ids(body, table, "deleted")
    # a retried pull with the same old timestamp still knows the old scope
    again = pull(client, headers, ts)
    assert str(a["customers"]) in ids(again, "customers", "deleted")
    # and the new timestamp is quiet
    assert not pull(client, headers, body["timestamp"])["changes"]["customers"]["deleted"]


def test_a_retried_push_is_applied_once(client, world, login, app):
    headers = login("rep.a@example.com")
    ts, local = synced(client, headers)
    cid = str(world.records["A"]["customers"])
    raw = {**local[("customers", cid)], "notes": "ghi chú", "updated_at": now_ms()}
    contact = {"id": str(uuid.uuid4()), "customer_id": cid, "name": "Anh Minh"}
    changes = {
        "customers": {"created": [], "updated": [raw], "deleted": []},
        "contacts": {"created": [contact], "updated": [], "deleted": []},
    }
    push(client, headers, changes, ts)
    version = client.get(f"/api/v1/customers/{cid}", headers=headers).json["version"]
    # a manager edits in between; the lost response makes the phone push again
    client.patch(
        f"/api/v1/customers/{cid}",
        json={"notes": "office"},
        headers=login("north.manager@example.com"),
    )
    second = push(client, headers, changes, ts)
    assert second["rejected"] == []
    record = client.get(f"/api/v1/customers/{cid}", headers=headers).json
    assert record["notes"] == "office" and record["version"] == version + 1
    contacts = client.get(f"/api/v1/contacts?customer_id={cid}", headers=headers).json
    assert sum(1 for c in contacts["items"] if c["name"] == "Anh Minh") == 1


def test_migration_pull_sends_new_tables_and_columns(client, world, login):
    headers = login("rep.a@example.com")
    ts, _ = synced(client, headers)
    migration = {
        "from": 0,
        "tables": ["tasks", "not_a_table"],
        "columns": [{"table": "customers", "columns": ["tier"]}],
    }
    body = pull(client, headers, ts, migration=json.dumps(migration))
    assert ids(body, "tasks", "created") == {str(world.records["A"]["tasks"])}
    assert ids(body, "customers", "updated") == {str(world.records["A"]["customers"])}
    assert not body["changes"]["contacts"]["created"]
    assert "not_a_table" not in body["changes"]


@pytest.mark.parametrize(
    "body",
    [
        {"changes": "nope"},
        {"changes": {"customers": []}},
        {"changes": {"secrets": {"created": [], "updated": [], "deleted": []}}},
        {"changes": {"customers": {"created": [{"name": "no id"}], "updated": [], "deleted": []}}},
        {"changes": {"customers": {"created": [], "updated": [], "deleted": [1]}}},
        {"changes": {}, "lastPulledAt": "yesterday"},
        {"changes": {}, "lastPulledAt": -5},
        {"lastPulledAt": 1},
        [],
        "text",
    ],
)
def test_bad_push_bodies_are_4xx_json(client, world, login, body):
    response = client.post(URL, json=body, headers=login("rep.a@example.com"))
    assert 400 <= response.status_code < 500, response.json
    assert response.json["error"]["code"]


@pytest.mark.parametrize(
    "query",
    [
        {"last_pulled_at": "abc"},
        {"last_pulled_at": "1.5"},
        {"schema_version": "x"},
        {"schema_version": 99},
        {"migration": "{not json"},
        {"migration": "[1]"},
        {"migration": json.dumps({"tables": "tasks"})},
    ],
)
def test_bad_pulls_are_4xx_json(client, world, login, query):
    response = client.get(URL, query_string=query, headers=login("rep.a@example.com"))
    assert 400 <= response.status_code < 500, response.json
    assert response.json["error"]["code"]


def test_malformed_json_and_no_token(client, world, login):
    response = client.post(
        URL, data="{", content_type="application/json", headers=login("rep.a@example.com")
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "malformed_json"
    assert client.get(URL).status_code == 401


def every_id(body) -> set[str]:
    """Every id a pull answer names, created, updated or deleted."""
    return {
        i
        for table in TABLES
        for kind in ("created", "updated", "deleted")
        for i in ids(body, table, kind)
    }


def ids_of(world, *territories) -> set[str]:
    """The territories and their customers' records (ids outside rep.a's scope)."""
    found = set()
    for key in territories:
        found.add(str(world.territories[key]))
        found |= {str(i) for i in world.records[key].values()}
    return found


def scope_changes_for_others(client, world, login):
    """Changes rep.a must never hear of: edits, deletes and a move in B and A2."""
    admin = login("admin@example.com")
    b, a2 = world.records["B"], world.records["A2"]
    for path, body in (
        (f"/api/v1/customers/{b['customers']}", {"notes": "south"}),
        (f"/api/v1/tasks/{b['tasks']}", {"title": "south task"}),
        (f"/api/v1/customers/{a2['customers']}", {"territory_id": str(world.territories["B"])}),
    ):
        assert client.patch(path, json=body, headers=admin).status_code == 200
    deleted = client.delete(f"/api/v1/contacts/{b['contacts']}", headers=admin)
    assert deleted.status_code in (200, 204)


def test_an_unknown_timestamp_replaces_the_local_database(client, world, login):
    headers = login("rep.a@example.com")
    ts, _ = synced(client, headers)
    scope_changes_for_others(client, world, login)
    foreign = ids_of(world, "B", "A2")
    for forged in (
        ts + 500,  # a scope generation never issued
        ts - ts % 1000,  # generation 0: never issued
        ts + 1000 * 10**6,  # a position the log has not reached
        10**15,  # far beyond
    ):
        body = pull(client, headers, forged)
        assert body["experimentalStrategy"] == "replacement", forged
        assert ids(body, "customers", "created") == {str(world.records["A"]["customers"])}
        assert not every_id(body) & foreign, forged
        assert not any(body["changes"][t]["deleted"] for t in TABLES), forged


def test_a_generation_of_another_users_history_is_read_in_the_callers(client, world, login):
    """A timestamp number cannot be signed: its generation is looked up in the caller's
    own scope history, so another user's number never brings that user's removals."""
    admin = login("admin@example.com")
    rep_b = login("rep.b@example.com")
    ts_b1, _ = synced(client, rep_b)  # rep.b's generation 1: territory B
    b2 = client.post(
        "/api/v1/territories",
        json={
            "name": "B2",
            "team_id": str(world.teams["South"]),
            "rep_ids": [str(world.users["rep.b"])],
        },
        headers=admin,
    )
    assert b2.status_code == 201, b2.json
    ts_b2 = pull(client, rep_b, ts_b1)["timestamp"]  # generation 2: B and B2
    dropped = client.patch(
        f"/api/v1/territories/{b2.json['id']}", json={"rep_ids": []}, headers=admin
    )
    assert dropped.status_code == 200
    ts_b3 = pull(client, rep_b, ts_b2)["timestamp"]  # generation 3: B again
    assert len({ts_b1 % 1000, ts_b2 % 1000, ts_b3 % 1000}) == 3

    rep_a = login("rep.a@example.com")
    ts_a, _ = synced(client, rep_a)  # rep.a has generation 1 only, the number of ts_b1's
    assert ts_a % 1000 == ts_b1 % 1000
    scope_changes_for_others(client, world, login)
    foreign = ids_of(world, "B", "A2")
    for forged in (ts_b2, ts_b3):  # generations rep.a was never given
        body = pull(client, rep_a, forged)
        assert body["experimentalStrategy"] == "replacement"
        assert ids(body, "customers", "created") == {str(world.records["A"]["customers"])}
        assert not every_id(body) & foreign
    # generation 1 is rep.a's own: an ordinary pull of rep.a's scope from that position
    body = pull(client, rep_a, ts_b1)
    assert "experimentalStrategy" not in body
    assert not every_id(body) & foreign


def test_an_old_timestamp_of_the_user_still_pulls_incrementally(client, world, login):
    headers = login("rep.a@example.com")
    manager = login("north.manager@example.com")
    ts, _ = synced(client, headers)
    a = world.records["A"]
    customer, task = f"/api/v1/customers/{a['customers']}", f"/api/v1/tasks/{a['tasks']}"
    assert client.patch(customer, json={"notes": "later"}, headers=manager).status_code == 200
    assert client.delete(task, headers=manager).status_code in (200, 204)
    scope_changes_for_others(client, world, login)
    newer = pull(client, headers, ts)["timestamp"]
    pull(client, headers, newer)
    body = pull(client, headers, ts)  # a retry with the old timestamp
    assert "experimentalStrategy" not in body
    assert raw_of(body, "customers", a["customers"])["notes"] == "later"
    assert ids(body, "customers", "created") == set()
    assert ids(body, "tasks", "deleted") == {str(a["tasks"])}
    assert every_id(body) == {str(a["customers"]), str(a["tasks"])}
    assert body["timestamp"] >= newer


def test_a_rep_cannot_push_into_another_teams_customer(client, world, login):
    headers = login("rep.a@example.com")
    ts, _ = synced(client, headers)
    b = world.records["B"]
    foreign = {
        "id": str(b["customers"]),
        "name": "hijacked",
        "phone": "+84 0",
        "updated_at": now_ms(),
    }
    contact = {"id": str(uuid.uuid4()), "customer_id": str(b["customers"]), "name": "spy"}
    changes = {
        "customers": {"created": [foreign], "updated": [dict(foreign)], "deleted": []},
        "contacts": {"created": [contact], "updated": [], "deleted": [str(b["contacts"])]},
    }
    result = push(client, headers, changes, ts)
    rejected = result["experimentalRejectedIds"]
    assert set(rejected["customers"]) == {str(b["customers"])}
    assert set(rejected["contacts"]) == {contact["id"], str(b["contacts"])}
    assert {r["code"] for r in result["rejected"]} == {"forbidden"}
    rep_b = login("rep.b@example.com")
    record = client.get(f"/api/v1/customers/{b['customers']}", headers=rep_b).json
    assert record["name"] != "hijacked"
    assert client.get(f"/api/v1/contacts/{b['contacts']}", headers=rep_b).status_code == 200
    assert client.get(f"/api/v1/contacts/{contact['id']}", headers=rep_b).status_code == 404


def test_server_derived_fields_are_never_taken_from_the_device(client, world, login):
    headers = login("rep.a@example.com")
    ts, local = synced(client, headers)
    order = str(world.records["A"]["orders"])
    raw = {
        **local[("orders", order)],
        "total": "1.00",
        "submitted_at": 1,
        "version": 999,
        "notes": "gấp",
        "updated_at": now_ms(),
    }
    result = push(client, headers, {"orders": {"created": [], "updated": [raw], "deleted": []}}, ts)
    assert result["rejected"] == []
    record = client.get(f"/api/v1/orders/{order}", headers=headers).json
    assert record["notes"] == "gấp" and record["total"] != "1.00"
    assert record["version"] == 2


def test_push_takes_last_pulled_at_from_the_url_as_watermelondb_docs_do(client, world, login):
    headers = login("rep.a@example.com")
    ts, local = synced(client, headers)
    cid = str(world.records["A"]["customers"])
    raw = {**local[("customers", cid)], "notes": "from the URL", "updated_at": now_ms()}
    changes = {"customers": {"created": [], "updated": [raw], "deleted": []}}
    ok = client.post(f"{URL}?last_pulled_at={ts}", json={"changes": changes}, headers=headers)
    assert ok.status_code == 200, ok.json
    assert client.get(f"/api/v1/customers/{cid}", headers=headers).json["notes"] == "from the URL"
    bad = client.post(f"{URL}?last_pulled_at=yesterday", json={"changes": changes}, headers=headers)
    assert bad.status_code == 422 and "last_pulled_at" in bad.json["error"]["fields"]


def test_a_password_column_is_refused_not_ignored(client, world, login):
    """An app that declares `password` on users: the push is not "applied with nothing
    changed", the record is rejected with its own code, and the value is kept nowhere."""
    admin = login("admin@example.com")
    ts, local = synced(client, admin)
    rep = str(world.users["rep.a"])
    raw = {**local[("users", rep)], "password": "leaked-Secret-1", "name": "Renamed"}
    answer = push(client, admin, {"users": {"created": [], "updated": [raw], "deleted": []}}, ts)
    assert answer["experimentalRejectedIds"] == {"users": [rep]}
    assert [r["code"] for r in answer["rejected"]] == ["password_not_synced"]
    entries = client.get("/api/v1/conflicts", headers=admin)
    assert "leaked-Secret-1" not in entries.get_data(as_text=True)
    assert "password" not in str([e["lost_values"] for e in entries.json["items"]])
    assert client.get(f"/api/v1/users/{rep}", headers=admin).json["name"] != "Renamed"
