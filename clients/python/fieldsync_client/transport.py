"""How the client reaches the server: a callable, so tests drive it in-process and tools over HTTP.

A transport answers `(status, JSON body, headers)` or raises `TransportError`
when no answer came (the request may or may not have reached the server).
"""

from __future__ import annotations

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


def http_transport(base_url: str, timeout: float = 30.0) -> Transport:
    """A `Transport` over real HTTP with the standard library."""

    def send(method, path, *, body=None, params=None, token=None):
        url = base_url.rstrip("/") + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Content-Type", "application/json")
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
        return status, json.loads(raw or b"{}"), headers

    return send


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds from a `Retry-After` header in seconds (the form this server sends)."""
    value = (headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else 0.0
