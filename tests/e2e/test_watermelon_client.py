"""The real WatermelonDB client against a live server: `clients/watermelondb/scenarios.js`.

WatermelonDB 0.28 with its LokiJS adapter (in memory) runs in Node and syncs
through `synchronize()` with `/api/v1/sync/watermelon` of a live server on its
own copy of the demo data (tests/support/live_server.py); each scenario
checks the device against the REST API as the rep and as a manager. One test
per scenario (`node scenarios.js <name>`), one server for all of them: the
scenarios use different demo users and customers.

Needs Node.js 20+ and `clients/watermelondb/node_modules` (`npm ci --prefix
clients/watermelondb`; scripts/_venv.sh does it). Without them the tests are
skipped with the reason, except in CI (`CI=true`), where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from server.demo import DOMAIN, PASSWORD
from tests.support import ROOT
from tests.support.live_server import LiveServer, live_demo_server
from tests.support.node import node_for

CLIENT = ROOT / "clients" / "watermelondb"
#: In the order scenarios.js runs them; `test_every_scenario_is_listed` keeps them in step.
SCENARIOS = (
    "first-sync",
    "offline-edits",
    "server-changes",
    "two-devices",
    "two-devices-late-push",
    "reassign",
    "push-retry",
    "migration",
    "app-schemas",
)
TIMEOUT_S = 180


def node() -> str:
    return node_for("The WatermelonDB client test", CLIENT, "@nozbe/watermelondb")


def run_client(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "FIELDSYNC_DOMAIN": DOMAIN, "FIELDSYNC_PASSWORD": PASSWORD}
    if url:
        env["FIELDSYNC_URL"] = url
    try:
        return subprocess.run(
            [node(), "scenarios.js", *args],
            cwd=CLIENT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"node scenarios.js {' '.join(args)} ran over {TIMEOUT_S} s\n"
            f"{_output(exc.stdout, exc.stderr)}",
            pytrace=False,
        )


def _output(stdout, stderr) -> str:
    def text(value) -> str:
        if isinstance(value, bytes):
            return value.decode(errors="replace")
        return value or ""

    return f"--- stdout\n{text(stdout)}--- stderr\n{text(stderr)}"


@pytest.fixture(scope="module")
def wm_server(demo) -> Iterator[LiveServer]:
    node()  # skip before loading the demo data when the client cannot run
    with live_demo_server(demo, "wmclient") as server:
        yield server


def test_every_scenario_is_listed():
    result = run_client("--list")
    assert result.returncode == 0, _output(result.stdout, result.stderr)
    assert tuple(result.stdout.split()) == SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(wm_server: LiveServer, scenario: str):
    result = run_client(scenario, url=wm_server.url)
    if result.returncode != 0:
        pytest.fail(
            f"node scenarios.js {scenario} exited {result.returncode}\n"
            f"{_output(result.stdout, result.stderr)}",
            pytrace=False,
        )
    assert f"ok   {scenario}" in result.stdout, _output(result.stdout, result.stderr)
