"""Retention: how long the change log, tombstones, mutation ids and history are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, select, tuple_
from sqlalchemy.orm import Session

from domain.models import (
    CHILD_TABLES,
    ChangeLogEntry,
    Contact,
    Customer,
    Order,
    SyncMutation,
    SyncState,
    Task,
    Visit,
)

from . import settings
from .positions import PRUNED_KEY


def prune(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Retire the change log and drop tombstones older than the retention period.

    Cursors older than the retired position then get `reset: true`. The rows
    themselves stay as the records' history until that retention ends too
    (`history_days`, never shorter than the log's).
    """
    now = now or datetime.now(UTC)
    config = settings.current()
    cutoff = now - timedelta(days=config.retention_days)
    log = ChangeLogEntry
    last = session.execute(
        select(log.txid, log.seq)
        .where(log.changed_at < cutoff)
        .order_by(log.txid.desc(), log.seq.desc())
        .limit(1)
    ).first()
    counts = {"log_rows": 0, "tombstones": 0, "mutations": 0}
    counts["mutations"] = session.execute(
        SyncMutation.__table__.delete().where(
            SyncMutation.created_at < now - timedelta(days=config.idempotency_days)
        )
    ).rowcount
    if last is None:
        return counts
    kept_until = now - timedelta(days=max(config.history_days, config.retention_days))
    counts["log_rows"] = session.execute(
        log.__table__.delete().where(
            tuple_(log.txid, log.seq) <= tuple_(*last), log.changed_at < kept_until
        )
    ).rowcount
    state = session.get(SyncState, PRUNED_KEY)
    if state is None:
        session.add(SyncState(key=PRUNED_KEY, value=list(last)))
    else:
        state.value = list(last)
    for model in (Task, Order, Contact, Visit, Customer):
        old = model.deleted_at < cutoff
        if model is Visit:
            old = and_(old, ~exists().where(Order.visit_id == Visit.id))
        if model is Customer:
            for child in CHILD_TABLES:
                old = and_(old, ~exists().where(child.customer_id == Customer.id))
        counts["tombstones"] += session.execute(model.__table__.delete().where(old)).rowcount
    return counts
