"""Territory management: reads and writes for the `/api/v1/territory-*` endpoints.

Every customer or territory change goes through `sync.store.RecordStore` (the
one write path, as REST PATCH does), so the change log records
`prev_territory_id` and the phones that lose a customer get `remove` on their
next pull, those that gain it `put`. Nothing here commits: the view does, once,
so every operation is all-or-nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from domain.geometry import to_geojson, to_shape
from domain.models import Customer, Team, Territory, User
from routing import WorkItem, balance, evaluate, monthly_workloads
from sync import Conflict, Forbidden, Invalid, NotFound, RecordStore, Scope

MIN_K, MAX_K = 2, 50


@dataclass(frozen=True)
class TeamCustomer:
    id: uuid.UUID
    name: str
    lat: float | None
    lon: float | None
    territory_id: uuid.UUID | None
    visit_minutes: int
    visit_every_days: int

    def work_item(self) -> WorkItem:
        return WorkItem(self.id, self.lat, self.lon, self.visit_minutes, self.visit_every_days)


def require_manager(scope: Scope) -> None:
    """Territory design is for managers (their teams) and admins."""
    if not (scope.is_manager or scope.is_admin):
        raise Forbidden("Only managers and admins manage territories.")


def team_in_scope(session: Session, scope: Scope, team_id: uuid.UUID) -> Team:
    require_manager(scope)
    team = session.scalar(
        select(Team).where(Team.id == team_id, Team.deleted_at.is_(None), scope.where(Team))
    )
    if team is None:
        raise NotFound("No team with this id.")
    return team


def team_territories(session: Session, team_id: uuid.UUID) -> list[Territory]:
    """Live territories of a team, smallest id (as text) first: the tie-break order."""
    rows = session.scalars(
        select(Territory).where(Territory.team_id == team_id, Territory.deleted_at.is_(None))
    ).all()
    return sorted(rows, key=lambda t: str(t.id))


def team_customers(
    session: Session, team_id: uuid.UUID, territory_ids: Sequence[uuid.UUID]
) -> list[TeamCustomer]:
    """Live customers in the team's territories, and those in no territory owned by a member."""
    c = Customer
    members = select(User.id).where(User.team_id == team_id)
    rows = session.execute(
        select(c.id, c.name, c.lat, c.lon, c.territory_id, c.visit_minutes, c.visit_every_days)
        .where(
            c.deleted_at.is_(None),
            or_(
                c.territory_id.in_(list(territory_ids)),
                and_(c.territory_id.is_(None), c.owner_id.in_(members)),
            ),
        )
        .order_by(c.sort_key, c.id)
    ).all()
    return [TeamCustomer(*row) for row in rows]


# -- assignment by location ------------------------------------------------------


def _polygon_of(territory: Territory):
    if not territory.geometry:
        return None
    try:
        geometry = to_shape(territory.geometry)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # stored before polygons were validated: matches nothing
    shapely.prepare(geometry)
    return geometry


def preview_assignment(session: Session, scope: Scope, team_id: uuid.UUID) -> dict[str, Any]:
    """Which territory's polygon contains each customer of the team, compared with today.

    A point on an edge shared by several polygons goes to the territory with the
    smallest id (as text); customers in no polygon keep their territory
    (`outside`); customers without coordinates are only counted (`no_location`).
    """
    team_in_scope(session, scope, team_id)
    territories = team_territories(session, team_id)
    customers = team_customers(session, team_id, [t.id for t in territories])
    located = [c for c in customers if c.lat is not None and c.lon is not None]
    target: list[uuid.UUID | None] = [None] * len(located)
    if located:
        points = shapely.points([c.lon for c in located], [c.lat for c in located])
        unset = np.ones(len(located), dtype=bool)
        for territory in territories:
            polygon = _polygon_of(territory)
            if polygon is None:
                continue
            hits = np.flatnonzero(unset & shapely.covers(polygon, points))
            for i in hits:
                target[i] = territory.id
            unset[hits] = False
    moves, outside, unchanged = [], [], 0
    for customer, to in zip(located, target, strict=True):
        if to is None:
            outside.append({"customer_id": customer.id, "name": customer.name})
        elif to == customer.territory_id:
            unchanged += 1
        else:
            moves.append(
                {
                    "customer_id": customer.id,
                    "name": customer.name,
                    "from_territory_id": customer.territory_id,
                    "to_territory_id": to,
                }
            )
    return {
        "moves": moves,
        "unchanged": unchanged,
        "outside": outside,
        "no_location": len(customers) - len(located),
        "digest": _digest(moves),
    }


def _digest(moves: list[dict[str, Any]]) -> str:
    """Names the set of moves, so an apply can insist on the preview the manager saw."""
    key = sorted(
        (str(m["customer_id"]), str(m["from_territory_id"]), str(m["to_territory_id"]))
        for m in moves
    )
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]


def apply_assignment(store: RecordStore, team_id: uuid.UUID, digest: str | None) -> dict[str, Any]:
    """Apply exactly the moves of the current preview (409 if it is not the one seen)."""
    preview = preview_assignment(store.session, store.scope, team_id)
    if digest is not None and digest != preview["digest"]:
        raise Conflict(
            "Customers or polygons changed since the preview; preview again.",
            code="preview_outdated",
        )
    for move in preview["moves"]:
        store.update(Customer, move["customer_id"], {"territory_id": move["to_territory_id"]})
    return {**preview, "applied": len(preview["moves"])}


# -- bulk reassignment ---------------------------------------------------------------


def reassign(store: RecordStore, customer_ids: Sequence[uuid.UUID], values: dict) -> dict:
    """Move customers to a territory and/or owner, all of them or none."""
    scope, session = store.scope, store.session
    require_manager(scope)
    wanted = list(dict.fromkeys(customer_ids))
    visible = set(
        session.scalars(
            select(Customer.id).where(
                Customer.id.in_(wanted), Customer.deleted_at.is_(None), scope.customers_where()
            )
        )
    )
    if len(visible) != len(wanted):
        raise NotFound("Some of these customers do not exist or are not visible to you.")
    if values.get("territory_id") is not None:
        territory = session.scalar(
            select(Territory.id).where(
                Territory.id == values["territory_id"],
                Territory.deleted_at.is_(None),
                scope.where(Territory),
            )
        )
        if territory is None:
            raise Invalid({"territory_id": ["No territory with this id."]})
    updated = []
    for customer_id in wanted:
        record = store.get(Customer, customer_id)
        version = record.version
        store.update(Customer, customer_id, values)
        if record.version != version:
            updated.append(customer_id)
    return {"updated": len(updated), "customer_ids": updated}


# -- balancer --------------------------------------------------------------------


def _rep_count(session: Session, team_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.team_id == team_id, User.role == "rep", User.deleted_at.is_(None))
    )


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def propose(
    session: Session, scope: Scope, team_id: uuid.UUID, k: int | None, *, seed: int = 0
) -> dict[str, Any]:
    """Today's territories and a balanced proposal, side by side; nothing is written."""
    team_in_scope(session, scope, team_id)
    if k is None:
        k = min(max(_rep_count(session, team_id), MIN_K), MAX_K)
    territories = sorted(team_territories(session, team_id), key=lambda t: (t.sort_key, str(t.id)))
    customers = team_customers(session, team_id, [t.id for t in territories])
    items = [c.work_item() for c in customers]
    workloads = monthly_workloads(items)
    groups = [[c.work_item() for c in customers if c.territory_id == t.id] for t in territories]
    stats, ratio, compactness = evaluate(groups, workloads)
    current = {
        "imbalance": _round(ratio),
        "compactness": compactness,
        "territories": [
            {
                "territory_id": t.id,
                "name": t.name,
                "customers": s.customers,
                "workload_minutes": round(s.workload_minutes, 1),
                "compactness": s.compactness,
                "mean_distance_km": s.mean_distance_km,
            }
            for t, s in zip(territories, stats, strict=True)
        ],
    }
    try:
        proposal = balance(items, k, seed=seed)
    except ValueError as exc:
        raise Invalid({"k": [str(exc)]}) from exc
    return {
        "k": k,
        "current": current,
        "proposal": {
            "imbalance": _round(proposal.imbalance),
            "compactness": proposal.compactness,
            "seconds": round(proposal.seconds, 3),
            "territories": [
                {
                    "index": p.index,
                    "customers": p.stats.customers,
                    "workload_minutes": round(p.stats.workload_minutes, 1),
                    "compactness": p.stats.compactness,
                    "mean_distance_km": p.stats.mean_distance_km,
                    "geometry": to_geojson(p.geometry) if p.geometry is not None else None,
                    "customer_ids": p.customer_ids,
                }
                for p in proposal.territories
            ],
        },
    }


def apply_proposal(
    store: RecordStore, team_id: uuid.UUID, proposed: list[dict[str, Any]]
) -> dict[str, Any]:
    """Write the polygons (reusing territories in order, creating the rest) and move customers.

    Every customer of the team must appear exactly once; territories of the team
    not named keep their polygon and whatever customers are not moved out.
    """
    session, scope = store.session, store.scope
    team = team_in_scope(session, scope, team_id)
    territories = {t.id: t for t in team_territories(session, team_id)}
    customers = {c.id: c for c in team_customers(session, team_id, list(territories))}
    _check_proposal(proposed, territories, customers)
    targets = _write_territories(store, team, proposed)
    # New territories are in the scope only once they exist.
    writer = RecordStore(session, store.user, now=store.now)
    moved = 0
    for territory, entry in zip(targets, proposed, strict=True):
        for customer_id in entry["customer_ids"]:
            if customers[customer_id].territory_id != territory.id:
                writer.update(Customer, customer_id, {"territory_id": territory.id})
                moved += 1
    return {
        "territories": [
            {
                "territory_id": territory.id,
                "name": territory.name,
                "created": entry.get("territory_id") is None,
                "customers": len(entry["customer_ids"]),
            }
            for territory, entry in zip(targets, proposed, strict=True)
        ],
        "moved": moved,
    }


def _check_proposal(
    proposed: list[dict[str, Any]],
    territories: dict[uuid.UUID, Territory],
    customers: dict[uuid.UUID, Any],
) -> None:
    """422 naming every problem, before anything is written: unknown or repeated
    territories, customers in two places or not of the team, customers left out."""
    seen: set[uuid.UUID] = set()
    errors: dict[int, dict[str, list[str]]] = {}
    reused: set[uuid.UUID] = set()
    for index, entry in enumerate(proposed):
        problems: dict[str, list[str]] = {}
        territory_id = entry.get("territory_id")
        if territory_id is not None:
            if territory_id not in territories:
                problems["territory_id"] = ["No territory of this team with this id."]
            elif territory_id in reused:
                problems["territory_id"] = ["This territory is named twice."]
            reused.add(territory_id)
        ids = entry["customer_ids"]
        counts = Counter(ids)
        repeated = sorted({str(i) for i in ids if i in seen or counts[i] > 1})
        unknown = sorted(str(i) for i in ids if i not in customers)
        if repeated:
            problems.setdefault("customer_ids", []).append(
                f"In more than one territory: {', '.join(repeated[:5])}"
                + (f" and {len(repeated) - 5} more." if len(repeated) > 5 else ".")
            )
        if unknown:
            problems.setdefault("customer_ids", []).append(
                f"{len(unknown)} are not customers of this team (e.g. {unknown[0]})."
            )
        seen.update(ids)
        if problems:
            errors[index] = problems
    missing = len(set(customers) - seen)
    if errors or missing:
        fields: dict[str, Any] = {}
        if errors:
            fields["territories"] = errors
        if missing:
            fields["customer_ids"] = [
                f"{missing} customers of the team are in no territory; ask for a new proposal."
            ]
        raise Invalid(fields)


def _write_territories(
    store: RecordStore, team: Team, proposed: list[dict[str, Any]]
) -> list[Territory]:
    """The proposal's polygons: named territories updated, the others created, in order."""
    targets: list[Territory] = []
    for index, entry in enumerate(proposed, 1):
        values: dict[str, Any] = {"geometry": entry["geometry"]}
        if entry.get("name"):
            values["name"] = entry["name"]
        if entry.get("territory_id") is not None:
            targets.append(store.update(Territory, entry["territory_id"], values))
        else:
            values.setdefault("name", f"{team.name} {index}")
            targets.append(store.create(Territory, {**values, "team_id": team.id}))
    store.session.flush()
    return targets
