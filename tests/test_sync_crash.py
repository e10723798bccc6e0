"""The server is killed (SIGKILL) in the middle of a push: the retry loses nothing.

A real `fieldsync serve` (gunicorn) runs on a SQLite file, or on PostgreSQL
when the suite runs there. A phone pushes a big batch; the server process
group is killed while the request is being handled, then restarted; the
phone's reference client keeps retrying with the same mutation ids.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sync.client import SyncClient, http_transport

ROOT = Path(__file__).resolve().parent.parent
BATCH = 500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp_path: Path, database_url: str) -> dict:
    return {
        **os.environ,
        "FIELDSYNC_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": database_url,
        "FIELDSYNC_SECRET_KEY": "crash-test-secret-key-that-is-long-enough-0123",
    }


def _cli(env: dict, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def _start(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("fieldsync serve did not come up")
            time.sleep(0.1)


def _kill(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)


@pytest.fixture
def database_url(app, tmp_path):
    """The suite's database when it is PostgreSQL (emptied), else a fresh SQLite file."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        return url.replace("postgresql+psycopg://", "postgresql://", 1)
    return f"sqlite:///{tmp_path / 'crash.db'}"


def test_a_push_interrupted_by_sigkill_completes_on_retry_exactly_once(tmp_path, database_url):
    env = _environment(tmp_path, database_url)
    _cli(env, "init-db")
    _cli(
        env,
        "create-user",
        "--email",
        "rep@example.com",
        "--password",
        "password123",
        "--role",
        "rep",
    )
    port = _free_port()
    server = _start(env, port)
    pushes = {"sent": 0}
    transport = http_transport(f"http://127.0.0.1:{port}", timeout=30)

    def counting(method, path, **kwargs):
        if path.endswith("/sync/push"):
            pushes["sent"] += 1
        return transport(method, path, **kwargs)

    phone = SyncClient(
        counting,
        email="rep@example.com",
        password="password123",
        path=str(tmp_path / "p.db"),
        retries=40,
        backoff_s=0.1,
        sleep=lambda s: time.sleep(min(s, 0.5)),
        push_batch=BATCH,
    )
    phone.login()
    ids = [
        phone.create("customers", {"name": f"Cửa hàng {i}", "notes": "x" * 2000})
        for i in range(BATCH)
    ]
    failure: list[BaseException] = []

    def push() -> None:
        try:
            phone.push()
        except Exception as exc:
            failure.append(exc)

    try:
        pusher = threading.Thread(target=push)
        pusher.start()
        while pushes["sent"] == 0 and pusher.is_alive():
            time.sleep(0.005)
        time.sleep(0.1)  # the batch is now being applied
        _kill(server)
        server = _start(env, port)
        pusher.join(120)
    finally:
        _kill(server)
    assert not failure, failure
    assert phone.outbox() == []
    assert pushes["sent"] >= 2, "the kill did not interrupt the first push"
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT id FROM customers")).scalars().all()
        mutations = conn.execute(text("SELECT count(*) FROM sync_mutations")).scalar()
    engine.dispose()
    stored_ids = {str(i).replace("-", "") for i in stored}
    assert len(stored) == BATCH == len(stored_ids)
    assert stored_ids == {i.replace("-", "") for i in ids}
    assert mutations == BATCH
