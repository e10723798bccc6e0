"""Heavy endpoints are shared fairly: each user runs at most a few heavy requests at once.

**Why.** Planning (day, team, week, re-plan), KPIs, the whole-scope GeoJSON layers and the
territory balancer each take tens of milliseconds to seconds. The overload gate
(server/overload.py) bounds a worker's requests at work, but not whose: one manager looping
week plans would fill every slot, and everybody else would get `503 overloaded`. So views
marked `@heavy` (server/markers.py) take one of their user's `per_user` slots after
authentication; a user whose slots are all taken gets `429 too_many_concurrent` with
`Retry-After` at once, and other users are served.

**Where the slots live.** With `FIELDSYNC_RATELIMIT_STORAGE_URI=redis://…` (the sign-in
throttle's Redis, ADR 0017), in Redis, shared by every worker and app server: one sorted set
per user (`<prefix>:heavy:<user id>`) whose members are leases scored by their expiry time.
Taking a slot is one Lua script (drop expired leases, count, add), giving it back one ZREM.
A lease expires after `lease_s` (longer than gunicorn's 60 s worker timeout), so a worker
killed in the middle of a request frees its user's slot by then instead of never. Otherwise
(`memory://`, the single-machine SQLite default) the slots are counted per process: with N
workers a user may run N × `per_user` heavy requests, and production logs a warning.

If Redis cannot be reached the request is served (logged): fairness is worth less than the
service; the overload gate still bounds each worker.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol

from flask import Flask, g

from .errors import ApiError, documented_errors
from .markers import HEAVY, heavy, marker

log = logging.getLogger(__name__)

#: `app.extensions` key of the app's `Slots`.
EXTENSION = "fieldsync.heavy_slots"


@dataclass(frozen=True)
class HeavySettings:
    #: Config keys: `HEAVY_PER_USER`… (server/config.py, `FIELDSYNC_HEAVY_PER_USER`…).
    CONFIG_PREFIX: ClassVar[str] = "HEAVY_"

    #: Heavy requests one user may have at work at once; 0: no limit. Three: the map page
    #: loads two layers at once, and a filter change may start another before they end.
    per_user: int = 3
    #: Seconds after which a slot whose request never ended (a killed worker) is free again.
    lease_s: int = 120
    #: What `Retry-After` says to a user over the limit.
    retry_after_s: int = 2

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{field.name} must be a whole number ≥ 0, not {value!r}.")
        if self.lease_s < 1 or self.retry_after_s < 1:
            raise ValueError("lease_s and retry_after_s must be at least 1 second.")


def heavy_view(blueprint: Any) -> Callable[[Callable], Callable]:
    """`@heavy` and its `429 too_many_concurrent` in the API document, in one decorator:
    a view that may answer 429 always says so."""

    def decorate(view: Callable) -> Callable:
        return heavy(documented_errors(blueprint, 429)(view))

    return decorate


class Slots(Protocol):
    def acquire(self, owner: str) -> str | None:
        """A lease on one of `owner`'s slots, or None when they are all taken."""

    def release(self, owner: str, lease: str) -> None:
        """Give the slot back (an expired or unknown lease: nothing happens)."""


class MemorySlots:
    """One process's slots: what a single-process deployment needs, and tests."""

    def __init__(self, settings: HeavySettings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._leases: dict[str, dict[str, float]] = {}

    def acquire(self, owner: str) -> str | None:
        now = self.clock()
        with self._lock:
            leases = self._leases.setdefault(owner, {})
            for lease in [lease for lease, expiry in leases.items() if expiry <= now]:
                del leases[lease]
            if len(leases) >= self.settings.per_user:
                return None
            lease = uuid.uuid4().hex
            leases[lease] = now + self.settings.lease_s
            return lease

    def release(self, owner: str, lease: str) -> None:
        with self._lock:
            leases = self._leases.get(owner, {})
            leases.pop(lease, None)
            if not leases:
                self._leases.pop(owner, None)


#: KEYS[1]: the user's sorted set; ARGV: now, limit, lease expiry, key TTL (ms), lease id.
ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""


class RedisSlots:
    """Slots shared by every worker and app server: a sorted set of leases per user.

    Time is the app server's wall clock (NTP keeps servers within milliseconds; leases last
    minutes), passed in so tests can move it.
    """

    def __init__(
        self,
        client: Any,
        settings: HeavySettings,
        prefix: str,
        clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self.settings = settings
        self.prefix = prefix
        self.clock = clock
        self._acquire = client.register_script(ACQUIRE)  # EVALSHA, loaded on first use

    def key(self, owner: str) -> str:
        return f"{self.prefix}:heavy:{owner}"

    def acquire(self, owner: str) -> str | None:
        from redis.exceptions import RedisError

        now = self.clock()
        lease = uuid.uuid4().hex
        args = [now, self.settings.per_user, now + self.settings.lease_s]
        try:
            taken = self._acquire(
                keys=[self.key(owner)], args=[*args, self.settings.lease_s * 1000, lease]
            )
        except RedisError as exc:
            log.warning("heavy-request slots unavailable, serving without a limit: %s", exc)
            return lease  # not stored: its release removes nothing
        return lease if taken else None

    def release(self, owner: str, lease: str) -> None:
        from redis.exceptions import RedisError

        try:
            self.client.zrem(self.key(owner), lease)
        except RedisError as exc:  # the lease expires by itself
            log.warning("heavy-request slot not given back: %s", exc)


def build(storage: Any, settings: HeavySettings, prefix: str, *, production: bool) -> Slots:
    """Slots in the sign-in throttle's `limits` storage when it is Redis, else per process."""
    from limits.storage import RedisStorage  # also Sentinel and Cluster

    if isinstance(storage, RedisStorage):
        return RedisSlots(storage.get_connection(), settings, prefix)
    if production:
        log.warning(
            "Heavy-request limits are counted per worker process (FIELDSYNC_RATELIMIT_STORAGE_URI "
            "is not Redis): with N workers a user may run N × %d at once.",
            settings.per_user,
        )
    return MemorySlots(settings)


def install(app: Flask, slots: Slots, settings: HeavySettings) -> None:
    """Take a slot for `@heavy` views after authentication; give it back at teardown."""
    app.extensions[EXTENSION] = slots
    if settings.per_user == 0:
        return

    def take() -> None:
        user = g.get("user")
        if user is None or not marker(HEAVY, False):
            return
        owner = str(user.id)
        lease = slots.acquire(owner)
        if lease is None:
            raise ApiError(
                429,
                "too_many_concurrent",
                f"You already have {settings.per_user} heavy requests running (planning, "
                "KPIs, maps); try again when one has finished.",
                headers={"Retry-After": str(settings.retry_after_s)},
            )
        g.heavy_lease = (owner, lease)

    def give_back(_error: BaseException | None = None) -> None:
        held = g.pop("heavy_lease", None)
        if held is not None:
            slots.release(*held)

    app.before_request(take)  # after authenticate_request, which create_app registers first
    app.teardown_request(give_back)
