"""The history window as a test computes it: in Python, from the rows (ADR 0024).

Pulls decide in SQL which visits and orders a phone holds; tests compare what
phones end up holding with this independent reading of the same rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import CLOSED_VISIT_STATUSES, Order, User, Visit
from sync.scopes import Scope
from sync.window import CLOSED_ORDER_STATUSES, Window
from tests.support.sync_calls import sync_settings


def windowed_view(session: Session, user: User, now: datetime) -> dict[str, set[str]]:
    """Ids of the visits and orders `user`'s phone should hold on `now`'s day."""
    scope = Scope.for_user(session, user)
    window = Window.of(scope.role, now)
    view: dict[str, set[str]] = {}
    for model, closed, date_of in (
        (Visit, CLOSED_VISIT_STATUSES, lambda r: r.check_in_at or r.planned_at or r.created_at),
        (Order, CLOSED_ORDER_STATUSES, lambda r: r.submitted_at or r.created_at),
    ):
        rows = session.scalars(
            select(model).where(model.deleted_at.is_(None), scope.where(model))
        ).all()
        by_customer: dict[uuid.UUID, list] = {}
        for r in rows:
            if r.status in closed:
                by_customer.setdefault(r.customer_id, []).append(r)
        latest = set()
        for siblings in by_customer.values():
            siblings.sort(key=lambda r: (date_of(r), r.id.hex), reverse=True)
            latest |= {r.id for r in siblings[: window.last_n]}
        view[model.__tablename__] = {
            str(r.id)
            for r in rows
            if window.edge is None
            or r.status not in closed
            or date_of(r) >= window.edge
            or r.id in latest
        }
    return view


def use_window(*, rep: int, manager: int, admin: int = 0, last_n: int = 3):
    """`with use_window(rep=90, manager=30, admin=0, last_n=3):` the engine's settings."""
    return sync_settings(
        window_days_rep=rep,
        window_days_manager=manager,
        window_days_admin=admin,
        window_last_n=last_n,
    )
