"""How the client reaches the server: a callable, so tests drive it in-process and tools over HTTP.

A transport answers `(status, JSON body, headers)` or raises `TransportError`
when no answer came (the request may or may not have reached the server).

Over HTTP, bodies of `COMPRESS_ABOVE` bytes or more (a push of a few dozen
mutations) are sent gzip-compressed, and answers are asked for compressed with
what the standard library can decode: gzip, and zstd where Python has it
(3.14's `compression.zstd`, or the `backports.zstd` package when installed).
"""

from __future__ import annotations

import gzip
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Protocol


class Transport(Protocol):
    def __call__(
        self,
        method: str,
        path: str,
        *,
        body: dict | None = None,
        params: dict | None = None,
        token: str | None = None,
    ) -> tuple[int, dict, Mapping[str, str]]:
        """(status, JSON body, headers); raises `TransportError` when no answer came."""


class TransportError(Exception):
    """The request may or may not have reached the server (no response)."""


#: Bodies from this many bytes are sent gzip-compressed (smaller ones fit a packet anyway).
COMPRESS_ABOVE = 1024


def _zstd_decompress():
    """zstd's one-shot decompress, where this Python has it; None elsewhere."""
    try:
        from compression import zstd  # Python 3.14+
    except ImportError:
        try:
            from backports import zstd  # the same module, as a package
        except ImportError:
            return None
    return zstd.decompress


DECODERS = {"gzip": gzip.decompress}
if (_zstd := _zstd_decompress()) is not None:
    DECODERS = {"zstd": _zstd, **DECODERS}
#: What answers may come in, most preferred first.
ACCEPT_ENCODING = ", ".join(DECODERS)


def http_transport(
    base_url: str, timeout: float = 30.0, *, compress_above: int | None = COMPRESS_ABOVE
) -> Transport:
    """A `Transport` over real HTTP with the standard library. `compress_above`: gzip
    request bodies from this many bytes (None: never)."""

    def send(method, path, *, body=None, params=None, token=None):
        url = base_url.rstrip("/") + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept-Encoding", ACCEPT_ENCODING)
        if data is not None and compress_above is not None and len(data) >= compress_above:
            # mtime 0: the same bytes when the client sends the same body again.
            request.data = gzip.compress(data, compresslevel=6, mtime=0)
            request.add_header("Content-Encoding", "gzip")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    status, raw, headers = response.status, response.read(), response.headers
            except urllib.error.HTTPError as exc:  # an answer, only not 2xx
                status, raw, headers = exc.code, exc.read(), exc.headers
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise TransportError(str(exc)) from exc  # e.g. a connection cut mid-answer
        coding = (headers.get("Content-Encoding") or "identity").strip().lower()
        if coding != "identity":
            try:
                raw = DECODERS[coding](raw)
            except (KeyError, OSError, EOFError, ValueError) as exc:
                raise TransportError(f"an answer in {coding} that cannot be decoded") from exc
        return status, json.loads(raw or b"{}"), headers

    return send


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds from a `Retry-After` header in seconds (the form this server sends)."""
    value = (headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else 0.0
