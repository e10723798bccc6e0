"""Hand a planned route over to a car navigation app.

The solver decides the visit order; turn-by-turn driving is left to the apps
reps already use. These pure functions turn a route (origin, stops in visit
order, optional destination) into Google Maps / Apple Maps links, or a GPX 1.1
file for apps that import one (OsmAnd, Organic Maps, Garmin...).

Links carry coordinates only, never names: shop names would otherwise end up
in third-party logs and browser histories.
"""

from __future__ import annotations

import math
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

#: Google's Maps URLs docs: "up to three waypoints supported on mobile
#: browsers, and a maximum of nine waypoints supported otherwise" (besides
#: origin and destination). Nine holds when the link opens in the Google Maps
#: app; callers that know the link will render in a phone browser pass
#: `max_waypoints=GOOGLE_MOBILE_BROWSER_MAX_WAYPOINTS`.
GOOGLE_MAX_WAYPOINTS = 9
GOOGLE_MOBILE_BROWSER_MAX_WAYPOINTS = 3
#: Our cap on destinations (`daddr`) per Apple Maps link, not a limit Apple
#: documents: long multi-stop links are kept short enough to open reliably,
#: and routes with more stops are split into chained legs.
APPLE_MAX_DESTINATIONS = 14

GOOGLE_DIR_URL = "https://www.google.com/maps/dir/"
APPLE_MAPS_URL = "https://maps.apple.com/"
GPX_NS = "http://www.topografix.com/GPX/1/1"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_GPX_SCHEMA_LOCATION = f"{GPX_NS} {GPX_NS}/gpx.xsd"

#: Characters XML 1.0 cannot represent at all (not even escaped); ElementTree
#: would write them as-is and produce a file no parser accepts.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _check_coordinate(value: object, label: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{label} must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{label} must be finite, got {number}")
    if not -limit <= number <= limit:
        raise ValueError(f"{label} {number} is out of range [{-limit:g}, {limit:g}]")
    return number


@dataclass(frozen=True)
class Waypoint:
    """A point to drive to, in WGS84 degrees.

    Validated on creation so a bad coordinate fails where it enters, not as a
    link that silently opens the wrong place.
    """

    lat: float
    lon: float
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "lat", _check_coordinate(self.lat, "latitude", 90))
        object.__setattr__(self, "lon", _check_coordinate(self.lon, "longitude", 180))
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string, got {type(self.name).__name__}")


def _targets(
    origin: Waypoint, stops: Sequence[Waypoint], destination: Waypoint | None
) -> list[Waypoint]:
    """Every point after the origin, in order; rejects routes that go nowhere."""
    if not isinstance(origin, Waypoint):
        raise TypeError(f"origin must be a Waypoint, got {type(origin).__name__}")
    if destination is not None and not isinstance(destination, Waypoint):
        raise TypeError(f"destination must be a Waypoint, got {type(destination).__name__}")
    stops = list(stops)
    for index, stop in enumerate(stops):
        if not isinstance(stop, Waypoint):
            raise TypeError(f"stops[{index}] must be a Waypoint, got {type(stop).__name__}")
    targets = stops if destination is None else [*stops, destination]
    if not targets:
        raise ValueError("nothing to navigate to: no stops and no destination")
    return targets


def _round(value: float) -> float:
    # `+ 0.0` turns -0.0 (e.g. -1e-9 rounded) into 0.0, so no "-0.000000".
    return round(value, 6) + 0.0


def _coords(point: Waypoint) -> str:
    """`LAT,LON` with 6 decimals (~0.1 m): precise enough, stable for tests and caches."""
    return f"{_round(point.lat):.6f},{_round(point.lon):.6f}"


def _legs(
    origin: Waypoint, targets: list[Waypoint], per_leg: int
) -> list[tuple[Waypoint, list[Waypoint]]]:
    """Split targets into chunks of `per_leg`; each leg starts where the previous ended."""
    legs = []
    start = origin
    for i in range(0, len(targets), per_leg):
        chunk = targets[i : i + per_leg]
        legs.append((start, chunk))
        start = chunk[-1]
    return legs


def google_maps_links(
    origin: Waypoint,
    stops: Sequence[Waypoint],
    destination: Waypoint | None = None,
    *,
    max_waypoints: int = GOOGLE_MAX_WAYPOINTS,
) -> list[str]:
    """Google Maps driving-directions links for the route, one per leg.

    Google ignores waypoints past its cap (silently), so longer routes become
    several links the rep opens in turn, each starting where the previous one
    ended; every stop is in exactly one of them. Coordinates only: names are
    never put in the URL (privacy).
    """
    if isinstance(max_waypoints, bool) or not isinstance(max_waypoints, int):
        raise ValueError("max_waypoints must be an integer")
    if not 0 <= max_waypoints <= GOOGLE_MAX_WAYPOINTS:
        raise ValueError(f"max_waypoints must be in [0, {GOOGLE_MAX_WAYPOINTS}]")
    targets = _targets(origin, stops, destination)
    links = []
    for start, chunk in _legs(origin, targets, max_waypoints + 1):
        params = [("api", "1"), ("origin", _coords(start)), ("destination", _coords(chunk[-1]))]
        if len(chunk) > 1:
            params.append(("waypoints", "|".join(_coords(p) for p in chunk[:-1])))
        params.append(("travelmode", "driving"))
        links.append(f"{GOOGLE_DIR_URL}?{urllib.parse.urlencode(params)}")
    return links


def apple_maps_links(
    origin: Waypoint, stops: Sequence[Waypoint], destination: Waypoint | None = None
) -> list[str]:
    """Apple Maps driving-directions links (repeated `daddr`), one per leg.

    Legs hold at most `APPLE_MAX_DESTINATIONS` destinations and chain like the
    Google links. Coordinates only: names are never put in the URL (privacy).
    """
    targets = _targets(origin, stops, destination)
    links = []
    for start, chunk in _legs(origin, targets, APPLE_MAX_DESTINATIONS):
        params = [("saddr", _coords(start))]
        params += [("daddr", _coords(p)) for p in chunk]
        params.append(("dirflg", "d"))
        links.append(f"{APPLE_MAPS_URL}?{urllib.parse.urlencode(params)}")
    return links


def _gpx_time(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive time is ambiguous across reps' time zones; refuse to guess.
        raise ValueError(f"time {value.isoformat()} has no time zone")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gpx_point(
    parent: ET.Element, tag: str, point: Waypoint, name: str, time: datetime | None
) -> None:
    lon = _round(point.lon)
    if lon == 180.0:  # GPX longitudeType is [-180, 180): same meridian, other label.
        lon = -180.0
    element = ET.SubElement(parent, tag, lat=f"{_round(point.lat):.6f}", lon=f"{lon:.6f}")
    # wptType requires <time> before <name>.
    if time is not None:
        ET.SubElement(element, "time").text = _gpx_time(time)
    if name:
        ET.SubElement(element, "name").text = _XML_INVALID.sub("", name)


def gpx(
    origin: Waypoint,
    stops: Sequence[Waypoint],
    destination: Waypoint | None = None,
    *,
    name: str,
    times: Sequence[datetime | None] | None = None,
) -> str:
    """The route as a GPX 1.1 document (UTF-8 text with XML declaration).

    One `<wpt>` per stop (named, with its planned time if given, so apps list
    the visits) and one `<rte>` through origin, stops and destination so apps
    can navigate it. Unlike the links, names are included: the file stays on
    the rep's device. Unnamed stops are called "Stop N". `times`, if given,
    has one entry (or None) per stop; they must be time-zone aware.
    """
    _targets(origin, stops, destination)
    stops = list(stops)
    if times is None:
        times = [None] * len(stops)
    elif len(times) != len(stops):
        raise ValueError(f"times has {len(times)} entries for {len(stops)} stops")
    stop_names = [stop.name or f"Stop {i}" for i, stop in enumerate(stops, start=1)]

    # Namespaces are written as plain attributes: ElementTree's
    # `default_namespace` rejects the unqualified attributes GPX uses, and
    # `register_namespace` would change global state for the whole process.
    root = ET.Element(
        "gpx",
        {
            "xmlns": GPX_NS,
            "xmlns:xsi": _XSI_NS,
            "xsi:schemaLocation": _GPX_SCHEMA_LOCATION,
            "version": "1.1",
            "creator": "fieldsync",
        },
    )
    # GPX 1.1 element order: metadata, wpt*, rte*, trk*.
    metadata = ET.SubElement(root, "metadata")
    ET.SubElement(metadata, "name").text = _XML_INVALID.sub("", name)
    for stop, stop_name, time in zip(stops, stop_names, times, strict=True):
        _gpx_point(root, "wpt", stop, stop_name, time)
    rte = ET.SubElement(root, "rte")
    ET.SubElement(rte, "name").text = _XML_INVALID.sub("", name)
    _gpx_point(rte, "rtept", origin, origin.name, None)
    for stop, stop_name, time in zip(stops, stop_names, times, strict=True):
        _gpx_point(rte, "rtept", stop, stop_name, time)
    if destination is not None:
        _gpx_point(rte, "rtept", destination, destination.name, None)

    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
