"""Check-ins cannot be forged (issue 15, point 5).

Customer coordinates are master data: a rep's new location for a customer is a
proposal a manager approves or rejects; a customer a rep creates keeps the rep's
position but is unapproved; a check-in is verified only against an approved
location, and a phone's mock-location signal or a weak fix makes it unverified.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.support.sync_calls import mutation, results

HOME = (10.8000, 106.6500)  # the rep's home, about 6 km from customer A (10.77, 106.70)
REVIEWS = "/api/v1/location-reviews"


def check_in(client, headers, customer_id, at, **extra):
    body = {
        "customer_id": str(customer_id),
        "status": "completed",
        "check_in_at": datetime.now(UTC).isoformat(),
        "check_in_lat": at[0],
        "check_in_lon": at[1],
        "check_in_accuracy_m": 8.0,
        **extra,
    }
    response = client.post("/api/v1/visits", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def rep(login):
    return login("rep.a@example.com")


@pytest.fixture
def manager(login):
    return login("north.manager@example.com")


def test_a_reps_move_is_a_proposal_and_cannot_verify_their_check_in(client, world, rep):
    customer_id = world.records["A"]["customers"]
    url = f"/api/v1/customers/{customer_id}"
    moved = client.patch(url, json={"lat": HOME[0], "lon": HOME[1]}, headers=rep)
    assert moved.status_code == 200
    assert (moved.json["lat"], moved.json["lon"]) == (10.77, 106.70)
    assert (moved.json["proposed_lat"], moved.json["proposed_lon"]) == HOME
    assert moved.json["proposed_by"] == str(world.users["rep.a"])
    assert moved.json["proposed_at"] is not None
    visit = check_in(client, rep, customer_id, HOME)
    assert visit["location_status"] == "out_of_range"
    assert visit["check_in_distance_m"] > 5000


def test_a_prospect_created_at_home_is_unverified_until_a_manager_approves(
    client, world, rep, manager
):
    created = client.post(
        "/api/v1/customers",
        json={
            "name": "Prospect at home",
            "territory_id": str(world.territories["A"]),
            "lat": HOME[0],
            "lon": HOME[1],
        },
        headers=rep,
    )
    assert created.status_code == 201
    assert created.json["location_approved"] is False
    customer_id = created.json["id"]
    before = check_in(client, rep, customer_id, HOME)
    assert before["check_in_distance_m"] == 0
    assert before["location_status"] == "unverified"

    waiting = client.get(REVIEWS, headers=manager).json["items"]
    assert customer_id in [c["id"] for c in waiting]
    approved = client.post(f"{REVIEWS}/{customer_id}/approve", headers=manager)
    assert approved.status_code == 200
    assert approved.json["location_approved"] is True
    assert (approved.json["lat"], approved.json["lon"]) == HOME

    # Evidence is judged when it is recorded: the earlier check-in stays unverified.
    again = client.get(f"/api/v1/visits/{before['id']}", headers=rep).json
    assert again["location_status"] == "unverified"
    after = check_in(client, rep, customer_id, HOME)
    assert after["location_status"] == "verified"


def test_a_manager_approves_a_proposed_move_and_the_history_says_who(client, world, rep, manager):
    customer_id = world.records["A"]["customers"]
    client.patch(
        f"/api/v1/customers/{customer_id}", json={"lat": 10.7705, "lon": 106.7005}, headers=rep
    )
    approved = client.post(f"{REVIEWS}/{customer_id}/approve", headers=manager).json
    assert (approved["lat"], approved["lon"]) == (10.7705, 106.7005)
    assert approved["proposed_lat"] is None and approved["proposed_by"] is None
    history = client.get(f"/api/v1/customers/{customer_id}/history", headers=manager).json
    approval, proposal = history["items"][:2]
    assert approval["user_id"] == str(world.users["north.manager"])
    assert {c["field"] for c in approval["changes"]} >= {"lat", "lon", "proposed_lat"}
    assert proposal["user_id"] == str(world.users["rep.a"])
    assert {c["field"] for c in proposal["changes"]} >= {"proposed_lat", "proposed_by"}
    visit = check_in(client, rep, customer_id, (10.7705, 106.7005))
    assert visit["location_status"] == "verified"


def test_a_manager_rejects_a_proposal_and_the_customer_stays(client, world, rep, manager):
    customer_id = world.records["A"]["customers"]
    client.patch(
        f"/api/v1/customers/{customer_id}", json={"lat": HOME[0], "lon": HOME[1]}, headers=rep
    )
    rejected = client.post(f"{REVIEWS}/{customer_id}/reject", headers=manager)
    assert rejected.status_code == 200
    assert (rejected.json["lat"], rejected.json["lon"]) == (10.77, 106.70)
    assert rejected.json["proposed_lat"] is None
    twice = client.post(f"{REVIEWS}/{customer_id}/reject", headers=manager)
    assert twice.status_code == 409
    assert twice.json["error"]["code"] == "nothing_to_review"


def test_only_managers_of_the_customer_decide(client, world, rep, login):
    customer_id = world.records["A"]["customers"]
    client.patch(
        f"/api/v1/customers/{customer_id}", json={"lat": HOME[0], "lon": HOME[1]}, headers=rep
    )
    assert client.post(f"{REVIEWS}/{customer_id}/approve", headers=rep).status_code == 403
    south = login("south.manager@example.com")
    assert client.post(f"{REVIEWS}/{customer_id}/approve", headers=south).status_code == 404
    assert client.get(REVIEWS, headers=south).json["items"] == []
    mine = client.get(REVIEWS, headers=rep).json["items"]
    assert [c["id"] for c in mine] == [str(customer_id)]
    other_rep = login("rep.a2@example.com")
    assert client.get(REVIEWS, headers=other_rep).json["items"] == []


def test_a_managers_move_is_approved_at_once(client, world, manager):
    customer_id = world.records["A"]["customers"]
    moved = client.patch(
        f"/api/v1/customers/{customer_id}", json={"lat": 10.78, "lon": 106.71}, headers=manager
    ).json
    assert (moved["lat"], moved["lon"], moved["location_approved"]) == (10.78, 106.71, True)
    assert client.get(REVIEWS, headers=manager).json["items"] == []


def test_a_pushed_move_is_merged_with_the_reason_and_nothing_else_is_lost(client, world, rep):
    customer_id = world.records["A"]["customers"]
    [result] = results(
        client,
        rep,
        mutation(
            "customers",
            "update",
            customer_id,
            {"lat": HOME[0], "lon": HOME[1], "phone": "+84 28 1234"},
            base_version=1,
        ),
    )
    assert result["status"] == "merged"
    reasons = {c["field"]: c for c in result["conflicts"]}
    assert set(reasons) == {"lat", "lon"}
    assert reasons["lat"]["kept"] == "server" and "approval" in reasons["lat"]["reason"]
    assert result["record"]["phone"] == "+84 28 1234"
    assert result["record"]["proposed_lat"] == HOME[0]


def test_clients_cannot_set_the_approval_or_a_proposal_themselves(client, world, rep):
    customer_id = world.records["A"]["customers"]
    for field, value in (("location_approved", True), ("proposed_lat", 1.0)):
        response = client.patch(
            f"/api/v1/customers/{customer_id}", json={field: value}, headers=rep
        )
        assert response.status_code == 422
    [result] = results(
        client,
        rep,
        mutation(
            "customers",
            "create",
            uuid.uuid4(),
            {
                "name": "Forged",
                "territory_id": str(world.territories["A"]),
                "lat": 1.0,
                "lon": 2.0,
                "location_approved": True,
            },
        ),
    )
    assert result["status"] == "rejected"


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"check_in_mocked": True}, "unverified"),
        ({"check_in_accuracy_m": 900.0}, "unverified"),
        ({"check_in_mocked": False}, "verified"),
    ],
)
def test_weak_evidence_is_unverified_and_kept_for_managers(
    client, world, rep, manager, extra, status
):
    visit = check_in(client, rep, world.records["A"]["customers"], (10.77, 106.70), **extra)
    assert visit["location_status"] == status
    seen = client.get(f"/api/v1/visits/{visit['id']}", headers=manager).json
    for field, value in extra.items():
        assert seen[field] == value
