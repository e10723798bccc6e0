"""Polygons as territories carry them: one valid square, and the invalid shapes refused.

`BAD`: name -> (GeoJSON, words the refusal must contain).
"""

from __future__ import annotations

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
