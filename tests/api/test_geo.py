"""GeoJSON for the manager map: valid, scoped, filtered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.models import Customer, Visit
from domain.timeline import visits
from server.extensions import db
from tests.support.factories import add

GEO = "/api/v1/geo"


def assert_feature_collection(body):
    assert body["type"] == "FeatureCollection"
    for feature in body["features"]:
        assert feature["type"] == "Feature" and "properties" in feature
        geometry = feature["geometry"]
        if geometry is not None:
            assert geometry["type"] in ("Point", "LineString", "Polygon")
            if geometry["type"] == "Point":
                lon, lat = geometry["coordinates"]
                assert -180 <= lon <= 180 and -90 <= lat <= 90


@pytest.fixture
def mapped(app, world):
    """Territory A gets a polygon; A's customer was seen yesterday, a located lead and an
    unlocated shop are added to A; rep.a checked in at A's customer."""
    now = datetime.now(UTC)
    with app.app_context():
        from domain.models import Territory

        territory = db.session.get(Territory, world.territories["A"])
        territory.geometry = {
            "type": "Polygon",
            "coordinates": [
                [[106.6, 10.7], [106.8, 10.7], [106.8, 10.9], [106.6, 10.9], [106.6, 10.7]]
            ],
        }
        seen = db.session.get(Customer, world.records["A"]["customers"])
        seen.last_visit_at = now - timedelta(days=1)
        far = add(
            db.session,
            Customer,
            name="Far shop",
            territory_id=world.territories["A"],
            status="active",
            lat=11.5,
            lon=107.5,
        )
        nowhere = add(
            db.session,
            Customer,
            name="Nowhere",
            territory_id=world.territories["A"],
            status="active",
        )
        add(
            db.session,
            Visit,
            customer_id=seen.id,
            rep_id=world.users["rep.a"],
            status="completed",
            check_in_at=now - timedelta(hours=2),
            check_in_lat=10.7701,
            check_in_lon=106.7001,
            check_in_accuracy_m=10,
        )
        db.session.commit()
        return {"seen": str(seen.id), "far": str(far.id), "nowhere": str(nowhere.id)}


def ids(body):
    return {f["id"] for f in body["features"]}


def test_territories_are_polygons_with_reps_and_counts_in_scope(client, world, mapped, login):
    body = client.get(f"{GEO}/territories", headers=login("rep.a@example.com")).json
    assert_feature_collection(body)
    assert ids(body) == {str(world.territories["A"])}
    [feature] = body["features"]
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["customers"] == 3
    assert feature["properties"]["rep_ids"] == [str(world.users["rep.a"])]
    manager = client.get(f"{GEO}/territories", headers=login("north.manager@example.com")).json
    assert ids(manager) == {str(world.territories["A"]), str(world.territories["A2"])}


def test_customers_carry_overdue_and_needs_location_and_respect_scope(client, world, mapped, login):
    headers = login("rep.a@example.com")
    body = client.get(f"{GEO}/customers", headers=headers).json
    assert_feature_collection(body)
    by_id = {f["id"]: f for f in body["features"]}
    assert set(by_id) == {mapped["seen"], mapped["far"], mapped["nowhere"]}
    assert by_id[mapped["seen"]]["properties"]["overdue"] is False
    assert by_id[mapped["far"]]["properties"]["overdue"] is True  # never visited
    assert by_id[mapped["nowhere"]]["geometry"] is None
    assert by_id[mapped["nowhere"]]["properties"]["needs_location"] is True
    assert by_id[mapped["seen"]]["geometry"]["coordinates"] == [106.70, 10.77]
    other = client.get(f"{GEO}/customers", headers=login("south.manager@example.com")).json
    assert ids(other) == {str(world.records["B"]["customers"])}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("overdue=true", {"far", "nowhere"}),
        ("overdue=false", {"seen"}),
        ("bbox=106.6,10.7,106.8,10.9", {"seen"}),
        ("bbox=107,11,108,12", {"far"}),
        ("status=lead", set()),
    ],
)
def test_customer_filters(client, mapped, login, query, expected):
    body = client.get(f"{GEO}/customers?{query}", headers=login("rep.a@example.com")).json
    assert ids(body) == {mapped[k] for k in expected}


def test_customer_filters_by_rep_and_territory_for_a_manager(client, world, mapped, login):
    headers = login("north.manager@example.com")
    by_rep = client.get(f"{GEO}/customers?rep_id={world.users['rep.a2']}", headers=headers).json
    assert ids(by_rep) == {str(world.records["A2"]["customers"])}
    by_territory = client.get(
        f"{GEO}/customers?territory_id={world.territories['A']}", headers=headers
    ).json
    assert ids(by_territory) == {mapped["seen"], mapped["far"], mapped["nowhere"]}


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "10,0,5,1", "0,0,200,1"])
def test_a_bad_bounding_box_is_a_clear_422(client, mapped, login, bbox):
    response = client.get(f"{GEO}/customers?bbox={bbox}", headers=login("rep.a@example.com"))
    assert response.status_code == 422
    assert "bbox" in response.json["error"]["fields"]


def test_rep_positions_come_from_the_latest_verified_check_in(client, world, mapped, login):
    body = client.get(f"{GEO}/reps", headers=login("north.manager@example.com")).json
    assert_feature_collection(body)
    [rep] = body["features"]
    assert rep["id"] == str(world.users["rep.a"])
    assert rep["geometry"]["coordinates"] == [106.7001, 10.7701]
    assert rep["properties"]["customer_id"] == mapped["seen"]
    south = client.get(f"{GEO}/reps", headers=login("south.manager@example.com")).json
    assert south["features"] == []


def test_a_route_is_a_line_with_numbered_stops(client, world, mapped, login):
    headers = login("rep.a@example.com")
    plan = client.post(
        "/api/v1/route-plans",
        json={"date": "2026-11-25", "customer_ids": [mapped["seen"], mapped["far"]]},
        headers=headers,
    ).json
    url = f"{GEO}/route?rep_id={world.users['rep.a']}&date=2026-11-25"
    body = client.get(url, headers=login("north.manager@example.com")).json
    assert_feature_collection(body)
    line, *stops = body["features"]
    assert line["geometry"] == plan["geometry"] and line["properties"]["kind"] == "route"
    planned = visits(plan["stops"])  # the lunch step is no numbered stop
    assert [s["properties"]["number"] for s in stops] == list(range(1, len(planned) + 1))
    assert [s["properties"]["customer_id"] for s in stops] == [s["customer_id"] for s in planned]
    assert client.get(url, headers=login("south.manager@example.com")).status_code == 404
    missing = f"{GEO}/route?rep_id={uuid.uuid4()}&date=2026-11-25"
    assert client.get(missing, headers=headers).status_code == 404
