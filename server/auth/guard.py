"""Every request is authenticated unless its view is marked `@public` (server/markers.py)."""

from __future__ import annotations

import uuid

from flask import current_app, g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload

from domain.models import DeviceSession, User
from domain.times import utc_now
from sync import RecordStore

from ..errors import ApiError
from ..extensions import db
from ..markers import ON_ENDED_SESSION, PUBLIC, marker
from .sessions import check_enabled, session_error
from .tokens import bearer_token, decode_access_token

#: One query for both, and territories only when a view asks: eager-loading them (and
#: their reps…) on every request cost more than many whole requests. Built once, with
#: bind parameters: building it on every request cost a tenth of an empty pull's CPU.
_SESSION_AND_USER = (
    select(DeviceSession, User)
    .join(User, User.id == DeviceSession.user_id)
    .where(DeviceSession.id == bindparam("session_id"), User.id == bindparam("user_id"))
    .options(lazyload(User.territories))
)


def authenticate_request() -> None:
    """`before_request` hook: sets `g.user` and `g.device` from the bearer token, and
    `g.user_id`, which stays readable after the view's commit has expired `g.user`."""
    if request.method == "OPTIONS" or marker(PUBLIC, False):
        return
    if request.url_rule is None:  # no such page: a 404 needs no token
        return
    token = bearer_token(request.headers.get("Authorization", ""))
    if token is None:
        raise ApiError(401, "unauthenticated", "Send an access token: Authorization: Bearer …")
    claims = decode_access_token(current_app.config, token)
    try:
        session_id, user_id = uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"])
    except (ValueError, TypeError, AttributeError) as exc:  # not UUID text, whatever the type
        raise ApiError(401, "invalid_token", "The access token is not valid.") from exc
    found = db.session.execute(
        _SESSION_AND_USER, {"session_id": session_id, "user_id": user_id}
    ).first()
    if found is None:
        raise ApiError(401, "invalid_token", "The access token is not valid.")
    device, user = found
    if device.ended_at is not None:
        keep = marker(ON_ENDED_SESSION)
        if keep is not None:
            keep(user, device)
        raise session_error(device)
    check_enabled(user)
    g.user, g.device, g.user_id = user, device, user_id
    g.pop("store", None)  # never a store made for an earlier request in this context


def current_user() -> User:
    return g.user


def store() -> RecordStore:
    """The caller's record store, made once per request."""
    if "store" not in g:
        g.store = RecordStore(db.session, g.user, now=utc_now(), device_id=g.device.device_id)
    return g.store
