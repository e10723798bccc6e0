"""The territory balancer: plain-data units, the demo data, and the API."""

from __future__ import annotations

import random
import uuid

import pytest
import shapely
from shapely.geometry import shape

from domain.models import Customer
from server.extensions import db
from tests.support.factories import add

PROPOSALS = "/api/v1/territory-balancer/proposals"
APPLY = "/api/v1/territory-balancer/apply"
PREVIEW = "/api/v1/territory-assignments/preview"


# -- plain data ----------------------------------------------------------------------


# -- the demo data -------------------------------------------------------------------


# -- the API on a small world ----------------------------------------------------------


@pytest.fixture
def shops(app, world):
    """60 located shops and one without coordinates spread over North's two territories."""
    rng = random.Random(11)
    with app.app_context():
        for i in range(60):
            add(
                db.session,
                Customer,
                name=f"Shop {i}",
                status="active",
                territory_id=world.territories["A" if i % 2 else "A2"],
                lat=rng.uniform(10.72, 10.86),
                lon=rng.uniform(106.62, 106.78),
                visit_every_days=rng.choice((7, 14, 30)),
                visit_minutes=rng.choice((15, 30)),
            )
        add(db.session, Customer, name="No location", territory_id=world.territories["A"])
        db.session.commit()
    return world


def test_proposal_shape(client, shops, login):
    team = str(shops.teams["North"])
    response = client.post(
        PROPOSALS, json={"team_id": team}, headers=login("north.manager@example.com")
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["k"] == 2
    assert set(body["current"]) == {"imbalance", "compactness", "territories"}
    assert {t["territory_id"] for t in body["current"]["territories"]} == {
        str(shops.territories["A"]),
        str(shops.territories["A2"]),
    }
    for t in body["current"]["territories"]:
        assert set(t) == {
            "territory_id",
            "name",
            "customers",
            "workload_minutes",
            "compactness",
            "mean_distance_km",
        }
    proposal = body["proposal"]
    assert set(proposal) == {"imbalance", "compactness", "seconds", "territories"}
    assert [t["index"] for t in proposal["territories"]] == [0, 1]
    total = sum(t["customers"] for t in proposal["territories"])
    assert total == sum(t["customers"] for t in body["current"]["territories"]) == 63
    for t in proposal["territories"]:
        assert t["geometry"]["type"] == "Polygon" and shape(t["geometry"]).is_valid
        assert len(t["customer_ids"]) == t["customers"]
    k3 = client.post(
        PROPOSALS, json={"team_id": team, "k": 3}, headers=login("north.manager@example.com")
    )
    assert k3.status_code == 200 and len(k3.json["proposal"]["territories"]) == 3


@pytest.mark.parametrize("k", [1, 51, "two", None])
def test_bad_k_is_422(client, shops, login, k):
    response = client.post(
        PROPOSALS,
        json={"team_id": str(shops.teams["North"]), "k": k},
        headers=login("north.manager@example.com"),
    )
    assert response.status_code == 422
    assert response.json["error"]["fields"]["k"]


def test_k_larger_than_the_located_customers_is_422(client, world, login):
    response = client.post(
        PROPOSALS,
        json={"team_id": str(world.teams["South"]), "k": 5},
        headers=login("south.manager@example.com"),
    )
    assert response.status_code == 422
    assert "cannot fill 5" in response.json["error"]["fields"]["k"][0]


def _proposal(client, shops, headers):
    body = client.post(PROPOSALS, json={"team_id": str(shops.teams["North"])}, headers=headers).json
    return body["proposal"]["territories"]


def test_apply_reuses_and_creates_territories_and_moves_customers(app, client, shops, login):
    headers = login("north.manager@example.com")
    proposed = _proposal(client, shops, headers)
    a = str(shops.territories["A"])
    body = {
        "team_id": str(shops.teams["North"]),
        "territories": [
            {**proposed[0], "territory_id": a, "name": "West"},
            {**proposed[1], "name": "East"},
        ],
    }
    applied = client.post(APPLY, json=body, headers=headers)
    assert applied.status_code == 200, applied.json
    result = applied.json["territories"]
    assert [(t["name"], t["created"]) for t in result] == [("West", False), ("East", True)]
    assert result[0]["territory_id"] == a
    new_id = uuid.UUID(result[1]["territory_id"])
    with app.app_context():
        for territory_id, part in ((uuid.UUID(a), proposed[0]), (new_id, proposed[1])):
            for customer_id in part["customer_ids"]:
                assert db.session.get(Customer, uuid.UUID(customer_id)).territory_id == territory_id
    listed = client.get(f"/api/v1/territories/{new_id}", headers=headers).json
    assert listed["geometry"] == proposed[1]["geometry"] and listed["name"] == "East"
    # The old A2 keeps its (null) polygon and loses its customers.
    preview = client.post(
        PREVIEW, json={"team_id": str(shops.teams["North"])}, headers=headers
    ).json
    assert preview["moves"] == []


def test_apply_refuses_bad_proposals_without_writing(app, client, shops, login):
    headers = login("north.manager@example.com")
    proposed = _proposal(client, shops, headers)
    team = str(shops.teams["North"])
    first, second = proposed
    duplicate = {**second, "customer_ids": [*second["customer_ids"], first["customer_ids"][0]]}
    missing = {**second, "customer_ids": second["customer_ids"][1:]}
    foreign = {
        **second,
        "customer_ids": [*second["customer_ids"], str(shops.records["B"]["customers"])],
    }
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    cases = [
        ([first, duplicate], "territories"),
        ([first, missing], "customer_ids"),
        ([first, foreign], "territories"),
        ([{**first, "territory_id": str(shops.territories["B"])}, second], "territories"),
        (
            [
                {**first, "territory_id": str(shops.territories["A"])},
                {**second, "territory_id": str(shops.territories["A"])},
            ],
            "territories",
        ),
        ([{**first, "geometry": bow_tie}, second], "territories"),
        ([], "territories"),
    ]
    with app.app_context():
        before = {c.id: c.territory_id for c in db.session.query(Customer)}
    for territories, field in cases:
        response = client.post(
            APPLY, json={"team_id": team, "territories": territories}, headers=headers
        )
        assert response.status_code == 422, response.json
        assert field in response.json["error"]["fields"], response.json
    with app.app_context():
        assert {c.id: c.territory_id for c in db.session.query(Customer)} == before
    other = client.post(
        APPLY,
        json={"team_id": team, "territories": proposed},
        headers=login("south.manager@example.com"),
    )
    assert other.status_code == 404


def test_polygons_of_a_proposal_pass_the_territory_validation(client, shops, login):
    from domain.geometry import validate_polygon

    for part in _proposal(client, shops, login("north.manager@example.com")):
        assert validate_polygon(part["geometry"]) == part["geometry"]
        assert shapely.is_valid(shape(part["geometry"]))
