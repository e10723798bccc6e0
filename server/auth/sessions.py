"""Device sessions: login, refresh rotation with reuse detection (and a short grace for
a retry of a lost answer), logout, revoke; and the 401 an ended session gets."""

from __future__ import annotations

import base64
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


def _successor_secret(key: str, presented_secret: str) -> str:
    """The secret of the token a refresh issues for `presented_secret`: derived, not
    random, so a retry of a refresh whose answer was lost computes the same one, and
    only its hash is stored (nothing in the database gives a usable token back)."""
    digest = hmac.new(
        key.encode(), f"refresh-successor:{presented_secret}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _store_refresh_token(
    session: Session, config: dict[str, Any], device: DeviceSession, secret: str, now: datetime
) -> RefreshToken:
    token = RefreshToken(
        session_id=device.id,
        secret_hash=_hash_secret(secret),
        created_at=now,
        expires_at=now + timedelta(seconds=config["REFRESH_TOKEN_TTL_SECONDS"]),
    )
    session.add(token)
    session.flush()
    return token


def _pair(
    config: dict[str, Any], device: DeviceSession, token: RefreshToken, secret: str, now: datetime
) -> dict[str, Any]:
    return {
        "access_token": issue_access_token(config, device.user_id, device.id, now),
        "token_type": "Bearer",
        "expires_in": config["ACCESS_TOKEN_TTL_SECONDS"],
        "refresh_token": f"{token.id.hex}.{secret}",
        "refresh_expires_in": max(0, int((token.expires_at - now).total_seconds())),
    }


def issue_pair(
    session: Session, config: dict[str, Any], device: DeviceSession, now: datetime
) -> dict[str, Any]:
    """A first pair for a new session (login): a random refresh secret."""
    secret = secrets.token_urlsafe(32)
    return _pair(
        config, device, _store_refresh_token(session, config, device, secret, now), secret, now
    )


def check_enabled(user: User) -> None:
    """401 `account_disabled` for a disabled or deleted account: its tokens stop working
    (an access token at once, not only when the session's refresh fails)."""
    if not user.active or user.deleted_at is not None:
        raise ApiError(401, "account_disabled", "This account is disabled.")


def session_error(device: DeviceSession) -> ApiError:
    """The 401 a request of an ended session gets; `reason` says why it ended.

    A revoke tells the app to wipe; an account that is (still) disabled or was
    deleted answers `account_disabled`; any other end, `session_ended`: sign in again.
    """
    reason = {"reason": device.end_reason}
    if device.end_reason == "revoked":
        return ApiError(
            401,
            "device_revoked",
            "This device was signed out by an administrator.",
            extra={"wipe": device.wipe, **reason},
        )
    if device.end_reason == "refresh_reuse":
        return ApiError(
            401,
            "session_revoked",
            "This session was closed because a token was reused.",
            extra=reason,
        )
    closed = device.end_reason == "deleted" or (
        device.end_reason == "disabled" and not device.user.active
    )
    if closed:
        return ApiError(401, "account_disabled", "This account is disabled.", extra=reason)
    message = _ENDED_MESSAGES.get(device.end_reason, "This session has ended; sign in again.")
    return ApiError(401, "session_ended", message, extra=reason)


_ENDED_MESSAGES = {
    "password_changed": "The password was changed; sign in again with the new password.",
    "disabled": "The account was disabled, which ended this session; sign in again.",
}


def _reused(session: Session, device: DeviceSession, now: datetime) -> ApiError:
    """A spent token presented again: the session ends (RFC 9700 §4.14.2)."""
    device.ended_at, device.end_reason = now, "refresh_reuse"
    session.commit()
    return ApiError(
        401,
        "refresh_token_reused",
        "This refresh token was already used; the session is closed. Sign in again.",
    )


def rotate_refresh_token(
    session: Session, config: dict[str, Any], presented: str, now: datetime
) -> dict[str, Any]:
    """Spend a refresh token for a new pair; a second use revokes the session, except a
    retry within `REFRESH_RETRY_WINDOW_SECONDS` while its successor is unused, which
    gets that same successor again (the first answer was lost on the way)."""
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
    check_enabled(session.get(User, device.user_id))
    if token.expires_at < now:
        raise ApiError(401, "token_expired", "The refresh token has expired; sign in again.")
    # Atomic spend: of two concurrent refreshes exactly one wins; the other waits for
    # the winner's commit and then finds its successor (below).
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if spent != 1:
        return _retry(session, config, token, secret, device, now)
    successor_secret = _successor_secret(config["SECRET_KEY"], secret)
    successor = _store_refresh_token(session, config, device, successor_secret, now)
    token.replaced_by = successor.id
    device.last_seen_at = now
    return _pair(config, device, successor, successor_secret, now)


def _retry(
    session: Session,
    config: dict[str, Any],
    token: RefreshToken,
    secret: str,
    device: DeviceSession,
    now: datetime,
) -> dict[str, Any]:
    """A spent token again: its successor once more if this is a retry of a lost answer
    (within the window, successor unused, same secret derivation), else reuse."""
    session.refresh(token)  # the spend and its successor as the winner committed them
    successor = session.get(RefreshToken, token.replaced_by) if token.replaced_by else None
    if successor is not None:
        session.refresh(successor)
    window = timedelta(seconds=config["REFRESH_RETRY_WINDOW_SECONDS"])
    retry = (
        successor is not None
        and successor.used_at is None
        and successor.expires_at >= now
        and token.used_at is not None
        and now - token.used_at < window
    )
    for key in _keys(config) if retry else ():
        successor_secret = _successor_secret(key, secret)
        if hmac.compare_digest(successor.secret_hash, _hash_secret(successor_secret)):
            device.last_seen_at = now
            return _pair(config, device, successor, successor_secret, now)
    raise _reused(session, device, now)


def _keys(config: dict[str, Any]) -> tuple[str, ...]:
    """The service secret, then earlier ones (a retry may span a rotation)."""
    return tuple(config.get("SYNC_CURSOR_SECRETS") or (config["SECRET_KEY"],))


def end_session(device: DeviceSession, reason: str, now: datetime, *, wipe=False, by=None):
    if device.ended_at is None:
        device.ended_at = now
    device.end_reason = reason
    device.wipe = wipe
    device.revoked_by = by
