"""A Redis database of the tests' own, skipped locally without Redis and failing in CI."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from .live_server import unavailable

#: The database the tests that need Redis share (sign-in counters, fairness, metrics).
REDIS_URL = "redis://127.0.0.1:6379/10"


def require_redis(why: str = "") -> None:
    """Go on only with a Redis on 127.0.0.1:6379: skip without it, but fail in CI."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        unavailable(f"Redis is not running on 127.0.0.1:6379{why}.")


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of the caller's own; its keys are deleted afterwards."""
    require_redis()
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        server = redis.Redis.from_url(REDIS_URL)
        keys = list(server.scan_iter(f"*{prefix}*"))  # also the limits library's own keys
        if keys:
            server.delete(*keys)
        server.close()
