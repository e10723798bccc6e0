"""Work belongs to whoever did it (issue 15, point 4).

A rep's visits and orders are theirs: a rep cannot credit work to a colleague,
re-attribute a colleague's visit or order, or change or delete it. A manager
may, within their teams, and the record's history shows who did.
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.sync_calls import PUSH, mutation


@pytest.fixture
def colleague_visit(client, world, login):
    """A visit at customer A (rep.a's territory) done by rep.a2, entered by their manager."""
    manager = login("north.manager@example.com")
    response = client.post(
        "/api/v1/visits",
        json={
            "customer_id": str(world.records["A"]["customers"]),
            "rep_id": str(world.users["rep.a2"]),
            "status": "completed",
            "notes": "rep.a2 was here",
        },
        headers=manager,
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize("table", ["visits", "orders"])
def test_a_rep_cannot_credit_work_to_a_colleague(client, world, login, table):
    rep = login("rep.a@example.com")
    body = {
        "customer_id": str(world.records["A"]["customers"]),
        "rep_id": str(world.users["rep.a2"]),
    }
    response = client.post(f"/api/v1/{table}", json=body, headers=rep)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_your_work"
    del body["rep_id"]
    mine = client.post(f"/api/v1/{table}", json=body, headers=rep)
    assert mine.status_code == 201
    assert mine.json["rep_id"] == str(world.users["rep.a"])


@pytest.mark.parametrize("table", ["visits", "orders"])
def test_a_rep_cannot_reattribute_their_own_work(client, world, login, table):
    rep = login("rep.a@example.com")
    url = f"/api/v1/{table}/{world.records['A'][table]}"
    response = client.patch(url, json={"rep_id": str(world.users["rep.a2"])}, headers=rep)
    assert response.status_code == 403
    assert client.get(url, headers=rep).json["rep_id"] == str(world.users["rep.a"])


@pytest.mark.parametrize(
    ("verb", "body"),
    [
        ("patch", {"rep_id": None}),  # replaced by rep.a's own id below
        ("patch", {"notes": "not what happened"}),
        ("delete", None),
    ],
)
def test_a_rep_cannot_change_or_delete_a_colleagues_visit(
    client, world, login, colleague_visit, verb, body
):
    rep = login("rep.a@example.com")
    url = f"/api/v1/visits/{colleague_visit['id']}"
    assert client.get(url, headers=rep).status_code == 200  # visible: same customer
    if verb == "patch":
        body = {k: v or str(world.users["rep.a"]) for k, v in body.items()}
        response = client.patch(url, json=body, headers=rep)
    else:
        response = client.delete(url, headers=rep)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_your_work"
    after = client.get(url, headers=rep).json
    assert after["rep_id"] == str(world.users["rep.a2"])
    assert after["notes"] == "rep.a2 was here"
    assert after["deleted_at"] is None


def test_a_push_crediting_a_colleague_is_rejected_alone(client, world, login):
    rep = login("rep.a@example.com")
    customer = str(world.records["A"]["customers"])
    forged = mutation(
        "visits",
        "create",
        uuid.uuid4(),
        {"customer_id": customer, "rep_id": str(world.users["rep.a2"]), "status": "completed"},
    )
    honest = mutation("visits", "create", uuid.uuid4(), {"customer_id": customer})
    response = client.post(PUSH, json={"mutations": [forged, honest]}, headers=rep)
    assert response.status_code == 200
    forged_result, honest_result = response.json["results"]
    assert forged_result["status"] == "rejected"
    assert forged_result["error"]["code"] == "not_your_work"
    assert honest_result["status"] == "applied"
    assert honest_result["record"]["rep_id"] == str(world.users["rep.a"])


def test_a_manager_reattributes_within_the_team_and_the_history_says_so(client, world, login):
    manager = login("north.manager@example.com")
    url = f"/api/v1/visits/{world.records['A']['visits']}"
    response = client.patch(url, json={"rep_id": str(world.users["rep.a2"])}, headers=manager)
    assert response.status_code == 200
    assert response.json["rep_id"] == str(world.users["rep.a2"])
    newest = client.get(f"{url}/history", headers=manager).json["items"][0]
    assert newest["user_id"] == str(world.users["north.manager"])
    change = {c["field"]: c for c in newest["changes"]}["rep_id"]
    assert change["old"] == str(world.users["rep.a"])
    assert change["new"] == str(world.users["rep.a2"])


def test_a_manager_cannot_credit_someone_outside_their_teams(client, world, login):
    manager = login("north.manager@example.com")
    url = f"/api/v1/orders/{world.records['A']['orders']}"
    response = client.patch(url, json={"rep_id": str(world.users["rep.b"])}, headers=manager)
    assert response.status_code == 422
    assert "rep_id" in response.json["error"]["fields"]


def test_the_refusal_speaks_the_reps_language(client, world, login):
    rep = {**login("rep.a@example.com"), "Accept-Language": "vi"}
    url = f"/api/v1/visits/{world.records['A']['visits']}"
    response = client.patch(url, json={"rep_id": str(world.users["rep.a2"])}, headers=rep)
    assert response.json["error"]["code"] == "not_your_work"
    assert response.json["error"]["message"].startswith("Đây là công việc của đồng nghiệp")
