"""Heavy endpoints are fair: one user's heavy requests beyond the limit get 429 at once,
while other users are served (server/fairness.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from flask import Flask, g

from server import fairness
from server.geo import service as geo_service
from tests.support.databases import another_app
from tests.support.redis_server import REDIS_URL, redis_prefix

TERRITORIES = "/api/v1/geo/territories"


@contextmanager
def held_in_the_service(
    monkeypatch, user_id
) -> Iterator[tuple[threading.Semaphore, threading.Event]]:
    """The territories layer of `user_id` waits in the service until released: a barrier
    that keeps that user's requests running as long as the test needs."""
    entered, release = threading.Semaphore(0), threading.Event()
    real = geo_service.territories

    def slow(session, scope):
        if g.user.id == user_id:
            entered.release()
            assert release.wait(20), "the test never released the held requests"
        return real(session, scope)

    monkeypatch.setattr(geo_service, "territories", slow)
    try:
        yield entered, release
    finally:
        release.set()


def hold_two(pool, app: Flask, headers, entered) -> list:
    running = [pool.submit(app.test_client().get, TERRITORIES, headers=headers) for _ in range(2)]
    for _ in range(2):
        assert entered.acquire(timeout=20), "a held request never reached the service"
    return running


def assert_refused(response) -> None:
    assert response.status_code == 429, response.json
    assert response.json["error"]["code"] == "too_many_concurrent"
    assert int(response.headers["Retry-After"]) >= 1


def test_one_users_third_heavy_request_is_refused_while_others_are_served(
    app, world, login, monkeypatch
):
    manager, other = login(world.email("north.manager")), login(world.email("south.manager"))
    with another_app(app, HEAVY_PER_USER=2) as limited:
        client = limited.test_client()
        with (
            held_in_the_service(monkeypatch, world.users["north.manager"]) as (entered, release),
            ThreadPoolExecutor(2) as pool,
        ):
            running = hold_two(pool, limited, manager, entered)
            assert_refused(client.get(TERRITORIES, headers=manager))
            assert client.get(TERRITORIES, headers=other).status_code == 200
            # Light requests of the same user are not limited.
            assert client.get("/api/v1/customers", headers=manager).status_code == 200
            release.set()
            assert [future.result().status_code for future in running] == [200, 200]
        # The slots were given back.
        assert client.get(TERRITORIES, headers=manager).status_code == 200


HEAVY = [
    ("post", "/api/v1/route-plans"),
    ("post", "/api/v1/route-plans/team"),
    ("post", "/api/v1/route-plans/week"),
    ("post", "/api/v1/route-plans/00000000-0000-4000-8000-000000000000/reoptimize"),
    ("get", "/api/v1/kpis"),
    ("get", "/api/v1/geo/territories"),
    ("get", "/api/v1/geo/customers"),
    ("get", "/api/v1/geo/reps"),
    ("post", "/api/v1/territory-balancer/proposals"),
]
LIGHT = [
    ("get", "/api/v1/route-plans"),
    ("get", "/api/v1/quotas"),
    ("get", "/api/v1/customers"),
    ("get", "/api/v1/sync/pull?schema_version=1"),
]


def test_planning_kpis_maps_and_the_balancer_are_heavy(app, client, world, login):
    """With every slot of the manager's taken, each heavy endpoint answers 429 before it
    reads its input; light ones and another user's heavy ones are not refused."""
    manager, other = login(world.email("north.manager")), login(world.email("south.manager"))
    slots = app.extensions[fairness.EXTENSION]
    owner = str(world.users["north.manager"])
    leases = [slots.acquire(owner) for _ in range(fairness.HeavySettings().per_user)]
    try:
        for method, path in HEAVY:
            assert_refused(getattr(client, method)(path, headers=manager, json={}))
            other_answer = getattr(client, method)(path, headers=other, json={})
            assert other_answer.status_code != 429, path
        for method, path in LIGHT:
            assert getattr(client, method)(path, headers=manager).status_code == 200, path
    finally:
        for lease in leases:
            slots.release(owner, lease)


def test_the_limit_is_shared_by_app_servers_through_redis(app, world, login, monkeypatch):
    """Two app instances (two workers or hosts) on one Redis: two held requests on the
    first, the same user's third on the second is refused, another user's is served."""
    manager, other = login(world.email("north.manager")), login(world.email("south.manager"))
    with redis_prefix() as prefix:
        settings = {
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "LOGIN_KEY_PREFIX": prefix,
            "HEAVY_PER_USER": 2,
        }
        with another_app(app, **settings) as first, another_app(app, **settings) as second:
            assert isinstance(first.extensions[fairness.EXTENSION], fairness.RedisSlots)
            client = second.test_client()
            with (
                held_in_the_service(monkeypatch, world.users["north.manager"]) as (
                    entered,
                    release,
                ),
                ThreadPoolExecutor(2) as pool,
            ):
                running = hold_two(pool, first, manager, entered)
                assert_refused(client.get(TERRITORIES, headers=manager))
                assert client.get(TERRITORIES, headers=other).status_code == 200
                release.set()
                assert [future.result().status_code for future in running] == [200, 200]
            assert client.get(TERRITORIES, headers=manager).status_code == 200


def test_a_limit_of_zero_turns_the_limit_off(app, world, login, monkeypatch):
    manager = login(world.email("north.manager"))
    with another_app(app, HEAVY_PER_USER=0) as unlimited:
        client = unlimited.test_client()
        with (
            held_in_the_service(monkeypatch, world.users["north.manager"]) as (entered, release),
            ThreadPoolExecutor(3) as pool,
        ):
            running = hold_two(pool, unlimited, manager, entered)
            third = pool.submit(client.get, TERRITORIES, headers=manager)
            assert entered.acquire(timeout=20), "the third request was not let through"
            release.set()
            assert [f.result().status_code for f in (*running, third)] == [200, 200, 200]
