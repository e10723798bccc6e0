"""Territory polygons: GeoJSON checked before it is stored.

A territory polygon decides which customers (and so which phones) a rep gets,
so a broken one must be refused with a message a manager can act on, not
stored and silently matched against nothing. The structural checks (types,
ranges, closed rings) run first in plain Python so that their messages can
name the ring and position; shapely 2 then checks the geometry itself
(self-intersections, holes outside their shell) via `explain_validity`.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

#: Enough for a hand-drawn district or a simplified administrative boundary;
#: more makes every point-in-polygon test and every sync of the territory slow.
MAX_VERTICES = 10_000
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")


class GeometryError(ValueError):
    """The value is not an acceptable territory polygon; `str()` is the human message."""


def _is_number(value: Any) -> bool:
    # bool is an int in Python, but `true` is not a coordinate.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_position(position: Any, where: str) -> list[float]:
    if not isinstance(position, list | tuple) or len(position) not in (2, 3):
        raise GeometryError(f"{where}: a position is [longitude, latitude].")
    if not all(_is_number(v) and math.isfinite(v) for v in position):
        raise GeometryError(f"{where}: coordinates must be numbers, got {list(position)!r}.")
    lon, lat = float(position[0]), float(position[1])
    if not -180 <= lon <= 180:
        raise GeometryError(
            f"{where}: longitude {lon:g} is outside -180..180 (positions are [lon, lat])."
        )
    if not -90 <= lat <= 90:
        raise GeometryError(
            f"{where}: latitude {lat:g} is outside -90..90 (positions are [lon, lat])."
        )
    return [float(v) for v in position]


def _check_rings(rings: Any, where: str) -> int:
    """Check one polygon's rings (shell, then holes); return its vertex count."""
    if not isinstance(rings, list) or not rings:
        raise GeometryError(f"{where}: give a list of rings (the outline, then any holes).")
    vertices = 0
    for r, ring in enumerate(rings, 1):
        ring_where = f"{where}, ring {r}" if len(rings) > 1 else where
        if not isinstance(ring, list):
            raise GeometryError(f"{ring_where}: a ring is a list of [lon, lat] positions.")
        if len(ring) < 4:
            raise GeometryError(
                f"{ring_where}: a ring needs at least 4 positions (3 corners and the first "
                f"again to close it), got {len(ring)}."
            )
        positions = [
            _check_position(p, f"{ring_where}, position {i}") for i, p in enumerate(ring, 1)
        ]
        if positions[0][:2] != positions[-1][:2]:
            raise GeometryError(
                f"{ring_where} is not closed: the last position must repeat the first "
                f"({positions[0][:2]})."
            )
        vertices += len(ring)
    return vertices


def validate_polygon(value: Any) -> dict[str, Any]:
    """Return `value` if it is a usable GeoJSON Polygon or MultiPolygon, else raise.

    Usable: rings closed and of ≥ 4 positions, numbers only, WGS84 ranges, at
    most `MAX_VERTICES` positions, valid in the OGC sense (no self-intersection)
    and with a non-zero area.
    """
    if not isinstance(value, dict):
        raise GeometryError("Must be a GeoJSON object (Polygon or MultiPolygon).")
    kind, coordinates = value.get("type"), value.get("coordinates")
    if kind not in GEOMETRY_TYPES:
        raise GeometryError(f"Must be a GeoJSON Polygon or MultiPolygon, not {kind!r}.")
    if not isinstance(coordinates, list) or not coordinates:
        raise GeometryError("GeoJSON coordinates must be a non-empty list.")
    if kind == "Polygon":
        vertices = _check_rings(coordinates, "The polygon")
    else:
        vertices = sum(
            _check_rings(rings, f"Polygon {p}") for p, rings in enumerate(coordinates, 1)
        )
    if vertices > MAX_VERTICES:
        raise GeometryError(
            f"Too many positions ({vertices}); simplify the outline to at most {MAX_VERTICES}."
        )
    geometry = to_shape(value)
    if not geometry.is_valid:
        raise GeometryError(f"The outline is not a valid polygon: {explain_validity(geometry)}.")
    if geometry.area <= 0:
        raise GeometryError("The polygon has no area (all its corners lie on one line).")
    return value


def to_shape(value: dict[str, Any]) -> BaseGeometry:
    """A stored GeoJSON geometry as a shapely geometry (lon = x, lat = y)."""
    return shape(value)


def to_geojson(geometry: BaseGeometry, *, digits: int = 6) -> dict[str, Any]:
    """A shapely Polygon/MultiPolygon as GeoJSON with plain lists, rounded to `digits`.

    Rounding goes through `shapely.set_precision`, which keeps the result valid
    (plain rounding of coordinates can make a thin polygon cross itself).
    """
    snapped = shapely.set_precision(geometry, 10.0**-digits)
    mapped = shapely.geometry.mapping(snapped)

    def lists(item: Any) -> Any:
        if isinstance(item, list | tuple):
            return [lists(i) for i in item]
        return round(float(item), digits)

    return {"type": mapped["type"], "coordinates": lists(mapped["coordinates"])}
