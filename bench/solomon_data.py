"""Solomon VRPTW instances and their best-known solutions, read from plain files.

Kept apart from the benchmark so the parsing (and the distance convention every
solver is judged by) lives in one place: Euclidean distance in doubles, travel
time equal to distance, depot as customer 0.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

#: The instances ship with the repository (see data/solomon/README.md for their origin).
DATA_DIR = Path(__file__).resolve().parent / "data" / "solomon"


@dataclass(frozen=True)
class Customer:
    """One row of the customer table; the depot is the row numbered 0."""

    number: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class Instance:
    """A whole instance: the fleet from the header, then depot and customers."""

    name: str
    vehicles: int
    capacity: int
    #: Depot first, then customers; index in this list == customer number.
    customers: tuple[Customer, ...]

    @property
    def family(self) -> str:
        """C1, C2, R1, R2, RC1 or RC2: the name without its two-digit number."""
        return self.name[:-2]

    @property
    def depot(self) -> Customer:
        return self.customers[0]

    def distance(self, i: int, j: int) -> float:
        a, b = self.customers[i], self.customers[j]
        return math.hypot(a.x - b.x, a.y - b.y)

    def route_distance(self, route: list[int]) -> float:
        """Depot -> customers in order -> depot; an empty route costs nothing."""
        if not route:
            return 0.0
        path = [0, *route, 0]
        return sum(self.distance(a, b) for a, b in itertools.pairwise(path))


@dataclass(frozen=True)
class BestKnown:
    """Distance-only best known solution (the yardstick for a distance objective)."""

    vehicles: int
    #: The CVRPLIB figure, with each leg truncated to one decimal.
    distance_trunc: float
    #: The same routes measured in doubles: comparable with our own figures.
    distance: float


def load_instance(path: Path) -> Instance:
    """Parse the classic text format: name, fleet header, then one row per customer."""
    lines = [line.split() for line in path.read_text().splitlines()]
    rows = [fields for fields in lines if fields]
    name = rows[0][0]
    # Header rows: "VEHICLE", "NUMBER CAPACITY", then the two numbers.
    fleet = next(fields for fields in rows if len(fields) == 2 and fields[0].isdigit())
    customers = tuple(
        Customer(
            int(f[0]), float(f[1]), float(f[2]), int(f[3]), float(f[4]), float(f[5]), float(f[6])
        )
        for f in rows
        if len(f) == 7 and f[0].isdigit()
    )
    if [c.number for c in customers] != list(range(len(customers))):
        raise ValueError(f"{path}: customers are not numbered 0..n in order")
    return Instance(name, int(fleet[0]), int(fleet[1]), customers)


def load_instances(names: list[str] | None = None, directory: Path = DATA_DIR) -> list[Instance]:
    """All instances in the folder (sorted by name), or just the named ones."""
    if names is None:
        paths = sorted(directory.glob("*.txt"))
    else:
        paths = [directory / f"{name.upper()}.txt" for name in names]
    return [load_instance(path) for path in paths]


def load_best_known(path: Path = DATA_DIR / "bks.csv") -> dict[str, BestKnown]:
    """Best known values by instance name, from the `distmin_*` columns of bks.csv."""
    with path.open(newline="") as handle:
        return {
            row["instance"]: BestKnown(
                int(row["distmin_vehicles"]),
                float(row["distmin_distance_trunc1dec"]),
                float(row["distmin_distance_recomputed_double"]),
            )
            for row in csv.DictReader(handle)
        }
