"""The territory balancer on plain data: k compact territories of equal workload.

Workload and compactness are defined in `routing.workload`.

The balancer (`balance`) proposes k territories:

1. seeds: k-means++ (`scipy.cluster.vq.kmeans2`, seeded) on the customers in
   a local equirectangular projection (km);
2. capacity-constrained assignment: a linear programme (`scipy.optimize.linprog`,
   HiGHS) minimising Σ workload × squared distance to the territory centre,
   every customer assigned once and each territory's workload within
   ±`tolerance` of the mean (widened step by step if infeasible). Weighting the
   squared distance by the workload makes the optimum a power diagram: straight
   borders, convex territories whose hulls do not overlap. A basic optimum
   splits at most k − 1 customers between territories; they join the nearest
   hull of the unsplit ones;
3. centres move to the workload-weighted mean of their customers and 2-3
   repeat until the assignment is stable (at most `iterations` times); several
   seeds are tried and the most balanced, then most compact, result kept.

Above `MAX_ATOMS` customers, steps 1-3 place "atoms" instead of customers:
k-means clusters of neighbouring customers (random-point seeds, seeded),
weighted by their summed workload. The LP's duals make its answer a power
diagram; each customer takes the cell it lies in, and the cells' powers are
then nudged until the customers' loads are as even (disjoint convex cells, so
the hulls still never overlap).

The polygon of a proposed territory is the convex hull of its unsplit
customers (plus a line out to each split customer that joined it), buffered by
`buffer_m`, minus the other territories' hulls grown by ~2 m and minus the
polygons made before it: proposed polygons never overlap and no customer lies
on the edge of another territory's polygon. Customers are then matched to the
polygons by the point-in-polygon rule of the assignment preview, so the
proposal and the preview after applying it agree. Limits: polygons cover the
customers' hulls plus the buffer, not the whole area (a new shop between two
territories falls in none until a polygon is redrawn); a polygon may become a
MultiPolygon where another territory's hull cuts it; workloads and travel are
estimates from straight-line distances; k is at most 50 and the LP grows with
atoms × min(k, 8) variables (about 1 s for 600 customers and k = 4; 10,000
customers and k = 10 take about 3 s as 600 atoms).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.ops
from scipy import sparse
from scipy.cluster.vq import kmeans2
from scipy.optimize import linprog
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from .matrix import EARTH_RADIUS_M, GreatCircleProvider
from .workload import (
    PartStats,
    WorkItem,
    evaluate,
    imbalance,
    monthly_workloads,
    project,
)

#: Candidate territories per customer in the assignment LP (its nearest centres):
#: keeps the programme small for large k; the far centres would never win anyway.
CANDIDATES = 8
#: Above this many located customers the LP places "atoms" instead: this many
#: k-means clusters of neighbouring customers, weighted by their workload. The
#: LP's time grows faster than linearly (2,000 customers: 8 s; 10,000: 100 s),
#: while a part of a team still holds dozens of atoms, so balance hardly suffers.
MAX_ATOMS = 600
#: Adjustments of the customers' power diagram after placing atoms.
POWER_STEPS = 60
#: How far (degrees, ~2 m) a polygon keeps from the customers of other territories.
MARGIN_DEG = 2e-5
#: Widened one after the other when a tolerance has no feasible assignment.
TOLERANCES = (0.02, 0.05, 0.1, 0.25, None)


@dataclass(frozen=True)
class ProposedTerritory:
    index: int
    customer_ids: list[Hashable]
    stats: PartStats
    #: shapely Polygon/MultiPolygon (lon, lat), or None when no customer has a location.
    geometry: BaseGeometry | None


@dataclass(frozen=True)
class Proposal:
    territories: list[ProposedTerritory]
    imbalance: float | None
    compactness: float
    seconds: float = field(default=0.0, compare=False)


def _assign(
    xy: np.ndarray, weights: np.ndarray, centres: np.ndarray, tolerance: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Capacity-constrained assignment by LP: labels, which customers the LP split,
    and each centre's power (see `_power_labels`). None when `tolerance` is infeasible.
    """
    n, k = len(xy), len(centres)
    squared = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    if tolerance is None:
        return squared.argmin(axis=1), np.zeros(n, dtype=bool), np.zeros(k)
    m = min(k, CANDIDATES)
    candidates = np.argsort(squared, axis=1, kind="stable")[:, :m]
    rows = np.repeat(np.arange(n), m)
    cols = candidates.ravel()
    # Weighted by workload: the cost of a customer then scales like its share of the
    # capacity, so the optimum is a power diagram (straight borders, convex territories).
    cost = weights[rows] * squared[rows, cols]
    variables = np.arange(n * m)
    once = sparse.csr_matrix((np.ones(n * m), (rows, variables)), shape=(n, n * m))
    load = sparse.csr_matrix((weights[rows], (cols, variables)), shape=(k, n * m))
    target = weights.sum() / k
    result = linprog(
        cost,
        A_ub=sparse.vstack([load, -load]).tocsr(),
        b_ub=np.concatenate(
            [np.full(k, target * (1 + tolerance)), np.full(k, -target * (1 - tolerance))]
        ),
        A_eq=once,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    if result.status != 0:
        return None
    share = result.x.reshape(n, m)
    # Duals of the load bounds (HiGHS gives ≤ 0 for ≤ rows): an assigned pair has zero
    # reduced cost, so each customer sits in the cell argmin_j |x - c_j|² + power_j.
    upper, lower = np.split(result.ineqlin.marginals, 2)
    power = lower - upper
    return candidates[np.arange(n), share.argmax(axis=1)], share.max(axis=1) < 0.999, power


def _power_labels(
    xy: np.ndarray, weights: np.ndarray, centres: np.ndarray, power: np.ndarray
) -> np.ndarray:
    """The cell of a power diagram each point falls in: disjoint convex cells.

    Starts from the atoms' LP powers, then nudges each cell's power by its
    relative overload until the customers' loads are as even as the atoms' were
    (atoms hide how the workload is spread inside them).
    """
    squared = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    k = len(centres)
    target = weights.sum() / k
    scale = float(np.median(squared.min(axis=1))) or 1.0
    best_labels, best_ratio = None, math.inf
    power = power.copy()
    for _ in range(POWER_STEPS):
        labels = (squared + power[None, :]).argmin(axis=1)
        loads = np.bincount(labels, weights=weights, minlength=k)
        ratio = loads.max() / loads.min() if loads.min() > 0 else math.inf
        if ratio < best_ratio:
            best_labels, best_ratio = labels, ratio
        if ratio <= 1.02:
            break
        power += scale * (loads / target - 1)
    assert best_labels is not None
    return best_labels


@dataclass(frozen=True)
class _Partition:
    labels: np.ndarray
    split: np.ndarray
    #: Total workload × squared distance to the part centres: lower is more compact.
    spread: float
    #: The power diagram of the last assignment: its centres and their powers.
    centres: np.ndarray
    power: np.ndarray


def _partition(
    xy: np.ndarray, weights: np.ndarray, k: int, seed: int, iterations: int
) -> _Partition:
    rng = np.random.default_rng(seed)
    centres, _ = kmeans2(xy, k, minit="++", seed=rng)
    labels = np.zeros(len(xy), dtype=int)
    for _ in range(iterations):
        answer = None
        for tolerance in TOLERANCES:
            answer = _assign(xy, weights, centres, tolerance)
            if answer is not None:
                break
        assert answer is not None  # the unconstrained assignment always exists
        new, split, power = answer
        assigned_to = centres.copy()
        stable = np.array_equal(new, labels)
        labels = new
        for j in range(k):
            members = labels == j
            if members.any():
                centres[j] = np.average(xy[members], axis=0, weights=weights[members])
        if stable:
            break
    spread = float((weights * ((xy - centres[labels]) ** 2).sum(axis=1)).sum())
    return _Partition(labels, split, spread, assigned_to, power)


def _polygons(
    groups: list[list[WorkItem]], buffer_m: float, joined: list[list[WorkItem]]
) -> list[BaseGeometry | None]:
    """Buffered hulls without overlaps (see the module docstring).

    `joined[i]`: customers that belong to part i but stay out of its hull (the LP
    split them); a line to the hull reaches each, so the buffer covers them.
    """
    hulls: list[BaseGeometry | None] = []
    for group, extra in zip(groups, joined, strict=True):
        points = [(i.lon, i.lat) for i in group if i.located]
        if not points:
            hulls.append(None)
            continue
        hull = MultiPoint(points).convex_hull
        links = [
            LineString([(i.lon, i.lat), shapely.ops.nearest_points(hull, Point(i.lon, i.lat))[0]])
            for i in extra
        ]
        hulls.append(shapely.union_all([hull, *links]) if links else hull)
    lat0 = np.mean([i.lat for g in groups for i in g if i.located] or [0.0])
    # Degrees per metre: latitude, and longitude shrunk by cos(lat); the larger is safe.
    buffer_deg = (
        buffer_m / (EARTH_RADIUS_M * math.pi / 180) / max(math.cos(math.radians(lat0)), 0.1)
    )
    placed: list[BaseGeometry] = []
    polygons: list[BaseGeometry | None] = []
    for index, hull in enumerate(hulls):
        if hull is None:
            polygons.append(None)
            continue
        # Others' hulls grown by ~2 m: their customers then lie strictly outside this polygon,
        # never on its edge, so exactly one polygon covers each customer.
        others = [
            h.buffer(MARGIN_DEG, quad_segs=2)
            for j, h in enumerate(hulls)
            if j != index and h is not None
        ]
        area = hull.buffer(buffer_deg, quad_segs=4)
        cut = shapely.union_all([*others, *placed]) if others or placed else None
        if cut is not None:
            area = area.difference(cut)
        area = _polygonal(shapely.make_valid(area))
        polygons.append(area)
        if area is not None:
            placed.append(area)
    return polygons


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    """Keep the polygon parts of a geometry (a difference can leave lines and slivers)."""
    parts = [
        g
        for g in shapely.get_parts(geometry)
        if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 1e-12
    ]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return merged if merged.geom_type in ("Polygon", "MultiPolygon") else None


def balance(
    items: Sequence[WorkItem],
    k: int,
    *,
    seed: int = 0,
    restarts: int = 4,
    iterations: int = 25,
    buffer_m: float = 150.0,
    provider: GreatCircleProvider | None = None,
) -> Proposal:
    """Propose k compact territories of balanced workload; the same input gives the same answer.

    Every item ends up in exactly one territory. Customers without coordinates
    cannot be placed by location: each goes, in id order, to the territory
    with the least workload so far.
    """
    started = time.perf_counter()
    located = sorted((i for i in items if i.located), key=lambda i: str(i.id))
    unlocated = sorted((i for i in items if not i.located), key=lambda i: str(i.id))
    if k < 1:
        raise ValueError("k must be at least 1.")
    if len(located) < k:
        raise ValueError(f"{len(located)} customers with a location cannot fill {k} territories.")
    workloads = monthly_workloads(items, provider)
    xy = project(located)
    weights = np.array([workloads[i.id] for i in located])
    atom_xy, atom_weights = _atoms(xy, weights, max(MAX_ATOMS, k), seed)
    best: tuple[float, _Partition] | None = None
    for attempt in range(restarts):
        part = _partition(atom_xy, atom_weights, k, seed + attempt, iterations)
        loads = np.bincount(part.labels, weights=atom_weights, minlength=k)
        ratio = imbalance(list(loads)) or math.inf
        # Balance first (within 5 %), then compactness.
        score = part.spread * (1 + max(ratio - 1.05, 0) * 100)
        if best is None or score < best[0]:
            best = (score, part)
    assert best is not None
    part = best[1]
    if len(atom_xy) == len(xy):
        labels, split = part.labels, part.split
    else:  # customers take the cell of the atoms' power diagram they lie in
        labels = _power_labels(xy, weights, part.centres, part.power)
        split = np.zeros(len(xy), dtype=bool)
    groups: list[list[WorkItem]] = [[] for _ in range(k)]
    for item, label, was_split in zip(located, labels, split, strict=True):
        if not was_split:
            groups[label].append(item)
    groups = [g for g in groups if g]
    # Order the territories west to east, then south to north: stable, readable indices.
    groups.sort(key=lambda g: (round(np.mean([i.lon for i in g]), 4), np.mean([i.lat for i in g])))
    # Hulls of the customers the LP did not split are disjoint (a power diagram); the
    # (at most k - 1) split ones join the nearest hull, so they do not make hulls overlap.
    hulls = [MultiPoint([(i.lon, i.lat) for i in g]).convex_hull for g in groups]
    joined: list[list[WorkItem]] = [[] for _ in groups]
    for item, was_split in zip(located, split, strict=True):
        if was_split:
            point = Point(item.lon, item.lat)
            joined[int(np.argmin([h.distance(point) for h in hulls]))].append(item)
    polygons = _polygons(groups, buffer_m, joined)
    groups = [g + j for g, j in zip(groups, joined, strict=True)]
    while len(groups) < k:  # only if the unconstrained fallback emptied a part
        groups.append([])
        polygons.append(None)
    groups = _match_to_polygons(groups, polygons)
    loads = [sum(workloads[i.id] for i in g) for g in groups]
    for item in unlocated:
        lightest = int(np.argmin(loads))
        groups[lightest].append(item)
        loads[lightest] += workloads[item.id]
    stats, ratio, compactness = evaluate(groups, workloads)
    territories = [
        ProposedTerritory(index, [i.id for i in group], stats[index], polygons[index])
        for index, group in enumerate(groups)
    ]
    return Proposal(territories, ratio, compactness, time.perf_counter() - started)


def _atoms(
    xy: np.ndarray, weights: np.ndarray, limit: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The atoms' centroids and workloads (see MAX_ATOMS); with at most `limit`
    customers, every customer is its own atom."""
    if len(xy) <= limit:
        return xy, weights
    with warnings.catch_warnings():  # an empty cluster is simply dropped below
        warnings.simplefilter("ignore")
        centres, _ = kmeans2(xy, limit, minit="points", seed=np.random.default_rng(seed))
    _, nearest = cKDTree(centres).query(xy)
    _, atom_of = np.unique(nearest, return_inverse=True)
    counts = np.bincount(atom_of)
    centroids = np.column_stack(
        [np.bincount(atom_of, weights=xy[:, axis]) / counts for axis in (0, 1)]
    )
    return centroids, np.bincount(atom_of, weights=weights)


def _match_to_polygons(
    groups: list[list[WorkItem]], polygons: list[BaseGeometry | None]
) -> list[list[WorkItem]]:
    """Regroup located customers by the first polygon covering them (as the preview does)."""
    regrouped: list[list[WorkItem]] = [[] for _ in groups]
    for prepared in polygons:
        if prepared is not None:
            shapely.prepare(prepared)
    for index, group in enumerate(groups):
        for item in group:
            point = Point(item.lon, item.lat)
            target = next(
                (j for j, p in enumerate(polygons) if p is not None and p.covers(point)), index
            )
            regrouped[target].append(item)
    return regrouped
