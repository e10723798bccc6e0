"""Overload answers 503 `overloaded` with Retry-After; a lost database 503 `database_unavailable`.

The bound is held deterministically: the test takes the worker's slots itself through the
gate (`app.extensions["fieldsync.overload"]`), so nothing depends on timing.
"""

from __future__ import annotations

import threading

import pytest

from server import create_app
from server.config import ConfigError, build_config, section
from server.overload import (
    DATABASE_RETRY_AFTER_S,
    EXTENSION,
    SPARE_THREADS,
    UNBOUNDED_THREADS,
    Gate,
    Limits,
    worker_threads,
)
from tests.support.databases import SECRET, TEST_CONFIG

#: Nothing listens on port 1: every database access fails to connect, at once.
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"
#: A public API endpoint that needs no database.
PUBLIC = "/api/v1/openapi.json"


def make_app(tmp_path, **config):
    database = f"sqlite:///{tmp_path / 'overload.db'}"
    return create_app({"SQLALCHEMY_DATABASE_URI": database, **TEST_CONFIG, **config})


def hold_every_slot(gate: Gate) -> int:
    held = 0
    while gate._slots.acquire(blocking=False):
        held += 1
    return held


def test_beyond_the_limit_the_answer_is_503_overloaded_with_retry_after(tmp_path):
    app = make_app(tmp_path, OVERLOAD_MAX_IN_FLIGHT=2, OVERLOAD_MAX_WAITING=0)
    gate = app.extensions[EXTENSION]
    assert hold_every_slot(gate) == 2
    response = app.test_client().get(PUBLIC, headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "overloaded"
    assert response.json["error"]["message"]
    assert int(response.headers["Retry-After"]) >= 1
    assert gate.refused == 1
    # Authenticated endpoints are refused before authentication (no database work).
    response = app.test_client().get("/api/v1/sync/pull")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "overloaded"


def test_under_the_limit_requests_pass_and_give_their_slot_back(tmp_path):
    app = make_app(tmp_path, OVERLOAD_MAX_IN_FLIGHT=2, OVERLOAD_MAX_WAITING=0)
    gate = app.extensions[EXTENSION]
    gate._slots.acquire()  # one of two slots busy
    client = app.test_client()
    for _ in range(5):  # each request frees its slot: the second slot serves them all
        assert client.get(PUBLIC).status_code == 200
    assert client.get("/api/v1/sync/pull").status_code == 401  # through to authentication
    assert gate.refused == 0
    gate._slots.release()
    assert hold_every_slot(gate) == 2  # every slot was given back


def test_health_probes_are_never_refused(tmp_path):
    app = make_app(tmp_path, OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=0)
    hold_every_slot(app.extensions[EXTENSION])
    assert app.test_client().get("/healthz").status_code == 200


def test_a_request_may_wait_for_a_slot_freed_meanwhile(tmp_path):
    app = make_app(
        tmp_path, OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=1, OVERLOAD_MAX_WAIT_MS=60_000
    )
    gate = app.extensions[EXTENSION]
    hold_every_slot(gate)
    answers: list[int] = []
    waiter = threading.Thread(
        target=lambda: answers.append(app.test_client().get(PUBLIC).status_code)
    )
    waiter.start()
    while gate._waiting == 0 and waiter.is_alive():  # the request is waiting for the slot
        waiter.join(0.001)
    assert gate._waiting == 1, answers
    # The one waiting place is taken: the next request is refused at once.
    assert app.test_client().get(PUBLIC).status_code == 503
    gate._slots.release()
    waiter.join(10)
    assert answers == [200]


def test_a_wait_that_runs_out_is_refused(tmp_path):
    app = make_app(
        tmp_path, OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=1, OVERLOAD_MAX_WAIT_MS=1
    )
    hold_every_slot(app.extensions[EXTENSION])
    response = app.test_client().get(PUBLIC)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "overloaded"


def test_retry_after_spreads_a_herd_over_the_serving_rate():
    now = [100.0]
    gate = Gate(Limits(max_in_flight=2, retry_after_max_s=30), clock=lambda: now[0])
    for _ in range(50):  # served 50 requests in the last 5 s: 10 per second
        gate._slots.acquire()
        gate.leave()
    waits = [gate.retry_after() for _ in range(100)]
    assert waits[0] == 1
    assert waits == sorted(waits)
    assert waits[-1] == 10  # the 100th refused request: 100 turns at 10 per second
    for _ in range(1000):
        gate.retry_after()
    assert gate.retry_after() == 30  # never more than the maximum
    now[0] += 1000  # long quiet: the virtual queue is empty again
    assert gate.retry_after() == 1


def test_the_bound_can_be_turned_off(tmp_path):
    app = make_app(tmp_path, OVERLOAD_MAX_IN_FLIGHT=0)
    assert EXTENSION not in app.extensions
    assert app.test_client().get(PUBLIC).status_code == 200
    assert worker_threads(Limits(max_in_flight=0)) == UNBOUNDED_THREADS


def test_gunicorn_threads_leave_room_to_refuse(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSYNC_MAX_IN_FLIGHT", "6")
    monkeypatch.setenv("FIELDSYNC_MAX_WAITING", "3")
    config = build_config(str(tmp_path), {"SECRET_KEY": SECRET})
    assert worker_threads(section(Limits, config)) == 6 + 3 + SPARE_THREADS
    monkeypatch.setenv("FIELDSYNC_MAX_WAITING", "many")
    with pytest.raises(ConfigError, match="FIELDSYNC_MAX_WAITING"):
        build_config(str(tmp_path), {"SECRET_KEY": SECRET})
    monkeypatch.setenv("FIELDSYNC_MAX_WAITING", "-1")
    with pytest.raises(ConfigError, match="max_waiting"):
        build_config(str(tmp_path), {"SECRET_KEY": SECRET})


# -- a lost database -------------------------------------------------------------------------


def test_an_unreachable_database_answers_503_database_unavailable(tmp_path):
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=UNREACHABLE)
    response = app.test_client().post(
        "/api/v1/auth/login",
        json={"email": "rep@example.com", "password": "test-pass-2026", "device_id": "d"},
    )
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    assert int(response.headers["Retry-After"]) >= DATABASE_RETRY_AFTER_S
    # The request gave its slot back although it failed.
    assert hold_every_slot(app.extensions[EXTENSION]) == section(Limits, app.config).max_in_flight
