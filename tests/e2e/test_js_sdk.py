"""The JavaScript SDK (`clients/js`, `@fieldsync/client`) against a live server.

One live server on its own copy of the demo data (tests/support/live_server.py), then
`node --test clients/js/test/live/` with `FIELDSYNC_URL` and the demo credentials: a first
sync equal to the rep's REST scope, offline writes pushed once each, a lost push answer
retried without duplicates, a revoked device wiped, a reset that keeps the outbox, a
merged conflict and a rejection, a refresh retried after its answer was lost. scripts/test
runs this on SQLite and on PostgreSQL.

The SDK's own unit tests and type check, which need no server, run once:
tests/unit/clients/test_js_sdk.py.

Needs Node.js 20+ and `clients/js/node_modules` (`npm ci --prefix clients/js`;
scripts/_venv.sh does it). Without them the tests are skipped with the reason, except in
CI (`CI=true`), where that is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live_server import LiveServer, live_demo_server
from tests.support.node import check_node_tests, run_sdk_tests, sdk_node


@pytest.fixture(scope="module")
def sdk_server(demo) -> Iterator[LiveServer]:
    sdk_node()  # skip before loading the demo data when the SDK cannot run
    with live_demo_server(demo, "jssdk") as server:
        yield server


def test_live_server(sdk_server: LiveServer):
    check_node_tests(run_sdk_tests("test/live/", url=sdk_server.url), "node --test test/live/")
