"""The chaos bench, small: the three zeros hold through kills, a crash-restart and lost answers.

`python -m bench.chaos --quick --servers 2 --workers 1 --self-test`: 20 reps (and 2
managers) with 20 queued mutations each sync at once through a proxy that loses 20 % of
the push answers after the commit and sends each phone's requests to two app servers in
turn (on the one database: scale-out, issue 19), while a gunicorn worker is killed with
SIGKILL twice and PostgreSQL is restarted once with `-m immediate`. Then: no acknowledged
mutation missing from the data and the conflict log, none applied twice, no change a phone
failed to pull, every phone done; and the self-test breaks the data once per zero to show
each check can fail. See docs/chaos.md.

The bench runs its own throwaway PostgreSQL cluster (never the shared server, whose restart
would break the other tests), so it needs the server binaries (`initdb`, `pg_ctl`). It runs
in the suite's PostgreSQL run only: the SQLite run, side by side on the same two cores,
skips it. In CI (`CI` set) missing binaries fail the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from bench.chaos_pg import find_bindir
from tests.support import ROOT
from tests.support.live_server import unavailable

ZEROS = {"acknowledged_missing": 0, "applied_twice": 0, "not_pulled": 0}


def _needs_postgres_run() -> None:
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in the PostgreSQL run (TEST_DATABASE_URL=postgresql://…)")
    if find_bindir() is None:
        unavailable("no PostgreSQL server binaries (initdb, pg_ctl) for a throwaway cluster")


def test_the_three_zeros_hold_through_kills_a_restart_and_lost_answers(tmp_path):
    _needs_postgres_run()
    report_path = tmp_path / "chaos.json"
    started = time.monotonic()
    run = subprocess.run(
        [
            *(sys.executable, "-m", "bench.chaos", "--quick", "--servers", "2", "--workers", "1"),
            *("--self-test", "--json", str(report_path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.monotonic() - started
    # Printed past pytest's capture with -s, and shown with the failure otherwise.
    print(run.stdout, f"\n(the chaos bench took {seconds:.0f} s)", file=sys.stderr)
    assert report_path.exists(), f"the bench did not finish:\n{run.stdout}\n{run.stderr[-3000:]}"
    report = json.loads(report_path.read_text())
    assert report["gave_up"] == []
    assert report["unacknowledged"] == 0
    assert report["zeros"] == ZEROS, report["examples"]
    chaos = report["chaos"]
    assert (chaos["kills"], chaos["restarts"]) == (2, 1), chaos["events"]
    options = report["options"]
    assert chaos["workers_after"] == options["workers"] * options["servers"]  # replaced
    # Both app servers served the phones (each phone's requests alternate between them).
    served = [count for key, count in report["proxy"].items() if key.startswith("upstream.")]
    assert len(served) == 2 and min(served) > 0, report["proxy"]
    assert chaos["server_tracebacks"] == 0
    retries = report["retries"]
    assert retries["of_which_dropped_by_proxy"] > 0
    assert retries["503_database_unavailable"] + retries["no_response"] > 0
    assert retries["other_5xx"] == 0  # a lost database is a 503, never a 500
    assert report["self_test"] == dict.fromkeys(ZEROS, True), report["self_test"]
    assert run.returncode == 0, run.stdout
