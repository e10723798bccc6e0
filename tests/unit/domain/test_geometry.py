"""Territory polygons: refused with a human message when invalid, kept unchanged when valid."""

from __future__ import annotations

import pytest

from domain.geometry import MAX_VERTICES, GeometryError, to_geojson, to_shape, validate_polygon
from tests.support.polygons import BAD, SQUARE, polygon


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
