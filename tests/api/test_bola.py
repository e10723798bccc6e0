"""Object-level authorisation: out of scope means 404, for every resource and verb.

A rep of territory A must not read, change or delete the records of territory
B, nor of territory A2 in the same team; a manager must not touch records
outside their teams. Every refusal leaves the record unchanged.
"""

from __future__ import annotations

import uuid

import pytest

SCOPED = ("customers", "contacts", "visits", "orders", "tasks")
PATCHES = {
    "customers": {"notes": "pwned"},
    "contacts": {"notes": "pwned"},
    "visits": {"notes": "pwned"},
    "orders": {"notes": "pwned"},
    "tasks": {"notes": "pwned"},
}
#: (actor, territory whose records the actor must not reach)
OUTSIDERS = [
    ("rep.a", "B"),
    ("rep.a", "A2"),
    ("rep.b", "A"),
    ("north.manager", "B"),
    ("south.manager", "A"),
    ("south.manager", "A2"),
]
#: (actor, territory the actor may reach) — the positive controls.
INSIDERS = [("rep.a", "A"), ("rep.a2", "A2"), ("north.manager", "A2"), ("admin", "B")]


def _version(client, world, table, territory, login):
    record_id = world.records[territory][table]
    admin = login("admin@example.com", device_id="auditor")
    return client.get(f"/api/v1/{table}/{record_id}", headers=admin).json["version"]


@pytest.mark.parametrize("table", SCOPED)
@pytest.mark.parametrize(("actor", "territory"), OUTSIDERS)
@pytest.mark.parametrize("verb", ["get", "patch", "delete"])
def test_out_of_scope_records_do_not_exist(client, world, login, table, actor, territory, verb):
    headers = login(f"{actor}@example.com")
    url = f"/api/v1/{table}/{world.records[territory][table]}"
    before = _version(client, world, table, territory, login)
    if verb == "get":
        response = client.get(url, headers=headers)
    elif verb == "patch":
        response = client.patch(url, json=PATCHES[table], headers=headers)
    else:
        response = client.delete(url, headers=headers)
    assert response.status_code == 404, response.json
    assert response.json["error"]["code"] == "not_found"
    assert _version(client, world, table, territory, login) == before


@pytest.mark.parametrize("table", SCOPED)
@pytest.mark.parametrize(("actor", "territory"), INSIDERS)
def test_in_scope_records_are_reachable(client, world, login, table, actor, territory):
    headers = login(f"{actor}@example.com")
    url = f"/api/v1/{table}/{world.records[territory][table]}"
    assert client.get(url, headers=headers).status_code == 200
    patched = client.patch(url, json=PATCHES[table], headers=headers)
    assert patched.status_code == 200, patched.json
    assert patched.json["version"] == 2


@pytest.mark.parametrize("table", SCOPED)
@pytest.mark.parametrize(("actor", "territory"), OUTSIDERS)
def test_lists_never_include_out_of_scope_records(client, world, login, table, actor, territory):
    items = client.get(f"/api/v1/{table}?limit=500", headers=login(f"{actor}@example.com"))
    ids = {item["id"] for item in items.json["items"]}
    assert str(world.records[territory][table]) not in ids


@pytest.mark.parametrize("table", ["contacts", "visits", "orders", "tasks"])
def test_children_cannot_be_created_under_an_out_of_scope_customer(client, world, login, table):
    headers = login("rep.a@example.com")
    foreign = str(world.records["B"]["customers"])
    body = {
        "contacts": {"customer_id": foreign, "name": "spy"},
        "visits": {"customer_id": foreign},
        "orders": {"customer_id": foreign},
        "tasks": {"customer_id": foreign, "title": "spy"},
    }[table]
    record_id = str(uuid.uuid4())
    response = client.post(f"/api/v1/{table}", json={**body, "id": record_id}, headers=headers)
    assert response.status_code == 422
    assert "customer_id" in response.json["error"]["fields"]
    admin = login("admin@example.com", device_id="auditor")
    assert client.get(f"/api/v1/{table}/{record_id}", headers=admin).status_code == 404


def test_a_customer_owned_by_a_rep_is_visible_outside_their_territories(client, world, login):
    admin = login("admin@example.com")
    customer = world.records["B"]["customers"]
    moved = client.patch(
        f"/api/v1/customers/{customer}",
        json={"owner_id": str(world.users["rep.a"])},
        headers=admin,
    )
    assert moved.status_code == 200
    headers = login("rep.a@example.com")
    assert client.get(f"/api/v1/customers/{customer}", headers=headers).status_code == 200
    contact = world.records["B"]["contacts"]
    assert client.get(f"/api/v1/contacts/{contact}", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("table", "key"),
    [("products", "active"), ("territories", "A"), ("users", "rep.a2"), ("teams", "North")],
)
def test_reps_read_but_never_write_managed_tables(client, world, login, table, key):
    headers = login("rep.a@example.com")
    record_id = {
        "products": world.products.get(key),
        "territories": world.territories.get(key),
        "users": world.users.get(key),
        "teams": world.teams.get(key),
    }[table]
    assert client.get(f"/api/v1/{table}/{record_id}", headers=headers).status_code == 200
    patched = client.patch(f"/api/v1/{table}/{record_id}", json={"name": "Mine"}, headers=headers)
    assert patched.status_code == 403 and patched.json["error"]["code"] == "read_only"
    assert client.delete(f"/api/v1/{table}/{record_id}", headers=headers).status_code == 403


def test_reps_do_not_see_inactive_products_nor_other_teams(client, world, login):
    headers = login("rep.a@example.com")
    inactive = world.products["inactive"]
    assert client.get(f"/api/v1/products/{inactive}", headers=headers).status_code == 404
    for table, record_id in [
        ("territories", world.territories["B"]),
        ("users", world.users["rep.b"]),
        ("teams", world.teams["South"]),
    ]:
        assert client.get(f"/api/v1/{table}/{record_id}", headers=headers).status_code == 404


def test_reps_cannot_reassign_customers_managers_can_within_their_teams(client, world, login):
    customer = world.records["A"]["customers"]
    url = f"/api/v1/customers/{customer}"
    rep = client.patch(
        url, json={"territory_id": str(world.territories["A2"])}, headers=login("rep.a@example.com")
    )
    assert rep.status_code == 403 and "territory_id" in rep.json["error"]["fields"]
    manager = login("north.manager@example.com")
    outside = client.patch(url, json={"territory_id": str(world.territories["B"])}, headers=manager)
    assert outside.status_code == 422
    inside = client.patch(url, json={"territory_id": str(world.territories["A2"])}, headers=manager)
    assert inside.status_code == 200 and inside.json["territory_id"] == str(world.territories["A2"])


def test_managers_cannot_touch_territories_or_users_of_other_teams(client, world, login):
    manager = login("north.manager@example.com")
    territory = client.patch(
        f"/api/v1/territories/{world.territories['B']}", json={"name": "Mine"}, headers=manager
    )
    assert territory.status_code == 404
    user = client.patch(
        f"/api/v1/users/{world.users['rep.b']}", json={"name": "X"}, headers=manager
    )
    assert user.status_code == 404
    promote = client.patch(
        f"/api/v1/users/{world.users['rep.a']}", json={"role": "admin"}, headers=manager
    )
    assert promote.status_code == 403


def test_unauthenticated_requests_get_401_everywhere(client, world):
    for table in (*SCOPED, "users", "teams", "territories", "products"):
        assert client.get(f"/api/v1/{table}").status_code == 401
        assert client.post(f"/api/v1/{table}", json={}).status_code == 401
        record = f"/api/v1/{table}/{uuid.uuid4()}"
        assert client.patch(record, json={}).status_code == 401
        assert client.delete(record).status_code == 401
