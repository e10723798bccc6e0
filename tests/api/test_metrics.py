"""`/metrics`: Prometheus's format, behind a token, with nothing personal in it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from server import create_app, fairness, overload
from tests.support.databases import TEST_CONFIG, dispose
from tests.support.sync_calls import PULL, PUSH, mutation

TOKEN = "metrics-token-for-the-tests-0123456789abcdef"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def measured(app) -> Iterator[Flask]:
    """An app instance of its own (its own counters) with a metrics token."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "METRICS_TOKEN": TOKEN})
    yield other
    dispose(other)


def samples(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_until_a_token_is_set_and_then_need_it(client, measured):
    off = client.get("/metrics")
    unknown = client.get("/no-such-page")
    assert off.status_code == unknown.status_code == 404
    assert off.json == unknown.json  # nothing tells that a metrics page exists
    on = measured.test_client()
    assert on.get("/metrics").status_code == 401
    assert on.get("/metrics", headers={"Authorization": "Bearer " + "x" * 44}).status_code == 401
    response = on.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_requests_sync_sizes_retries_and_refusals_are_counted(measured, world):
    client = measured.test_client()
    email = world.email("rep.a")
    login = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": "test-pass-2026", "device_id": "metrics-phone"},
    )
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    pulled = client.get(PULL, query_string={"schema_version": 1}, headers=headers)
    records = len(pulled.json["changes"])
    customer = world.records["A"]["customers"]
    edit = mutation("customers", "update", customer, {"phone": "+84 90 000 0000"}, base_version=1)
    body = {"schema_version": 1, "mutations": [edit]}
    first = client.post(PUSH, json=body, headers=headers)
    again = client.post(PUSH, json=body, headers=headers)  # the answer was lost: a retry
    # (A test client's answer is measured once its body is read, as a server sends it.)
    assert "replayed" not in first.json["results"][0]
    assert again.json["results"][0].get("replayed") is True
    # A user over the heavy-request limit, and a worker over its in-flight bound.
    slots = measured.extensions[fairness.EXTENSION]
    owner = str(world.users["rep.a"])
    leases = [slots.acquire(owner) for _ in range(fairness.HeavySettings().per_user)]
    assert (
        client.get("/api/v1/kpis", headers=headers).json["error"]["code"] == "too_many_concurrent"
    )
    for lease in leases:
        slots.release(owner, lease)
    gate = measured.extensions[overload.EXTENSION]
    gate.enter = lambda: False
    assert client.get("/api/v1/customers", headers=headers).json["error"]["code"] == "overloaded"
    del gate.enter

    found = samples(client)
    login_count = value(
        found,
        "fieldsync_http_request_duration_seconds_count",
        method="POST",
        route="/api/v1/auth/login",
        status="200",
    )
    assert login_count == 1
    assert (
        value(
            found,
            "fieldsync_http_request_duration_seconds_bucket",
            method="GET",
            route=PULL,
            status="200",
            le="+Inf",
        )
        == 1
    )
    assert value(found, "fieldsync_sync_pull_records_sum", protocol="fieldsync") == records
    assert value(found, "fieldsync_sync_pull_bytes_sum", protocol="fieldsync") == len(pulled.data)
    assert value(found, "fieldsync_sync_push_mutations_count", protocol="fieldsync") == 2
    assert value(found, "fieldsync_sync_push_bytes_sum", protocol="fieldsync") > 0
    assert value(found, "fieldsync_sync_push_replayed_total", protocol="fieldsync") == 1
    assert (
        value(found, "fieldsync_http_refusals_total", status="429", code="too_many_concurrent") == 1
    )
    assert value(found, "fieldsync_http_refusals_total", status="503", code="overloaded") == 1
    text = client.get("/metrics", headers=SCRAPE).get_data(as_text=True)
    for personal in (email, str(world.users["rep.a"]), str(customer), "+84"):
        assert personal not in text


def test_unknown_paths_share_one_series(measured):
    client = measured.test_client()
    for path in ("/wp-admin", "/.env", "/api/v1/nope"):
        assert client.get(path).json["error"]["code"] == "not_found"
    found = samples(client)
    unmatched = value(
        found,
        "fieldsync_http_request_duration_seconds_count",
        method="GET",
        route="unmatched",
        status="404",
    )
    assert unmatched == 3
    assert not any("wp-admin" in str(key) for key in found)


def test_a_metrics_token_must_be_long_and_not_the_signing_key(app):
    from server.config import ConfigError

    for token in ("short", TEST_CONFIG["SECRET_KEY"]):
        with pytest.raises(ConfigError, match="FIELDSYNC_METRICS_TOKEN"):
            create_app(
                {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", "METRICS_TOKEN": token}
            )


def test_a_streamed_pull_counts_every_record_it_sent(measured, world):
    client = measured.test_client()
    login = client.post(
        "/api/v1/auth/login",
        json={"email": world.email("rep.a"), "password": "test-pass-2026", "device_id": "m2"},
    )
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    streamed = client.get(PULL + "/stream", query_string={"limit": 3}, headers=headers)
    pages = [line for line in streamed.data.splitlines() if line]
    assert len(pages) > 1
    records = sum(len(json.loads(line)["changes"]) for line in pages)
    found = samples(client)
    assert value(found, "fieldsync_sync_pull_records_sum", protocol="fieldsync") == records
    assert value(found, "fieldsync_sync_pull_bytes_sum", protocol="fieldsync") == len(streamed.data)


def test_a_compressed_push_carrying_its_pull_counts_both_at_their_wire_size(measured, world):
    """The push is counted at the bytes that crossed the wire (before they were decoded),
    and its pull is counted too, not in the push's place."""
    client = measured.test_client()
    login = client.post(
        "/api/v1/auth/login",
        json={"email": world.email("rep.a"), "password": "test-pass-2026", "device_id": "m3"},
    )
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    customer = world.records["A"]["customers"]
    edit = mutation("customers", "update", customer, {"phone": "+84 90 000 0001"}, base_version=1)
    body = {"schema_version": 1, "mutations": [edit], "pull": {}}
    packed = gzip.compress(json.dumps(body).encode())
    answer = client.post(
        PUSH,
        data=packed,
        headers={**headers, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert answer.status_code == 200, answer.json
    pulled = len(answer.json["pull"]["changes"])
    found = samples(client)
    assert value(found, "fieldsync_sync_push_mutations_sum", protocol="fieldsync") == 1
    assert value(found, "fieldsync_sync_push_bytes_sum", protocol="fieldsync") == len(packed)
    assert value(found, "fieldsync_sync_pull_records_count", protocol="fieldsync") == 1
    assert value(found, "fieldsync_sync_pull_records_sum", protocol="fieldsync") == pulled
