"""Device sessions: login, refresh rotation with reuse detection, logout, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.models import DeviceSession, RefreshToken, User, fold_email

from ..errors import ApiError
from .passwords import password_matches
from .tokens import issue_access_token


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(session: Session, email: str, password: str) -> User:
    user = session.scalar(
        select(User).where(User.email == fold_email(email), User.deleted_at.is_(None))
    )
    if not password_matches(user.password_hash if user else None, password):
        raise ApiError(401, "invalid_credentials", "Wrong email or password.")
    if not user.active:
        raise ApiError(403, "account_disabled", "This account is disabled.")
    return user


def start_session(
    session: Session, user: User, device_id: str, device_name: str | None, now: datetime
) -> DeviceSession:
    """A new session per login; an older one of the same device ends."""
    for old in session.scalars(
        select(DeviceSession).where(
            DeviceSession.user_id == user.id,
            DeviceSession.device_id == device_id,
            DeviceSession.ended_at.is_(None),
        )
    ):
        old.ended_at, old.end_reason = now, "replaced"
    device = DeviceSession(
        user_id=user.id,
        device_id=device_id,
        device_name=device_name,
        created_at=now,
        last_seen_at=now,
    )
    session.add(device)
    session.flush()
    return device


def issue_pair(
    session: Session, config: dict[str, Any], device: DeviceSession, now: datetime
) -> dict[str, Any]:
    secret = secrets.token_urlsafe(32)
    token = RefreshToken(
        session_id=device.id,
        secret_hash=_hash_secret(secret),
        created_at=now,
        expires_at=now + timedelta(seconds=config["REFRESH_TOKEN_TTL_SECONDS"]),
    )
    session.add(token)
    session.flush()
    return {
        "access_token": issue_access_token(config, device.user_id, device.id, now),
        "token_type": "Bearer",
        "expires_in": config["ACCESS_TOKEN_TTL_SECONDS"],
        "refresh_token": f"{token.id.hex}.{secret}",
        "refresh_expires_in": config["REFRESH_TOKEN_TTL_SECONDS"],
    }


def session_error(device: DeviceSession) -> ApiError:
    """The 401 a request of an ended session gets; a revoke tells the app to wipe."""
    if device.end_reason == "revoked":
        return ApiError(
            401,
            "device_revoked",
            "This device was signed out by an administrator.",
            extra={"wipe": device.wipe},
        )
    if device.end_reason == "refresh_reuse":
        return ApiError(
            401, "session_revoked", "This session was closed because a token was reused."
        )
    return ApiError(401, "session_ended", "This session has ended; sign in again.")


def rotate_refresh_token(
    session: Session, config: dict[str, Any], presented: str, now: datetime
) -> dict[str, Any]:
    """Spend a refresh token for a new pair; a second use revokes the session."""
    token_id, _, secret = presented.partition(".")
    try:
        token = session.get(RefreshToken, uuid.UUID(hex=token_id))
    except ValueError:
        token = None
    if token is None or not hmac.compare_digest(token.secret_hash, _hash_secret(secret)):
        raise ApiError(401, "invalid_token", "The refresh token is not valid.")
    device = session.get(DeviceSession, token.session_id)
    if device.ended_at is not None:
        raise session_error(device)
    if token.expires_at < now:
        raise ApiError(401, "token_expired", "The refresh token has expired; sign in again.")
    # Atomic spend: of two concurrent refreshes exactly one wins.
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if spent != 1:
        device.ended_at, device.end_reason = now, "refresh_reuse"
        session.commit()
        raise ApiError(
            401,
            "refresh_token_reused",
            "This refresh token was already used; the session is closed. Sign in again.",
        )
    device.last_seen_at = now
    return issue_pair(session, config, device, now)


def end_session(device: DeviceSession, reason: str, now: datetime, *, wipe=False, by=None):
    if device.ended_at is None:
        device.ended_at = now
    device.end_reason = reason
    device.wipe = wipe
    device.revoked_by = by
