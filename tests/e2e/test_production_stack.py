"""The production stack as documented: slow clients cannot take the service down.

`scripts/serve-cluster` starts what the README's "Production" section shows: nginx with
deploy/nginx.conf (rendered by deploy/render-nginx-conf), TLS, in front of two app
servers each run by `gunicorn --config deploy/gunicorn.conf.py`, on one PostgreSQL (a
copy of the demo data) and one Redis. Then 40 connections trickle one header line every
3 s for 30 s (a slowloris: without the proxy, each one holds a gunicorn thread until its
header is complete), while `/healthz` and a demo rep's sign-in are asked every half
second: every answer must come within 2 s. The same connections straight to an app
server (no proxy) leave it unanswering: what nginx prevents. Also: the proxy's own
answers (HSTS, redirect, 413 in the service's shape), and sign-in limits that hold
across both app servers whatever `X-Forwarded-For` a client writes.

Runs once, in the PostgreSQL run (the production database); the SQLite run skips it.
Without nginx, openssl or Redis it skips with the reason, and fails in CI.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
import time

import pytest

from server.demo import DOMAIN, PASSWORD
from tests.support.databases import on_postgres
from tests.support.stack import Stack, production_stack

#: Failed sign-ins one address may make in a minute (30 by default): fewer, for a quick test.
FAILURES_PER_ADDRESS = 10
SLOW_CLIENTS = 40
TRICKLE_EVERY_S = 3.0
SLOW_FOR_S = 30.0
WITHIN_S = 2.0


@pytest.fixture(scope="module")
def stack(demo):
    if not on_postgres():
        pytest.skip("runs in the PostgreSQL run (TEST_DATABASE_URL=postgresql://…)")
    limits = {"FIELDSYNC_LOGIN_FAILURES_PER_ADDRESS": f"{FAILURES_PER_ADDRESS} per minute"}
    with (
        demo.copy("stack") as url,
        production_stack(url, servers=2, workers=1, extra_env=limits) as running,
    ):
        yield running


class Slowloris(threading.Thread):
    """`count` TLS connections, each sending a request header one line every `every` s and
    never finishing it; one the server closes is opened again at once."""

    def __init__(self, stack: Stack, count: int, every: float, seconds: float):
        super().__init__(daemon=True)
        self.stack, self.count, self.every, self.seconds = stack, count, every, seconds
        self.context = stack.tls_context()
        self.opened = 0
        self.closed_by_server = 0
        self.most_open = 0
        self.failures: list[str] = []

    def _open(self) -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", self.stack.https_port), timeout=5)
        sock = self.context.wrap_socket(raw, server_hostname="localhost")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        sock.setblocking(False)
        self.opened += 1
        return sock

    @staticmethod
    def _closed(sock: ssl.SSLSocket) -> bool:
        """Readable: closed, an answer (a 408), or only TLS records such as session tickets."""
        try:
            sock.recv(4096)  # b"": closed; bytes: an answer (then closed)
            return True
        except ssl.SSLWantReadError:
            return False
        except OSError:
            return True

    def run(self) -> None:
        try:
            sockets = [self._open() for _ in range(self.count)]
            end = time.monotonic() + self.seconds
            line = 0
            while time.monotonic() < end:
                self.most_open = max(self.most_open, len(sockets))
                time.sleep(self.every)
                line += 1
                readable, _, _ = select.select(sockets, [], [], 0)
                for sock in readable:
                    if self._closed(sock):  # by the server: its header timeout
                        sockets.remove(sock)
                        sock.close()
                        self.closed_by_server += 1
                for sock in list(sockets):
                    try:
                        sock.send(f"X-Slow-{line}: {'a' * 20}\r\n".encode())
                    except (OSError, ssl.SSLError):
                        sockets.remove(sock)
                        sock.close()
                        self.closed_by_server += 1
                while len(sockets) < self.count:
                    sockets.append(self._open())
            for sock in sockets:
                sock.close()
        except Exception as exc:  # reported by the test
            self.failures.append(f"{type(exc).__name__}: {exc}")


def _timed(stack: Stack, method: str, path: str, body: dict | None = None) -> tuple[int, float]:
    """(status, seconds) of one request on a new TLS connection, as a phone waking up makes."""
    started = time.monotonic()
    conn = stack.connection(timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except OSError:  # refused, reset or timed out: no answer
        return -1, time.monotonic() - started
    finally:
        conn.close()


def test_forty_slow_clients_leave_health_and_sign_in_answering_within_two_seconds(stack):
    login = {"email": f"rep1@{DOMAIN}", "password": PASSWORD, "device_id": "stack-test"}
    assert _timed(stack, "POST", "/api/v1/auth/login", login)[0] == 200
    slow = Slowloris(stack, SLOW_CLIENTS, TRICKLE_EVERY_S, SLOW_FOR_S)
    slow.start()
    time.sleep(1)  # all 40 connected and trickling
    health, sign_ins = [], []
    while slow.is_alive():
        health.append(_timed(stack, "GET", "/healthz"))
        sign_ins.append(_timed(stack, "POST", "/api/v1/auth/login", login))
        time.sleep(0.5)
    slow.join()
    assert slow.failures == []
    assert slow.most_open == SLOW_CLIENTS
    # nginx closed each trickling connection after its header timeout (10 s): about 3 times
    # each in 30 s, and the service never saw one of them.
    assert slow.closed_by_server >= SLOW_CLIENTS, (slow.opened, slow.closed_by_server)
    worst = max(seconds for _, seconds in health + sign_ins)
    print(
        f"\n{len(health)} health checks and {len(sign_ins)} sign-ins during {SLOW_FOR_S:.0f} s of "
        f"{SLOW_CLIENTS} slow clients ({slow.opened} connections, {slow.closed_by_server} "
        f"closed by nginx): worst {worst * 1000:.0f} ms"
    )
    assert len(health) >= 20
    assert {status for status, _ in health} == {200}
    assert {status for status, _ in sign_ins} == {200}
    assert worst < WITHIN_S
    # Both app servers answered (nginx's access log names the upstream of each request).
    upstreams = {json.loads(line)["upstream"] for line in stack.access_log().splitlines()}
    assert {f"127.0.0.1:{port}" for port in stack.app_ports} <= upstreams


def test_the_proxy_answers_as_the_service_does(stack):
    """HSTS on HTTPS, plain HTTP redirected, a body over the service's limit refused with
    the service's error shape, and nginx's own version never shown."""
    conn = stack.connection()
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    response.read()
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert response.getheader("Server") == "nginx"
    conn.request(
        "POST",
        "/api/v1/sync/push",
        body=b"x" * (3 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "payload_too_large"
    conn.close()
    plain = socket.create_connection(("127.0.0.1", stack.http_port), timeout=5)
    plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert plain.recv(100).startswith(b"HTTP/1.1 301")
    plain.close()


def test_without_the_proxy_the_same_slow_clients_starve_an_app_server(stack):
    """What nginx prevents: 20 trickling connections straight to one app server (gunicorn
    alone, as `fieldsync serve` faced the network before) hold its threads, and its
    `/healthz` stops answering; it recovers once they go."""
    port = stack.app_ports[0]

    def health(timeout: float) -> int | None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()

    assert health(2) == 200
    slow = []
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        slow.append(sock)
    try:
        time.sleep(1)
        for sock in slow:
            sock.sendall(b"X-Slow: 1\r\n")
        assert health(WITHIN_S) is None  # no answer within 2 s
    finally:
        for sock in slow:
            sock.close()
    deadline = time.monotonic() + 10
    while health(2) != 200:
        assert time.monotonic() < deadline, "the app server did not recover"


def test_sign_in_limits_hold_across_app_servers_whatever_the_client_claims(stack):
    """Failed sign-ins from one address, each claiming another address in its own
    `X-Forwarded-For` and spread over both app servers by nginx: the 11th is refused
    (FIELDSYNC_LOGIN_FAILURES_PER_ADDRESS, 10 a minute here). nginx replaces the header
    with the real peer, the service believes nginx only, and both app servers count in the
    one Redis (with per-process counts the refusal would come near the 21st).
    Runs last: it uses up this address's failures for a minute."""
    statuses = []
    for attempt in range(FAILURES_PER_ADDRESS + 1):
        conn = stack.connection()
        body = {"email": f"nobody{attempt}@{DOMAIN}", "password": "wrong-pass-2026"}
        conn.request(
            "POST",
            "/api/v1/auth/login",
            body=json.dumps(body | {"device_id": "stack-test"}),
            headers={
                "Content-Type": "application/json",
                "X-Forwarded-For": f"203.0.113.{attempt}",
            },
        )
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
        conn.close()
    assert statuses == [401] * FAILURES_PER_ADDRESS + [429]
    upstreams = [
        json.loads(line)["upstream"]
        for line in stack.access_log().splitlines()
        if '"path":"/api/v1/auth/login"' in line
    ]
    assert len(set(upstreams[-FAILURES_PER_ADDRESS - 1 :])) == 2
