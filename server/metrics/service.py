"""The service's metrics, kept with prometheus_client; no Flask.

What is counted (every name starts `fieldsync_`):

- `http_request_duration_seconds{method, route, status}`: a histogram of every request
  (its `_count` is the request count), by route template, never by path: one series per
  route, whatever the ids. Unknown paths share `route="unmatched"`.
- `http_refusals_total{status, code}`: answers that turned a client away: `503 overloaded`
  and `503 database_unavailable` (server/overload.py), `429 rate_limited` (sign-in) and
  `429 too_many_concurrent` (server/fairness.py).
- `sync_pull_records{protocol}`, `sync_pull_bytes{protocol}`: records and bytes per pull
  page (`protocol`: `fieldsync` or `watermelon`).
- `sync_push_mutations{protocol}`, `sync_push_bytes{protocol}`: mutations and request bytes
  per push.
- `sync_push_replayed_total{protocol}`: mutations received again after they were applied
  (a phone's outbox retrying after a lost answer), answered from the stored result.

Nothing here names a person: labels are route templates, methods, statuses, error codes.

**Several processes.** gunicorn's workers are processes, each with its own counters. When
`PROMETHEUS_MULTIPROC_DIR` names an empty directory in the environment before the service
starts, prometheus_client keeps each worker's values in files there, and `/metrics` (in
whichever worker answers) sums them all. Empty the directory at every service start. There
are no gauges, so gunicorn needs no `child_exit` hook: a dead worker's counts stay in the
sums, as counters should.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

#: `app.extensions` key of the app's `Metrics`.
EXTENSION = "fieldsync.metrics"
#: WSGI environ keys where the app notes, for the metrics, a refusal's error code and what
#: a sync pull or push carried (server/telemetry.py writes them).
ERROR_CODE = "fieldsync.error_code"
SYNC = "fieldsync.sync"
#: Request methods counted by name; anything else is `other` (bounded label values).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
RECORDS = (0, 1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
BYTES = (1e3, 1e4, 1e5, 2.5e5, 5e5, 1e6, 2e6, 5e6, 1e7, 5e7)
#: Statuses whose error code is counted as a refusal.
REFUSALS = frozenset({429, 503})


def multiprocess() -> bool:
    """prometheus_client keeps values in PROMETHEUS_MULTIPROC_DIR (decided at its import)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


class Metrics:
    """One app's metrics, in a registry of its own (tests make many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Histogram(
            "fieldsync_http_request_duration_seconds",
            "Requests by route template and status, and how long they took.",
            ["method", "route", "status"],
            buckets=SECONDS,
            registry=registry,
        )
        self.refusals = Counter(
            "fieldsync_http_refusals",
            "Requests turned away: 503 overloaded or database_unavailable, 429 rate_limited "
            "or too_many_concurrent.",
            ["status", "code"],
            registry=registry,
        )
        self.pull_records = Histogram(
            "fieldsync_sync_pull_records",
            "Records per sync pull page.",
            ["protocol"],
            buckets=RECORDS,
            registry=registry,
        )
        self.pull_bytes = Histogram(
            "fieldsync_sync_pull_bytes",
            "Response bytes per sync pull page.",
            ["protocol"],
            buckets=BYTES,
            registry=registry,
        )
        self.push_mutations = Histogram(
            "fieldsync_sync_push_mutations",
            "Mutations per sync push.",
            ["protocol"],
            buckets=RECORDS,
            registry=registry,
        )
        self.push_bytes = Histogram(
            "fieldsync_sync_push_bytes",
            "Request bytes per sync push.",
            ["protocol"],
            buckets=BYTES,
            registry=registry,
        )
        self.push_replayed = Counter(
            "fieldsync_sync_push_replayed",
            "Pushed mutations that were already applied (outbox retries), answered from the "
            "stored result.",
            ["protocol"],
            registry=registry,
        )

    def observe(
        self,
        environ: dict,
        method: str,
        route: str | None,
        status: int,
        seconds: float,
        received: int,
        sent: int,
    ) -> None:
        """One finished request; `environ` carries what the app noted (server/telemetry.py)."""
        self.requests.labels(
            method if method in METHODS else "other", route or "unmatched", str(status)
        ).observe(seconds)
        if status in REFUSALS:
            code = environ.get(ERROR_CODE) or "unknown"
            self.refusals.labels(str(status), code).inc()
        noted = environ.get(SYNC)
        if noted is None or status != 200:
            return
        if "push" in noted:
            protocol, records, replayed = noted["push"]
            self.push_mutations.labels(protocol).observe(records)
            self.push_bytes.labels(protocol).observe(received)
            if replayed:
                self.push_replayed.labels(protocol).inc(replayed)
        if "pull" in noted:
            protocol, records, _ = noted["pull"]
            self.pull_records.labels(protocol).observe(records)
            if "push" not in noted:  # a push's answer also carries its results
                self.pull_bytes.labels(protocol).observe(sent)

    def exposition(self) -> tuple[bytes, str]:
        """The text a scrape gets, and its content type: every worker's sum when the values
        live in PROMETHEUS_MULTIPROC_DIR, else this process's."""
        if multiprocess():
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def content_length(environ: dict) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
