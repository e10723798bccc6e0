"""Kinto 26.x for `bench/peers`: its own virtualenv, an ini, a server on 127.0.0.1.

Kinto goes into `.bench-venvs/kinto/` (not the project's venv, not pyproject),
with gunicorn, and is served with the same process model as `fieldsync serve`
(gthread, 4 threads; one worker on the memory backend, whose data lives in the
process, two on PostgreSQL).
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.sync_bench import PG_ADMIN_URL, free_port, stop_server

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench-venvs" / "kinto"
SPEC = "kinto[postgresql]>=26,<27"
DATABASE = "kinto_bench"

INI = """\
[app:main]
use = egg:kinto
kinto.storage_backend = kinto.core.storage.{backend}
kinto.storage_url = {url}
kinto.cache_backend = kinto.core.cache.{backend}
kinto.cache_url = {url}
kinto.permission_backend = kinto.core.permission.{backend}
kinto.permission_url = {url}
kinto.batch_max_requests = 100
kinto.storage_max_fetch_size = 10000
kinto.userid_hmac_secret = bench-hmac-secret-0123456789abcdef
multiauth.policies = basicauth
kinto.bucket_create_principals = system.Authenticated

[loggers]
keys = root, kinto

[handlers]
keys = console

[formatters]
keys = plain

[logger_root]
level = WARNING
handlers = console

[logger_kinto]
level = WARNING
handlers = console
qualname = kinto
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = plain

[formatter_plain]
format = %(asctime)s %(levelname)s %(name)s %(message)s
"""


def ensure_venv() -> str:
    """Create the venv and install Kinto 26.x and gunicorn once; return Kinto's version."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = [str(python), "-c", "import kinto, gunicorn; print(kinto.__version__)"]
    found = subprocess.run(probe, capture_output=True, text=True)
    if found.returncode != 0:
        print(f"installing {SPEC} and gunicorn into {VENV} ...", file=sys.stderr)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", SPEC, "gunicorn"], check=True
        )
        found = subprocess.run(probe, capture_output=True, text=True, check=True)
    return found.stdout.strip()


def pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


def create_database() -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    return pg_url(DATABASE)


def drop_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def write_ini(backend: str, workdir: Path) -> Path:
    """backend: "memory" or "postgresql" (the database must exist)."""
    url = pg_url(DATABASE) if backend == "postgresql" else ""
    ini = workdir / f"kinto-{backend}.ini"
    ini.write_text(INI.format(backend=backend, url=url))
    if backend == "postgresql":
        subprocess.run(
            [str(VENV / "bin" / "kinto"), "migrate", "--ini", str(ini)],
            check=True,
            capture_output=True,
        )
    return ini


def ready(port: int) -> bool:
    """Kinto answers its heartbeat."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/v1/__heartbeat__")
        return conn.getresponse().status == 200
    finally:
        conn.close()


def start(ini: Path, workers: int) -> tuple[subprocess.Popen, int]:
    """gunicorn --paste on a free port, once Kinto answers its heartbeat."""
    port = free_port()
    log = open(ini.with_suffix(".log"), "w")  # noqa: SIM115 - kept open for the server's life
    server = subprocess.Popen(
        [
            str(VENV / "bin" / "gunicorn"),
            "--paste",
            str(ini),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--timeout",
            "120",
        ],
        cwd=ini.parent,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"kinto exited: {ini.with_suffix('.log').read_text()[-2000:]}")
        try:
            if ready(port):
                return server, port
        except OSError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError("kinto did not start")
