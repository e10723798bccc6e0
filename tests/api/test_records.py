"""REST resources: create, read, list, change and delete, as each role would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.times import utc_iso


def create_bodies(world) -> dict[str, tuple[str, dict]]:
    """resource -> (who creates it, a valid body)."""
    customer = str(world.records["A"]["customers"])
    return {
        "users": (
            "admin",
            {
                "email": "new.rep@example.com",
                "name": "Lý Thường Kiệt",
                "role": "rep",
                "password": "a-good-password",
                "team_id": str(world.teams["North"]),
            },
        ),
        "teams": ("admin", {"name": "Đội Đông"}),
        "territories": ("north.manager", {"name": "Thủ Đức", "team_id": str(world.teams["North"])}),
        "customers": (
            "rep.a",
            {
                "name": "Phở Hòa Pasteur",
                "territory_id": str(world.territories["A"]),
                "lat": 10.789,
                "lon": 106.691,
            },
        ),
        "contacts": ("rep.a", {"customer_id": customer, "name": "Ông Ba"}),
        "products": ("admin", {"sku": "NEW-1", "name": "Bánh tráng", "unit_price": "12500.00"}),
        "visits": ("rep.a", {"customer_id": customer, "planned_at": "2026-11-23T02:00:00Z"}),
        "orders": (
            "rep.a",
            {
                "customer_id": customer,
                "lines": [{"product_id": str(world.products["active"]), "quantity": "2"}],
            },
        ),
        "tasks": ("rep.a", {"customer_id": customer, "title": "Mang mẫu mới"}),
    }


RESOURCES = (
    "users",
    "teams",
    "territories",
    "customers",
    "contacts",
    "products",
    "visits",
    "orders",
    "tasks",
)


@pytest.mark.parametrize("resource", RESOURCES)
def test_crud_happy_path(client, world, login, resource):
    actor, body = create_bodies(world)[resource]
    headers = login(f"{actor}@example.com")
    created = client.post(f"/api/v1/{resource}", json=body, headers=headers)
    assert created.status_code == 201, created.json
    record = created.json
    assert record["version"] == 1 and record["created_at"] and record["updated_at"]
    assert uuid.UUID(record["id"])
    url = f"/api/v1/{resource}/{record['id']}"
    assert client.get(url, headers=headers).json == record
    listed = client.get(f"/api/v1/{resource}?limit=500", headers=headers).json["items"]
    assert record["id"] in {r["id"] for r in listed}

    patched = client.patch(
        url, json={"notes" if "notes" in record else "name": "Đã sửa"}, headers=headers
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["version"] == 2
    unchanged = {
        k: v for k, v in record.items() if k not in ("notes", "name", "version", "updated_at")
    }
    assert {k: patched.json[k] for k in unchanged} == unchanged
    same = client.patch(
        url, json={"notes" if "notes" in record else "name": "Đã sửa"}, headers=headers
    )
    assert same.json["version"] == 2  # nothing changed, no new version

    deleted = client.delete(url, headers=headers)
    assert deleted.status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    listed = client.get(f"/api/v1/{resource}?limit=500", headers=headers).json["items"]
    assert record["id"] not in {r["id"] for r in listed}
    tombstones = client.get(f"/api/v1/{resource}?include_deleted=true&limit=500", headers=headers)
    [tombstone] = [r for r in tombstones.json["items"] if r["id"] == record["id"]]
    assert tombstone["deleted_at"] and tombstone["version"] == 3


def test_client_chosen_id_and_duplicate_id(client, world, login):
    headers = login("rep.a@example.com")
    record_id = str(uuid.uuid4())
    body = {"id": record_id, "customer_id": str(world.records["A"]["customers"]), "name": "X"}
    assert client.post("/api/v1/contacts", json=body, headers=headers).json["id"] == record_id
    again = client.post("/api/v1/contacts", json=body, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_exists"


def test_if_match_guards_against_lost_updates(client, world, login):
    headers = login("rep.a@example.com")
    url = f"/api/v1/customers/{world.records['A']['customers']}"
    ok = client.patch(url, json={"phone": "1"}, headers={**headers, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json["version"] == 2
    stale = client.patch(url, json={"phone": "2"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "version_conflict"
    bad = client.patch(url, json={"phone": "2"}, headers={**headers, "If-Match": "yesterday"})
    assert bad.status_code == 400
    assert client.get(url, headers=headers).json["phone"] == "1"


def test_pagination_walks_every_record_once_in_order(client, world, login):
    headers = login("admin@example.com")
    for i in range(23):
        client.post("/api/v1/customers", json={"name": f"Shop {i:02d}"}, headers=headers)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 5, "sort": "name", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/customers", query_string=query, headers=headers).json
        seen += [r["name"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 26 and pages == 6
    assert seen == sorted(seen, key=str.casefold)


@pytest.mark.parametrize("query", ["limit=501", "limit=0", "limit=abc", "sort=price"])
def test_bad_list_parameters_are_422(client, world, login, query):
    response = client.get(f"/api/v1/customers?{query}", headers=login("admin@example.com"))
    assert response.status_code == 422


def test_a_forged_list_cursor_is_400(client, world, login):
    response = client.get("/api/v1/customers?cursor=not-ours", headers=login("admin@example.com"))
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


def test_filters_and_accent_insensitive_search(client, world, login):
    headers = login("admin@example.com")
    client.post(
        "/api/v1/customers",
        json={"name": "Phở Hòa", "status": "lead", "territory_id": str(world.territories["B"])},
        headers=headers,
    )
    found = client.get("/api/v1/customers?q=pho%20hoa", headers=headers).json["items"]
    assert [c["name"] for c in found] == ["Phở Hòa"]
    leads = client.get("/api/v1/customers?status=lead", headers=headers).json["items"]
    assert [c["name"] for c in leads] == ["Phở Hòa"]
    in_b = client.get(
        f"/api/v1/customers?territory_id={world.territories['B']}", headers=headers
    ).json["items"]
    assert {c["name"] for c in in_b} == {"Customer B", "Phở Hòa"}
    owned = client.get(f"/api/v1/customers?owner_id={world.users['rep.a']}", headers=headers).json[
        "items"
    ]
    assert owned == []
    later = utc_iso(datetime.now(UTC) - timedelta(minutes=1))
    recent = client.get(
        "/api/v1/customers", query_string={"updated_since": later}, headers=headers
    ).json["items"]
    assert [c["name"] for c in recent] == ["Phở Hòa"]


def test_money_is_exact_and_computed_by_the_server(client, world, login):
    headers = login("rep.a@example.com")
    lines = [
        {"product_id": str(world.products["active"]), "quantity": "3", "discount_pct": "10"},
        {"product_id": str(world.products["active"]), "quantity": "0.333", "unit_price": "0.10"},
    ]
    body = {"customer_id": str(world.records["A"]["customers"]), "lines": lines}
    order = client.post("/api/v1/orders", json=body, headers=headers)
    assert order.status_code == 201
    assert order.json["total"] == "6.78"  # 6.75 + 0.0333 rounded half-up to cents
    assert order.json["lines"][0]["unit_price"] == "2.50"
    forged = client.post("/api/v1/orders", json={**body, "total": "0.01"}, headers=headers)
    assert forged.status_code == 422 and "total" in forged.json["error"]["fields"]


def test_order_and_visit_rules(client, world, login):
    headers = login("rep.a@example.com")
    order = f"/api/v1/orders/{world.records['A']['orders']}"
    submitted = client.patch(order, json={"status": "submitted"}, headers=headers)
    assert submitted.status_code == 200 and submitted.json["submitted_at"]
    locked = client.patch(order, json={"notes": "late"}, headers=headers)
    assert locked.status_code == 409 and locked.json["error"]["code"] == "order_locked"
    assert client.delete(order, headers=headers).status_code == 409
    visit = f"/api/v1/visits/{world.records['A']['visits']}"
    check_in = {
        "check_in_at": "2026-11-22T02:00:00Z",
        "check_in_lat": 10.77,
        "check_in_lon": 106.70,
    }
    assert client.patch(visit, json=check_in, headers=headers).status_code == 200
    moved = client.patch(visit, json={"check_in_at": "2026-11-22T03:00:00Z"}, headers=headers)
    assert moved.status_code == 409 and moved.json["error"]["code"] == "already_checked_in"


def test_users_never_expose_passwords_and_emails_are_unique(client, world, login):
    headers = login("admin@example.com")
    body = {
        "email": "Dup@Example.com",
        "name": "A",
        "role": "rep",
        "password": "long-enough-1",
        "team_id": str(world.teams["North"]),
    }
    created = client.post("/api/v1/users", json=body, headers=headers)
    assert created.status_code == 201 and created.json["email"] == "dup@example.com"
    assert "password" not in created.json and "password_hash" not in created.json
    again = client.post("/api/v1/users", json={**body, "email": "dup@EXAMPLE.com"}, headers=headers)
    assert again.status_code == 409
    listed = client.get("/api/v1/users", headers=headers).json["items"]
    assert all("password_hash" not in u and "password" not in u for u in listed)
