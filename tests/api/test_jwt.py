"""Access-token attacks: every forged or stale token is refused with 401, never 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from tests.support.databases import SECRET

PROTECTED = "/api/v1/customers"


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def claims(client, world, login):
    """The claims of a real token, so each attack changes one thing only."""
    token = login("rep.a@example.com")["Authorization"].split()[1]
    return jwt.decode(token, options={"verify_signature": False})


def _call(client, token: str):
    response = client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.json
    return response.json["error"]["code"]


def test_a_valid_token_is_accepted(client, claims):
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    response = client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_alg_none_is_refused(client, claims):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert _call(client, token) == "invalid_token"
    assert _call(client, token.rstrip(".")) == "invalid_token"


@pytest.mark.filterwarnings("ignore:The HMAC key")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_another_algorithm_with_the_right_key_is_refused(client, claims, algorithm):
    assert _call(client, jwt.encode(claims, SECRET, algorithm=algorithm)) == "invalid_token"


def test_rs256_header_confusion_is_refused(client, claims):
    """A token claiming RS256 but signed with the shared secret as an HMAC key."""
    header = _b64({"alg": "RS256", "typ": "JWT"})
    body = _b64(claims)
    signature = hmac.new(SECRET.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"
    assert _call(client, forged) == "invalid_token"


@pytest.mark.parametrize(
    ("claim", "value"),
    [("aud", "someone-else"), ("iss", "evil.example"), ("sub", "not-a-uuid"), ("sid", "x")],
)
def test_wrong_audience_issuer_or_subject_is_refused(client, claims, claim, value):
    forged = jwt.encode({**claims, claim: value}, SECRET, algorithm="HS256")
    assert _call(client, forged) == "invalid_token"


def test_an_expired_token_is_refused(client, claims):
    now = int(time.time())
    stale = jwt.encode({**claims, "iat": now - 3600, "exp": now - 60}, SECRET, algorithm="HS256")
    assert _call(client, stale) == "token_expired"


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "jti", "sid"])
def test_a_token_missing_a_required_claim_is_refused(client, claims, claim):
    token = jwt.encode({k: v for k, v in claims.items() if k != claim}, SECRET, algorithm="HS256")
    assert _call(client, token) == "invalid_token"


def test_a_bad_signature_is_refused(client, claims):
    other_key = jwt.encode(claims, "another-secret-that-is-long-enough-000000", algorithm="HS256")
    assert _call(client, other_key) == "invalid_token"
    real = jwt.encode(claims, SECRET, algorithm="HS256")
    tampered_body = real.split(".")
    last = "1" if claims["sub"].endswith("0") else "0"
    tampered_body[1] = _b64({**claims, "sub": claims["sub"][:-1] + last})
    assert _call(client, ".".join(tampered_body)) == "invalid_token"


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic cmVwOnBhc3M=", "Bearer not.a.jwt", "Bearer ∂∂∂", "Token abc"],
)
def test_missing_or_malformed_authorization_is_refused(client, world, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(PROTECTED, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] in ("unauthenticated", "invalid_token")
