"""Territory polygons are validated before they are stored (domain.geometry)."""

from __future__ import annotations

import pytest

SQUARE = [[106.6, 10.7], [106.8, 10.7], [106.8, 10.9], [106.6, 10.9], [106.6, 10.7]]


def polygon(*rings):
    return {"type": "Polygon", "coordinates": list(rings)}


BAD = {
    "open ring": (polygon([*SQUARE[:-1], [106.6, 10.8]]), "not closed"),
    "bow-tie": (
        polygon([[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]),
        "Self-intersection",
    ),
    "lat 95": (polygon([[0, 0], [1, 0], [1, 95], [0, 0]]), "latitude 95"),
    "lon 200": (polygon([[0, 0], [200, 0], [1, 1], [0, 0]]), "longitude 200"),
    "too few points": (polygon([[0, 0], [1, 0], [0, 0]]), "at least 4 positions"),
    "strings as coordinates": (
        polygon([["106.6", "10.7"], [106.8, 10.7], [106.8, 10.9], ["106.6", "10.7"]]),
        "must be numbers",
    ),
    "booleans as coordinates": (
        polygon([[True, 0], [1, 0], [1, 1], [True, 0]]),
        "must be numbers",
    ),
    "wrong type": ({"type": "Point", "coordinates": [106.7, 10.8]}, "Polygon or MultiPolygon"),
    "no coordinates": ({"type": "Polygon"}, "non-empty list"),
    "flat": (polygon([[0, 0], [1, 1], [2, 2], [0, 0]]), ""),
    "hole outside shell": (
        polygon(SQUARE, [[0, 0], [1, 0], [1, 1], [0, 0]]),
        "not a valid polygon",
    ),
    "empty multipolygon part": ({"type": "MultiPolygon", "coordinates": [[]]}, "Polygon 1"),
    "position of one number": (polygon([[0], [1, 0], [1, 1], [0]]), "[longitude, latitude]"),
}


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
