"""Assigning customers to territories by polygon, and bulk reassignment."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from domain.models import ChangeLogEntry, Customer, Territory
from server.extensions import db
from tests.support.factories import add
from tests.support.sync_calls import ids_of, pull_all

PREVIEW = "/api/v1/territory-assignments/preview"
APPLY = "/api/v1/territory-assignments"
REASSIGN = "/api/v1/customers/reassign"


def box(west, south, east, north):
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def drawn(app, world):
    """North: A is the west half, A2 the east half of a box; the world's customers sit on
    the shared edge (lon 106.70). Extra customers are placed to move, stay or fall outside."""
    with app.app_context():
        session = db.session
        session.get(Territory, world.territories["A"]).geometry = box(106.6, 10.7, 106.7, 10.9)
        session.get(Territory, world.territories["A2"]).geometry = box(106.7, 10.7, 106.8, 10.9)
        session.get(Territory, world.territories["B"]).geometry = box(106.6, 10.7, 106.8, 10.9)

        def shop(name, territory, lat, lon, owner=None):
            return add(
                session,
                Customer,
                name=name,
                status="active",
                lat=lat,
                lon=lon,
                territory_id=world.territories[territory] if territory else None,
                owner_id=world.users[owner] if owner else None,
            ).id

        ids = {
            "west_in_a2": shop("West shop in A2", "A2", 10.8, 106.65),
            "east_in_a": shop("East shop in A", "A", 10.8, 106.75),
            "stays": shop("Stays in A", "A", 10.8, 106.65),
            "far": shop("Far shop", "A", 11.5, 107.5),
            "unlocated": shop("Unlocated", "A2", None, None),
            "unplaced": shop("Owned, no territory", None, 10.85, 106.75, owner="rep.a"),
        }
        session.commit()
        return ids


def territory_of(app, customer_id):
    with app.app_context():
        return db.session.get(Customer, customer_id).territory_id


def test_preview_lists_moves_outside_and_ties_by_smallest_id(client, world, login, drawn):
    headers = login("north.manager@example.com")
    response = client.post(PREVIEW, json={"team_id": str(world.teams["North"])}, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    a, a2 = str(world.territories["A"]), str(world.territories["A2"])
    edge_winner = min(a, a2)
    moves = {
        m["customer_id"]: (m["from_territory_id"], m["to_territory_id"]) for m in body["moves"]
    }
    expected = {
        str(drawn["west_in_a2"]): (a2, a),
        str(drawn["east_in_a"]): (a, a2),
        str(drawn["unplaced"]): (None, a2),
    }
    # The world's two customers lie on the shared edge: both go to the smaller id.
    for key in ("A", "A2"):
        home = str(world.territories[key])
        if home != edge_winner:
            expected[str(world.records[key]["customers"])] = (home, edge_winner)
    assert moves == expected
    assert {o["customer_id"] for o in body["outside"]} == {str(drawn["far"])}
    assert body["no_location"] == 1
    assert body["unchanged"] == 2  # "Stays" and the edge customer already in the winner
    assert len(body["digest"]) == 32
    assert all(m["name"] for m in body["moves"])


def test_applied_result_equals_the_preview(app, client, world, login, drawn):
    headers = login("north.manager@example.com")
    team = {"team_id": str(world.teams["North"])}
    preview = client.post(PREVIEW, json=team, headers=headers).json
    applied = client.post(APPLY, json={**team, "digest": preview["digest"]}, headers=headers)
    assert applied.status_code == 200, applied.json
    body = applied.json
    assert body["applied"] == len(preview["moves"]) == 4
    assert {k: v for k, v in body.items() if k != "applied"} == preview
    for move in preview["moves"]:
        assert str(territory_of(app, uuid.UUID(move["customer_id"]))) == move["to_territory_id"]
    assert territory_of(app, drawn["far"]) == world.territories["A"]
    # Applied: nothing left to move, and the change log knows where each move came from.
    again = client.post(PREVIEW, json=team, headers=headers).json
    assert again["moves"] == [] and again["unchanged"] == 2 + 4
    with app.app_context():
        entry = db.session.scalars(
            select(ChangeLogEntry).where(
                ChangeLogEntry.record_id == drawn["east_in_a"], ChangeLogEntry.kind == "move"
            )
        ).one()
        assert entry.prev_territory_id == world.territories["A"]


def test_apply_with_an_outdated_digest_is_a_409_and_changes_nothing(
    app, client, world, login, drawn
):
    headers = login("north.manager@example.com")
    team = {"team_id": str(world.teams["North"])}
    preview = client.post(PREVIEW, json=team, headers=headers).json
    moved = client.patch(
        f"/api/v1/customers/{drawn['stays']}", json={"lat": 10.8, "lon": 106.75}, headers=headers
    )
    assert moved.status_code == 200
    refused = client.post(APPLY, json={**team, "digest": preview["digest"]}, headers=headers)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "preview_outdated"
    assert territory_of(app, drawn["east_in_a"]) == world.territories["A"]
    # Without a digest the current preview is applied.
    applied = client.post(APPLY, json=team, headers=headers)
    assert applied.status_code == 200 and applied.json["applied"] == 5


@pytest.mark.parametrize(
    "path, body",
    [
        (PREVIEW, {"team_id": "{team}"}),
        (APPLY, {"team_id": "{team}"}),
        (REASSIGN, {"customer_ids": ["{customer}"], "territory_id": "{territory}"}),
        ("/api/v1/territory-balancer/proposals", {"team_id": "{team}"}),
        (
            "/api/v1/territory-balancer/apply",
            {"team_id": "{team}", "territories": [{"geometry": None, "customer_ids": []}]},
        ),
    ],
)
def test_reps_get_403(client, world, login, drawn, path, body):
    values = {
        "{team}": str(world.teams["North"]),
        "{customer}": str(world.records["A"]["customers"]),
        "{territory}": str(world.territories["A2"]),
    }

    def fill(item):
        if isinstance(item, dict):
            return {k: fill(v) for k, v in item.items()}
        if isinstance(item, list):
            return [fill(v) for v in item]
        return values.get(item, item)

    response = client.post(path, json=fill(body), headers=login("rep.a@example.com"))
    assert response.status_code == 403, response.json
    assert response.json["error"]["code"] == "forbidden"
    assert (
        territory_of(client.application, world.records["A"]["customers"])
        == (world.territories["A"])
    )


def test_another_teams_manager_gets_404_and_the_admin_any_team(client, world, login, drawn):
    team = {"team_id": str(world.teams["North"])}
    for path in (PREVIEW, APPLY, "/api/v1/territory-balancer/proposals"):
        response = client.post(path, json=team, headers=login("south.manager@example.com"))
        assert response.status_code == 404, (path, response.json)
        assert response.json["error"]["code"] == "not_found"
    unknown = client.post(
        PREVIEW, json={"team_id": str(uuid.uuid4())}, headers=login("admin@example.com")
    )
    assert unknown.status_code == 404
    admin = client.post(PREVIEW, json=team, headers=login("admin@example.com"))
    assert admin.status_code == 200 and len(admin.json["moves"]) == 4


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"team_id": "not-a-uuid"},
        {"team_id": None},
        {"team_id": "00000000-0000-0000-0000-000000000000", "digest": "x" * 200},
    ],
)
def test_bad_bodies_are_422(client, world, login, body):
    for path in (PREVIEW, APPLY):
        response = client.post(path, json=body, headers=login("north.manager@example.com"))
        assert response.status_code == 422, response.json
        assert response.json["error"]["code"] == "validation_failed"


def test_bulk_reassign_moves_all_or_nothing(app, client, world, login, drawn):
    headers = login("north.manager@example.com")
    a2 = str(world.territories["A2"])
    north = [str(drawn[k]) for k in ("stays", "far", "east_in_a")]
    done = client.post(
        REASSIGN, json={"customer_ids": [*north, north[0]], "territory_id": a2}, headers=headers
    )
    assert done.status_code == 200, done.json
    assert done.json == {"updated": 3, "customer_ids": north}
    assert all(str(territory_of(app, uuid.UUID(c))) == a2 for c in north)
    # Again: nothing changes, nothing is counted.
    again = client.post(REASSIGN, json={"customer_ids": north, "territory_id": a2}, headers=headers)
    assert again.json == {"updated": 0, "customer_ids": []}
    # Owner only, and owner cleared.
    owner = client.post(
        REASSIGN,
        json={"customer_ids": north[:2], "owner_id": str(world.users["rep.a2"])},
        headers=headers,
    )
    assert owner.status_code == 200 and owner.json["updated"] == 2
    cleared = client.post(
        REASSIGN, json={"customer_ids": north[:1], "owner_id": None}, headers=headers
    )
    assert cleared.status_code == 200 and cleared.json["updated"] == 1

    # One invisible customer (team South): 404 naming none, and nothing moved.
    south_customer = str(world.records["B"]["customers"])
    a = str(world.territories["A"])
    refused = client.post(
        REASSIGN,
        json={"customer_ids": [*north, south_customer], "territory_id": a},
        headers=headers,
    )
    assert refused.status_code == 404
    assert south_customer not in refused.json["error"]["message"]
    assert all(str(territory_of(app, uuid.UUID(c))) == a2 for c in north)
    # A territory of another team: 422 on territory_id.
    foreign = client.post(
        REASSIGN,
        json={"customer_ids": north, "territory_id": str(world.territories["B"])},
        headers=headers,
    )
    assert foreign.status_code == 422
    assert "territory_id" in foreign.json["error"]["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {"customer_ids": []},
        {"customer_ids": ["00000000-0000-0000-0000-000000000001"]},
        {"customer_ids": [str(uuid.uuid4()) for _ in range(1001)], "owner_id": None},
        {"customer_ids": ["nope"], "territory_id": "00000000-0000-0000-0000-000000000001"},
        {"customer_ids": "x", "owner_id": None},
    ],
)
def test_bad_reassign_bodies_are_422(client, world, login, body):
    response = client.post(REASSIGN, json=body, headers=login("north.manager@example.com"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"


def test_a_rep_who_held_a_customer_gets_remove_after_a_bulk_move(client, world, login):
    rep_a, rep_a2 = login("rep.a@example.com"), login("rep.a2@example.com")
    _, cursor_a, _ = pull_all(client, rep_a)
    _, cursor_a2, _ = pull_all(client, rep_a2)
    customer = str(world.records["A"]["customers"])
    moved = client.post(
        REASSIGN,
        json={"customer_ids": [customer], "territory_id": str(world.territories["A2"])},
        headers=login("north.manager@example.com"),
    )
    assert moved.status_code == 200 and moved.json["updated"] == 1
    lost, _, _ = pull_all(client, rep_a, cursor_a)
    assert ids_of(lost, "customers", "remove") == {customer}
    assert ids_of(lost, "visits", "remove") == {str(world.records["A"]["visits"])}
    gained, _, _ = pull_all(client, rep_a2, cursor_a2)
    assert customer in ids_of(gained, "customers")
