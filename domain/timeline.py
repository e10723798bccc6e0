"""The steps of a stored route plan's timeline (`route_plans.stops`).

A plan's `stops` list is the rep's day in order: visits and, when the rep
takes one, the lunch break as its own step. Plans stored before the lunch step
existed carry no `kind`; they are read as visits, here and on the clients, so
no stored plan had to be rewritten (and re-sent to every phone) for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

VISIT = "visit"
LUNCH = "lunch"


def step_kind(step: Mapping[str, Any]) -> str:
    """The step's kind; a step stored without one is a visit."""
    return step.get("kind") or VISIT


def visits(steps: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The visits of a timeline, in order, without the lunch break."""
    return [s for s in steps if step_kind(s) == VISIT]
