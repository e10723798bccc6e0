"""What a phone holds follows what its user may see: moves of records, and of people.

Every case checks the next pull of whoever lost something (a `remove`), of
whoever gained it (a `put`), REST and push for the one who lost it, and the
WatermelonDB endpoint where it differs.
"""

from __future__ import annotations

import uuid

from domain.models import Territory, User
from server.extensions import db
from sync.changes import create_record
from tests.support.factories import NOW
from tests.support.sync_calls import ids_of, mutation, pull_all, results

CHILDREN = ("contacts", "visits", "orders", "tasks")
WATERMELON = "/api/v1/sync/watermelon"


def _ids(changes, table, op="put") -> set[str]:
    return ids_of(changes, table, op)


def _records(world, territory) -> dict[str, str]:
    return {table: str(i) for table, i in world.records[territory].items()}


def _admin_patch(client, login, path: str, body: dict) -> dict:
    response = client.patch(f"/api/v1/{path}", json=body, headers=login("admin@example.com"))
    assert response.status_code == 200, response.json
    return response.json


def _watermelon_pull(client, headers, last_pulled_at=None) -> dict:
    query = {"last_pulled_at": last_pulled_at} if last_pulled_at else {}
    response = client.get(WATERMELON, query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


# -- children that move ----------------------------------------------------------------------


def test_a_child_moved_to_another_customer_is_removed_from_who_lost_it(client, world, login):
    rep_a, rep_b = login("rep.a@example.com"), login("rep.b@example.com")
    _, cursor_a, _ = pull_all(client, rep_a)
    _, cursor_b, _ = pull_all(client, rep_b)
    stamp_a = _watermelon_pull(client, rep_a)["timestamp"]
    moved = _records(world, "A")
    for table in CHILDREN:
        _admin_patch(
            client,
            login,
            f"{table}/{moved[table]}",
            {"customer_id": _records(world, "B")["customers"]},
        )

    lost, _, _ = pull_all(client, rep_a, cursor_a)
    for table in CHILDREN:
        assert _ids(lost, table, "remove") == {moved[table]}, table
        assert _ids(lost, table) == set()
    gained, _, _ = pull_all(client, rep_b, cursor_b)
    for table in CHILDREN:
        assert _ids(gained, table) == {moved[table]}
    deleted = _watermelon_pull(client, rep_a, stamp_a)["changes"]
    for table in CHILDREN:
        assert deleted[table]["deleted"] == [moved[table]]
    # Gone for REST too.
    for table in CHILDREN:
        assert client.get(f"/api/v1/{table}/{moved[table]}", headers=rep_a).status_code == 404


def test_a_child_moved_by_a_managers_push_reaches_both_sides(client, world, login):
    """Through push, by a manager who sees both customers (A and A2 are North's)."""
    rep_a, rep_a2 = login("rep.a@example.com"), login("rep.a2@example.com")
    _, cursor_a, _ = pull_all(client, rep_a)
    _, cursor_a2, _ = pull_all(client, rep_a2)
    task = _records(world, "A")["tasks"]
    target = _records(world, "A2")["customers"]
    [result] = results(
        client,
        login("north.manager@example.com"),
        mutation("tasks", "update", task, {"customer_id": target}, base_version=1),
    )
    assert result["status"] == "applied", result
    assert _ids(pull_all(client, rep_a, cursor_a)[0], "tasks", "remove") == {task}
    assert _ids(pull_all(client, rep_a2, cursor_a2)[0], "tasks") == {task}


def test_a_child_that_moved_away_before_its_old_customer_did_is_still_removed(client, world, login):
    """The contact leaves customer A for B; then A itself leaves rep.a's territory. The
    contact's removal must not depend on where A is now."""
    rep_a = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep_a)
    records_a = _records(world, "A")
    _admin_patch(
        client,
        login,
        f"contacts/{records_a['contacts']}",
        {"customer_id": _records(world, "B")["customers"]},
    )
    _admin_patch(
        client,
        login,
        f"customers/{records_a['customers']}",
        {"territory_id": str(world.territories["A2"])},
    )
    changes, _, _ = pull_all(client, rep_a, cursor)
    assert _ids(changes, "contacts", "remove") == {records_a["contacts"]}
    assert _ids(changes, "customers", "remove") == {records_a["customers"]}
    assert not [c for c in changes if c["op"] == "put" and c["table"] != "users"]


# -- scope follows people --------------------------------------------------------------------


def test_a_rep_who_changes_team_loses_the_old_team_at_once(client, world, login):
    rep_a2 = login("rep.a2@example.com")
    teammate = login("rep.a@example.com")
    manager = login("north.manager@example.com")
    _, cursor, _ = pull_all(client, rep_a2)
    _, teammate_cursor, _ = pull_all(client, teammate)
    _, manager_cursor, _ = pull_all(client, manager)
    old = _records(world, "A2")

    user = _admin_patch(
        client, login, f"users/{world.users['rep.a2']}", {"team_id": str(world.teams["South"])}
    )
    # A rep's territories belong to their team: the old team's are left.
    assert user["territory_ids"] == []
    territory = client.get(
        f"/api/v1/territories/{world.territories['A2']}", headers=login("admin@example.com")
    ).json
    assert territory["rep_ids"] == []

    changes, _, _ = pull_all(client, rep_a2, cursor)
    removed = {(c["table"], c["id"]) for c in changes if c["op"] == "remove"}
    for table, record_id in old.items():
        assert (table, record_id) in removed, table
    assert ("territories", str(world.territories["A2"])) in removed
    assert ("teams", str(world.teams["North"])) in removed
    for person in ("rep.a", "north.manager"):
        assert ("users", str(world.users[person])) in removed
    assert _ids(changes, "teams") == {str(world.teams["South"])}
    assert {str(world.users["rep.b"]), str(world.users["south.manager"])} <= _ids(changes, "users")
    # Nothing of the old team in REST either, and pushes to it are refused, not lost.
    assert client.get(f"/api/v1/customers/{old['customers']}", headers=rep_a2).status_code == 404
    [refused] = results(
        client,
        rep_a2,
        mutation("customers", "update", old["customers"], {"notes": "offline edit"}, 1),
    )
    assert refused["status"] == "rejected" and refused["error"]["code"] == "forbidden"
    logged = client.get("/api/v1/conflicts", headers=rep_a2).json["items"]
    assert [e["lost_values"] for e in logged] == [{"notes": "offline edit"}]

    # Former teammates and the old manager remove them.
    gone = ("users", "remove")
    assert _ids(pull_all(client, teammate, teammate_cursor)[0], *gone) == {
        str(world.users["rep.a2"])
    }
    assert str(world.users["rep.a2"]) in _ids(pull_all(client, manager, manager_cursor)[0], *gone)


def test_a_rep_taken_off_a_territory_loses_its_customers_and_everyone_learns_it(
    client, world, login
):
    rep_a, teammate = login("rep.a@example.com"), login("rep.a2@example.com")
    _, cursor, _ = pull_all(client, rep_a)
    _, teammate_cursor, _ = pull_all(client, teammate)
    _admin_patch(client, login, f"territories/{world.territories['A']}", {"rep_ids": []})
    changes, _, _ = pull_all(client, rep_a, cursor)
    removed = {(c["table"], c["id"]) for c in changes if c["op"] == "remove"}
    assert {(t, i) for t, i in _records(world, "A").items()} <= removed
    assert ("territories", str(world.territories["A"])) in removed
    # The rep's own record, and the teammate's copy of it, say which territories they have.
    for pulled in (changes, pull_all(client, teammate, teammate_cursor)[0]):
        [me] = [c["record"] for c in pulled if c["table"] == "users" and c["op"] == "put"]
        assert me["id"] == str(world.users["rep.a"]) and me["territory_ids"] == []


def test_a_territorys_reps_belong_to_its_team(client, world, login):
    response = client.patch(
        f"/api/v1/territories/{world.territories['A']}",
        json={"rep_ids": [str(world.users["rep.b"])]},
        headers=login("admin@example.com"),
    )
    assert response.status_code == 422 and response.json["error"]["fields"]["rep_ids"]


def test_a_manager_who_leaves_a_team_leaves_its_members_phones(app, client, world, login):
    with app.app_context():
        extra = create_record(
            db.session,
            User,
            {
                "email": "deputy@example.com",
                "name": "Deputy",
                "role": "manager",
                "password_hash": "x",
            },
            now=NOW,
        )
        db.session.commit()
        deputy = str(extra.id)
    rep_a = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep_a)
    north = f"teams/{world.teams['North']}"
    managers = [str(world.users["north.manager"])]
    _admin_patch(client, login, north, {"manager_ids": [*managers, deputy]})
    changes, cursor, _ = pull_all(client, rep_a, cursor)
    assert deputy in _ids(changes, "users")
    _admin_patch(client, login, north, {"manager_ids": managers})
    changes, _, _ = pull_all(client, rep_a, cursor)
    assert _ids(changes, "users", "remove") == {deputy}


def test_a_disabled_user_sees_nothing(app, client, world, login):
    rep_a = login("rep.a@example.com")
    _admin_patch(client, login, f"users/{world.users['rep.a']}", {"active": False})
    assert client.get("/api/v1/sync/pull", headers=rep_a).status_code == 401
    with app.app_context():
        from sync.scopes import Scope

        scope = Scope.for_user(db.session, db.session.get(User, world.users["rep.a"]))
        assert not scope.territory_ids and not scope.member_ids and not scope.team_ids
        assert db.session.query(Territory).filter(scope.where(Territory)).count() == 0


def test_no_remove_names_a_record_the_device_never_could_see(client, world, login):
    """A customer of another team moves between two territories of that team: nothing
    about it reaches rep.a."""
    rep_a = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep_a)
    b = _records(world, "B")
    _admin_patch(client, login, f"contacts/{b['contacts']}", {"customer_id": b["customers"]})
    with client.application.app_context():
        other = create_record(
            db.session,
            Territory,
            {"name": "B2", "team_id": world.teams["South"]},
            now=NOW,
        )
        db.session.commit()
        other_id = str(other.id)
    _admin_patch(client, login, f"customers/{b['customers']}", {"territory_id": other_id})
    changes, _, _ = pull_all(client, rep_a, cursor)
    named = {c.get("id") or c["record"]["id"] for c in changes}
    assert not named & {*b.values(), other_id, str(uuid.UUID(int=0))}


def test_what_joins_a_lost_territory_afterwards_is_not_named(client, world, login):
    """Records created in (or moved into) territory A after rep.a lost it, before rep.a
    pulled: rep.a never held them, so its removals do not name them."""
    rep_a = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep_a)
    _admin_patch(client, login, f"territories/{world.territories['A']}", {"rep_ids": []})
    admin = login("admin@example.com", device_id="admin-2")
    created = client.post(
        "/api/v1/customers",
        json={"name": "Later", "territory_id": str(world.territories["A"])},
        headers=admin,
    )
    assert created.status_code == 201, created.json
    later = created.json["id"]
    contact = client.post(
        "/api/v1/contacts", json={"customer_id": later, "name": "Later contact"}, headers=admin
    ).json["id"]
    moved_in = _records(world, "A2")["customers"]
    _admin_patch(
        client, login, f"customers/{moved_in}", {"territory_id": str(world.territories["A"])}
    )
    changes, _, _ = pull_all(client, rep_a, cursor)
    named = {c.get("id") or c["record"]["id"] for c in changes}
    assert set(_records(world, "A").values()) <= named
    assert not named & {later, contact, moved_in}
