"""Travel matrices: the offline great-circle default and the OSRM `table` provider."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import great_circle

from routing.matrix import GreatCircleProvider, MatrixError, OsrmProvider
from tests.support.fake_services import JsonHandler, serving

BEN_THANH = (10.7725, 106.6980)
NOTRE_DAME = (10.7798, 106.6990)
PHU_MY_HUNG = (10.7291, 106.7218)


def test_great_circle_matches_geopy_with_detour_and_speed():
    points = [BEN_THANH, NOTRE_DAME, PHU_MY_HUNG]
    matrix = GreatCircleProvider(detour_factor=1.3, speed_kmh=30).matrix(points)
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            metres = great_circle(a, b).meters * 1.3
            assert matrix.metres[i][j] == pytest.approx(metres, abs=2)
            assert matrix.seconds[i][j] == pytest.approx(metres / (30 / 3.6), abs=2)
    assert (np.diag(matrix.seconds) == 0).all()
    assert (matrix.seconds == matrix.seconds.T).all()


def test_speed_and_detour_are_configurable():
    slow = GreatCircleProvider(detour_factor=1.0, speed_kmh=15).matrix([BEN_THANH, NOTRE_DAME])
    fast = GreatCircleProvider(detour_factor=1.0, speed_kmh=30).matrix([BEN_THANH, NOTRE_DAME])
    assert slow.seconds[0][1] == pytest.approx(2 * fast.seconds[0][1], abs=1)


def test_empty_and_single_point():
    assert len(GreatCircleProvider().matrix([])) == 0
    one = GreatCircleProvider().matrix([BEN_THANH])
    assert one.seconds.tolist() == [[0]]


class _FakeOsrm(JsonHandler):
    """Speaks OSRM's `table` JSON: durations and distances, null when unreachable."""

    answer_json: dict = {}
    requests: list[str] = []

    def answer(self):
        type(self).requests.append(self.path)
        return type(self).answer_json


@pytest.fixture
def osrm():
    _FakeOsrm.requests = []
    with serving(_FakeOsrm) as url:
        yield url


def test_osrm_table_is_asked_in_lon_lat_order_and_read(osrm):
    _FakeOsrm.answer_json = {
        "code": "Ok",
        "durations": [[0, 310.4], [295.6, 0]],
        "distances": [[0, 1820.2], [1790.9, 0]],
    }
    matrix = OsrmProvider(osrm).matrix([BEN_THANH, NOTRE_DAME])
    assert matrix.seconds.tolist() == [[0, 310], [296, 0]]
    assert matrix.metres.tolist() == [[0, 1820], [1791, 0]]
    [path] = _FakeOsrm.requests
    assert path.startswith("/table/v1/driving/106.698000,10.772500;106.699000,10.779800")
    assert "annotations=duration,distance" in path


def test_osrm_unreachable_pairs_become_very_expensive_not_free(osrm):
    _FakeOsrm.answer_json = {
        "code": "Ok",
        "durations": [[0, None], [None, 0]],
        "distances": [[0, None], [None, 0]],
    }
    matrix = OsrmProvider(osrm).matrix([BEN_THANH, PHU_MY_HUNG])
    assert matrix.seconds[0][1] >= 10**6


def test_osrm_errors_are_clear(osrm):
    _FakeOsrm.answer_json = {"code": "InvalidQuery", "message": "Query string malformed"}
    with pytest.raises(MatrixError, match="malformed"):
        OsrmProvider(osrm).matrix([BEN_THANH, NOTRE_DAME])
    _FakeOsrm.answer_json = {"code": "Ok", "durations": [[0]], "distances": [[0]]}
    with pytest.raises(MatrixError, match="wrong size"):
        OsrmProvider(osrm).matrix([BEN_THANH, NOTRE_DAME])
    with pytest.raises(MatrixError, match="did not answer"):
        OsrmProvider("http://127.0.0.1:9", timeout_s=1).matrix([BEN_THANH, NOTRE_DAME])
