"""Customer coordinates are master data (issue 15): a rep proposes, a manager decides.

A rep who is at a customer and finds it elsewhere than the map says sends new
`lat`/`lon` like any edit; the write rules turn them into the customer's
`proposed_*` fields, so the coordinates that check-ins are verified against stay
as they were until a manager approves. A customer a rep creates in the field
keeps the rep's position but is not `location_approved`. Every step is an
ordinary write through the one write path, so the record's history shows who
proposed, approved or rejected what, and phones learn of it on their next pull.
"""

from __future__ import annotations

from typing import Any

from domain.models import Customer

from .scopes import Scope

COORDINATES = ("lat", "lon")
PROPOSAL = ("proposed_lat", "proposed_lon", "proposed_by", "proposed_at")
#: The reason a push result gives for a rep's location that waits for a manager.
PENDING_APPROVAL = "a manager approves new locations: yours is waiting for approval"


def route_location(record: Customer, values: dict[str, Any], scope: Scope) -> None:
    """Send new coordinates where they belong: a rep's become a proposal; a manager's
    or an admin's are approved, and settle any proposal."""
    new = {f: values[f] for f in COORDINATES if f in values}
    if not new or all(getattr(record, f) == v for f, v in new.items()):
        return
    if scope.is_rep:
        values["proposed_lat"] = values.pop("lat", record.lat)
        values["proposed_lon"] = values.pop("lon", record.lon)
        values["proposed_by"] = scope.user_id
        return
    values["location_approved"] = True
    values.update(dict.fromkeys(PROPOSAL))


def proposed(values: dict[str, Any]) -> bool:
    """Did `route_location` turn this write's coordinates into a proposal?"""
    return values.get("proposed_by") is not None


def approval(record: Customer) -> dict[str, Any]:
    """The write that approves a customer's location: the proposal if there is one,
    else the coordinates it has (a customer a rep created)."""
    settled = {"location_approved": True, **dict.fromkeys(PROPOSAL)}
    if record.proposed_by is None:
        return settled
    return {"lat": record.proposed_lat, "lon": record.proposed_lon, **settled}


#: The write that rejects a pending proposal (the coordinates stay as they are).
REJECTION: dict[str, Any] = dict.fromkeys(PROPOSAL)


def pending_conflicts(sent: dict[str, Any], record: Customer, values: dict[str, Any]) -> list[dict]:
    """A push result's conflict entries for coordinates that became a proposal: the
    server kept its own, so a phone shows the customer where the map still has it
    (and a WatermelonDB phone is sent the record again)."""
    if not proposed(values):
        return []
    return [
        {
            "field": field,
            "yours": sent.get(field),
            "server": getattr(record, field),
            "kept": "server",
            "reason": PENDING_APPROVAL,
        }
        for field in COORDINATES
        if field in sent
    ]
