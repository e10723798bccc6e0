"""`/api/v1/auth/*` and `/api/v1/devices`."""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from domain.models import DeviceSession, User
from domain.times import utc_now

from ..errors import ApiError
from ..extensions import db
from ..markers import public
from .guard import current_user, store
from .schemas import (
    DeviceListSchema,
    DeviceSchema,
    LoginResultSchema,
    LoginSchema,
    RefreshSchema,
    RevokeSchema,
    TokenPairSchema,
)
from .sessions import (
    authenticate,
    end_session,
    issue_pair,
    rotate_refresh_token,
    start_session,
)
from .throttle import EXTENSION as THROTTLE
from .throttle import LoginThrottle

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign-in and devices.")


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(security=[])
@public
def login(body):
    """Sign in a device; answers an access token and a refresh token.

    Too many wrong passwords from your address answer 429 `rate_limited` with `Retry-After`
    (per account and address, and per address); an account under attack from many
    addresses answers more slowly, never 429."""
    throttle: LoginThrottle = current_app.extensions[THROTTLE]
    attempt = throttle.attempt(body["email"], request.remote_addr)
    verdict = throttle.check(attempt)
    if verdict.retry_after:
        raise ApiError(
            429,
            "rate_limited",
            "Too many failed sign-ins from this address; try again after the Retry-After delay.",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    throttle.wait(verdict)
    try:
        user = authenticate(db.session, body["email"], body["password"])
    except ApiError as error:
        if error.error_code == "invalid_credentials":
            throttle.failed(attempt)
        raise
    throttle.succeeded(attempt)
    now = utc_now()
    device = start_session(db.session, user, body["device_id"], body.get("device_name"), now)
    pair = issue_pair(db.session, current_app.config, device, now)
    db.session.commit()
    return {**pair, "user": user}


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.doc(security=[])
@public
def refresh(body):
    """Spend a refresh token for a new pair. Single use: sent again within
    `REFRESH_RETRY_WINDOW_SECONDS` (60) while its successor is unused, it gets that same
    successor (the answer was lost); any other reuse closes the session."""
    pair = rotate_refresh_token(db.session, current_app.config, body["refresh_token"], utc_now())
    db.session.commit()
    return pair


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@blp.alt_response(401, response="UNAUTHORIZED")
def logout():
    """End this device's session; its tokens stop working."""
    end_session(g.device, "logout", utc_now())
    db.session.commit()


def _visible_devices():
    users = select(User.id).where(store().scope.where(User))
    if store().scope.is_rep:
        users = select(User.id).where(User.id == current_user().id)
    return select(DeviceSession).where(DeviceSession.user_id.in_(users))


@blp.route("/devices")
class Devices(MethodView):
    @blp.response(200, DeviceListSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self):
        """Device sessions: your own (rep), your teams' (manager), all (admin)."""
        query = _visible_devices().order_by(DeviceSession.created_at.desc()).limit(500)
        return {"items": db.session.scalars(query).all()}


@blp.route("/devices/<uuid:session_id>/revoke", methods=["POST"])
@blp.arguments(RevokeSchema)
@blp.response(200, DeviceSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def revoke_device(body, session_id):
    """Sign a device out; with `wipe` (default) the app erases its local data."""
    if store().scope.is_rep:
        raise ApiError(403, "forbidden", "Only managers and admins revoke devices.")
    device = db.session.scalar(_visible_devices().where(DeviceSession.id == session_id))
    if device is None:
        raise ApiError(404, "not_found", "No device session with this id.")
    end_session(device, "revoked", utc_now(), wipe=body["wipe"], by=current_user().id)
    db.session.commit()
    return device
