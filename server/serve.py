"""gunicorn's settings for fieldsync, in one place for both ways of starting it.

`fieldsync serve` runs gunicorn from Python with these settings; the production
command, `gunicorn --config deploy/gunicorn.conf.py --bind … --workers …`
(README, "Production"), loads the same ones through `deploy/gunicorn.conf.py`.
So what the docs show, what CI starts (tests/e2e/test_production_stack.py) and
what `fieldsync serve` runs cannot drift apart.

The service is meant to sit behind a buffering proxy (deploy/nginx.conf): nginx
holds slow clients and hands gunicorn whole requests, so a `gthread` thread is
never tied to a phone's slow socket (ADR 0026).
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

from .overload import Limits, worker_threads

_SETTINGS = {setting.name for setting in KNOWN_SETTINGS}
#: The WSGI application, as gunicorn's `wsgi_app` setting names it.
WSGI_APP = "server.app:create_app()"
#: Seconds a worker may spend on one request before the master replaces it.
TIMEOUT_S = 60
#: Seconds an idle keep-alive connection is kept (nginx's default): longer than a phone
#: takes to read a page on the slowest link and than its pauses between a sync's requests
#: (ADR 0025), and longer than nginx's upstream `keepalive_timeout` (60 s in
#: deploy/nginx.conf), so nginx closes first and never sends a request on a connection
#: gunicorn is closing. Idle connections cost no thread in gthread workers.
KEEPALIVE_S = 75


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        return create_app()


def gunicorn_settings(limits: Limits) -> dict[str, Any]:
    """Every setting but the address and the number of workers (given on the command line)."""
    return {
        "worker_class": "gthread",
        # Beyond FIELDSYNC_MAX_IN_FLIGHT requests answer 503 (overload.py): room to work,
        # to wait and to refuse at once.
        "threads": worker_threads(limits),
        # The app writes the access log itself, as JSON lines without query strings
        # (server/telemetry.py, FIELDSYNC_ACCESS_LOG); gunicorn's own would write them.
        "accesslog": None,
        "timeout": TIMEOUT_S,
        "graceful_timeout": 30,
        "keepalive": KEEPALIVE_S,
        # gunicorn believes X-Forwarded-Proto from 127.0.0.1 by default; the app's middleware
        # (server/proxies.py, FIELDSYNC_TRUSTED_PROXIES) is the one judge of forwarded headers.
        "forwarded_allow_ips": "",
    } | (
        # Recent gunicorn (27 here) opens a control socket at one fixed path per user: a
        # second server (tests, benchmarks, another app server) would collide with the first.
        {"control_socket_disable": True} if "control_socket_disable" in _SETTINGS else {}
    )


def gunicorn_options(host: str, port: int, workers: int, limits: Limits) -> dict[str, Any]:
    return {"bind": f"{host}:{port}", "workers": workers} | gunicorn_settings(limits)


def settings_from_environment() -> dict[str, Any]:
    """`gunicorn_settings` for the environment's FIELDSYNC_* settings (deploy/gunicorn.conf.py)."""
    from .config import section, serving_config

    return gunicorn_settings(section(Limits, serving_config()))


def run_gunicorn(host: str, port: int, workers: int, limits: Limits) -> None:
    _Gunicorn(gunicorn_options(host, port, workers, limits)).run()
