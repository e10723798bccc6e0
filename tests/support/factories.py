"""A small, hand-built world for API tests.

Team North: manager `north.manager`, territory A (rep `rep.a`), territory A2
(rep `rep.a2`). Team South: manager `south.manager`, territory B (rep `rep.b`).
An admin sees all. Each territory has one customer with a contact, a visit, an
order and a task. Every user's password is `test-pass-2026`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from domain.models import (
    Contact,
    Customer,
    Order,
    Product,
    SyncedRecord,
    Task,
    Team,
    Territory,
    User,
    Visit,
)
from server.auth.passwords import hash_password
from sync.changes import create_record

PASSWORD = "test-pass-2026"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_HASH = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


@dataclass
class World:
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    teams: dict[str, uuid.UUID] = field(default_factory=dict)
    territories: dict[str, uuid.UUID] = field(default_factory=dict)
    products: dict[str, uuid.UUID] = field(default_factory=dict)
    #: records[territory][table] -> id of that territory's record of the table.
    records: dict[str, dict[str, uuid.UUID]] = field(default_factory=dict)

    def email(self, key: str) -> str:
        return f"{key}@example.com"


def add(session: Session, model: type[SyncedRecord], **values) -> SyncedRecord:
    return create_record(session, model, values, now=NOW)


def add_user(session: Session, key: str, role: str, team_id=None, **extra) -> User:
    return add(
        session,
        User,
        email=f"{key}@example.com",
        name=key.replace(".", " ").title(),
        role=role,
        team_id=team_id,
        password_hash=password_hash(),
        **extra,
    )


def add_customer_with_children(
    session: Session, territory: Territory | None, rep: User, name: str, owner: User | None = None
) -> dict[str, uuid.UUID]:
    customer = add(
        session,
        Customer,
        name=name,
        territory_id=territory.id if territory else None,
        owner_id=owner.id if owner else None,
        status="active",
        tier="A",
        lat=10.77,
        lon=106.70,
    )
    contact = add(session, Contact, customer_id=customer.id, name=f"Contact of {name}")
    visit = add(
        session,
        Visit,
        customer_id=customer.id,
        rep_id=rep.id,
        planned_at=NOW + timedelta(days=1),
        status="planned",
    )
    order = add(
        session,
        Order,
        customer_id=customer.id,
        rep_id=rep.id,
        lines=[
            {
                "product_id": "00000000-0000-0000-0000-000000000000",
                "quantity": "1",
                "unit_price": "10.00",
                "discount_pct": "0",
            }
        ],
        total=Decimal("10.00"),
    )
    task = add(session, Task, customer_id=customer.id, assignee_id=rep.id, title=f"Call {name}")
    return {
        "customers": customer.id,
        "contacts": contact.id,
        "visits": visit.id,
        "orders": order.id,
        "tasks": task.id,
    }


def build_world(session: Session) -> World:
    world = World()
    admin = add_user(session, "admin", "admin")
    world.users["admin"] = admin.id
    for team_name, manager_key, territories in (
        ("North", "north.manager", (("A", "rep.a"), ("A2", "rep.a2"))),
        ("South", "south.manager", (("B", "rep.b"),)),
    ):
        team = add(session, Team, name=team_name)
        world.teams[team_name] = team.id
        manager = add_user(session, manager_key, "manager", team.id)
        world.users[manager_key] = manager.id
        team.managers = [manager]
        for territory_key, rep_key in territories:
            rep = add_user(session, rep_key, "rep", team.id, home_lat=10.78, home_lon=106.69)
            world.users[rep_key] = rep.id
            territory = add(session, Territory, name=f"Territory {territory_key}", team_id=team.id)
            territory.reps = [rep]
            world.territories[territory_key] = territory.id
            world.records[territory_key] = add_customer_with_children(
                session, territory, rep, f"Customer {territory_key}"
            )
    product = add(session, Product, sku="SKU-1", name="Fish sauce 1L", unit_price=Decimal("2.50"))
    world.products["active"] = product.id
    hidden = add(
        session, Product, sku="SKU-OLD", name="Old soap", unit_price=Decimal("1.00"), active=False
    )
    world.products["inactive"] = hidden.id
    session.flush()
    return world
