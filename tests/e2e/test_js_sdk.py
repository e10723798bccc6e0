"""The JavaScript SDK (`clients/js`, `@fieldsync/client`) against a live server.

One live server on its own copy of the demo data (tests/support/live_server.py), then
`node --test clients/js/test/live/` with `FIELDSYNC_URL` and the demo credentials: a first
sync equal to the rep's REST scope, offline writes pushed once each, a lost push answer
retried without duplicates, a revoked device wiped, a reset that keeps the outbox, a
merged conflict and a rejection, a refresh retried after its answer was lost. scripts/test
runs this on SQLite and on PostgreSQL.

The SDK's own unit tests (`npm test` in clients/js) and its type check (`npm run
typecheck`) run here too, so CI runs them.

Needs Node.js 20+ and `clients/js/node_modules` (`npm ci --prefix clients/js`;
scripts/_venv.sh does it). Without them the tests are skipped with the reason, except in
CI (`CI=true`), where that is a failure.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import pytest

from tests.support import ROOT
from tests.support.live_server import LiveServer, live_demo_server
from tests.support.node import node_for, output, run_node

CLIENT = ROOT / "clients" / "js"
TIMEOUT_S = 180


def node() -> str:
    return node_for("The JavaScript SDK tests", CLIENT, "dexie")


def run_node_tests(folder: str, url: str | None = None) -> subprocess.CompletedProcess:
    return run_node(node(), ["--test", "--test-reporter=spec", folder], CLIENT, url, TIMEOUT_S)


@pytest.fixture(scope="module")
def sdk_server(demo) -> Iterator[LiveServer]:
    node()  # skip before loading the demo data when the SDK cannot run
    with live_demo_server(demo, "jssdk") as server:
        yield server


def _check(result: subprocess.CompletedProcess, what: str, skipped_ok: bool = False) -> None:
    """Node's tests all passed (none skipped, unless `skipped_ok`: the live ones without a URL)."""
    if result.returncode != 0:
        pytest.fail(f"{what} exited {result.returncode}\n{output(result)}", pytrace=False)
    summary = re.search(r"ℹ pass (\d+).*?ℹ fail (\d+).*?ℹ skipped (\d+)", result.stdout, re.S)
    assert summary, output(result)
    passed, failed, skipped = map(int, summary.groups())
    assert failed == 0 and passed > 0 and (skipped_ok or skipped == 0), output(result)
    print(result.stdout)  # the spec report, shown with `pytest -s`


def test_unit_tests():
    """`npm test` without a server: the storage contract, the client, money and fold."""
    node()
    _check(run_node_tests("test/"), "node --test test/", skipped_ok=True)


def test_types_check():
    """`npm run typecheck`: the SDK's JSDoc types hold under `tsc --strict` (the typings an
    app written in TypeScript gets), with the TypeScript of its own lock file."""
    command = json.loads((CLIENT / "package.json").read_text())["scripts"]["typecheck"]
    tsc, *flags = command.split()
    assert tsc == "tsc", command
    result = run_node(node(), ["node_modules/typescript/bin/tsc", *flags], CLIENT)
    if result.returncode != 0:
        pytest.fail(f"{command} exited {result.returncode}\n{output(result)}", pytrace=False)


def test_live_server(sdk_server: LiveServer):
    _check(run_node_tests("test/live/", url=sdk_server.url), "node --test test/live/")
