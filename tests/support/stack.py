"""The documented production stack, started as the docs start it: `scripts/serve-cluster`.

nginx with deploy/nginx.conf (rendered by deploy/render-nginx-conf) in front of app
servers each run by `gunicorn --config deploy/gunicorn.conf.py`, on one PostgreSQL and
one Redis. Needs nginx (Debian's; `scripts/_nginx.sh` installs it), openssl and Redis on
127.0.0.1:6379: without them the test skips with the reason, and fails in CI.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import ROOT
from .live_server import free_port, unavailable
from .redis_server import require_redis

#: The Redis database the stack tests use (each run under its own key prefix).
REDIS_URL = "redis://127.0.0.1:6379/9"


@dataclass
class Stack:
    https_port: int
    http_port: int
    app_ports: list[int]
    directory: Path
    log: Path

    def tls_context(self) -> ssl.SSLContext:
        """Trusts the stack's self-signed certificate (for localhost and 127.0.0.1)."""
        return ssl.create_default_context(cafile=str(self.directory / "tls-cert.pem"))

    def connection(self, timeout: float = 5) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, timeout=timeout, context=self.tls_context()
        )

    def access_log(self) -> str:
        path = self.directory / "access.log"
        return path.read_text() if path.exists() else ""


def nginx_or_skip() -> str:
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        unavailable("nginx is not installed: apt-get install nginx (./scripts/test does).")
    if shutil.which("openssl") is None or shutil.which("envsubst") is None:
        unavailable("openssl and envsubst (gettext-base) are needed for the production stack.")
    require_redis(" (the app servers share it)")
    return found


def _consecutive_free_ports(count: int) -> int:
    for _ in range(50):
        first = free_port()
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no run of free ports")


@contextmanager
def production_stack(
    database_url: str,
    *,
    servers: int = 2,
    workers: int = 1,
    seconds: float = 120,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """`scripts/serve-cluster` on `database_url`, once nginx and each app server answer;
    its log is kept in `Stack.log` while it runs."""
    nginx_or_skip()
    first = _consecutive_free_ports(servers)
    http_port, https_port = free_port(), free_port()
    # Not under pytest's tmp_path (mode 0700): nginx's workers (www-data) write here.
    with tempfile.TemporaryDirectory(prefix="fieldsync-stack-") as tmp:
        directory = Path(tmp) / "nginx"
        log = Path(tmp) / "cluster.log"
        env = (
            os.environ
            | {
                "DATABASE_URL": database_url,
                "FIELDSYNC_ENV": "production",
                "FIELDSYNC_SECRET_KEY": secrets.token_urlsafe(48),
                "FIELDSYNC_RATELIMIT_STORAGE_URI": REDIS_URL,
                "FIELDSYNC_LOGIN_KEY_PREFIX": f"stack-test-{secrets.token_hex(4)}",
                "FIELDSYNC_INSTANCE_PATH": tmp,
            }
            | (extra_env or {})
        )
        command = [sys.executable, str(ROOT / "scripts" / "serve-cluster")]
        command += ["--servers", str(servers), "--workers", str(workers)]
        command += ["--first-port", str(first), "--http-port", str(http_port)]
        command += ["--https-port", str(https_port), "--self-signed", "--dir", str(directory)]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        stack = Stack(https_port, http_port, list(range(first, first + servers)), directory, log)
        try:
            deadline = time.monotonic() + seconds
            while "serve-cluster: ready" not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"serve-cluster did not come up:\n{log.read_text(errors='replace')[-4000:]}"
                    )
                time.sleep(0.2)
            yield stack
        finally:
            if process.poll() is None:
                stopping = time.monotonic()
                process.send_signal(signal.SIGTERM)  # it stops nginx and the app servers
                try:
                    process.wait(45)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                print(f"(serve-cluster stopped in {time.monotonic() - stopping:.1f} s)")
                print(log.read_text(errors="replace")[-3000:])
