"""Access tokens: short-lived JWTs, HS256 pinned, every registered claim checked."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt

from ..errors import ApiError

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "sid"]


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme in any case), or None:
    one reading for users' access tokens and the metrics token."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def issue_access_token(config: dict[str, Any], user_id, session_id, now: datetime) -> str:
    claims = {
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=config["ACCESS_TOKEN_TTL_SECONDS"])).timestamp()),
    }
    return jwt.encode(claims, config["SECRET_KEY"], algorithm=config["JWT_ALGORITHM"])


def decode_access_token(config: dict[str, Any], token: str) -> dict[str, Any]:
    """Claims of a valid token, else 401: `alg` is pinned, so `none` never passes.

    PyJWT checks the registered claims' types; `sid` is ours, and a validly signed
    token whose `sid` is a number or an object must be a 401 too, not a 500.
    """
    try:
        claims = jwt.decode(
            token,
            config["SECRET_KEY"],
            algorithms=[config["JWT_ALGORITHM"]],
            audience=config["JWT_AUDIENCE"],
            issuer=config["JWT_ISSUER"],
            options={"require": REQUIRED_CLAIMS},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise ApiError(401, "token_expired", "The access token has expired; refresh it.") from exc
    except jwt.InvalidTokenError as exc:
        raise ApiError(401, "invalid_token", "The access token is not valid.") from exc
    if not all(isinstance(claims.get(name), str) for name in ("sub", "sid")):
        raise ApiError(401, "invalid_token", "The access token is not valid.")
    return claims
