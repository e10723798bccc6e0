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

import subprocess
from collections.abc import Iterator

import pytest

from tests.support import ROOT
from tests.support.live_server import LiveServer, live_demo_server
from tests.support.node import node_for, output, run_node

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
    return run_node(node(), ["scenarios.js", *args], CLIENT, url, TIMEOUT_S)


@pytest.fixture(scope="module")
def wm_server(demo) -> Iterator[LiveServer]:
    node()  # skip before loading the demo data when the client cannot run
    with live_demo_server(demo, "wmclient") as server:
        yield server


def test_every_scenario_is_listed():
    result = run_client("--list")
    assert result.returncode == 0, output(result)
    assert tuple(result.stdout.split()) == SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(wm_server: LiveServer, scenario: str):
    result = run_client(scenario, url=wm_server.url)
    if result.returncode != 0:
        pytest.fail(
            f"node scenarios.js {scenario} exited {result.returncode}\n{output(result)}",
            pytrace=False,
        )
    assert f"ok   {scenario}" in result.stdout, output(result)
