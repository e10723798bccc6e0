"""A Redis database of the tests' own, skipped locally without Redis and failing in CI."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

#: The database the tests that need Redis share (sign-in counters, fairness, metrics).
REDIS_URL = "redis://127.0.0.1:6379/10"


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of the caller's own; its keys are deleted afterwards."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
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
