"""Pull cursors are the server's: signed, bound to their user and device, rotated gently."""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import replace

import pytest

from sync import settings
from tests.support.sync_calls import PULL, ids_of, pull_all


def _all_ids(changes) -> set[str]:
    return {c["record"]["id"] if c["op"] == "put" else c["id"] for c in changes}


def _refused(response) -> bool:
    return response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


@pytest.fixture
def secrets_rotate():
    """Set the cursor secrets for a test, and put them back afterwards."""
    kept = settings.current()

    def use(*secrets: str) -> None:
        settings.configure(replace(kept, cursor_secrets=secrets))

    yield use
    settings.configure(kept)


def test_an_edited_cursor_is_refused(client, world, login):
    headers = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, headers)
    version, key_id, payload, mac = cursor.split(".")
    body = json.loads(zlib.decompress(base64.urlsafe_b64decode(payload + "==")))
    body["s"]["t"].append(world.territories["B"].hex)  # widen my scope to another team's
    forged = base64.urlsafe_b64encode(zlib.compress(json.dumps(body).encode())).decode()
    for edited in (
        f"{version}.{key_id}.{forged.rstrip('=')}.{mac}",
        f"{version}.{key_id}.{payload}.{'A' * len(mac)}",
        f"{version}.00000000.{payload}.{mac}",
        cursor[:-2],
    ):
        assert _refused(client.get(PULL, query_string={"cursor": edited}, headers=headers))


def test_a_cursor_works_only_for_the_user_and_device_it_was_issued_to(client, world, login):
    mine = login("rep.a@example.com", device_id="phone-1")
    _, cursor, _ = pull_all(client, mine)
    assert pull_all(client, mine, cursor)[0] == []  # still good for its holder
    # The same user signing in again on the same device keeps the cursor (no full sync).
    again = login("rep.a@example.com", device_id="phone-1")
    assert pull_all(client, again, cursor)[0] == []
    other_device = login("rep.a@example.com", device_id="phone-2")
    other_user = login("rep.a2@example.com", device_id="phone-1")
    manager = login("north.manager@example.com", device_id="phone-1")
    for headers in (other_device, other_user, manager):
        assert _refused(client.get(PULL, query_string={"cursor": cursor}, headers=headers))


def test_a_forged_unsigned_cursor_gets_a_full_sync_of_the_callers_scope_only(client, world, login):
    """The format before signing: anyone could write a scope into it. Its removal walks
    listed the ids of every record of other teams; now it is answered like an expired
    cursor, with a full re-sync of what the caller may see."""
    everyone = {
        "t": sorted(t.hex for t in world.territories.values()),
        "m": sorted(u.hex for u in world.users.values()),
    }
    legacy = {"v": 1, "p": [0, 0], "s": everyone, "w": []}
    text = base64.urlsafe_b64encode(zlib.compress(json.dumps(legacy).encode())).decode()
    headers = login("rep.a@example.com")
    response = client.get(PULL, query_string={"cursor": text.rstrip("=")}, headers=headers)
    assert response.status_code == 200 and response.json["reset"] is True
    changes, _, _ = pull_all(client, headers, text.rstrip("="))
    fresh, _, _ = pull_all(client, login("rep.a@example.com", device_id="fresh"))
    assert _all_ids(changes) == _all_ids(fresh)
    for territory in ("A2", "B"):
        outside = {str(i) for i in world.records[territory].values()}
        assert not outside & _all_ids(changes)


def test_cursors_signed_with_a_previous_secret_stay_valid(client, world, login, secrets_rotate):
    headers = login("rep.a@example.com")
    secrets_rotate("old-secret-" + "o" * 40)
    _, cursor, _ = pull_all(client, headers)
    customer = world.records["A"]["customers"]
    client.patch(f"/api/v1/customers/{customer}", json={"notes": "after"}, headers=headers)
    # Rotated: the new secret signs, the old one still verifies; no full re-sync.
    secrets_rotate("new-secret-" + "n" * 40, "old-secret-" + "o" * 40)
    changes, newer, _ = pull_all(client, headers, cursor)
    assert ids_of(changes, "customers") == {str(customer)} and len(changes) == 1
    assert newer.split(".")[1] != cursor.split(".")[1]  # re-signed with the new key id
    # Once the old secret is dropped, its cursors are refused (and the new ones work).
    secrets_rotate("new-secret-" + "n" * 40)
    assert _refused(client.get(PULL, query_string={"cursor": cursor}, headers=headers))
    assert client.get(PULL, query_string={"cursor": newer}, headers=headers).status_code == 200
