"""`Cache-Control: no-store` on answers no cache may keep.

Tokens (sign-in, refresh) and everything answered to a signed-in caller (records, pulls,
plans, GPX files) name customers and staff and say where they are: a shared proxy or a
phone's HTTP cache must not keep them. So every JSON answer, and every answer to a request
carrying credentials, is `no-store` unless its view chose its own `Cache-Control`. Public
static files keep theirs (server/web, Swagger UI's files): they may be cached.
"""

from __future__ import annotations

from flask import Response, request


def no_store_when_private(response: Response) -> Response:
    """`after_request` hook."""
    if "Cache-Control" in response.headers:
        return response
    # A signed-in caller sent `Authorization` (server/auth/guard.py): no need to ask `g`.
    if response.is_json or "Authorization" in request.headers:
        response.headers["Cache-Control"] = "no-store"
    return response
