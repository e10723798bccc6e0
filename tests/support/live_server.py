"""A live fieldsync server for tests that talk to it over HTTP (browser, real clients).

The server is its own app on its own copy of the demo data (support/databases.py),
served by werkzeug in a thread. (The shared `app` fixture empties its tables
after every test, which a server that lives across several tests cannot have.)
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from bench.common import wait_http

from . import ROOT
from .databases import DemoTemplate, dispose, migrated_app


@dataclass
class LiveServer:
    app: Flask
    url: str


#: The admin `fieldsync_serving` creates.
ADMIN_EMAIL, ADMIN_PASSWORD = "a@example.com", "test-pass-2026"


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


@dataclass
class Served:
    """`fieldsync serve` in its own process: its address, and what it printed (once stopped)."""

    base: str
    process: subprocess.Popen
    output: str = ""
    errors: str = ""

    def sign_in(self, email: str, password: str, device_id: str) -> str:
        """An access token, over HTTP as a phone gets one."""
        body = json.dumps({"email": email, "password": password, "device_id": device_id})
        request = urllib.request.Request(
            f"{self.base}/api/v1/auth/login",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
            return json.loads(response.read())["access_token"]


@contextmanager
def fieldsync_serving(env: dict[str, str], workers: int) -> Iterator[Served]:
    """`fieldsync init-db`, an admin (`ADMIN_EMAIL`, `ADMIN_PASSWORD`), then `fieldsync
    serve --workers N` as an operator starts them, until `/readyz` answers; stopped after
    the block, its output kept in the `Served`."""
    for args in (
        ("init-db",),
        ("create-user", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD, "--role", "admin"),
    ):
        done = fieldsync_cli(env, *args)
        assert done.returncode == 0, done.stderr
    port = free_port()
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        wait_http(port, "/readyz", 30, process)
        yield served
    finally:
        process.terminate()
        served.output, served.errors = process.communicate(timeout=20)


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
