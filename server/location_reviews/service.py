"""Reviewing customer locations (no Flask): what waits, approve, reject.

The decisions are ordinary writes of the customer through the one write path
(`sync.locations` says which values), so history and phones follow.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select

from domain.models import Customer
from sync import Conflict, Forbidden, RecordStore
from sync.locations import REJECTION, approval

MAX_ITEMS = 500


def waiting(store: RecordStore) -> list[Customer]:
    """Customers whose location waits for a manager, oldest proposal first: a rep sees
    their own proposals, a manager those of their teams' customers."""
    query = select(Customer).where(
        store.scope.where(Customer),
        Customer.deleted_at.is_(None),
        or_(Customer.proposed_by.is_not(None), Customer.location_approved.is_(False)),
    )
    if store.scope.is_rep:
        query = query.where(Customer.proposed_by == store.user.id)
    order = (Customer.proposed_at.is_(None), Customer.proposed_at, Customer.created_at, Customer.id)
    return list(store.session.scalars(query.order_by(*order).limit(MAX_ITEMS)))


def approve(store: RecordStore, customer_id: uuid.UUID) -> Customer:
    customer = _reviewed(store, customer_id)
    store.update(Customer, customer.id, approval(customer))
    return customer


def reject(store: RecordStore, customer_id: uuid.UUID) -> Customer:
    customer = _reviewed(store, customer_id)
    if customer.proposed_by is None:
        raise Conflict(
            "No proposed location to reject: move the customer or approve where it is.",
            code="nothing_to_review",
        )
    store.update(Customer, customer.id, dict(REJECTION))
    return customer


def _reviewed(store: RecordStore, customer_id: uuid.UUID) -> Customer:
    if store.scope.is_rep:
        raise Forbidden("Only managers and admins decide customer locations.")
    customer = store.get(Customer, customer_id, for_write=True)
    if customer.proposed_by is None and customer.location_approved:
        raise Conflict(
            "This customer's location is not waiting for review.", code="nothing_to_review"
        )
    return customer
