"""The territory balancer on plain data: workload, imbalance, balanced and compact proposals."""

from __future__ import annotations

import itertools
import random

import pytest
from shapely.geometry import Point

from routing import WorkItem, balance, monthly_workloads
from routing.workload import imbalance


def synthetic(n: int, seed: int = 3, unlocated: int = 5) -> list[WorkItem]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        # Two dense clusters and a sparse spread: balancing must not just follow density.
        if i % 3 == 0:
            lat, lon = rng.gauss(10.80, 0.01), rng.gauss(106.66, 0.01)
        elif i % 3 == 1:
            lat, lon = rng.uniform(10.72, 10.86), rng.uniform(106.62, 106.78)
        else:
            lat, lon = rng.gauss(10.75, 0.02), rng.gauss(106.74, 0.015)
        every = rng.choice((7, 14, 30))
        items.append(WorkItem(f"c{i:04d}", lat, lon, rng.choice((10, 15, 20, 30, 45)), every))
    for i in range(unlocated):
        items.append(WorkItem(f"u{i}", None, None, 20, 14))
    return items


def test_workload_is_visits_a_month_times_minutes_plus_nearest_neighbour_travel():
    # 1 km apart (great circle) -> 1.3 km driven at 30 km/h = 2.6 minutes.
    km_lat = 1 / 111.195
    items = [
        WorkItem("a", 10.0, 106.0, 20, 15),
        WorkItem("b", 10.0 + km_lat, 106.0, 30, 30),
        WorkItem("c", None, None, 10, 10),
    ]
    work = monthly_workloads(items)
    assert work["a"] == pytest.approx(2 * (20 + 2.6), rel=1e-3)
    assert work["b"] == pytest.approx(1 * (30 + 2.6), rel=1e-3)
    assert work["c"] == pytest.approx(3 * (10 + 2.6), rel=1e-3)  # mean travel when unlocated


def test_imbalance_is_max_over_min_and_none_for_an_empty_territory():
    assert imbalance([100, 120, 110]) == pytest.approx(1.2)
    assert imbalance([100, 0]) is None and imbalance([]) is None


@pytest.mark.parametrize(
    ("n", "k"),
    [(400, 2), (400, 3), (400, 5), (1500, 6)],  # 1,500 > MAX_ATOMS: atoms are placed
)
def test_every_customer_in_exactly_one_balanced_compact_territory(n, k):
    items = synthetic(n)
    proposal = balance(items, k)
    assert len(proposal.territories) == k
    ids = [c for t in proposal.territories for c in t.customer_ids]
    assert sorted(ids) == sorted(i.id for i in items)
    assert proposal.imbalance is not None and proposal.imbalance <= 1.15
    assert 0.5 < proposal.compactness <= 1
    by_id = {i.id: i for i in items}
    polygons = [t.geometry for t in proposal.territories]
    for a, b in itertools.combinations(polygons, 2):
        assert a.intersection(b).area <= 1e-9  # no overlap
    for territory in proposal.territories:
        assert territory.geometry.is_valid
        for customer_id in territory.customer_ids:
            item = by_id[customer_id]
            if item.located:
                point = Point(item.lon, item.lat)
                assert territory.geometry.covers(point)
                assert not any(p.covers(point) for p in polygons if p is not territory.geometry)


def test_the_same_input_gives_the_same_proposal():
    items = synthetic(300)
    first, second = balance(items, 4), balance(list(reversed(items)), 4)
    assert [t.customer_ids for t in first.territories] == [
        t.customer_ids for t in second.territories
    ]
    assert [t.geometry.wkt for t in first.territories] == [
        t.geometry.wkt for t in second.territories
    ]


def test_too_few_located_customers_for_k_is_refused():
    with pytest.raises(ValueError, match="cannot fill 3"):
        balance(synthetic(2, unlocated=4), 3)
