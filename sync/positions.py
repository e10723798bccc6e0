"""Positions in the change log: the horizon, the pruned boundary, and "after a position".

A position is `(txid, seq)`. On PostgreSQL `txid` is the writing transaction
and the horizon is `pg_snapshot_xmin` (below it every transaction has
finished); on SQLite `txid` is always 0 and `seq` alone orders commits, since
there is one writer at a time. See ADR 0005.
"""

from __future__ import annotations

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.orm import Session

from domain.models import ChangeLogEntry, SyncState

from .cursor import MAX_SEQ, Position

#: `sync_state` key of the position up to which the log was pruned.
PRUNED_KEY = "log_pruned_through"


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def horizon(session: Session) -> Position:
    """The log position up to which every transaction has finished.

    Read *before* the log, so rows below it are all committed and visible to
    the later statement (READ COMMITTED takes a new snapshot per statement).
    """
    if is_postgres(session):
        xmin = session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
        return (xmin - 1, MAX_SEQ)
    # SQLite has one writer at a time: sequence order is commit order.
    return (0, session.scalar(select(func.coalesce(func.max(ChangeLogEntry.seq), 0))))


def pruned_through(session: Session) -> Position:
    state = session.get(SyncState, PRUNED_KEY)
    return tuple(state.value) if state else (-1, 0)  # type: ignore[return-value]


def log_between(session: Session, after: Position, up_to: Position | None = None) -> list:
    """Conditions for log rows after `after` (and up to `up_to`), in a form each
    database answers from an index."""
    log = ChangeLogEntry
    if not is_postgres(session):
        # txid is always 0 there, and SQLite ranges over the key, not row values.
        bounds = [log.seq > after[1]]
        return bounds + ([log.seq <= up_to[1]] if up_to else [])
    at = tuple_(log.txid, log.seq)
    return [at > tuple_(*after)] + ([at <= tuple_(*up_to)] if up_to else [])


def log_after(session: Session, position: Position):
    """The condition for log rows after `position`."""
    return log_between(session, position)[0]
