"""Territory workload and compactness, on plain data (no Flask, no database).

Workload (minutes per month) of one customer::

    visits_per_month = 30 / visit_every_days
    travel_minutes   = drive from its nearest other customer in the set, by the
                       embedded provider of `routing.matrix` (great circle ×
                       1.3 detour at 30 km/h)
    workload         = visits_per_month × (visit_minutes + travel_minutes)

The travel term is what a route through a dense area costs per visit; it
ignores the drive from home to the area and back, and it is computed over the
whole input set, so a customer's workload does not depend on the partition
(the balancer can then treat workloads as fixed weights). Customers without
coordinates get the mean travel time of the located ones.

A territory's workload is the sum over its customers; the imbalance of a
partition is max / min territory workload (None if a territory has none).

Compactness of a territory is the Polsby–Popper score of the convex hull of
its customers, 4πA / P² (1 for a circle, 0.785 for a square, 0.5 for a 4:1
rectangle, 0 for fewer than 3 non-collinear points); the compactness of a
partition is the mean over its territories. `mean_distance_km` (customers to
their centroid) is given as well: the hull score does not see a sprawling but
convex territory.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint

from .matrix import EARTH_RADIUS_M, GreatCircleProvider


@dataclass(frozen=True)
class WorkItem:
    """One customer as the balancer sees it."""

    id: Hashable
    lat: float | None
    lon: float | None
    visit_minutes: float
    visit_every_days: float

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class PartStats:
    customers: int
    workload_minutes: float
    compactness: float
    mean_distance_km: float


def monthly_workloads(
    items: Sequence[WorkItem], provider: GreatCircleProvider | None = None
) -> dict[Hashable, float]:
    """Minutes per month per customer id (see the module docstring for the formula)."""
    provider = provider or GreatCircleProvider()
    located = [i for i in items if i.located]
    travel: dict[Hashable, float] = {}
    if len(located) >= 2:
        xy = project(located)
        distances, _ = cKDTree(xy).query(xy, k=2)
        metres = distances[:, 1] * 1000 * provider.detour_factor
        minutes = metres / (provider.speed_kmh / 3.6) / 60
        travel = {item.id: float(m) for item, m in zip(located, minutes, strict=True)}
    mean_travel = float(np.mean(list(travel.values()))) if travel else 0.0
    return {
        item.id: (30.0 / max(item.visit_every_days, 1))
        * (item.visit_minutes + travel.get(item.id, mean_travel))
        for item in items
    }


def project(items: Sequence[WorkItem], origin_lat: float | None = None) -> np.ndarray:
    """Equirectangular km around the items' mean latitude: fine at city scale."""
    lat = np.array([i.lat for i in items], dtype=float)
    lon = np.array([i.lon for i in items], dtype=float)
    phi = math.radians(origin_lat if origin_lat is not None else float(lat.mean()))
    km = EARTH_RADIUS_M / 1000 * math.pi / 180
    return np.column_stack((lon * km * math.cos(phi), lat * km))


def part_stats(items: Sequence[WorkItem], workloads: dict[Hashable, float]) -> PartStats:
    """Customers, workload and compactness of one territory."""
    located = [i for i in items if i.located]
    compactness = mean_distance = 0.0
    if located:
        xy = project(located)
        mean_distance = float(np.linalg.norm(xy - xy.mean(axis=0), axis=1).mean())
        hull = MultiPoint([tuple(p) for p in xy]).convex_hull
        if hull.area > 0:
            compactness = 4 * math.pi * hull.area / hull.length**2
    return PartStats(
        customers=len(items),
        workload_minutes=float(sum(workloads[i.id] for i in items)),
        compactness=round(compactness, 4),
        mean_distance_km=round(mean_distance, 3),
    )


def imbalance(workloads: Sequence[float]) -> float | None:
    """max / min workload; None when a territory has no work (or there are none)."""
    if not workloads or min(workloads) <= 0:
        return None
    return max(workloads) / min(workloads)


def evaluate(
    parts: Sequence[Sequence[WorkItem]], workloads: dict[Hashable, float]
) -> tuple[list[PartStats], float | None, float]:
    """Stats per part, the imbalance and the mean compactness of a partition."""
    stats = [part_stats(p, workloads) for p in parts]
    mean_compactness = float(np.mean([s.compactness for s in stats])) if stats else 0.0
    return stats, imbalance([s.workload_minutes for s in stats]), round(mean_compactness, 4)
