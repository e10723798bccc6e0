"""A live fieldsync server for tests that talk to it over HTTP (browser, real clients).

The server is its own app on its own copy of the demo data (support/databases.py),
served by werkzeug in a thread. (The shared `app` fixture empties its tables
after every test, which a server that lives across several tests cannot have.)
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from . import ROOT
from .databases import DemoTemplate, dispose, migrated_app


@dataclass
class LiveServer:
    app: Flask
    url: str


def unavailable(reason: str) -> None:
    """A missing tool or package: skip with the reason, but fail in CI (`CI=true`)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A port nothing listens on now (for a server in another process, which binds it later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fieldsync_cli(
    env: dict[str, str], *args: str, timeout: int = 120
) -> subprocess.CompletedProcess:
    """`fieldsync <args>` run as a user runs it, output captured: one way for every e2e test."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve `app` on a free local port in a thread; yield its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # Port 0: the system picks a free port at bind time (no race between two suites).
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        dispose(app)


@contextmanager
def live_demo_server(demo: DemoTemplate, suffix: str, **config: Any) -> Iterator[LiveServer]:
    """A copy of the demo data, served over HTTP for the block's duration."""
    with demo.copy(suffix) as url:
        app = migrated_app(url, **config)
        with serving(app) as base:
            yield LiveServer(app, base)
