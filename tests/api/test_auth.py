"""Sign-in, rotating refresh tokens, logout and device revocation (throttling:
test_login_throttle.py)."""

from __future__ import annotations

import pytest

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


def sign_in(client, email, password="test-pass-2026", device_id="phone", ip="10.0.0.1"):
    return client.post(
        LOGIN,
        json={"email": email, "password": password, "device_id": device_id},
        environ_base={"REMOTE_ADDR": ip},
    )


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_login_answers_tokens_and_the_user_without_secrets(client, world):
    response = sign_in(client, "rep.a@example.com")
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["access_token"] and body["refresh_token"]
    assert body["user"]["email"] == "rep.a@example.com" and body["user"]["role"] == "rep"
    assert "password" not in str(body["user"]) and "hash" not in str(body["user"])
    assert client.get("/api/v1/customers", headers=bearer(body["access_token"])).status_code == 200


def test_email_is_case_insensitive(client, world):
    assert sign_in(client, "  REP.A@Example.COM ").status_code == 200


def test_wrong_password_and_unknown_email_look_the_same(client, world):
    wrong = sign_in(client, "rep.a@example.com", "not-the-password")
    unknown = sign_in(client, "nobody@example.com", "whatever123")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["code"] == "invalid_credentials"


def test_a_disabled_account_cannot_sign_in_nor_use_its_tokens(client, world, login):
    token = sign_in(client, "rep.a@example.com").json["access_token"]
    admin = login("admin@example.com")
    disabled = client.patch(
        f"/api/v1/users/{world.users['rep.a']}", json={"active": False}, headers=admin
    )
    assert disabled.status_code == 200
    assert sign_in(client, "rep.a@example.com").status_code == 403
    response = client.get("/api/v1/customers", headers=bearer(token))
    assert response.status_code == 401 and response.json["error"]["code"] == "account_disabled"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "rep.a@example.com"},
        {"email": "rep.a@example.com", "password": "x"},
        {"email": 5, "password": "test-pass-2026", "device_id": "d"},
    ],
)
def test_incomplete_login_is_422(client, world, body):
    response = client.post(LOGIN, json=body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    assert response.json["error"]["fields"]


def test_malformed_login_json_is_400(client, world):
    response = client.post(LOGIN, data="{'email':", content_type="application/json")
    assert response.status_code == 400


def test_refresh_rotates_and_each_refresh_token_works_once(client, world):
    first = sign_in(client, "rep.a@example.com").json
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    assert (
        client.get("/api/v1/customers", headers=bearer(second.json["access_token"])).status_code
        == 200
    )
    third = client.post(REFRESH, json={"refresh_token": second.json["refresh_token"]})
    assert third.status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_device_session(client, world):
    first = sign_in(client, "rep.a@example.com").json
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json
    # Its successor is used: presenting the first token again is no lost-answer retry.
    rotated = client.post(REFRESH, json={"refresh_token": second["refresh_token"]}).json
    reuse = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json["error"]["code"] == "refresh_token_reused"
    # The thief's and the owner's latest tokens are now both dead.
    after = client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    response = client.get("/api/v1/customers", headers=bearer(rotated["access_token"]))
    assert response.status_code == 401 and response.json["error"]["code"] == "session_revoked"
    # Signing in again opens a fresh session.
    assert sign_in(client, "rep.a@example.com").status_code == 200


@pytest.mark.parametrize("token", ["", "garbage", "0" * 32 + ".secret", "x" * 400])
def test_invalid_refresh_tokens_are_refused(client, world, token):
    response = client.post(REFRESH, json={"refresh_token": token})
    assert response.status_code in (401, 422)


def test_logout_ends_the_session(client, world):
    pair = sign_in(client, "rep.a@example.com").json
    assert (
        client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"])).status_code == 204
    )
    response = client.get("/api/v1/customers", headers=bearer(pair["access_token"]))
    assert response.status_code == 401 and response.json["error"]["code"] == "session_ended"
    assert client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_devices_are_listed_by_scope(client, world, login):
    sign_in(client, "rep.a@example.com", device_id="phone-a")
    sign_in(client, "rep.b@example.com", device_id="phone-b")
    mine = client.get("/api/v1/devices", headers=login("rep.a@example.com", device_id="web")).json
    assert {d["device_id"] for d in mine["items"]} == {"phone-a", "web"}
    north = client.get("/api/v1/devices", headers=login("north.manager@example.com")).json
    assert "phone-a" in {d["device_id"] for d in north["items"]}
    assert "phone-b" not in {d["device_id"] for d in north["items"]}


def _session_id(client, headers, device_id):
    items = client.get("/api/v1/devices", headers=headers).json["items"]
    return next(d["id"] for d in items if d["device_id"] == device_id)


def test_a_manager_revokes_a_rep_device_and_the_app_is_told_to_wipe(client, world, login):
    token = sign_in(client, "rep.a@example.com", device_id="lost-phone").json["access_token"]
    manager = login("north.manager@example.com")
    session_id = _session_id(client, manager, "lost-phone")
    revoked = client.post(f"/api/v1/devices/{session_id}/revoke", json={}, headers=manager)
    assert revoked.status_code == 200 and revoked.json["end_reason"] == "revoked"
    response = client.get("/api/v1/customers", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "device_revoked" and response.json["wipe"] is True


def test_only_managers_of_the_team_or_admins_revoke(client, world, login):
    sign_in(client, "rep.a@example.com", device_id="phone-a")
    admin = login("admin@example.com")
    session_id = _session_id(client, admin, "phone-a")
    url = f"/api/v1/devices/{session_id}/revoke"
    rep = client.post(url, json={}, headers=login("rep.a2@example.com"))
    assert rep.status_code == 403
    other_team = client.post(url, json={}, headers=login("south.manager@example.com"))
    assert other_team.status_code == 404
    assert client.post(url, json={"wipe": False}, headers=admin).status_code == 200
    assert (
        client.post("/api/v1/devices/not-a-uuid/revoke", json={}, headers=admin).status_code == 404
    )
