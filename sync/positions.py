"""Positions in the change log: the horizon, the pruned boundary, and "after a position".

A position is `(txid, seq)`. On PostgreSQL `txid` is the writing transaction
and the horizon is `pg_snapshot_xmin` (below it every transaction has
finished); on SQLite `txid` is always 0 and `seq` alone orders commits, since
there is one writer at a time. See ADR 0005.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, bindparam, func, literal_column, select, text, tuple_
from sqlalchemy.orm import Session

from domain.models import ChangeLogEntry, SyncState

from .cursor import MAX_SEQ, Position

#: `sync_state` key of the position up to which the log was pruned.
PRUNED_KEY = "log_pruned_through"


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


#: Built once: every pull reads the horizon, and building a statement costs more CPU
#: than running this one.
_PG_XMIN = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
_SQLITE_LAST = func.coalesce(func.max(ChangeLogEntry.seq), 0)
_PG_HORIZON = select(_PG_XMIN)
_SQLITE_HORIZON = select(_SQLITE_LAST)


def horizon(session: Session) -> Position:
    """The log position up to which every transaction has finished.

    Read *before* the log, so rows below it are all committed and visible to
    the later statement (READ COMMITTED takes a new snapshot per statement).
    """
    if is_postgres(session):
        xmin = session.scalar(_PG_HORIZON)
        return (xmin - 1, MAX_SEQ)
    # SQLite has one writer at a time: sequence order is commit order.
    return (0, session.scalar(_SQLITE_HORIZON))


_PG_XMAX = "pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
_PG_REACH = text(f"SELECT {_PG_XMAX}")
#: `reach` as a column of a statement that reads records, read once per statement (an
#: init plan): its own snapshot's bound, without a round trip of its own (`reach_of`).
PG_REACH_COLUMN = select(literal_column(_PG_XMAX)).scalar_subquery().label("reach")


def reach(session: Session) -> Position:
    """A position no record this transaction has read so far can have been written after.

    Read *after* a page's records: the horizon is below running transactions, but
    the page's statements saw everything committed by then (READ COMMITTED), so a
    device may hold records whose changes are logged above its cursor's position
    (`Cursor.reach`). On PostgreSQL every transaction that statement could see has
    an id below `pg_snapshot_xmax`; on SQLite, the last sequence number.
    """
    if is_postgres(session):
        return reach_of(session.scalar(_PG_REACH))
    return (0, session.scalar(_SQLITE_HORIZON))


def reach_of(xmax: int) -> Position:
    """The reach of a PostgreSQL snapshot whose `pg_snapshot_xmax` is `xmax`."""
    return (xmax - 1, MAX_SEQ)


_PRUNED = select(SyncState.value).where(SyncState.key == PRUNED_KEY)


def pruned_through(session: Session) -> Position:
    return _pruned(session.scalar(_PRUNED))


def _pruned(value: list | None) -> Position:
    return tuple(value) if value else (-1, 0)  # type: ignore[return-value]


_PG_HORIZON_PRUNED = select(_PG_XMIN, _PRUNED.scalar_subquery())
_SQLITE_HORIZON_PRUNED = select(_SQLITE_LAST, _PRUNED.scalar_subquery())


def horizon_and_pruned(session: Session) -> tuple[Position, Position]:
    """`horizon` and `pruned_through` in one statement (one round trip per pull)."""
    if is_postgres(session):
        xmin, pruned = session.execute(_PG_HORIZON_PRUNED).one()
        top: Position = (xmin - 1, MAX_SEQ)
    else:
        seq, pruned = session.execute(_SQLITE_HORIZON_PRUNED).one()
        top = (0, seq)
    return top, _pruned(pruned)


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


def bound_log_between(postgres: bool) -> list:
    """`log_between` with the positions as bind parameters (`position_params`), for a
    statement built once and run with each request's positions."""
    log = ChangeLogEntry
    after_txid, after_seq = (
        bindparam("after_txid", type_=BigInteger),
        bindparam("after_seq", type_=BigInteger),
    )
    top_txid, top_seq = (
        bindparam("top_txid", type_=BigInteger),
        bindparam("top_seq", type_=BigInteger),
    )
    if not postgres:
        return [log.seq > after_seq, log.seq <= top_seq]
    at = tuple_(log.txid, log.seq)
    return [at > tuple_(after_txid, after_seq), at <= tuple_(top_txid, top_seq)]


def position_params(after: Position, up_to: Position) -> dict[str, int]:
    """The parameters of `bound_log_between`."""
    return {
        "after_txid": after[0],
        "after_seq": after[1],
        "top_txid": up_to[0],
        "top_seq": up_to[1],
    }


def log_after(session: Session, position: Position):
    """The condition for log rows after `position`."""
    return log_between(session, position)[0]
