"""Sessions end when the account changes (issue 15, ADR 0018): a new password, disabling
or deleting a user ends every device session of theirs, whoever writes it (REST, sync
push, WatermelonDB push); their access and refresh tokens answer 401 at once, and
re-enabling the account revives none of them."""

from __future__ import annotations

from sqlalchemy import select

from domain.models import DeviceSession
from server.extensions import db
from tests.support.factories import PASSWORD
from tests.support.sync_calls import mutation, results

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
CUSTOMERS = "/api/v1/customers"


def sign_in(client, email, device_id, password=PASSWORD):
    response = client.post(
        LOGIN, json={"email": email, "password": password, "device_id": device_id}
    )
    assert response.status_code == 200, response.json
    return response.json


def bearer(pair) -> dict:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def refresh(client, pair):
    return client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})


def assert_dead(client, pair, code, reason):
    """The access token and the refresh token of `pair` both answer 401."""
    response = client.get(CUSTOMERS, headers=bearer(pair))
    assert response.status_code == 401, response.json
    assert response.json["error"]["code"] == code
    assert response.json["reason"] == reason
    refreshed = refresh(client, pair)
    assert refreshed.status_code == 401, refreshed.json
    assert refreshed.json["error"]["code"] == code


def end_reasons(app, user_id) -> dict[str, str | None]:
    with app.app_context():
        rows = db.session.scalars(select(DeviceSession).filter_by(user_id=user_id)).all()
        return {row.device_id: row.end_reason for row in rows}


def test_a_password_reset_ends_every_session_of_the_user(client, world, login, app):
    phone = sign_in(client, "rep.a@example.com", "phone")
    tablet = sign_in(client, "rep.a@example.com", "tablet")
    admin = login("admin@example.com")
    reset = client.patch(
        f"/api/v1/users/{world.users['rep.a']}", json={"password": "a-new-secret"}, headers=admin
    )
    assert reset.status_code == 200
    for pair in (phone, tablet):
        assert_dead(client, pair, "session_ended", "password_changed")
    response = client.get(CUSTOMERS, headers=bearer(phone))
    assert "password was changed" in response.json["error"]["message"]
    assert end_reasons(app, world.users["rep.a"]) == {
        "phone": "password_changed",
        "tablet": "password_changed",
    }
    # The new password signs in; other users' sessions are untouched.
    fresh = sign_in(client, "rep.a@example.com", "phone", password="a-new-secret")
    assert client.get(CUSTOMERS, headers=bearer(fresh)).status_code == 200
    assert client.get(CUSTOMERS, headers=admin).status_code == 200


def test_changing_your_own_password_keeps_this_device_and_ends_the_others(client, world):
    laptop = sign_in(client, "admin@example.com", "laptop")
    lost_phone = sign_in(client, "admin@example.com", "lost-phone")
    me = world.users["admin"]
    changed = client.patch(
        f"/api/v1/users/{me}", json={"password": "another-secret"}, headers=bearer(laptop)
    )
    assert changed.status_code == 200, changed.json
    assert client.get(CUSTOMERS, headers=bearer(laptop)).status_code == 200
    assert refresh(client, laptop).status_code == 200
    assert_dead(client, lost_phone, "session_ended", "password_changed")


def test_disabling_ends_the_sessions_and_a_disabled_user_cannot_refresh(client, world, login, app):
    pair = sign_in(client, "rep.a@example.com", "phone")
    manager = login("north.manager@example.com")
    disabled = client.patch(
        f"/api/v1/users/{world.users['rep.a']}", json={"active": False}, headers=manager
    )
    assert disabled.status_code == 200
    assert_dead(client, pair, "account_disabled", "disabled")
    assert end_reasons(app, world.users["rep.a"]) == {"phone": "disabled"}


def test_re_enabling_an_account_revives_none_of_its_sessions(client, world, login):
    pair = sign_in(client, "rep.a@example.com", "phone")
    admin = login("admin@example.com")
    url = f"/api/v1/users/{world.users['rep.a']}"
    assert client.patch(url, json={"active": False}, headers=admin).status_code == 200
    assert client.patch(url, json={"active": True}, headers=admin).status_code == 200
    # The account works again, so the old session's answer is "sign in again".
    assert_dead(client, pair, "session_ended", "disabled")
    fresh = sign_in(client, "rep.a@example.com", "phone")
    assert client.get(CUSTOMERS, headers=bearer(fresh)).status_code == 200


def test_deleting_a_rep_ends_their_sessions(client, world, login, app):
    pair = sign_in(client, "rep.a@example.com", "phone")
    manager = login("north.manager@example.com")
    deleted = client.delete(f"/api/v1/users/{world.users['rep.a']}", headers=manager)
    assert deleted.status_code == 204
    assert_dead(client, pair, "account_disabled", "deleted")
    assert end_reasons(app, world.users["rep.a"]) == {"phone": "deleted"}


def _version(client, headers, user_id) -> int:
    return client.get(f"/api/v1/users/{user_id}", headers=headers).json["version"]


def test_a_managers_sync_push_that_disables_a_rep_ends_their_sessions(client, world, login):
    pair = sign_in(client, "rep.a@example.com", "phone")
    manager = login("north.manager@example.com")
    rep = world.users["rep.a"]
    base = _version(client, manager, rep)
    [result] = results(client, manager, mutation("users", "update", rep, {"active": False}, base))
    assert result["status"] == "applied", result
    assert_dead(client, pair, "account_disabled", "disabled")
    # Re-enabled by another push: still no way back for the old session.
    base = _version(client, manager, rep)
    [result] = results(client, manager, mutation("users", "update", rep, {"active": True}, base))
    assert result["status"] == "applied", result
    assert_dead(client, pair, "session_ended", "disabled")


def test_an_admins_sync_push_that_deletes_a_rep_ends_their_sessions(client, world, login):
    pair = sign_in(client, "rep.b@example.com", "phone")
    admin = login("admin@example.com")
    rep = world.users["rep.b"]
    base = _version(client, admin, rep)
    [result] = results(client, admin, mutation("users", "delete", rep, base_version=base))
    assert result["status"] == "applied", result
    assert_dead(client, pair, "account_disabled", "deleted")


def test_a_watermelondb_push_that_disables_a_rep_ends_their_sessions(client, world, login):
    pair = sign_in(client, "rep.a@example.com", "phone")
    admin = login("admin@example.com")
    url = "/api/v1/sync/watermelon"
    pulled = client.get(
        url, query_string={"last_pulled_at": "null", "schema_version": 1}, headers=admin
    ).json
    [raw] = [
        r for r in pulled["changes"]["users"]["created"] if r["id"] == str(world.users["rep.a"])
    ]
    changes = {"users": {"created": [], "updated": [{**raw, "active": False}], "deleted": []}}
    pushed = client.post(
        url, json={"changes": changes, "lastPulledAt": pulled["timestamp"]}, headers=admin
    )
    assert pushed.status_code == 200, pushed.json
    assert not pushed.json.get("rejected"), pushed.json
    assert_dead(client, pair, "account_disabled", "disabled")
