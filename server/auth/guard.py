"""Every request is authenticated unless its view is marked `@public`."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import current_app, g, request
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from domain.models import DeviceSession, User
from sync.store import RecordStore

from ..errors import ApiError
from ..extensions import db
from .sessions import now_utc, session_error
from .tokens import decode_access_token

#: Endpoints registered by libraries: the API document and its viewer.
PUBLIC_ENDPOINT_PREFIXES = ("api-docs.", "static")

#: endpoint -> what to keep of a request refused because its device session ended
#: (sync push keeps the refused mutations in the conflict log).
REFUSAL_AUDITS: dict[str, Callable[[User, DeviceSession], None]] = {}


def public(view: Callable) -> Callable:
    view.is_public = True
    return view


def authenticate_request() -> None:
    """`before_request` hook: sets `g.user` and `g.device` from the bearer token."""
    endpoint = request.endpoint or ""
    view = current_app.view_functions.get(endpoint)
    if view is None or getattr(view, "is_public", False) or request.method == "OPTIONS":
        return
    if endpoint.startswith(PUBLIC_ENDPOINT_PREFIXES):
        return
    # MethodView classes carry the marker on the class.
    if getattr(getattr(view, "view_class", None), "is_public", False):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "Send an access token: Authorization: Bearer …")
    claims = decode_access_token(current_app.config, token.strip())
    try:
        session_id, user_id = uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"])
    except ValueError as exc:
        raise ApiError(401, "invalid_token", "The access token is not valid.") from exc
    # One query for both, and territories only when a view asks: eager-loading them
    # (and their reps…) on every request cost more than many whole requests.
    found = db.session.execute(
        select(DeviceSession, User)
        .join(User, User.id == DeviceSession.user_id)
        .where(DeviceSession.id == session_id, User.id == user_id)
        .options(lazyload(User.territories))
    ).first()
    if found is None:
        raise ApiError(401, "invalid_token", "The access token is not valid.")
    device, user = found
    if device.ended_at is not None:
        audit = REFUSAL_AUDITS.get(endpoint)
        if audit is not None:
            audit(user, device)
        raise session_error(device)
    if not user.active or user.deleted_at is not None:
        raise ApiError(401, "account_disabled", "This account is disabled.")
    g.user, g.device = user, device
    g.pop("store", None)  # never a store made for an earlier request in this context


def current_user() -> User:
    return g.user


def store() -> RecordStore:
    """The caller's record store, made once per request."""
    if "store" not in g:
        g.store = RecordStore(db.session, g.user, now=now_utc())
    return g.store
