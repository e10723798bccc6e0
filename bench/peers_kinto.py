"""Kinto 26.x for `bench/peers`: its own virtualenv, an ini, a server on 127.0.0.1.

Kinto goes into `.bench-venvs/kinto/` (not the project's venv, not pyproject),
with gunicorn, and is served with the same process model as `fieldsync serve`
(gthread, 4 threads; one worker on the memory backend, whose data lives in the
process, two on PostgreSQL).
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT, free_port, pg_url, stop_server, wait_http

VENV = ROOT / ".bench-venvs" / "kinto"
SPEC = "kinto[postgresql]>=26,<27"
DATABASE = "kinto_bench"
#: The bench's Basic credentials (Kinto's basicauth makes the user on first use).
AUTH = "Basic " + base64.b64encode(b"bench:bench-password").decode()
RECORDS = "/v1/buckets/bench/collections/customers/records"

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


def write_ini(backend: str, workdir: Path, database: str = DATABASE) -> Path:
    """backend: "memory" or "postgresql" (`database` must exist; it is migrated)."""
    url = pg_url(database) if backend == "postgresql" else ""
    ini = workdir / f"kinto-{backend}.ini"
    ini.write_text(INI.format(backend=backend, url=url))
    if backend == "postgresql":
        subprocess.run(
            [str(VENV / "bin" / "kinto"), "migrate", "--ini", str(ini)],
            check=True,
            capture_output=True,
        )
    return ini


def start(ini: Path, workers: int) -> tuple[subprocess.Popen, int]:
    """gunicorn --paste on a free port, once Kinto answers its heartbeat."""
    port = free_port()
    log = ini.with_suffix(".log")
    with log.open("w") as out:  # the server holds its own copy
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
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        wait_http(port, "/v1/__heartbeat__", 30, server)
    except RuntimeError as exc:
        stop_server(server)
        raise RuntimeError(f"kinto did not start ({exc}): {log.read_text()[-2000:]}") from exc
    return server, port
