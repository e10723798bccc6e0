"""Route planning: travel matrices, which customers are due, the VROOM solver, hand-off.

No Flask and no database here: the server reads customers, calls these
functions and stores their results. This module is its public surface.
"""

from __future__ import annotations

from .due import CustomerFacts, due_customers, overdue_ratio, priority
from .geocode import GeocodeError, address_query, geocode, nominatim
from .matrix import GreatCircleProvider, MatrixError, MatrixProvider, OsrmProvider
from .navigation import Waypoint, apple_maps_links, google_maps_links, gpx
from .planner import (
    NO_LOCATION,
    DayPlan,
    DayStep,
    Place,
    PlannedLunch,
    PlannedStop,
    Visitable,
    WorkDay,
    clock_seconds,
    plan,
    plan_day,
)
from .solver import Lunch
from .territories import balance
from .workload import WorkItem, evaluate, monthly_workloads

__all__ = [
    "NO_LOCATION",
    "CustomerFacts",
    "DayPlan",
    "DayStep",
    "GeocodeError",
    "GreatCircleProvider",
    "Lunch",
    "MatrixError",
    "MatrixProvider",
    "OsrmProvider",
    "Place",
    "PlannedLunch",
    "PlannedStop",
    "Visitable",
    "Waypoint",
    "WorkDay",
    "WorkItem",
    "address_query",
    "apple_maps_links",
    "balance",
    "clock_seconds",
    "due_customers",
    "evaluate",
    "geocode",
    "google_maps_links",
    "gpx",
    "monthly_workloads",
    "nominatim",
    "overdue_ratio",
    "plan",
    "plan_day",
    "priority",
]
