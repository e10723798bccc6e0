"""Hand-off to navigation apps: link contents, leg splitting, GPX structure, validation."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import pytest

from routing.navigation import (
    APPLE_MAX_DESTINATIONS,
    GOOGLE_MAX_WAYPOINTS,
    GOOGLE_MOBILE_BROWSER_MAX_WAYPOINTS,
    Waypoint,
    apple_maps_links,
    google_maps_links,
    gpx,
)

NS = "http://www.topografix.com/GPX/1/1"
G = f"{{{NS}}}"

HOME = Waypoint(10.7769, 106.7009, "Home")
DEPOT = Waypoint(10.8231, 106.6297, "Depot")


def stops(n: int) -> list[Waypoint]:
    return [Waypoint(10.0 + i / 100, 106.0 + i / 1000, f"Shop {i}") for i in range(n)]


def coords(point: Waypoint) -> str:
    return f"{point.lat:.6f},{point.lon:.6f}"


def query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    return parse_qs(parts.query, strict_parsing=True)


def google_leg(url: str) -> tuple[str, list[str], str]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.google.com", "/maps/dir/")
    q = query(url)
    assert q["api"] == ["1"] and q["travelmode"] == ["driving"]
    waypoints = q["waypoints"][0].split("|") if "waypoints" in q else []
    return q["origin"][0], waypoints, q["destination"][0]


def apple_leg(url: str) -> tuple[str, list[str]]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "maps.apple.com", "/")
    q = query(url)
    assert q["dirflg"] == ["d"] and len(q["saddr"]) == 1
    return q["saddr"][0], q["daddr"]


# --- Google -----------------------------------------------------------------


def test_google_single_link_exact_coordinates_and_order():
    route = stops(3)
    [url] = google_maps_links(HOME, route, DEPOT)
    assert google_leg(url) == (
        "10.776900,106.700900",
        ["10.000000,106.000000", "10.010000,106.001000", "10.020000,106.002000"],
        "10.823100,106.629700",
    )
    # Separators are percent-encoded; names never leak into the URL.
    assert "%2C" in url and "%7C" in url and "," not in url and "|" not in url
    assert "Shop" not in url and "Home" not in url and "Depot" not in url


def test_google_without_destination_ends_at_last_stop():
    route = stops(2)
    [url] = google_maps_links(HOME, route)
    assert google_leg(url) == (coords(HOME), [coords(route[0])], coords(route[1]))


def test_google_zero_stops_goes_straight_to_destination():
    [url] = google_maps_links(HOME, [], DEPOT)
    assert google_leg(url) == (coords(HOME), [], coords(DEPOT))
    assert "waypoints" not in query(url)


def test_google_ten_targets_fit_one_link():
    route = stops(9)
    [url] = google_maps_links(HOME, route, DEPOT)
    assert len(google_leg(url)[1]) == GOOGLE_MAX_WAYPOINTS == 9


@pytest.mark.parametrize("destination", [None, DEPOT])
def test_google_splits_25_stops_into_chained_legs(destination):
    route = stops(25)
    links = google_maps_links(HOME, route, destination)
    legs = [google_leg(url) for url in links]
    expected = [coords(p) for p in route] + ([coords(destination)] if destination else [])
    assert len(links) == math.ceil(len(expected) / (GOOGLE_MAX_WAYPOINTS + 1))
    assert all(len(waypoints) <= GOOGLE_MAX_WAYPOINTS for _, waypoints, _ in legs)
    assert legs[0][0] == coords(HOME)
    for (_, _, previous_end), (next_start, _, _) in pairwise(legs):
        assert next_start == previous_end
    visited = [p for _, waypoints, end in legs for p in [*waypoints, end]]
    assert visited == expected  # every stop exactly once, in visit order


def test_google_mobile_browser_cap_makes_shorter_chained_legs():
    route = stops(7)
    links = google_maps_links(HOME, route, DEPOT, max_waypoints=GOOGLE_MOBILE_BROWSER_MAX_WAYPOINTS)
    legs = [google_leg(url) for url in links]
    assert [len(waypoints) for _, waypoints, _ in legs] == [3, 3]
    assert legs[1][0] == legs[0][2] == coords(route[3])
    assert legs[1][2] == coords(DEPOT)


@pytest.mark.parametrize("bad", [-1, 10, 2.5, True])
def test_google_max_waypoints_is_checked(bad):
    with pytest.raises(ValueError, match="max_waypoints"):
        google_maps_links(HOME, stops(2), max_waypoints=bad)


# --- Apple ------------------------------------------------------------------


def test_apple_single_link_repeats_daddr_in_order():
    route = stops(2)
    [url] = apple_maps_links(HOME, route, DEPOT)
    assert apple_leg(url) == (
        "10.776900,106.700900",
        ["10.000000,106.000000", "10.010000,106.001000", "10.823100,106.629700"],
    )
    assert "Shop" not in url and "Home" not in url and "to:" not in url


def test_apple_zero_stops_and_no_destination():
    [url] = apple_maps_links(HOME, [], DEPOT)
    assert apple_leg(url) == (coords(HOME), [coords(DEPOT)])
    [url] = apple_maps_links(HOME, stops(1))
    assert apple_leg(url) == (coords(HOME), [coords(stops(1)[0])])


@pytest.mark.parametrize("count", [14, 15, 25, 28, 40])
def test_apple_splits_into_chained_legs(count):
    route = stops(count)
    links = apple_maps_links(HOME, route)
    legs = [apple_leg(url) for url in links]
    assert len(links) == math.ceil(count / APPLE_MAX_DESTINATIONS)
    assert all(len(daddrs) <= APPLE_MAX_DESTINATIONS for _, daddrs in legs)
    assert legs[0][0] == coords(HOME)
    for (_, previous), (next_start, _) in pairwise(legs):
        assert next_start == previous[-1]
    assert [p for _, daddrs in legs for p in daddrs] == [coords(p) for p in route]


# --- Coordinates ------------------------------------------------------------


def test_six_decimals_and_no_negative_zero():
    point = Waypoint(-33.86881234567, -0.00000001)
    [url] = google_maps_links(point, [], Waypoint(90, -180))
    origin, _, destination = google_leg(url)
    assert origin == "-33.868812,0.000000"
    assert destination == "90.000000,-180.000000"


def test_integer_coordinates_are_accepted_as_floats():
    point = Waypoint(10, 106)
    assert isinstance(point.lat, float) and point == Waypoint(10.0, 106.0)


# --- Validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        (90.0001, 0, "latitude"),
        (-91, 0, "latitude"),
        (0, 180.5, "longitude"),
        (0, -181, "longitude"),
        (math.nan, 0, "finite"),
        (0, math.inf, "finite"),
        (-math.inf, 0, "finite"),
        ("10.7", 106.7, "number"),
        (None, 106.7, "number"),
        (True, 106.7, "number"),
    ],
)
def test_invalid_coordinates_raise(lat, lon, message):
    with pytest.raises(ValueError, match=message):
        Waypoint(lat, lon)


def test_nothing_to_navigate_to():
    for build in (google_maps_links, apple_maps_links):
        with pytest.raises(ValueError, match="nothing to navigate to"):
            build(HOME, [])
    with pytest.raises(ValueError, match="nothing to navigate to"):
        gpx(HOME, [], name="Empty")


def test_non_waypoints_are_rejected():
    with pytest.raises(TypeError, match=r"stops\[1\]"):
        google_maps_links(HOME, [HOME, (10.0, 106.0)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="origin"):
        apple_maps_links(None, stops(1))  # type: ignore[arg-type]


# --- GPX --------------------------------------------------------------------


def test_gpx_structure_counts_and_order():
    route = stops(4)
    document = gpx(HOME, route, DEPOT, name="Monday")
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(document.encode("utf-8"))
    assert root.tag == f"{G}gpx"
    assert root.get("version") == "1.1" and root.get("creator") == "fieldsync"

    # GPX 1.1 (xsd:sequence): metadata?, wpt*, rte*, trk*, extensions?.
    tags = [child.tag.removeprefix(G) for child in root]
    assert tags == ["metadata", "wpt", "wpt", "wpt", "wpt", "rte"]
    wpts = root.findall(f"{G}wpt")
    assert [(float(w.get("lat")), float(w.get("lon"))) for w in wpts] == [
        (p.lat, p.lon) for p in route
    ]
    assert [w.findtext(f"{G}name") for w in wpts] == [p.name for p in route]

    [rte] = root.findall(f"{G}rte")
    assert rte.findtext(f"{G}name") == "Monday"
    # rteType: name etc. come before the rtept elements.
    assert [c.tag.removeprefix(G) for c in rte] == ["name"] + ["rtept"] * 6
    rtepts = rte.findall(f"{G}rtept")
    assert [(float(r.get("lat")), float(r.get("lon"))) for r in rtepts] == [
        (p.lat, p.lon) for p in [HOME, *route, DEPOT]
    ]
    # Every element is in the GPX namespace (no stray unqualified tags).
    assert all(e.tag.startswith(G) for e in root.iter())


def test_gpx_without_destination_and_without_stops():
    root = ET.fromstring(gpx(HOME, stops(2), name="x"))
    assert len(root.findall(f"{G}wpt")) == 2
    assert len(root.findall(f"{G}rte/{G}rtept")) == 3
    root = ET.fromstring(gpx(HOME, [], DEPOT, name="x"))
    assert root.findall(f"{G}wpt") == []
    assert len(root.findall(f"{G}rte/{G}rtept")) == 2


def test_gpx_escapes_and_round_trips_names():
    names = ["Café & Co <A>", "متجر الأمل", "Tạp hóa Bà Năm", 'Магазин "Ромашка"', "it's"]
    route = [Waypoint(10.0 + i, 106.0, n) for i, n in enumerate(names)]
    document = gpx(HOME, route, name='Route "1" & <2>')
    assert "Café &amp; Co &lt;A&gt;" in document
    assert "متجر الأمل" in document  # UTF-8 text, not character references
    root = ET.fromstring(document.encode("utf-8"))
    assert [w.findtext(f"{G}name") for w in root.findall(f"{G}wpt")] == names
    assert root.findtext(f"{G}metadata/{G}name") == 'Route "1" & <2>'
    assert root.findtext(f"{G}rte/{G}name") == 'Route "1" & <2>'


def test_gpx_drops_characters_xml_cannot_hold():
    document = gpx(HOME, [Waypoint(1, 2, "Bad\x00\x07name")], name="x\x1b")
    root = ET.fromstring(document.encode("utf-8"))
    assert root.findtext(f"{G}wpt/{G}name") == "Badname"


def test_gpx_unnamed_stops_get_a_label():
    root = ET.fromstring(gpx(Waypoint(1, 2), [Waypoint(3, 4), Waypoint(5, 6)], name="x"))
    assert [w.findtext(f"{G}name") for w in root.findall(f"{G}wpt")] == ["Stop 1", "Stop 2"]
    # Unnamed origin: no empty <name/>.
    origin = root.find(f"{G}rte/{G}rtept")
    assert origin is not None and origin.find(f"{G}name") is None


def test_gpx_times_are_utc_z_and_precede_name():
    ho_chi_minh = timezone(timedelta(hours=7))
    times = [
        datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=ho_chi_minh),
        None,
        datetime(2026, 11, 23, 23, 0, tzinfo=UTC),
    ]
    root = ET.fromstring(gpx(HOME, stops(3), name="x", times=times))
    wpts = root.findall(f"{G}wpt")
    assert [w.findtext(f"{G}time") for w in wpts] == [
        "2026-11-23T02:30:15Z",
        None,
        "2026-11-23T23:00:00Z",
    ]
    # wptType sequence: time comes before name.
    assert [c.tag.removeprefix(G) for c in wpts[0]] == ["time", "name"]
    # Route points carry the same planned times as the stops.
    rtepts = root.findall(f"{G}rte/{G}rtept")
    assert [r.findtext(f"{G}time") for r in rtepts] == [
        None,
        "2026-11-23T02:30:15Z",
        None,
        "2026-11-23T23:00:00Z",
    ]


def test_gpx_times_must_match_stops_and_be_aware():
    with pytest.raises(ValueError, match="times has 1 entries for 2 stops"):
        gpx(HOME, stops(2), name="x", times=[None])
    with pytest.raises(ValueError, match="time zone"):
        gpx(HOME, stops(1), name="x", times=[datetime(2026, 11, 23, 9)])


def test_gpx_longitude_180_is_written_as_minus_180():
    # GPX longitudeType is [-180, 180); links keep the value as given.
    root = ET.fromstring(gpx(HOME, [Waypoint(0, 180)], name="x"))
    assert root.find(f"{G}wpt").get("lon") == "-180.000000"
