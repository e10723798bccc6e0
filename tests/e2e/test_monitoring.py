"""Monitoring as deployed: `fieldsync serve` with several gunicorn workers, metrics summed
over the workers (PROMETHEUS_MULTIPROC_DIR), and the JSON access log on standard output."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.databases import own_database
from tests.support.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, fieldsync_serving

TOKEN = "metrics-token-of-the-e2e-test-0123456789abcdef"
REQUESTS = 30


@pytest.fixture
def env(tmp_path) -> Iterator[dict[str, str]]:
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    with own_database(tmp_path, "monitoring") as url:
        yield {
            **os.environ,
            "FIELDSYNC_INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": url,
            "FIELDSYNC_METRICS_TOKEN": TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            "FIELDSYNC_ACCESS_LOG": "-",
        }


def _get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_metrics_are_summed_over_the_workers_and_the_log_is_json(env, tmp_path):
    with fieldsync_serving(env, workers=3) as served:
        base = served.base
        token = served.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, "e2e")
        for _ in range(REQUESTS):  # new connections: spread over the workers
            assert (
                _get(f"{base}/api/v1/customers?q=secret-search", Authorization=f"Bearer {token}")[0]
                == 200
            )
        assert _get(f"{base}/metrics")[0] == 401
        # A request is counted just after its last byte left: the scrape may come first.
        deadline = time.monotonic() + 10
        while (counts := _counts(base))["/api/v1/customers"] < REQUESTS:
            assert time.monotonic() < deadline, counts
            time.sleep(0.1)
    output, errors = served.output, served.errors
    assert counts["/api/v1/customers"] == REQUESTS  # whichever worker answered each
    assert counts["/api/v1/auth/login"] == 1
    if not env["DATABASE_URL"].startswith("sqlite"):  # SQLite serves with one worker
        assert len(list((tmp_path / "prometheus").glob("histogram_*.db"))) > 1, errors
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    customers = [line for line in lines if line["route"] == "/api/v1/customers"]
    assert len(customers) == REQUESTS and all(line["user"] for line in customers)
    for leaked in (token, "secret-search", ADMIN_EMAIL, ADMIN_PASSWORD):
        assert leaked not in output and leaked not in errors


def _counts(base: str) -> dict[str, float]:
    """Requests answered 200, by route, as a scrape of `/metrics` reports them."""
    status, body = _get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200
    counts = {"/api/v1/customers": 0.0}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if (
                sample.name == "fieldsync_http_request_duration_seconds_count"
                and sample.labels["status"] == "200"
            ):
                counts[sample.labels["route"]] = sample.value
    return counts
