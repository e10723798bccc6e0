"""Travel time and distance between points.

The embedded provider needs no network: great-circle distance (vectorised)
times a detour factor, at a typical urban speed. `OsrmProvider` asks an OSRM
server's `table` service for real road times.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

EARTH_RADIUS_M = 6_371_008.8

#: (lat, lon) in degrees.
Point = tuple[float, float]


@dataclass(frozen=True)
class TravelMatrix:
    """`seconds[i][j]` and `metres[i][j]` from point i to point j (integers)."""

    seconds: np.ndarray
    metres: np.ndarray

    def __len__(self) -> int:
        return len(self.seconds)


class MatrixProvider(Protocol):
    def matrix(self, points: Sequence[Point]) -> TravelMatrix: ...


class MatrixError(RuntimeError):
    """The provider could not answer (network down, bad response)."""


def great_circle_metres(points: Sequence[Point]) -> np.ndarray:
    """All-pairs haversine distances in metres, vectorised."""
    coords = np.radians(np.asarray(points, dtype=float).reshape(-1, 2))
    lat, lon = coords[:, 0][:, None], coords[:, 1][:, None]
    dlat = lat - lat.T
    dlon = lon - lon.T
    a = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class GreatCircleProvider:
    """Straight-line distance × detour factor, driven at a constant speed."""

    detour_factor: float = 1.3
    speed_kmh: float = 30.0

    def matrix(self, points: Sequence[Point]) -> TravelMatrix:
        if len(points) == 0:
            empty = np.zeros((0, 0), dtype=np.int64)
            return TravelMatrix(empty, empty)
        metres = great_circle_metres(points) * self.detour_factor
        seconds = metres / (self.speed_kmh / 3.6)
        return TravelMatrix(np.rint(seconds).astype(np.int64), np.rint(metres).astype(np.int64))


@dataclass(frozen=True)
class OsrmProvider:
    """Road times from an OSRM server (`/table/v1/{profile}`)."""

    base_url: str
    profile: str = "driving"
    timeout_s: float = 10.0

    def matrix(self, points: Sequence[Point]) -> TravelMatrix:
        if len(points) == 0:
            empty = np.zeros((0, 0), dtype=np.int64)
            return TravelMatrix(empty, empty)
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        url = (
            f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coordinates}"
            "?annotations=duration,distance"
        )
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise MatrixError(f"OSRM at {self.base_url} did not answer: {exc}") from exc
        if body.get("code") != "Ok":
            raise MatrixError(f"OSRM refused the request: {body.get('message', body.get('code'))}")
        seconds = _osrm_array(body.get("durations"), len(points))
        metres = _osrm_array(body.get("distances"), len(points))
        return TravelMatrix(seconds, metres)


def _osrm_array(rows, size: int) -> np.ndarray:
    """OSRM answers null for unreachable pairs: make them very expensive, not zero."""
    if rows is None or len(rows) != size:
        raise MatrixError("OSRM answered a table of the wrong size.")
    unreachable = 10**7
    array = np.array([[unreachable if v is None else v for v in row] for row in rows], dtype=float)
    return np.rint(array).astype(np.int64)
