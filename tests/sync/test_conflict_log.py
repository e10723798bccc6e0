"""The conflict log stays inside scopes, restores only what its author could write, and
one device cannot flood it."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from sync import settings
from tests.support.sync_calls import PUSH, mutation, results


def _entries(client, headers) -> list[dict]:
    response = client.get("/api/v1/conflicts", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


@pytest.fixture
def budget():
    kept = settings.current()

    def use(per_push: int, per_day: int) -> None:
        settings.configure(
            replace(kept, conflict_log_per_push=per_push, conflict_log_per_day=per_day)
        )

    yield use
    settings.configure(kept)


def test_a_refused_write_outside_the_authors_scope_is_shown_only_around_its_author(
    client, world, login
):
    """rep.b (South) writes to customer A (North's): refused, kept under rep.b, and not
    shown to North, who see the customer but not rep.b."""
    customer_a = str(world.records["A"]["customers"])
    rep_b = login("rep.b@example.com")
    [refused] = results(
        client,
        rep_b,
        mutation("customers", "update", customer_a, {"notes": "not mine"}, 1),
        mutation("contacts", "create", uuid.uuid4(), {"customer_id": customer_a, "name": "X"}),
    )[:1]
    assert refused["status"] == "rejected" and refused["error"]["code"] == "forbidden"
    seen = {
        who: _entries(client, login(f"{who}@example.com", device_id="viewer"))
        for who in ("rep.b", "south.manager", "admin", "rep.a", "north.manager")
    }
    assert len(seen["rep.b"]) == len(seen["south.manager"]) == len(seen["admin"]) == 2
    assert seen["rep.a"] == seen["north.manager"] == []
    assert all(e["customer_id"] is None for e in seen["rep.b"])  # never attached to A


def test_a_restore_needs_the_values_author_to_be_allowed_too(client, world, login):
    customer_a = str(world.records["A"]["customers"])
    rep_b = login("rep.b@example.com")
    results(client, rep_b, mutation("customers", "update", customer_a, {"notes": "not mine"}, 1))
    admin = login("admin@example.com")
    [entry] = _entries(client, admin)
    restored = client.post(f"/api/v1/conflicts/{entry['id']}/restore", headers=admin)
    assert restored.status_code == 403, restored.json
    assert restored.json["error"]["code"] == "author_not_allowed"
    south = login("south.manager@example.com")
    assert client.post(f"/api/v1/conflicts/{entry['id']}/restore", headers=south).status_code == 404
    notes = client.get(f"/api/v1/customers/{customer_a}", headers=admin).json["notes"]
    assert notes != "not mine"


def test_one_device_adds_a_bounded_number_of_entries(client, world, login, budget):
    budget(per_push=3, per_day=5)
    rep_a = login("rep.a@example.com")
    customer = str(world.records["A"]["customers"])
    bad = [mutation("customers", "update", customer, {"tier": "Z"}, 1) for _ in range(4)]
    first = results(client, rep_a, *bad)
    assert [r.get("logged", True) for r in first] == [True, True, True, False]
    assert all(r["status"] == "rejected" for r in first)  # answered, whatever the budget
    again = [mutation("customers", "update", customer, {"tier": "Z"}, 1) for _ in range(4)]
    second = results(client, rep_a, *again)
    assert [r.get("logged", True) for r in second] == [True, True, False, False]  # 5 a day
    assert len(_entries(client, rep_a)) == 5
    other_device = login("rep.a@example.com", device_id="tablet")
    assert results(client, other_device, bad[0] | {"id": str(uuid.uuid4())})[0].get("logged", True)


def test_a_push_of_a_signed_out_session_is_kept_as_such(client, world, login):
    headers = login("rep.a@example.com")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    customer = str(world.records["A"]["customers"])
    body = {"mutations": [mutation("customers", "update", customer, {"notes": "late"}, 1)]}
    assert client.post(PUSH, json=body, headers=headers).status_code == 401
    [entry] = _entries(client, login("rep.a@example.com", device_id="new"))
    assert entry["code"] == "session_ended" and entry["lost_values"] == {"notes": "late"}


def test_values_that_cannot_be_stored_are_kept_readable(client, world, login):
    customer = str(world.records["A"]["customers"])
    rep_a = login("rep.a@example.com")
    weird = {"tier": "Z", "notes": "a\x00b", "visit_minutes": float("inf")}
    [result] = results(client, rep_a, mutation("customers", "update", customer, weird, 1))
    assert result["status"] == "rejected"
    [entry] = _entries(client, rep_a)
    assert entry["lost_values"]["notes"] == "a\ufffdb"
