"""Territory polygons are validated before they are stored (domain.geometry)."""

from __future__ import annotations

import pytest

from tests.support.polygons import BAD, SQUARE, polygon

# -- through the REST resource -------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BAD))
def test_territory_post_refuses_bad_polygons_with_422(client, world, login, case):
    response = client.post(
        "/api/v1/territories",
        json={"name": "Drawn", "team_id": str(world.teams["North"]), "geometry": BAD[case][0]},
        headers=login("north.manager@example.com"),
    )
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"]["geometry"] and isinstance(error["fields"]["geometry"][0], str)


def test_territory_patch_refuses_a_bow_tie_and_accepts_a_square(client, world, login):
    headers = login("north.manager@example.com")
    url = f"/api/v1/territories/{world.territories['A']}"
    bad = client.patch(url, json={"geometry": BAD["bow-tie"][0]}, headers=headers)
    assert bad.status_code == 422
    assert "Self-intersection" in bad.json["error"]["fields"]["geometry"][0]
    good = client.patch(url, json={"geometry": polygon(SQUARE)}, headers=headers)
    assert good.status_code == 200, good.json
    assert good.json["geometry"] == polygon(SQUARE)


def test_territory_post_accepts_a_good_polygon_and_null(client, world, login):
    headers = login("north.manager@example.com")
    team = str(world.teams["North"])
    created = client.post(
        "/api/v1/territories",
        json={"name": "Drawn", "team_id": team, "geometry": polygon(SQUARE)},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    assert created.json["geometry"] == polygon(SQUARE)
    empty = client.post(
        "/api/v1/territories",
        json={"name": "Empty", "team_id": team, "geometry": None},
        headers=headers,
    )
    assert empty.status_code == 201, empty.json
