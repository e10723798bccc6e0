"""The `fieldsync` command line, run as a user would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT


def _fieldsync(tmp_path: Path, *args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "FIELDSYNC_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_init_db_is_idempotent_and_create_user_can_sign_in(tmp_path):
    assert _fieldsync(tmp_path, "init-db").returncode == 0
    again = _fieldsync(tmp_path, "init-db")
    assert again.returncode == 0, again.stderr
    created = _fieldsync(
        tmp_path,
        "create-user",
        "--email",
        "Boss@Example.com",
        "--password",
        "s3cret-pass",
        "--role",
        "manager",
        "--name",
        "Trần Thị Mai",
        "--team",
        "Sài Gòn",
    )
    assert created.returncode == 0, created.stderr
    assert "manager boss@example.com" in created.stdout

    duplicate = _fieldsync(
        tmp_path,
        "create-user",
        "--email",
        "boss@example.com",
        "--password",
        "another-pass",
        "--role",
        "rep",
    )
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr

    too_short = _fieldsync(
        tmp_path, "create-user", "--email", "x@example.com", "--password", "short", "--role", "rep"
    )
    assert too_short.returncode != 0
    assert "password" in too_short.stderr


def test_prune_reports_what_it_dropped(tmp_path):
    assert _fieldsync(tmp_path, "init-db").returncode == 0
    pruned = _fieldsync(tmp_path, "prune")
    assert pruned.returncode == 0, pruned.stderr
    assert "log_rows: 0, tombstones: 0, mutations: 0" in pruned.stdout


def test_openapi_command_prints_the_committed_contract(tmp_path):
    printed = _fieldsync(tmp_path, "openapi")
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout) == yaml.safe_load((ROOT / "openapi.yaml").read_text())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_health_and_login(tmp_path):
    assert _fieldsync(tmp_path, "init-db").returncode == 0
    assert (
        _fieldsync(
            tmp_path,
            "create-user",
            "--email",
            "a@example.com",
            "--password",
            "password123",
            "--role",
            "admin",
        ).returncode
        == 0
    )
    port = _free_port()
    env = {
        **os.environ,
        "FIELDSYNC_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", "3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("fieldsync serve did not come up")
                time.sleep(0.2)
        request = urllib.request.Request(
            f"{base}/api/v1/auth/login",
            data=b'{"email": "a@example.com", "password": "password123", "device_id": "cli"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "SQLite: serving with one worker process." in output
