"""Route plans through the API: planning, re-planning, hand-off, authorisation, bad input."""

from __future__ import annotations

import random
import socket
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from domain.models import Customer, RoutePlan, User, Visit
from domain.timeline import visits
from domain.times import utc_iso
from routing.matrix import GreatCircleProvider
from server.extensions import db
from tests.support.factories import add, add_user
from tests.support.fake_services import JsonHandler, serving
from tests.support.sync_calls import mutation, push

PLANS = "/api/v1/route-plans"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 25)  # a Wednesday
WEEKDAY_HOURS = {
    d: [["08:00", "11:30"], ["13:30", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}
HOME = (10.78, 106.69)


def local(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZONE)


def seconds(value: str) -> int:
    moment = local(value)
    return moment.hour * 3600 + moment.minute * 60 + moment.second


@pytest.fixture
def shops(app, world):
    """Twenty due shops in territory A (rep.a), one closed on Wednesdays, one without a location."""
    rng = random.Random(7)
    with app.app_context():
        ids = []
        for n in range(20):
            customer = add(
                db.session,
                Customer,
                name=f"Shop {n}",
                territory_id=world.territories["A"],
                status="active",
                tier="ABC"[n % 3],
                lat=round(10.76 + rng.uniform(-0.03, 0.03), 6),
                lon=round(106.68 + rng.uniform(-0.03, 0.03), 6),
                visit_minutes=20,
                opening_hours=WEEKDAY_HOURS if n % 4 else None,
            )
            ids.append(str(customer.id))
        closed = add(
            db.session,
            Customer,
            name="Closed Wednesdays",
            territory_id=world.territories["A"],
            status="active",
            lat=10.77,
            lon=106.69,
            opening_hours={"mon": [["08:00", "17:00"]]},
        )
        nowhere = add(
            db.session,
            Customer,
            name="No location",
            territory_id=world.territories["A"],
            status="active",
            address="12 Lê Lợi",
            city="Hồ Chí Minh",
        )
        db.session.commit()
        return {"ids": ids, "closed": str(closed.id), "nowhere": str(nowhere.id)}


def plan_day(client, headers, **body):
    body.setdefault("date", DAY.isoformat())
    return client.post(PLANS, json=body, headers=headers)


def assert_route_keeps_its_promises(
    plan, customers_by_id=None, lunch=(41400, 46800, 45 * 60), shift_start=8 * 3600
):
    """Shift, opening hours, lunch and the arithmetic of every leg of the timeline.

    Each step (visit or lunch break) arrives at the previous departure plus its
    travel from the previous place; the lunch is one step, matching `lunch`.
    """
    provider = GreatCircleProvider()
    shift_end = seconds(plan["shift_end_at"])
    clock = seconds(plan["start_at"])
    assert clock >= shift_start
    here = (plan["start_lat"], plan["start_lon"])
    breaks = [s for s in plan["stops"] if s["kind"] == "lunch"]
    assert len(breaks) == (plan["lunch"] is not None)
    if plan["lunch"]:
        (step,) = breaks
        lunch_at = (seconds(plan["lunch"]["start_at"]), seconds(plan["lunch"]["end_at"]))
        assert lunch[0] <= lunch_at[0] <= lunch[1]
        assert lunch_at[1] - lunch_at[0] == lunch[2] == step["service_s"]
        assert (seconds(step["arrival_at"]) + step["waiting_s"], seconds(step["departure_at"])) == (
            lunch_at
        )
        assert "customer_id" not in step
    for stop in plan["stops"]:
        assert stop["kind"] in ("visit", "lunch")
        there = (stop["lat"], stop["lon"])
        matrix = provider.matrix([here, there])
        completed = stop.get("completed", False)
        if not completed:
            assert stop["travel_s"] == matrix.seconds[0][1]
            assert stop["distance_m"] == matrix.metres[0][1]
        arrival, departure = seconds(stop["arrival_at"]), seconds(stop["departure_at"])
        start = arrival + stop["waiting_s"]
        assert departure == start + stop["service_s"]
        if not completed:
            assert arrival == clock + stop["travel_s"], stop
        assert shift_start <= start and departure <= shift_end
        if customers_by_id is not None and stop["kind"] == "visit":
            hours = customers_by_id[stop["customer_id"]]
            if hours is not None:
                windows = hours[local(stop["arrival_at"]).strftime("%a").lower()]
                opens = [
                    (int(a[:2]) * 3600 + int(a[3:]) * 60, int(b[:2]) * 3600 + int(b[3:]) * 60)
                    for a, b in windows
                ]
                assert any(a <= start <= b for a, b in opens), stop
        clock, here = departure, there
    assert seconds(plan["end_at"]) <= shift_end


def hours_of(app, ids):
    with app.app_context():
        return {
            str(c.id): c.opening_hours for c in db.session.query(Customer).all() if str(c.id) in ids
        }


def test_a_rep_plans_their_day_within_every_constraint(app, client, world, shops, login):
    headers = login("rep.a@example.com")
    response = plan_day(client, headers)
    assert response.status_code == 201, response.json
    plan = response.json
    assert plan["rep_id"] == str(world.users["rep.a"])
    assert plan["plan_date"] == DAY.isoformat()
    planned = [s["customer_id"] for s in visits(plan["stops"])]
    assert len(planned) == len(set(planned)) >= 10
    reasons = {u["customer_id"]: u["reason"] for u in plan["unassigned"]}
    assert reasons[shops["closed"]] == "closed_that_day"
    assert reasons[shops["nowhere"]] == "no_location"
    assert plan["needs_location"] == [shops["nowhere"]]
    # Every due customer is either planned or explained.
    assert set(shops["ids"]) <= set(planned) | set(reasons)
    assert_route_keeps_its_promises(plan, hours_of(app, set(planned)))
    assert plan["total_travel_s"] == sum(s["travel_s"] for s in plan["stops"]) + (
        seconds(plan["end_at"]) - seconds(plan["stops"][-1]["departure_at"])
    )
    line = plan["geometry"]
    assert line["type"] == "LineString"
    assert line["coordinates"][0] == [HOME[1], HOME[0]] == line["coordinates"][-1]
    assert len(line["coordinates"]) == len(visits(plan["stops"])) + 2

    same = plan_day(client, headers).json
    assert same["id"] == plan["id"] and same["version"] == plan["version"]  # nothing changed
    later = plan_day(client, headers, start_time="09:00").json
    assert later["id"] == plan["id"] and later["version"] == plan["version"] + 1


def test_locked_stops_come_first_in_their_order(client, shops, login):
    headers = login("rep.a@example.com")
    locked = [shops["ids"][5], shops["ids"][2]]
    plan = plan_day(client, headers, locked_customer_ids=locked).json
    assert [s["customer_id"] for s in visits(plan["stops"])[:2]] == locked
    assert [s["locked"] for s in visits(plan["stops"])[:3]] == [True, True, False]
    assert_route_keeps_its_promises(plan)


def test_explicit_customers_custom_shift_without_lunch_and_max_stops(client, shops, login):
    headers = login("rep.a@example.com")
    chosen = shops["ids"][:8]
    plan = plan_day(
        client,
        headers,
        customer_ids=chosen,
        start_time="09:00",
        end_time="16:00",
        lunch=None,
        max_stops=5,
        start={"lat": 10.75, "lon": 106.7},
    ).json
    assert len(plan["stops"]) == 5 and plan["lunch"] is None
    assert {s["kind"] for s in plan["stops"]} == {"visit"}  # no lunch, no lunch step
    assert {u["reason"] for u in plan["unassigned"]} == {"max_stops_reached"}
    assert {s["customer_id"] for s in plan["stops"]} | {
        u["customer_id"] for u in plan["unassigned"]
    } == set(chosen)
    assert (
        (plan["start_lat"], plan["start_lon"])
        == (10.75, 106.7)
        == (plan["end_lat"], plan["end_lon"])
    )
    assert local(plan["start_at"]).hour >= 9 and local(plan["shift_end_at"]).hour == 16
    assert_route_keeps_its_promises(plan, shift_start=9 * 3600)


def test_an_afternoon_shift_skips_a_lunch_it_cannot_hold(client, shops, login):
    plan = plan_day(client, login("rep.a@example.com"), start_time="13:30", end_time="17:30").json
    assert plan["lunch"] is None and len(plan["stops"]) >= 5
    assert_route_keeps_its_promises(plan, shift_start=13 * 3600 + 1800)


def test_a_shift_shorter_than_a_visit_gives_an_honest_empty_plan(client, shops, login):
    headers = login("rep.a@example.com")
    plan = plan_day(client, headers, start_time="08:00", end_time="08:10", lunch=None).json
    assert plan["stops"] == []
    reasons = {u["reason"] for u in plan["unassigned"]}
    assert "shift_too_short" in reasons and reasons <= {
        "shift_too_short",
        "closed_that_day",
        "no_location",
    }


def test_an_empty_day_is_a_plan_from_home_to_home(client, shops, login):
    plan = plan_day(client, login("rep.a@example.com"), customer_ids=[]).json
    assert plan["stops"] == [] and plan["total_travel_s"] == 0
    assert plan["geometry"]["coordinates"] == [[HOME[1], HOME[0]], [HOME[1], HOME[0]]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"date": "25/11/2026"}, 422, "validation_failed"),
        ({"date": "2026-02-30"}, 422, "validation_failed"),
        ({"start_time": "25:00"}, 422, "validation_failed"),
        ({"start_time": "17:00", "end_time": "09:00"}, 422, "validation_failed"),
        ({"start": {"lat": 95, "lon": 0}}, 422, "validation_failed"),
        ({"lunch": {"earliest": "13:00", "latest": "12:00"}}, 422, "validation_failed"),
        ({"rep_id": str(uuid.uuid4())}, 403, "forbidden"),
        ({"customer_ids": [str(uuid.uuid4())]}, 422, "validation_failed"),
        ({"customer_ids": [str(uuid.uuid4()) for _ in range(2000)]}, 422, "validation_failed"),
    ],
)
def test_bad_requests_get_clear_errors(client, shops, login, body, status, code):
    response = plan_day(client, login("rep.a@example.com"), **body)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_a_rep_without_a_start_location_is_told_so(app, client, world, login):
    with app.app_context():
        db.session.get(User, world.users["rep.a"]).home_lat = None
        db.session.get(User, world.users["rep.a"]).home_lon = None
        db.session.commit()
    headers = login("rep.a@example.com")
    response = plan_day(client, headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "no_start_location"
    assert plan_day(client, headers, start={"lat": 10.7, "lon": 106.7}).status_code == 201


def test_who_may_plan_whose_day(client, world, shops, login):
    rep_a = str(world.users["rep.a"])
    assert plan_day(client, login("rep.a2@example.com"), rep_id=rep_a).status_code == 403
    assert plan_day(client, login("south.manager@example.com"), rep_id=rep_a).status_code == 404
    assert plan_day(client, login("north.manager@example.com"), rep_id=rep_a).status_code == 201
    assert plan_day(client, login("admin@example.com"), rep_id=rep_a).status_code == 201
    unknown = plan_day(client, login("north.manager@example.com"), rep_id=str(uuid.uuid4()))
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"
    manager = login("north.manager@example.com")
    assert (
        plan_day(client, manager, rep_id=str(world.users["north.manager"])).json["error"]["code"]
        == "not_a_rep"
    )


def test_plans_are_visible_to_their_rep_and_managers_only(client, world, shops, login):
    plan = plan_day(client, login("rep.a@example.com")).json
    url = f"{PLANS}/{plan['id']}"
    for email, status in (
        ("rep.a@example.com", 200),
        ("north.manager@example.com", 200),
        ("admin@example.com", 200),
        ("rep.a2@example.com", 404),
        ("south.manager@example.com", 404),
    ):
        headers = login(email)
        assert client.get(url, headers=headers).status_code == status, email
        assert client.get(f"{url}/gpx", headers=headers).status_code == status, email
        listed = client.get(PLANS, headers=headers).json["items"]
        assert (plan["id"] in [p["id"] for p in listed]) == (status == 200), email
    assert client.delete(url, headers=login("rep.a2@example.com")).status_code == 404
    assert client.delete(url, headers=login("rep.a@example.com")).status_code == 204
    assert client.get(url, headers=login("rep.a@example.com")).status_code == 404


def test_plans_sync_to_the_reps_phone_and_cannot_be_pushed(client, world, shops, login):
    headers = login("rep.a@example.com")
    plan = plan_day(client, headers).json
    pulled = client.get("/api/v1/sync/pull", headers=headers).json["changes"]
    puts = [c["record"] for c in pulled if c["table"] == "route_plans"]
    assert [p["id"] for p in puts] == [plan["id"]] and puts[0]["stops"] == plan["stops"]
    other = client.get("/api/v1/sync/pull", headers=login("rep.a2@example.com")).json["changes"]
    assert not [c for c in other if c["table"] == "route_plans"]
    result = push(
        client,
        headers,
        mutation("route_plans", "update", plan["id"], {"stops": []}, plan["version"]),
    ).json["results"][0]
    assert result["status"] == "rejected" and result["error"]["code"] == "read_only"


def test_reoptimize_keeps_visits_made_and_plans_the_rest_from_here(
    app, client, world, shops, login
):
    headers = login("rep.a@example.com")
    plan = plan_day(client, headers).json
    first, second = visits(plan["stops"])[0], visits(plan["stops"])[1]
    with app.app_context():  # the first visit was synced as completed; the second not yet
        add(
            db.session,
            Visit,
            customer_id=uuid.UUID(first["customer_id"]),
            rep_id=world.users["rep.a"],
            status="completed",
            check_in_at=datetime.fromisoformat(first["arrival_at"].replace("Z", "+00:00")),
        )
        db.session.commit()
    at = datetime(2026, 11, 25, 11, 0, tzinfo=ZONE)
    response = client.post(
        f"{PLANS}/{plan['id']}/reoptimize",
        json={
            "lat": 10.75,
            "lon": 106.66,
            "at": utc_iso(at.astimezone(UTC)),
            "completed_customer_ids": [second["customer_id"]],
        },
        headers=headers,
    )
    assert response.status_code == 200, response.json
    again = response.json
    assert again["id"] == plan["id"]
    assert [s["customer_id"] for s in visits(again["stops"])[:2]] == [
        first["customer_id"],
        second["customer_id"],
    ]
    assert all(s["completed"] for s in visits(again["stops"])[:2])
    assert not any(s["completed"] for s in visits(again["stops"])[2:])
    rest = visits(again["stops"])[2:]
    assert rest and all(local(s["arrival_at"]) >= at for s in rest)
    assert (
        rest[0]["travel_s"]
        == GreatCircleProvider()
        .matrix([(10.75, 106.66), (rest[0]["lat"], rest[0]["lon"])])
        .seconds[0][1]
    )
    planned_before = {s["customer_id"] for s in visits(plan["stops"])}
    planned_after = {s["customer_id"] for s in visits(again["stops"])} | {
        u["customer_id"] for u in again["unassigned"]
    }
    assert planned_before <= planned_after
    bad = client.post(
        f"{PLANS}/{plan['id']}/reoptimize",
        json={"lat": 10.75, "lon": 106.66, "at": "2026-11-27T03:00:00Z"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json["error"]["code"] == "not_plan_day"


def test_the_lunch_break_is_one_step_of_the_timeline(client, shops, login):
    plan = plan_day(client, login("rep.a@example.com")).json
    assert_route_keeps_its_promises(plan)
    kinds = [s["kind"] for s in plan["stops"]]
    assert kinds.count("lunch") == 1
    at = kinds.index("lunch")
    assert 0 < at < len(kinds) - 1  # between the morning's and the afternoon's visits
    lunch, before, after = plan["stops"][at], plan["stops"][at - 1], plan["stops"][at + 1]
    assert set(lunch) == {
        "kind",
        "lat",
        "lon",
        "arrival_at",
        "departure_at",
        "waiting_s",
        "service_s",
        "travel_s",
        "distance_m",
    }
    assert (lunch["arrival_at"], lunch["departure_at"]) == (
        plan["lunch"]["start_at"],
        plan["lunch"]["end_at"],
    )
    assert lunch["service_s"] == 45 * 60
    # Taken where the rep is (after driving to the next customer when there was a drive).
    where = (lunch["lat"], lunch["lon"])
    assert where == (before["lat"], before["lon"]) or (
        lunch["travel_s"] > 0 and where == (after["lat"], after["lon"])
    )
    # The visit after it no longer waits through the lunch.
    assert after["waiting_s"] < 45 * 60
    assert plan["total_waiting_s"] == sum(s["waiting_s"] for s in plan["stops"])
    assert plan["total_service_s"] == sum(s["service_s"] for s in visits(plan["stops"]))


def test_reoptimize_after_lunch_keeps_the_lunch_among_the_visits_made(
    app, client, world, shops, login
):
    headers = login("rep.a@example.com")
    plan = plan_day(client, headers).json
    kinds = [s["kind"] for s in plan["stops"]]
    lunch = plan["stops"][kinds.index("lunch")]
    made = visits(plan["stops"][: kinds.index("lunch") + 1])
    at = datetime.fromisoformat(lunch["departure_at"].replace("Z", "+00:00")) + timedelta(minutes=5)
    again = client.post(
        f"{PLANS}/{plan['id']}/reoptimize",
        json={
            "lat": made[-1]["lat"],
            "lon": made[-1]["lon"],
            "at": utc_iso(at),
            "completed_customer_ids": [s["customer_id"] for s in made],
        },
        headers=headers,
    ).json
    kinds = [s["kind"] for s in again["stops"]]
    assert kinds.count("lunch") == 1 and kinds.index("lunch") == len(made)
    kept = again["stops"][len(made)]
    assert {k: kept[k] for k in lunch} == lunch and again["lunch"] == plan["lunch"]
    assert all(s["completed"] for s in visits(again["stops"])[: len(made)])
    assert not any(s["completed"] for s in visits(again["stops"])[len(made) :])


def test_reoptimize_before_lunch_plans_it_in_the_rest_of_the_day(client, shops, login):
    headers = login("rep.a@example.com")
    plan = plan_day(client, headers).json
    first = visits(plan["stops"])[0]
    again = client.post(
        f"{PLANS}/{plan['id']}/reoptimize",
        json={
            "lat": first["lat"],
            "lon": first["lon"],
            "at": first["departure_at"],
            "completed_customer_ids": [first["customer_id"]],
        },
        headers=headers,
    ).json
    kinds = [s["kind"] for s in again["stops"]]
    assert kinds.count("lunch") == 1 and kinds.index("lunch") > 1
    lunch = again["stops"][kinds.index("lunch")]
    assert (lunch["arrival_at"], lunch["departure_at"]) == (
        again["lunch"]["start_at"],
        again["lunch"]["end_at"],
    )


def test_plans_stored_before_lunch_was_a_step_still_work(app, client, world, shops, login):
    """A stored plan without `kind` and without a lunch step: its stops are visits."""
    headers = login("rep.a@example.com")
    plan = plan_day(client, headers).json
    old = [{k: v for k, v in s.items() if k != "kind"} for s in visits(plan["stops"])]
    with app.app_context():
        record = db.session.get(RoutePlan, uuid.UUID(plan["id"]))
        record.stops = old
        db.session.commit()
    names = [s["name"] for s in old]
    root = ET.fromstring(client.get(f"{PLANS}/{plan['id']}/gpx", headers=headers).data)
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert [p.find("g:name", ns).text for p in root.findall("g:wpt", ns)] == names
    links = client.get(f"{PLANS}/{plan['id']}/navigation", headers=headers).json
    assert links["google"] and links["apple"]
    route = client.get(
        f"/api/v1/geo/route?rep_id={world.users['rep.a']}&date={DAY.isoformat()}",
        headers=headers,
    )
    assert route.status_code == 200, route.json
    stops = [f for f in route.json["features"] if f["properties"]["kind"] == "stop"]
    assert [f["properties"]["customer_id"] for f in stops] == [s["customer_id"] for s in old]
    again = client.post(
        f"{PLANS}/{plan['id']}/reoptimize",
        json={
            "lat": old[0]["lat"],
            "lon": old[0]["lon"],
            "at": old[0]["departure_at"],
            "completed_customer_ids": [old[0]["customer_id"]],
        },
        headers=headers,
    )
    assert again.status_code == 200, again.json
    assert_route_keeps_its_promises(again.json)


def test_navigation_and_the_map_go_to_visits_only(client, world, shops, login):
    headers = login("rep.a@example.com")
    plan = plan_day(client, headers).json
    assert any(s["kind"] == "lunch" for s in plan["stops"])
    links = client.get(f"{PLANS}/{plan['id']}/navigation", headers=headers).json
    visited = []
    for link in links["google"]:
        query = parse_qs(urlsplit(link).query)
        visited += query["waypoints"][0].split("|") if "waypoints" in query else []
        visited.append(query["destination"][0])
    assert len(visited) == len(visits(plan["stops"])) + 1  # the visits, then home
    route = client.get(
        f"/api/v1/geo/route?rep_id={world.users['rep.a']}&date={DAY.isoformat()}",
        headers=headers,
    ).json
    stops = [f for f in route["features"] if f["properties"]["kind"] == "stop"]
    assert [f["properties"]["customer_id"] for f in stops] == [
        s["customer_id"] for s in visits(plan["stops"])
    ]
    assert [f["properties"]["number"] for f in stops] == list(range(1, len(stops) + 1))


def test_navigation_links_and_gpx_cover_the_stops_in_order(client, shops, login):
    headers = login("rep.a@example.com")
    plan = plan_day(client, headers).json
    links = client.get(f"{PLANS}/{plan['id']}/navigation", headers=headers).json
    coords = [f"{s['lat']:.6f},{s['lon']:.6f}" for s in visits(plan["stops"])]
    home = f"{HOME[0]:.6f},{HOME[1]:.6f}"
    visited = []
    for link in links["google"]:
        query = parse_qs(urlsplit(link).query)
        assert urlsplit(link).netloc == "www.google.com" and query["travelmode"] == ["driving"]
        visited += query.get("waypoints", [""])[0].split("|") if "waypoints" in query else []
        visited.append(query["destination"][0])
    assert parse_qs(urlsplit(links["google"][0]).query)["origin"] == [home]
    assert [c for c in visited if c] == [*coords, home]
    assert len(links["google"]) == -(-(len(coords) + 1) // 10)
    assert all(urlsplit(link).netloc == "maps.apple.com" for link in links["apple"])

    response = client.get(f"{PLANS}/{plan['id']}/gpx", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/gpx+xml"
    assert "attachment" in response.headers["Content-Disposition"]
    root = ET.fromstring(response.data)
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert root.tag == "{http://www.topografix.com/GPX/1/1}gpx" and root.get("version") == "1.1"
    points = root.findall("g:wpt", ns)
    assert [p.find("g:name", ns).text for p in points] == [s["name"] for s in visits(plan["stops"])]
    assert len(root.findall("g:rte/g:rtept", ns)) == len(visits(plan["stops"])) + 2


@pytest.fixture
def two_rep_territory(app, world, shops):
    """rep.a3 shares territory A with rep.a; rep.a3 also owns a shop outside it."""
    with app.app_context():
        from domain.models import Territory

        rep = add_user(
            db.session, "rep.a3", "rep", world.teams["North"], home_lat=10.74, home_lon=106.66
        )
        territory = db.session.get(Territory, world.territories["A"])
        territory.reps = [*territory.reps, rep]
        db.session.commit()
        return str(rep.id)


def test_team_plan_shares_the_territory_and_balances_the_work(
    client, world, two_rep_territory, login
):
    headers = login("north.manager@example.com")
    response = client.post(
        f"{PLANS}/team",
        json={"territory_id": str(world.territories["A"]), "date": DAY.isoformat()},
        headers=headers,
    )
    assert response.status_code == 201, response.json
    result = response.json
    assert {p["rep_id"] for p in result["plans"]} == {str(world.users["rep.a"]), two_rep_territory}
    planned = [s["customer_id"] for p in result["plans"] for s in visits(p["stops"])]
    assert len(planned) == len(set(planned)) >= 18
    assert all(len(visits(p["stops"])) >= 8 for p in result["plans"])
    assert result["balance"]["stops_max"] - result["balance"]["stops_min"] <= 1
    assert result["balance"]["imbalance"] < 1.6
    for p in result["plans"]:
        assert_route_keeps_its_promises(p)
    for email, status in (("rep.a@example.com", 403), ("south.manager@example.com", 404)):
        denied = client.post(
            f"{PLANS}/team",
            json={"territory_id": str(world.territories["A"]), "date": DAY.isoformat()},
            headers=login(email),
        )
        assert denied.status_code == status


def test_week_plan_sees_each_customer_once_by_its_due_date(app, client, world, shops, login):
    monday = date(2026, 11, 23)
    with app.app_context():  # seen 5 days before Monday, every 7 days: due on Wednesday
        shop = db.session.get(Customer, uuid.UUID(shops["ids"][0]))
        shop.last_visit_at = datetime(2026, 11, 18, 9, tzinfo=UTC)
        shop.visit_every_days = 7
        db.session.commit()
    response = client.post(
        f"{PLANS}/week", json={"week_start": monday.isoformat()}, headers=login("rep.a@example.com")
    )
    assert response.status_code == 201, response.json
    result = response.json
    assert [p["plan_date"] for p in result["plans"]] == [
        (monday + timedelta(days=k)).isoformat() for k in range(5)
    ]
    seen = {s["customer_id"]: p["plan_date"] for p in result["plans"] for s in visits(p["stops"])}
    stops = [s["customer_id"] for p in result["plans"] for s in visits(p["stops"])]
    assert len(stops) == len(set(stops))
    assert seen[shops["ids"][0]] <= "2026-11-25"
    assert shops["closed"] in seen and seen[shops["closed"]] == "2026-11-23"  # open Mondays only
    assert set(shops["ids"]) <= set(seen)
    counts = [len(visits(p["stops"])) for p in result["plans"]]
    assert max(counts) - min(counts) <= 1
    for p in result["plans"]:
        assert_route_keeps_its_promises(p)


class FakeNominatim(JsonHandler):
    """Nominatim's /search JSON, knowing one address."""

    queries: list[str] = []

    def answer(self):
        query = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
        FakeNominatim.queries.append(query)
        if "Lê Lợi" not in query:
            return []
        return [{"lat": "10.7731", "lon": "106.7012", "display_name": "12 Lê Lợi", "place_id": 1}]


@pytest.fixture
def nominatim(app, monkeypatch):
    FakeNominatim.queries = []
    with serving(FakeNominatim) as url:
        monkeypatch.setitem(app.config, "ROUTING_GEOCODER_URL", url)
        yield FakeNominatim


def test_addresses_are_geocoded_and_a_reps_correction_is_approved_by_a_manager(
    app, client, shops, nominatim, login
):
    headers = login("rep.a@example.com")
    # The rep corrected the location offline, before the geocoder ran; it syncs after.
    corrected_at = datetime.now(UTC) - timedelta(hours=1)
    plan = plan_day(client, headers).json
    assert nominatim.queries == ["12 Lê Lợi, Hồ Chí Minh"]
    assert shops["nowhere"] in [s["customer_id"] for s in visits(plan["stops"])] or shops[
        "nowhere"
    ] in [u["customer_id"] for u in plan["unassigned"] if u["reason"] != "no_location"]
    assert plan["needs_location"] == []
    customer = client.get(f"/api/v1/customers/{shops['nowhere']}", headers=headers).json
    assert (customer["lat"], customer["lon"]) == (10.7731, 106.7012)
    result = push(
        client,
        headers,
        mutation(
            "customers",
            "update",
            shops["nowhere"],
            {"lat": 10.7701, "lon": 106.7033},
            1,
            changed_at=corrected_at,
        ),
    ).json["results"][0]
    assert result["status"] == "merged", result  # a rep's location waits for a manager
    customer = client.get(f"/api/v1/customers/{shops['nowhere']}", headers=headers).json
    assert (customer["proposed_lat"], customer["proposed_lon"]) == (10.7701, 106.7033)
    manager = login("north.manager@example.com")
    approve = f"/api/v1/location-reviews/{shops['nowhere']}/approve"
    assert client.post(approve, headers=manager).status_code == 200
    customer = client.get(f"/api/v1/customers/{shops['nowhere']}", headers=headers).json
    assert (customer["lat"], customer["lon"]) == (10.7701, 106.7033)
    plan_day(client, headers)
    assert len(nominatim.queries) == 1  # located customers are never geocoded again


def test_no_geocoder_means_needs_location(client, shops, login):
    plan = plan_day(client, login("rep.a@example.com")).json
    assert plan["needs_location"] == [shops["nowhere"]]


def test_the_geocode_command_locates_what_it_can_and_reports_the_rest(app, shops, nominatim):
    from server.cli import geocode

    with app.app_context():
        add(db.session, Customer, name="Unknown street", address="1 Nowhere", status="active")
        db.session.commit()
    result = app.test_cli_runner().invoke(geocode, ["--delay", "0"])
    assert result.exit_code == 0, result.output
    assert "Located 1, not found 1 of 2." in result.output
    with app.app_context():
        located = db.session.get(Customer, uuid.UUID(shops["nowhere"]))
        assert (located.lat, located.lon) == (10.7731, 106.7012)
        assert located.field_meta["lat"]["d"] == "geocoder"


class FakeOsrm(JsonHandler):
    """OSRM's `table` for any points: 10 minutes and 4 km between any two."""

    def answer(self):
        count = len(urlsplit(self.path).path.rsplit("/", 1)[-1].split(";"))
        grid = [[0 if i == j else 600 for j in range(count)] for i in range(count)]
        metres = [[v * 6.667 for v in row] for row in grid]
        return {"code": "Ok", "durations": grid, "distances": metres}


def test_road_times_come_from_osrm_when_configured(app, client, shops, login, monkeypatch):
    with serving(FakeOsrm) as url:
        monkeypatch.setitem(app.config, "ROUTING_OSRM_URL", url)
        plan = plan_day(client, login("rep.a@example.com"), customer_ids=shops["ids"][:6]).json
    assert plan["travel_provider"] == "osrm"
    assert [s["travel_s"] for s in visits(plan["stops"])] == [600] * 6
    assert plan["total_travel_s"] == 7 * 600 and plan["total_distance_m"] == 7 * 4000


def test_an_unreachable_osrm_is_a_503_and_stores_nothing(app, client, shops, login, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "ROUTING_OSRM_URL", f"http://127.0.0.1:{port}")
    headers = login("rep.a@example.com")
    response = plan_day(client, headers)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "routing_unavailable"
    assert client.get(PLANS, headers=headers).json["items"] == []
