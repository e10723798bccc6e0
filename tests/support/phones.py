"""Helpers for sync tests: phones (reference clients) talking to the test app."""

from __future__ import annotations

from fieldsync_client import SyncClient, TransportError


def flask_transport(client, *, lose_responses: set[int] | None = None):
    """A `Transport` over the Flask test client.

    `lose_responses`: numbers of calls (1-based) whose response is lost after
    the server handled the request, as on a dropped connection.
    """
    calls = {"n": 0}

    def send(method, path, *, body=None, params=None, token=None):
        calls["n"] += 1
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = client.open(path, method=method, json=body, query_string=query, headers=headers)
        if lose_responses and calls["n"] in lose_responses:
            raise TransportError("connection reset after the request was sent")
        return response.status_code, response.get_json(silent=True) or {}, response.headers

    send.calls = calls
    return send


def phone(client, email: str, **kwargs) -> SyncClient:
    kwargs.setdefault("sleep", lambda s: None)
    transport = kwargs.pop("transport", None) or flask_transport(client)
    return SyncClient(transport, email=email, password="test-pass-2026", **kwargs)
