"""PostgreSQL for the chaos bench: a throwaway cluster of its own, or the system one.

Restarting PostgreSQL with `-m immediate` kills every connection to it: on the shared
server on 127.0.0.1:5432 that would break anyone else's tests. So by default the bench runs
`initdb` into a temporary directory (binaries from /usr/lib/postgresql/<newest>/bin, or
`pg_config --bindir`), starts it on a free port with its socket in that directory, and
restarts it with `pg_ctl restart -m immediate`. When run as root the server runs as the
`postgres` OS user (`runuser -u postgres --`): PostgreSQL refuses to run as root.

`SystemCluster` uses the system server instead (database `chaos_bench`) and restarts it as
the issue words it: `pg_ctlcluster <version> main restart -m immediate`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import create_database, drop_database, free_port, pg_url

DATABASE = "chaos_bench"


def find_bindir() -> Path | None:
    """The newest PostgreSQL server binaries on this machine, or None."""
    candidates = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        match = re.search(r"/postgresql/(\d+)(?:\.(\d+))?/bin$", path)
        if match and Path(path, "initdb").exists():
            candidates.append(((int(match[1]), int(match[2] or 0)), Path(path)))
    if candidates:
        return max(candidates)[1]
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        bindir = Path(out.stdout.strip())
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _wait_ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class ThrowawayCluster:
    """`initdb` into a temporary directory; removed on `stop()`."""

    def __init__(self, bindir: Path | None = None):
        bindir = bindir or find_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="fieldsync-chaos-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = pg_url(DATABASE, self.admin_url)
        self.restart_command = "pg_ctl -D <tmp> restart -m immediate"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check)

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self._start()
        create_database(DATABASE, self.admin_url)

    def _start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c max_connections=200 -c shared_buffers=64MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        _wait_ready(self.admin_url)

    def while_stopped(self, *command: str) -> None:
        """Stop the server cleanly, run one of its tools on the data directory (`pg_resetwal
        -e N`: the data directory comes last), and start it again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self._run(*command, "-D", str(self.data))
        self._start()

    def restart(self) -> float:
        """Crash-restart (`-m immediate`: no checkpoint, recovery from the WAL); seconds taken."""
        started = time.monotonic()
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "immediate", "-w", "restart"
        )
        _wait_ready(self.admin_url)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


class SystemCluster:
    """The machine's own PostgreSQL (default 127.0.0.1:5432), database `chaos_bench`.

    Restarting it interrupts everyone else who uses that server.
    """

    def __init__(self, admin_url: str, version: str | None = None, name: str = "main"):
        self.admin_url = admin_url
        self.url = pg_url(DATABASE, admin_url)
        self.version = version or sorted(os.listdir("/etc/postgresql"), key=_version_key)[-1]
        self.name = name
        self.restart_command = f"pg_ctlcluster {self.version} {self.name} restart -m immediate"

    def start(self) -> None:
        create_database(DATABASE, self.admin_url)

    def restart(self) -> float:
        started = time.monotonic()
        subprocess.run(
            [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                self.version,
                self.name,
                "restart",
                "-m",
                "immediate",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        _wait_ready(self.admin_url)
        return time.monotonic() - started

    def stop(self) -> None:
        with contextlib.suppress(psycopg.Error):
            drop_database(DATABASE, self.admin_url)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)
