"""Overload and a lost database answer 503 with `Retry-After`, never an unbounded queue.

**Why the bound is here.** `fieldsync serve` runs gunicorn's threaded workers (`gthread`:
`threads` > 1 in server/serve.py). A worker's main thread accepts every connection it can
(up to gunicorn's `worker_connections`, 1,000 by default) and hands each to its thread pool,
whose queue has no bound. With nothing else, 1,000 phones coming out of a dead zone at once
wait in that queue, each one's latency growing with the queue, until their own timeouts fire
and they retry: more work for a server that is already behind.

**The bound.** Each worker process lets at most `FIELDSYNC_MAX_IN_FLIGHT` requests work at
once (a semaphore taken first thing in `before_request`, given back in `teardown_request`).
Up to `FIELDSYNC_MAX_WAITING` more may wait for a slot, each at most `FIELDSYNC_MAX_WAIT_MS`
(a short burst is absorbed, not refused); any other request is answered at once with
`503 {"error": {"code": "overloaded"}}` and `Retry-After`. gunicorn runs
`in-flight + waiting + SPARE_THREADS` threads per worker (`worker_threads()`), so a thread is
almost always free to turn a request away: the pool's queue drains at the speed of a 503
(about a millisecond), not at the speed of a sync. `FIELDSYNC_MAX_IN_FLIGHT=0` turns the
bound off (and gunicorn back to its former 4 threads). Health probes and static files are
never refused.

**Retry-After** is a ticket in a virtual queue: every refusal books the next free turn at
the rate this worker has been serving requests lately, and `Retry-After` is the wait until
that turn (1 s at least, `FIELDSYNC_RETRY_AFTER_MAX_S` at most). A herd of N phones turned
away together is told to come back spread over about N / rate seconds instead of all again
in one second. Clients should add jitter of their own.

**A lost database** (PostgreSQL restarting, a connection killed, "the database system is
starting up") raises `OperationalError` / `InterfaceError` (or a `DBAPIError` flagged
`connection_invalidated`): answered `503 database_unavailable` with `Retry-After:
DATABASE_RETRY_AFTER_S`, not 500. The database rolled the transaction back, and a push stores
its results with its changes, so the client's retry with the same mutation ids is safe.

Settings are `Limits`, from the app config (`OVERLOAD_MAX_IN_FLIGHT`… set from the
`FIELDSYNC_MAX_IN_FLIGHT`… environment by server/config.py); `fieldsync serve` gives
gunicorn the thread count from the same config.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, fields
from typing import ClassVar

from flask import Flask, g
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from .errors import error_response, handle_unexpected
from .extensions import db
from .markers import UNMETERED, marker

log = logging.getLogger(__name__)

#: Threads per worker beyond the in-flight and waiting ones: they answer 503 at once.
SPARE_THREADS = 4
#: gunicorn's threads per worker when the bound is off (what serve.py always used).
UNBOUNDED_THREADS = 4
#: Seconds a client is asked to wait when the database cannot be reached.
DATABASE_RETRY_AFTER_S = 2
EXTENSION = "fieldsync.overload"


@dataclass(frozen=True)
class Limits:
    #: Config keys of these settings: `OVERLOAD_MAX_IN_FLIGHT`… (server/config.py).
    CONFIG_PREFIX: ClassVar[str] = "OVERLOAD_"

    max_in_flight: int = 4
    max_waiting: int = 4
    max_wait_ms: int = 1000
    retry_after_max_s: int = 30

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{field.name} must be a whole number ≥ 0, not {value!r}.")

    @property
    def bounded(self) -> bool:
        return self.max_in_flight > 0


def worker_threads(limits: Limits) -> int:
    """gunicorn threads per worker: room to work, to wait, and to refuse at once."""
    if not limits.bounded:
        return UNBOUNDED_THREADS
    return limits.max_in_flight + limits.max_waiting + SPARE_THREADS


class Gate:
    """The per-process bound on requests at work, and the Retry-After it hands out."""

    #: Seconds of history for the serving rate.
    WINDOW_S = 5.0

    def __init__(self, limits: Limits, clock=time.monotonic):
        self.limits = limits
        self.clock = clock
        self._slots = threading.BoundedSemaphore(max(1, limits.max_in_flight))
        self._lock = threading.Lock()
        self._waiting = 0
        self._served: deque[float] = deque()
        self._next_turn = 0.0
        self.refused = 0

    def enter(self) -> bool:
        """Take a slot (waiting a little if allowed); False: refuse the request."""
        if self._slots.acquire(blocking=False):
            return True
        with self._lock:
            if self._waiting >= self.limits.max_waiting or self.limits.max_wait_ms <= 0:
                self.refused += 1
                return False
            self._waiting += 1
        try:
            admitted = self._slots.acquire(timeout=self.limits.max_wait_ms / 1000)
        finally:
            with self._lock:
                self._waiting -= 1
        if not admitted:
            with self._lock:
                self.refused += 1
        return admitted

    def leave(self) -> None:
        self._slots.release()
        now = self.clock()
        with self._lock:
            self._served.append(now)
            self._forget(now)

    def retry_after(self) -> int:
        """Seconds until the next free turn in the virtual queue of refused requests."""
        now = self.clock()
        with self._lock:
            self._forget(now)
            # Requests served per second lately; at least one per slot per second.
            rate = max(len(self._served) / self.WINDOW_S, float(self.limits.max_in_flight), 1.0)
            self._next_turn = max(self._next_turn, now) + 1.0 / rate
            wait = self._next_turn - now
        return max(1, min(self.limits.retry_after_max_s or 1, math.ceil(wait)))

    def _forget(self, now: float) -> None:
        while self._served and self._served[0] < now - self.WINDOW_S:
            self._served.popleft()


def install(app: Flask, limits: Limits) -> None:
    """Bound the requests at work (first `before_request`) and map a lost database to 503."""
    # OperationalError and InterfaceError are DBAPIErrors; IntegrityError keeps its own handler.
    app.register_error_handler(DBAPIError, handle_database_error)
    if not limits.bounded:
        return
    gate = Gate(limits)
    app.extensions[EXTENSION] = gate

    def admit():
        if marker(UNMETERED, False):  # probes must see the process as it is; static files
            return None
        if not gate.enter():
            return error_response(
                503,
                "overloaded",
                "The server is busy; try again after the Retry-After delay.",
                headers={"Retry-After": str(gate.retry_after())},
            )
        g.overload_slot = True
        return None

    def release(_error=None):
        if g.pop("overload_slot", False):
            gate.leave()

    # First of all hooks: a refused request must not touch the database (authentication).
    app.before_request_funcs.setdefault(None, []).insert(0, admit)
    app.teardown_request(release)


def handle_database_error(error: DBAPIError):
    lost = isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated
    if not lost:  # another database error (a bad statement, say): a server fault, 500
        return handle_unexpected(error)
    log.warning("database unavailable: %s", getattr(error, "orig", error))
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is discarded at teardown anyway
        log.debug("rollback after a lost connection failed", exc_info=True)
    return error_response(
        503,
        "database_unavailable",
        "The database cannot be reached; try again after the Retry-After delay.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )
