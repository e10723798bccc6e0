"""One write path: whatever the entry point, the same stored row, the same history."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from domain.models import RECORD_MODELS, ChangeLogEntry, User
from server.extensions import db
from tests.support.sync_calls import mutation, results

#: Columns that differ by nature between two writes of the same values.
PER_WRITE = {"id", "created_at", "updated_at", "field_meta", "sync_json", "submitted_at"}


def _row(app, table: str, record_id) -> dict:
    model = RECORD_MODELS[table]
    with app.app_context():
        record = db.session.get(model, uuid.UUID(str(record_id)))
        values = {
            column.key: getattr(record, column.key)
            for column in model.__mapper__.column_attrs
            if column.key not in PER_WRITE
        }
        db.session.rollback()
    return values


def test_push_and_rest_store_the_same_row_for_the_same_input(app, client, world, login):
    rep = login("rep.a@example.com")
    customer = str(world.records["A"]["customers"])
    product = str(world.products["active"])
    inputs = {
        "customers": {"name": "  Tạp hoá  BÌNH ", "email": "Shop@Example.COM", "tier": "B"},
        "contacts": {"customer_id": customer, "name": "Chị Lan", "email": "Lan@X.VN"},
        "visits": {
            "customer_id": customer,
            "planned_at": "2026-11-20T09:00:00+07:00",
            "check_in_at": "2026-11-20T09:05:00+07:00",
            "check_in_lat": 10.7701,
            "check_in_lon": 106.7001,
            "check_in_accuracy_m": 12,
            "status": "in_progress",
        },
        "orders": {
            "customer_id": customer,
            "status": "submitted",
            "lines": [{"product_id": product, "quantity": "2.5", "discount_pct": "10"}],
        },
        "tasks": {"customer_id": customer, "title": "Mang bảng giá mới"},
    }
    admin = login("admin@example.com")
    user_input = {
        "email": "New.Rep@Example.COM",
        "name": "New Rep",
        "role": "rep",
        "team_id": str(world.teams["North"]),
    }
    for table, values in inputs.items():
        via_rest = client.post(f"/api/v1/{table}", json=values, headers=rep)
        assert via_rest.status_code == 201, (table, via_rest.json)
        if table == "visits":  # one open visit per rep and customer: close the first
            client.patch(
                f"/api/v1/visits/{via_rest.json['id']}",
                json={"check_out_at": "2026-11-20T09:30:00+07:00"},
                headers=rep,
            )
        pushed_id = uuid.uuid4()
        [result] = results(client, rep, mutation(table, "create", pushed_id, values))
        assert result["status"] == "applied", (table, result)
        rest_row, push_row = _row(app, table, via_rest.json["id"]), _row(app, table, pushed_id)
        if table == "visits":
            rest_row.update(check_out_at=None, version=1)
        assert push_row == rest_row, table
    # Users: managers and admins write them; the email is folded either way.
    via_rest = client.post(
        "/api/v1/users", json={**user_input, "password": "pw-12345678"}, headers=admin
    )
    [result] = results(
        client,
        admin,
        mutation("users", "create", uuid.uuid4(), {**user_input, "email": "Other@Example.COM"}),
    )
    assert via_rest.json["email"] == "new.rep@example.com"
    assert result["status"] == "rejected"  # no password: a user is created through REST
    with app.app_context():
        stored = db.session.scalar(select(User.email).where(User.name == "New Rep"))
        assert stored == "new.rep@example.com"


def test_every_change_is_in_the_records_history_with_who_and_from_what(app, client, world, login):
    customer = str(world.records["A"]["customers"])
    rep, manager = (
        login("rep.a@example.com", device_id="phone-7"),
        login("north.manager@example.com"),
    )
    client.patch(f"/api/v1/customers/{customer}", json={"phone": "+84 1"}, headers=manager)
    edit = mutation("customers", "update", customer, {"phone": "+84 2", "notes": "n"}, 2)
    results(client, rep, edit)
    history = client.get(f"/api/v1/customers/{customer}/history", headers=manager)
    assert history.status_code == 200, history.json
    latest, earlier, created = history.json["items"]
    assert latest["op"] == "update" and latest["mutation_id"] == edit["id"]
    assert latest["user_id"] == str(world.users["rep.a"]) and latest["device_id"] == "phone-7"
    assert {c["field"]: (c["old"], c["new"]) for c in latest["changes"]} == {
        "phone": ("+84 1", "+84 2"),
        "notes": (None, "n"),
    }
    assert earlier["user_id"] == str(world.users["north.manager"])
    assert next(c for c in earlier["changes"] if c["field"] == "phone")["new"] == "+84 1"
    assert created["op"] == "create"
    # The record's own scope: another team gets 404, as for the record itself.
    outsider = client.get(
        f"/api/v1/customers/{customer}/history", headers=login("rep.b@example.com")
    )
    assert outsider.status_code == 404
    # Paging.
    first = client.get(f"/api/v1/customers/{customer}/history?limit=1", headers=manager).json
    rest = client.get(
        f"/api/v1/customers/{customer}/history?before={first['next_before']}", headers=manager
    ).json
    assert [e["seq"] for e in first["items"] + rest["items"]] == [
        e["seq"] for e in history.json["items"]
    ]


def test_history_holds_no_secrets_and_no_private_fields_for_colleagues(app, client, world, login):
    admin = login("admin@example.com")
    rep_a = str(world.users["rep.a"])
    client.patch(
        f"/api/v1/users/{rep_a}",
        json={"password": "another-pass-1", "home_lat": 10.5},
        headers=admin,
    )
    with app.app_context():
        stored = [
            e.changes
            for e in db.session.scalars(
                select(ChangeLogEntry).where(ChangeLogEntry.record_id == world.users["rep.a"])
            )
        ]
    assert stored and all("password" not in str(c) for c in stored)
    teammate = client.get(f"/api/v1/users/{rep_a}/history", headers=login("rep.a2@example.com"))
    fields = {c["field"] for e in teammate.json["items"] for c in e["changes"]}
    assert "home_lat" not in fields and len(teammate.json["items"]) >= 2
    own = client.get(
        f"/api/v1/users/{rep_a}/history",
        headers=login("rep.a@example.com", password="another-pass-1"),
    )
    assert "home_lat" in {c["field"] for e in own.json["items"] for c in e["changes"]}


def test_one_open_visit_per_rep_and_customer_whoever_sends_it(client, world, login):
    customer = str(world.records["A"]["customers"])
    rep = login("rep.a@example.com")
    open_visit = {
        "customer_id": customer,
        "check_in_at": "2026-11-20T02:00:00Z",
        "status": "in_progress",
    }
    first = client.post("/api/v1/visits", json=open_visit, headers=rep)
    assert first.status_code == 201
    second = client.post("/api/v1/visits", json=open_visit, headers=rep)
    assert second.status_code == 409 and second.json["error"]["code"] == "visit_already_open"
    offline = mutation("visits", "create", uuid.uuid4(), open_visit)
    [result] = results(client, login("rep.a@example.com", device_id="offline"), offline)
    assert result["status"] == "rejected" and result["error"]["code"] == "visit_already_open"
    logged = client.get("/api/v1/conflicts", headers=rep).json["items"]
    assert [e["code"] for e in logged] == ["visit_already_open"]
    # Checked out, the next visit may start; another rep is not blocked meanwhile.
    client.patch(
        f"/api/v1/visits/{first.json['id']}",
        json={"check_out_at": "2026-11-20T02:30:00Z", "status": "completed"},
        headers=rep,
    )
    assert client.post("/api/v1/visits", json=open_visit, headers=rep).status_code == 201
