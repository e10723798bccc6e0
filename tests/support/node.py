"""Node.js for the tests that run JavaScript clients (WatermelonDB, the SDK)."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

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
