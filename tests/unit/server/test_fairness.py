"""The slots behind the heavy-request limit: per process, and in Redis with leases that
expire, so a killed worker cannot keep a user's slot forever."""

from __future__ import annotations

import pytest
import redis

from server.fairness import HeavySettings, MemorySlots, RedisSlots, build
from tests.support.redis_server import REDIS_URL, redis_prefix


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


SETTINGS = HeavySettings(per_user=2, lease_s=120)


def exercise(slots, clock: Clock) -> None:
    first, second = slots.acquire("u1"), slots.acquire("u1")
    assert first and second and first != second
    assert slots.acquire("u1") is None  # both of u1's slots are taken
    assert slots.acquire("u2") is not None  # another user's are not
    slots.release("u1", first)
    third = slots.acquire("u1")
    assert third is not None
    # A worker killed mid-request never gives its slots back: they expire with the lease.
    clock.now += 119
    assert slots.acquire("u1") is None
    clock.now += 2
    assert slots.acquire("u1") is not None and slots.acquire("u1") is not None
    slots.release("u1", "not-a-lease")  # an unknown or expired lease: nothing happens


def test_slots_in_one_process():
    clock = Clock()
    exercise(MemorySlots(SETTINGS, clock), clock)


def test_slots_in_redis_are_one_sorted_set_per_user_that_expires():
    with redis_prefix() as prefix:
        client = redis.Redis.from_url(REDIS_URL)
        clock = Clock()
        exercise(RedisSlots(client, SETTINGS, prefix, clock), clock)
        keys = sorted(client.scan_iter(f"{prefix}:*"))
        assert keys == [f"{prefix}:heavy:u1".encode(), f"{prefix}:heavy:u2".encode()]
        assert 0 < client.pttl(keys[0]) <= 120_000  # the key goes with its last lease
        client.close()


def test_unreachable_redis_serves_the_request():
    """Fairness is worth less than the service: without Redis, no limit (logged)."""
    slots = RedisSlots(redis.Redis.from_url("redis://127.0.0.1:1/0"), SETTINGS, "p")
    assert all(slots.acquire("u1") for _ in range(3))
    slots.release("u1", "lease")


def test_redis_storage_gives_shared_slots_and_memory_per_process_ones():
    from limits.storage import storage_from_string

    assert isinstance(
        build(storage_from_string("memory://"), SETTINGS, "p", production=False), MemorySlots
    )
    storage = storage_from_string(REDIS_URL)
    assert isinstance(build(storage, SETTINGS, "p", production=False), RedisSlots)


@pytest.mark.parametrize("values", [{"per_user": -1}, {"lease_s": 0}, {"retry_after_s": "2"}])
def test_unreadable_settings_are_refused(values):
    with pytest.raises(ValueError):
        HeavySettings(**values)
