"""What the link bench puts on the server's side of the link, besides the servers themselves.

- `Phone`: a phone's HTTP: one keep-alive connection, `Accept-Encoding: zstd, br, gzip`,
  answers decoded whatever their encoding, pushes gzip-compressed when asked.
- `Nginx`: Debian's nginx with gzip on for JSON, in front of Kinto (installed with apt when
  missing): Kinto as a careful operator would deploy it.
- `PullRelay`: for issue 18 point 3, the same pull pages compressed the same way (gzip 6)
  whether they travel one per request or in one stream (`/sync/pull/stream`), so that page
  sizes and streaming are compared on equal terms, whatever the server itself compresses.
"""

from __future__ import annotations

import gzip
import http.client
import shutil
import subprocess
import sys
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from bench.common import free_port, wait_http

ACCEPT = "zstd, br, gzip"
GZIP_LEVEL = 6


def decode(body: bytes, encoding: str | None) -> bytes:
    """A body as sent with `Content-Encoding: encoding` (zstd, br, gzip, identity)."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return body
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    if encoding == "zstd":
        from server.compression import zstd  # Python 3.14's module, or its backport

        return zstd.decompress(body)  # also a streamed frame, which does not say its size
    raise ValueError(f"unknown Content-Encoding {encoding!r}")


class Phone:
    """A phone's HTTP client through the link: one keep-alive connection reused, like a
    phone's HTTP stack; a connection the server closed while idle is opened again once."""

    def __init__(
        self,
        port: int,
        headers: dict[str, str],
        *,
        accept: str = ACCEPT,
        gzip_push: bool = False,
    ):
        self.port, self.gzip_push = port, gzip_push
        self.headers = {**headers, "Accept-Encoding": accept}
        self.conn: http.client.HTTPConnection | None = None
        #: Content-Encoding of every answer, to report what came back.
        self.encodings: Counter[str] = Counter()

    def close(self) -> None:
        """Drop the connection (a dead zone drops it: the next request opens a new one)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(
        self, method: str, path: str, body: Any = None
    ) -> tuple[int, Any, http.client.HTTPResponse]:
        """Send, read the whole answer, decode it; NDJSON answers come back as a list."""
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
            if self.gzip_push:
                payload = gzip.compress(payload, GZIP_LEVEL)
                headers["Content-Encoding"] = "gzip"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        encoding = response.getheader("Content-Encoding") or "identity"
        self.encodings[encoding] += 1
        data = decode(raw, encoding)
        if (response.getheader("Content-Type") or "").startswith("application/x-ndjson"):
            return response.status, [orjson.loads(line) for line in data.splitlines()], response
        return response.status, orjson.loads(data or b"{}"), response


# -- nginx in front of Kinto ------------------------------------------------------------------

NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  client_max_body_size 10m;
  keepalive_timeout 75s;
  gzip on;
  gzip_comp_level {level};
  gzip_min_length 256;
  gzip_proxied any;
  gzip_vary on;
  gzip_types application/json;
  upstream app {{ server 127.0.0.1:{upstream}; keepalive 8; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }}
  }}
}}
"""


def find_nginx() -> str:
    """Debian's nginx; installed with apt-get when missing (the bench runs as root)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        print("installing nginx from Debian's packages ...", file=sys.stderr)
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx"], check=True, env=env)
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found


class Nginx:
    """nginx on a free port in front of 127.0.0.1:`upstream`, gzip (level 6, as a default
    deployment sets it) for JSON; its config, logs and pid in `workdir`."""

    def __init__(self, upstream: int, workdir: Path, level: int = GZIP_LEVEL):
        self.binary = find_nginx()
        self.dir = workdir / "nginx"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        conf = self.dir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(dir=self.dir, upstream=upstream, port=self.port, level=level)
        )
        self.process = subprocess.Popen(
            [self.binary, "-c", str(conf), "-p", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, path: str) -> Nginx:
        try:
            wait_http(self.port, path, 30, self.process)
        except RuntimeError:
            self.stop()
            log = self.dir / "error.log"
            raise RuntimeError(
                f"nginx did not start: {log.read_text() if log.exists() else ''}"
            ) from None
        return self

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


# -- pages or one stream, compressed alike ----------------------------------------------------


class _RelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PullRelay

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        gz = "gzip" in (self.headers.get("Accept-Encoding") or "")
        response = self.server.fetch(self.path, self.headers.get("Authorization", ""))
        if not response.getheader("Content-Type", "").startswith("application/x-ndjson"):
            body = response.read()
            if gz:
                body = gzip.compress(body, GZIP_LEVEL)
            self.send_response(response.status)
            self.send_header("Content-Type", response.getheader("Content-Type", ""))
            self.send_header("Content-Length", str(len(body)))
            if gz:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            self.wfile.write(body)
            return
        # A streamed pull: each line passed on, compressed, as soon as the server sends it.
        self.send_response(response.status)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31) if gz else None
        while line := response.readline():
            if packer is not None:
                line = packer.compress(line) + packer.flush(zlib.Z_SYNC_FLUSH)
            self._chunk(line)
        if packer is not None:
            self._chunk(packer.flush())
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()


class PullRelay(ThreadingHTTPServer):
    """`GET`s passed to the server and its answers gzip-compressed (level 6) when the phone
    accepts it: a page whole, a streamed pull (NDJSON) line by line as the server sends it."""

    daemon_threads = True

    def __init__(self, upstream: int):
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.upstream = upstream
        self.port = self.server_address[1]
        self._local = threading.local()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def fetch(self, target: str, auth: str) -> http.client.HTTPResponse:
        """`GET target` on the server, uncompressed, on this thread's connection."""
        headers = {"Authorization": auth, "Accept-Encoding": "identity"}
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection("127.0.0.1", self.upstream)
            try:
                conn.request("GET", target, headers=headers)
                return conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()  # the server's idle keep-alive ran out: once more, on a new one
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def __enter__(self) -> PullRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
