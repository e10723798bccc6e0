"""Bad input: a clear 4xx with per-field messages, never a 500, nothing stored."""

from __future__ import annotations

import uuid

import pytest

BAD_CUSTOMERS = [
    ({"name": "X", "colour": "red"}, "colour"),  # unknown field
    ({"name": 42}, "name"),  # wrong type
    ({"name": "X", "lat": 91, "lon": 100}, "lat"),
    ({"name": "X", "lat": 10, "lon": -181}, "lon"),
    ({"name": "X", "lat": 10}, "lat"),  # one coordinate without the other
    ({"name": "X", "status": "vip"}, "status"),
    ({"name": "X", "tier": "Z"}, "tier"),
    ({"name": "x" * 201}, "name"),
    ({"name": ""}, "name"),
    ({}, "name"),  # required
    ({"name": "X", "territory_id": "not-a-uuid"}, "territory_id"),
    ({"name": "X", "visit_every_days": 0}, "visit_every_days"),
    ({"name": "X", "visit_minutes": "long"}, "visit_minutes"),
    ({"name": "X", "opening_hours": {"funday": [["08:00", "12:00"]]}}, "opening_hours"),
    ({"name": "X", "opening_hours": {"mon": [["25:00", "26:00"]]}}, "opening_hours"),
    ({"name": "X", "opening_hours": {"mon": [["12:00", "08:00"]]}}, "opening_hours"),
    ({"name": "X", "opening_hours": {"mon": "all day"}}, "opening_hours"),
    ({"name": "X", "email": "not-an-email"}, "email"),
    ({"name": "X", "country": "Vietnam"}, "country"),
    ({"name": "X", "last_visit_at": "2026-01-01T00:00:00Z"}, "last_visit_at"),  # server-derived
    ({"name": "X", "version": 7}, "version"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CUSTOMERS)
def test_bad_customer_fields_are_422_with_the_field_named(client, world, login, body, field):
    headers = login("admin@example.com")
    before = len(client.get("/api/v1/customers", headers=headers).json["items"])
    response = client.post("/api/v1/customers", json=body, headers=headers)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_failed" and error["message"]
    assert field in error["fields"], error["fields"]
    assert len(client.get("/api/v1/customers", headers=headers).json["items"]) == before


@pytest.mark.parametrize(
    ("resource", "body", "field"),
    [
        ("orders", {"lines": [{"product_id": "p", "quantity": "1"}]}, "lines"),
        ("orders", {"lines": [{"product_id": str(uuid.uuid4()), "quantity": "-1"}]}, "lines"),
        ("orders", {"lines": [{"product_id": str(uuid.uuid4()), "quantity": "1,5"}]}, "lines"),
        ("orders", {"status": "paid"}, "status"),
        ("visits", {"planned_at": "tomorrow"}, "planned_at"),
        ("visits", {"check_in_lat": 123}, "check_in_lat"),
        ("visits", {"outcome": "maybe"}, "outcome"),
        ("tasks", {"title": "", "due_at": "2026-13-01"}, "due_at"),
        ("contacts", {"name": None}, "name"),
    ],
)
def test_bad_fields_on_other_resources(client, world, login, resource, body, field):
    headers = login("rep.a@example.com")
    full = {"customer_id": str(world.records["A"]["customers"]), "title": "T", "name": "N"}
    full = {k: v for k, v in full.items() if resource != "orders" or k == "customer_id"}
    response = client.post(f"/api/v1/{resource}", json={**full, **body}, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize(
    ("resource", "body", "field"),
    [
        (
            "users",
            {"email": "x@y.io", "name": "N", "role": "king", "password": "long-enough"},
            "role",
        ),
        ("users", {"email": "x@y.io", "name": "N", "role": "rep", "password": "short"}, "password"),
        ("products", {"sku": "S", "name": "N", "unit_price": "12.345"}, "unit_price"),
        ("products", {"sku": "S", "name": "N", "unit_price": -1}, "unit_price"),
        ("products", {"sku": "S", "name": "N", "unit_price": "1", "currency": "dong"}, "currency"),
        ("territories", {"name": "T", "team_id": str(uuid.uuid4()), "color": "red"}, "color"),
        ("territories", {"name": "T", "geometry": {"type": "Point"}}, "geometry"),
    ],
)
def test_bad_fields_on_managed_resources(client, world, login, resource, body, field):
    response = client.post(f"/api/v1/{resource}", json=body, headers=login("admin@example.com"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_patch_validates_too_and_changes_nothing(client, world, login):
    headers = login("rep.a@example.com")
    url = f"/api/v1/customers/{world.records['A']['customers']}"
    response = client.patch(url, json={"lat": 200, "lon": 10, "notes": "ok"}, headers=headers)
    assert response.status_code == 422 and "lat" in response.json["error"]["fields"]
    record = client.get(url, headers=headers).json
    assert record["version"] == 1 and record["notes"] is None


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{", "application/json"),
        ('{"name": "x",}', "application/json"),
        ("\xff", "application/json"),
    ],
)
def test_malformed_json_is_400(client, world, login, data, content_type):
    response = client.post(
        "/api/v1/customers",
        data=data,
        content_type=content_type,
        headers=login("admin@example.com"),
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("body", [[], [1, 2], "text", 3, None])
def test_json_that_is_not_an_object_is_rejected(client, world, login, body):
    response = client.post("/api/v1/customers", json=body, headers=login("admin@example.com"))
    assert response.status_code in (400, 422)


@pytest.mark.parametrize("path", ["not-a-uuid", "123", "%00", "' OR 1=1 --"])
def test_malformed_ids_in_the_path_are_404(client, world, login, path):
    headers = login("admin@example.com")
    assert client.get(f"/api/v1/customers/{path}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/customers/{path}", json={}, headers=headers).status_code == 404


def test_unknown_routes_and_methods_answer_json(client, world, login):
    headers = login("admin@example.com")
    missing = client.get("/api/v1/nothing-here", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.put(f"/api/v1/customers/{world.records['A']['customers']}", headers=headers)
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"


def test_huge_bodies_are_413(client, world, login):
    body = {"name": "X", "notes": "x" * (3 * 1024 * 1024)}
    response = client.post("/api/v1/customers", json=body, headers=login("admin@example.com"))
    assert response.status_code == 413 and response.json["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers?stauts=active",  # a misspelt filter
        "/api/v1/geo/customers?overdue=true&teritory_id=x",
        "/api/v1/sync/pull?cursr=abc",
        "/api/v1/kpis?period=2026-11&team=North",
    ],
)
def test_unknown_query_parameters_are_422_with_the_parameter_named(client, world, login, path):
    """Found by fuzzing: unknown parameters were ignored, so a typo answered as if no
    filter had been given."""
    response = client.get(path, headers=login("north.manager@example.com"))
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    unknown = path.split("&")[-1].split("?")[-1].split("=")[0]
    assert unknown in str(error["fields"]), error


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "post",
            "/api/v1/auth/login",
            {"email": "a\u0000@example.com", "password": "x", "device_id": "d"},
            "email",
        ),
        ("post", "/api/v1/customers", {"name": "Shop\u0000"}, "name"),
        # A push rejects such a mutation alone: tests/sync/test_poison_mutations.py.
        ("get", "/api/v1/customers?q=a%00b", None, "q"),
    ],
)
def test_nul_characters_are_422_not_500(client, world, login, method, path, body, field):
    """Found by fuzzing on PostgreSQL, which cannot store U+0000: the login answered 500."""
    headers = login("admin@example.com")
    before = client.get("/api/v1/customers", headers=headers).json["items"]
    response = getattr(client, method)(path, json=body, headers=headers)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert field in response.json["error"]["fields"]
    assert client.get("/api/v1/customers", headers=headers).json["items"] == before


def test_a_backslash_before_u0000_is_text_not_nul(client, world, login):
    """Only a real NUL is refused: the six characters `\\u0000` are ordinary text."""
    headers = login("admin@example.com")
    created = client.post("/api/v1/customers", json={"name": "Shop \\u0000"}, headers=headers)
    assert created.status_code == 201, created.json
    assert created.json["name"] == "Shop \\u0000"
