"""Privacy between colleagues (issue 15, point 6): a rep never receives a colleague's
home through REST, and rep positions are never shown at customers the caller cannot see.
"""

from __future__ import annotations

from datetime import UTC, datetime

HOME = ("home_lat", "home_lon")


def test_a_rep_does_not_receive_a_colleagues_home_through_rest(client, world, login):
    rep = login("rep.a@example.com")
    colleague = client.get(f"/api/v1/users/{world.users['rep.a2']}", headers=rep)
    assert colleague.status_code == 200
    assert not set(HOME) & colleague.json.keys()
    listed = {u["id"]: u for u in client.get("/api/v1/users", headers=rep).json["items"]}
    assert not set(HOME) & listed[str(world.users["rep.a2"])].keys()
    assert listed[str(world.users["rep.a"])]["home_lat"] == 10.78  # their own
    manager = login("north.manager@example.com")
    seen = client.get(f"/api/v1/users/{world.users['rep.a2']}", headers=manager).json
    assert (seen["home_lat"], seen["home_lon"]) == (10.78, 106.69)


def test_rep_positions_only_at_customers_the_caller_sees(client, world, login):
    colleague = login("rep.a2@example.com")
    visit = client.post(
        "/api/v1/visits",
        json={
            "customer_id": str(world.records["A2"]["customers"]),
            "status": "completed",
            "check_in_at": datetime.now(UTC).isoformat(),
            "check_in_lat": 10.77,
            "check_in_lon": 106.70,
        },
        headers=colleague,
    ).json
    assert visit["location_status"] == "verified"

    def shown(email):
        body = client.get("/api/v1/geo/reps", headers=login(email)).json
        return {f["id"] for f in body["features"]}

    assert str(world.users["rep.a2"]) in shown("north.manager@example.com")
    assert str(world.users["rep.a2"]) in shown("rep.a2@example.com")
    assert str(world.users["rep.a2"]) not in shown("rep.a@example.com")  # A2 is not theirs
