"""Node.js for the tests that run JavaScript clients (WatermelonDB, the SDK)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from server.demo import DOMAIN, PASSWORD

from . import ROOT
from .live_server import unavailable


@cache
def _node_version(path: str) -> str:
    return subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()


def node_for(what: str, client: Path, package: str) -> str:
    """The `node` to run `client` with (Node 20+, `package` installed in its node_modules),
    or skip (fail in CI) saying what is missing."""
    path = shutil.which("node")
    if path is None:
        unavailable(f"Node.js is not installed: {what} needs Node 20+.")
    version = _node_version(path)
    major = re.match(r"v(\d+)\.", version)
    if not major or int(major.group(1)) < 20:
        unavailable(f"{what} needs Node 20+, found {version or path}.")
    if not (client / "node_modules" / package).is_dir():
        folder = client.relative_to(client.parents[1])
        unavailable(
            f"{client / 'node_modules'} is missing: run `npm ci --prefix {folder}`"
            " (scripts/_venv.sh does)."
        )
    return path


def output(result: subprocess.CompletedProcess | subprocess.TimeoutExpired) -> str:
    """A run's standard output and error, for a failure message."""

    def text(value: str | bytes | None) -> str:
        return value.decode(errors="replace") if isinstance(value, bytes) else value or ""

    return f"--- stdout\n{text(result.stdout)}--- stderr\n{text(result.stderr)}"


def run_node(
    node: str, args: list[str], client: Path, url: str | None = None, timeout_s: int = 180
) -> subprocess.CompletedProcess:
    """`node *args` in `client` with the demo credentials (and `FIELDSYNC_URL`, a live
    server, when given); running over `timeout_s` fails the test with what it printed."""
    env = {**os.environ, "FIELDSYNC_DOMAIN": DOMAIN, "FIELDSYNC_PASSWORD": PASSWORD}
    env.pop("FIELDSYNC_URL", None)
    if url:
        env["FIELDSYNC_URL"] = url
    try:
        return subprocess.run(
            [node, *args],
            cwd=client,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"node {' '.join(args)} ran over {timeout_s} s\n{output(exc)}", pytrace=False)


#: The JavaScript SDK (`clients/js`, `@fieldsync/client`).
SDK = ROOT / "clients" / "js"


def sdk_node() -> str:
    return node_for("The JavaScript SDK tests", SDK, "dexie")


def run_sdk_tests(folder: str, url: str | None = None) -> subprocess.CompletedProcess:
    """`node --test folder` in the SDK (`url`: a live server for `test/live/`)."""
    return run_node(sdk_node(), ["--test", "--test-reporter=spec", folder], SDK, url)


def check_node_tests(
    result: subprocess.CompletedProcess, what: str, skipped_ok: bool = False
) -> None:
    """Node's tests all passed (none skipped, unless `skipped_ok`: the live ones without a URL)."""
    if result.returncode != 0:
        pytest.fail(f"{what} exited {result.returncode}\n{output(result)}", pytrace=False)
    summary = re.search(r"ℹ pass (\d+).*?ℹ fail (\d+).*?ℹ skipped (\d+)", result.stdout, re.S)
    assert summary, output(result)
    passed, failed, skipped = map(int, summary.groups())
    assert failed == 0 and passed > 0 and (skipped_ok or skipped == 0), output(result)
    print(result.stdout)  # the spec report, shown with `pytest -s`
