"""Territory polygons: refused with a human message when invalid, kept unchanged when valid."""

from __future__ import annotations

import pytest

from domain.geometry import MAX_VERTICES, GeometryError, to_geojson, to_shape, validate_polygon

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


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_polygons_are_refused_with_a_human_message(case):
    value, words = BAD[case]
    with pytest.raises(GeometryError) as caught:
        validate_polygon(value)
    assert words in str(caught.value)


def test_good_polygons_pass_unchanged():
    square = polygon(SQUARE)
    assert validate_polygon(square) is square
    multi = {
        "type": "MultiPolygon",
        "coordinates": [[SQUARE], [[[107, 11], [107.1, 11], [107.1, 11.1], [107, 11]]]],
    }
    assert validate_polygon(multi) is multi
    with_hole = polygon(SQUARE, [[106.65, 10.75], [106.7, 10.75], [106.7, 10.8], [106.65, 10.75]])
    assert validate_polygon(with_hole) is with_hole


def test_too_many_vertices_are_refused():
    import math

    n = MAX_VERTICES + 1
    ring = [
        [106.7 + 0.1 * math.cos(2 * math.pi * i / n), 10.8 + 0.1 * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    with pytest.raises(GeometryError, match="Too many positions"):
        validate_polygon(polygon([*ring, ring[0]]))


def test_geojson_round_trip_stays_valid():
    back = to_geojson(to_shape(polygon(SQUARE)))
    assert back["type"] == "Polygon"
    assert validate_polygon(back) == back
