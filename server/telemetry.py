"""Every request measured once: a JSON access-log line and the Prometheus metrics.

A WSGI middleware wraps the whole app (outside the proxy middleware and the overload gate),
so a request's duration runs from its arrival to the last byte of its answer, streamed or
not, and its bytes are the bytes sent. Flask's side adds what only Flask knows, through the
WSGI environ: the route template (`/api/v1/route-plans/<uuid:plan_id>`, one metric series per
route however many plans), the signed-in user's id, and what a sync pull or push carried
(`note_sync`).

**The access log** (`FIELDSYNC_ACCESS_LOG`: `-` standard output, a path a file reopened
after rotation, empty none) is one JSON object a line: `time` (UTC), `request_id` (the
client's or proxy's `X-Request-ID` when it is a short plain token, else a new one; sent back
in `X-Request-ID`), `method`, `route`, `path` (without the query string), `status`,
`duration_ms`, `bytes` and `user` (the account's UUID, an opaque id). Never the query string
(search text, emails, coordinates, cursors), headers (tokens) or bodies (passwords,
locations), and no client address: the reverse proxy's log has those for whoever needs them.
gunicorn's own access log is off (`server/serve.py`): it writes the query string.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, Response, g, request

from .metrics.service import ERROR_CODE, SYNC, Metrics, content_length

ROUTE = "fieldsync.route"
USER = "fieldsync.user"
REQUEST_ID = "fieldsync.request_id"
REQUEST_ID_HEADER = "X-Request-ID"
#: An incoming request id is kept only if it is this plain (nginx's `$request_id` is 32 hex).
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: Paths are cut to this length in the log (a scanner's junk must not fill the disk).
MAX_PATH = 200


def note_sync(kind: str, protocol: str, *, records: int, replayed: int = 0) -> None:
    """What a pull (`kind="pull"`: records sent) or a push (`"push"`: mutations received,
    of which `replayed` were already applied: an outbox retrying) carried, for the metrics.
    A push that carries its pull notes both; a stream notes its pull again as it goes."""
    request.environ.setdefault(SYNC, {})[kind] = (protocol, records, replayed)


class _StandardOutput(logging.StreamHandler):
    """Standard output as it is when a line is written (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class AccessLog:
    """JSON lines to standard output (`-`) or a file (reopened when logrotate moves it)."""

    def __init__(self, destination: str):
        self.logger = logging.Logger("fieldsync.access", logging.INFO)  # not in the tree
        if destination == "-":
            handler: logging.Handler = _StandardOutput()
        else:
            handler = logging.handlers.WatchedFileHandler(destination, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.logger.addHandler(handler)

    def write(self, entry: dict[str, Any]) -> None:
        self.logger.info(orjson.dumps(entry).decode())

    def close(self) -> None:
        for handler in self.logger.handlers:
            handler.close()


class _Body:
    """The answer's body, passed on while its bytes are counted; `done` once at the end."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]):
        self.body = body
        self.done = done
        self.sent = 0
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk
        self._finish()

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.done(self.sent)


class Telemetry:
    """The WSGI middleware: measures each request, then logs it and counts it."""

    def __init__(self, app: Callable, access_log: AccessLog | None, metrics: Metrics):
        self.app = app
        self.access_log = access_log
        self.metrics = metrics

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _PLAIN_ID.fullmatch(incoming) else uuid.uuid4().hex
        environ[REQUEST_ID] = request_id
        status: list[int] = []

        def start(code: str, headers: list, exc_info: Any = None) -> Callable:
            status[:] = [int(code[:3])]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(code, headers, exc_info)

        # As it came over the wire: a compressed body's length is gone once it is decoded.
        received = content_length(environ)

        def done(sent: int) -> None:
            self._record(environ, status[0] if status else 500, started, received, sent)

        return _Body(self.app(environ, start), done)

    def _record(self, environ: dict, status: int, started: float, received: int, sent: int) -> None:
        seconds = time.perf_counter() - started
        method = environ.get("REQUEST_METHOD", "")
        route = environ.get(ROUTE)
        try:
            self.metrics.observe(environ, method, route, status, seconds, received, sent)
            if self.access_log is not None:
                path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
                self.access_log.write(
                    {
                        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                        "request_id": environ[REQUEST_ID],
                        "method": method,
                        "route": route,
                        "path": path[:MAX_PATH],
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                        "bytes": sent,
                        "user": environ.get(USER),
                    }
                )
        except Exception:  # a full disk must not turn an answered request into an error
            logging.getLogger(__name__).exception("access log or metrics failed")


def install(app: Flask, access_log: AccessLog | None, metrics: Metrics) -> None:
    """Hand Flask's knowledge to the middleware, and wrap the app in it (outermost)."""

    def describe(response: Response) -> Response:
        environ = request.environ
        environ[ROUTE] = request.url_rule.rule if request.url_rule is not None else None
        user_id = g.get("user_id")  # not g.user.id: after a commit that reloads the user
        if user_id is not None:
            environ[USER] = str(user_id)
        if response.status_code in (429, 503) and response.is_json:
            error = (response.get_json(silent=True) or {}).get("error") or {}
            environ[ERROR_CODE] = error.get("code")
        return response

    app.after_request(describe)
    app.wsgi_app = Telemetry(app.wsgi_app, access_log, metrics)  # type: ignore[method-assign]
