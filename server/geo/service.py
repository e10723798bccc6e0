"""GeoJSON views of what a user may see: territories, customers, rep positions, routes.

Plain functions over a session and a `Scope`, for the managers' map.
Customers are read as columns, not ORM objects, so that 10,000 of them build
in a fraction of the map's time budget.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from domain.models import Customer, RoutePlan, Territory, User, Visit, territory_reps
from domain.timeline import visits
from domain.times import utc_iso
from sync import Scope

#: Customers whose visits are planned by frequency (leads are not due yet).
VISITED_STATUSES = ("active", "prospect")


@dataclass(frozen=True)
class CustomerFilter:
    territory_id: uuid.UUID | None = None
    rep_id: uuid.UUID | None = None
    status: str | None = None
    overdue: bool | None = None
    #: west, south, east, north (degrees).
    bbox: tuple[float, float, float, float] | None = None


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _point(lon: float | None, lat: float | None) -> dict[str, Any] | None:
    if lat is None or lon is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment else None


def is_overdue(status: str, last_visit: datetime | None, every_days: int, now: datetime) -> bool:
    """Due customers not seen within their frequency (never seen counts as overdue)."""
    if status not in VISITED_STATUSES:
        return False
    return last_visit is None or now - last_visit > timedelta(days=every_days)


def territories(session: Session, scope: Scope) -> dict[str, Any]:
    """Polygons with name, colour, reps and customer counts."""
    rows = session.scalars(
        select(Territory)
        .where(Territory.deleted_at.is_(None), scope.where(Territory))
        .order_by(Territory.sort_key)
    ).all()
    counts = dict(
        session.execute(
            select(Customer.territory_id, func.count())
            .where(Customer.deleted_at.is_(None), Customer.territory_id.in_([t.id for t in rows]))
            .group_by(Customer.territory_id)
        ).all()
    )
    return collection(
        [
            {
                "type": "Feature",
                "id": str(t.id),
                "geometry": t.geometry,
                "properties": {
                    "name": t.name,
                    "color": t.color,
                    "team_id": str(t.team_id),
                    "rep_ids": [str(r.id) for r in t.reps],
                    "customers": counts.get(t.id, 0),
                },
            }
            for t in rows
        ]
    )


def customers(
    session: Session, scope: Scope, where: CustomerFilter, now: datetime
) -> dict[str, Any]:
    """Customer points with owner, tier, status, last visit, `overdue`, `needs_location`."""
    c = Customer
    query = select(
        c.id,
        c.name,
        c.lat,
        c.lon,
        c.owner_id,
        c.territory_id,
        c.tier,
        c.status,
        c.last_visit_at,
        c.visit_every_days,
    ).where(c.deleted_at.is_(None), scope.customers_where())
    if where.territory_id:
        query = query.where(c.territory_id == where.territory_id)
    if where.rep_id:
        served = select(territory_reps.c.territory_id).where(
            territory_reps.c.user_id == where.rep_id
        )
        query = query.where(or_(c.owner_id == where.rep_id, c.territory_id.in_(served)))
    if where.status:
        query = query.where(c.status == where.status)
    if where.bbox:
        west, south, east, north = where.bbox
        query = query.where(and_(c.lon >= west, c.lon <= east, c.lat >= south, c.lat <= north))
    features = []
    # Tuple unpacking: named access on 10,000 result rows costs more than the query.
    rows = session.execute(query.order_by(c.sort_key, c.id))
    for id_, name, lat, lon, owner, territory, tier, status, last_visit, every in rows:
        overdue = is_overdue(status, last_visit, every, now)
        if where.overdue is not None and overdue != where.overdue:
            continue
        features.append(
            {
                "type": "Feature",
                "id": str(id_),
                "geometry": _point(lon, lat),
                "properties": {
                    "name": name,
                    "owner_id": str(owner) if owner else None,
                    "territory_id": str(territory) if territory else None,
                    "tier": tier,
                    "status": status,
                    "last_visit_at": _iso(last_visit),
                    "overdue": overdue,
                    "needs_location": lat is None,
                },
            }
        )
    return collection(features)


def rep_positions(session: Session, scope: Scope) -> dict[str, Any]:
    """Each visible rep at their latest verified check-in at a customer the caller may
    see (reps with none are left out): a position is never shown where the caller
    could not look, such as a colleague's visit in another team's territory."""
    reps = session.scalars(
        select(User).where(User.role == "rep", User.deleted_at.is_(None), scope.where(User))
    ).all()
    latest = (
        select(Visit.rep_id, func.max(Visit.check_in_at).label("at"))
        .where(
            Visit.rep_id.in_([r.id for r in reps]),
            Visit.location_status == "verified",
            Visit.deleted_at.is_(None),
            scope.where(Visit),
        )
        .group_by(Visit.rep_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Visit.rep_id,
            Visit.check_in_lat,
            Visit.check_in_lon,
            Visit.check_in_at,
            Visit.customer_id,
        )
        .join(latest, and_(Visit.rep_id == latest.c.rep_id, Visit.check_in_at == latest.c.at))
        .where(Visit.location_status == "verified", scope.where(Visit))
    ).all()
    names = {r.id: r.name for r in reps}
    seen: set[uuid.UUID] = set()
    features = []
    for row in rows:
        if row.rep_id in seen:
            continue
        seen.add(row.rep_id)
        features.append(
            {
                "type": "Feature",
                "id": str(row.rep_id),
                "geometry": _point(row.check_in_lon, row.check_in_lat),
                "properties": {
                    "name": names[row.rep_id],
                    "at": _iso(row.check_in_at),
                    "customer_id": str(row.customer_id),
                },
            }
        )
    return collection(features)


def route(plan: RoutePlan) -> dict[str, Any]:
    """A plan as its line and numbered stop points."""
    stops: Sequence[Mapping[str, Any]] = visits(plan.stops)
    features = [
        {
            "type": "Feature",
            "id": str(plan.id),
            "geometry": plan.geometry,
            "properties": {
                "kind": "route",
                "rep_id": str(plan.rep_id),
                "plan_date": plan.plan_date.isoformat(),
                "total_travel_s": plan.total_travel_s,
                "total_distance_m": plan.total_distance_m,
            },
        }
    ]
    for number, stop in enumerate(stops, 1):
        features.append(
            {
                "type": "Feature",
                "geometry": _point(stop["lon"], stop["lat"]),
                "properties": {
                    "kind": "stop",
                    "number": number,
                    "customer_id": stop["customer_id"],
                    "name": stop.get("name", ""),
                    "arrival_at": stop["arrival_at"],
                    "completed": stop.get("completed", False),
                },
            }
        )
    return collection(features)


def route_of(session: Session, scope: Scope, rep_id: uuid.UUID, day: date) -> RoutePlan | None:
    return session.scalar(
        select(RoutePlan).where(
            RoutePlan.rep_id == rep_id,
            RoutePlan.plan_date == day,
            RoutePlan.deleted_at.is_(None),
            scope.where(RoutePlan),
        )
    )
