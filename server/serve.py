"""Run the app under gunicorn from Python, without a separate config file."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

from .overload import Limits, worker_threads

_SETTINGS = {setting.name for setting in KNOWN_SETTINGS}
#: Seconds an idle client connection stays open (nginx's default): longer than a phone
#: takes to read a page on the slowest link, and than its pauses between syncs' requests.
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


def gunicorn_options(
    host: str, port: int, workers: int, limits: Limits, access_log: str
) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gthread workers; beyond FIELDSYNC_MAX_IN_FLIGHT requests answer 503 (overload.py).
        "threads": worker_threads(limits),
        # FIELDSYNC_ACCESS_LOG="" turns the access log off (benchmarks).
        "accesslog": access_log or None,
        "timeout": 60,
        # A phone on a slow link reads a page for seconds and then asks for the next one:
        # gunicorn's default 2 s would close its connection in between, and every page would
        # pay a new handshake (ADR 0025). Idle connections cost no thread in gthread workers.
        "keepalive": KEEPALIVE_S,
        # gunicorn believes X-Forwarded-Proto from 127.0.0.1 by default; the app's middleware
        # (server/proxies.py, FIELDSYNC_TRUSTED_PROXIES) is the one judge of forwarded headers.
        "forwarded_allow_ips": "",
    } | (
        # Recent gunicorn (27 here) opens a control socket at one fixed path per user: a
        # second server (tests, benchmarks, another service) would collide with the first.
        {"control_socket_disable": True} if "control_socket_disable" in _SETTINGS else {}
    )


def run_gunicorn(host: str, port: int, workers: int, limits: Limits, access_log: str) -> None:
    _Gunicorn(gunicorn_options(host, port, workers, limits, access_log)).run()
