"""Records a pull sends that are newer than its cursor's position still leave the phone.

On PostgreSQL the cursor's position is the horizon (`pg_snapshot_xmin`, ADR 0005): a
transaction open anywhere on the cluster holds it back, while a first sync (a walk)
reads every committed record, so the phone holds records created after its position.
When they leave its scope before the position passes them, the removal must still name
them. SQLite has one writer at a time and no concurrent horizon: the position is the
last committed change, so only the PostgreSQL case can be set up deterministically.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from server.extensions import db
from tests.support.databases import on_postgres
from tests.support.sync_calls import ids_of, pull_all

WATERMELON = "/api/v1/sync/watermelon"

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="needs PostgreSQL: SQLite has one writer and no transaction horizon to hold back",
)


@contextmanager
def horizon_held(app) -> Iterator[None]:
    """Another transaction on the cluster, holding a transaction id until the block ends."""
    with app.app_context():
        connection = db.engine.connect()
        try:
            connection.execute(text("SELECT txid_current()"))  # BEGIN; takes an id
            yield
        finally:
            connection.rollback()
            connection.close()
    settled(app)


def settled(app, seconds: float = 60) -> None:
    """Wait until the horizon passes everything committed so far: other sessions on the
    cluster (other test runs, autovacuum) hold it back too, for a while."""
    with app.app_context(), db.engine.connect() as connection:
        last = connection.execute(text("SELECT txid_current()")).scalar()
        connection.commit()
        deadline = time.monotonic() + seconds
        while connection.execute(_XMIN).scalar() <= last:
            connection.commit()
            assert time.monotonic() < deadline, "the horizon stayed behind"
            time.sleep(0.05)
        connection.commit()


_XMIN = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


def _admin(login):
    return login("admin@example.com", device_id="admin-horizon")


def _create_customer_with_children(client, login, world) -> dict[str, str]:
    """A customer of territory A with a record of each child table, through REST."""
    admin = _admin(login)
    territory = str(world.territories["A"])
    made = {}
    response = client.post(
        "/api/v1/customers", json={"name": "Held", "territory_id": territory}, headers=admin
    )
    assert response.status_code == 201, response.json
    made["customers"] = customer = response.json["id"]
    rep = str(world.users["rep.a"])
    bodies = {
        "contacts": {"name": "Held contact"},
        "visits": {"rep_id": rep, "planned_at": "2026-12-01T09:00:00Z"},
        "orders": {"rep_id": rep, "lines": []},
        "tasks": {"title": "Held task", "assignee_id": rep},
    }
    for table, body in bodies.items():
        response = client.post(
            f"/api/v1/{table}", json={"customer_id": customer, **body}, headers=admin
        )
        assert response.status_code == 201, (table, response.json)
        made[table] = response.json["id"]
    return made


def _removed(changes) -> set[tuple[str, str]]:
    return {(c["table"], c["id"]) for c in changes if c["op"] == "remove"}


def _lose(client, login, world, how: str, customer: str) -> None:
    admin = _admin(login)
    if how == "rep taken off the territory":
        path, body = f"territories/{world.territories['A']}", {"rep_ids": []}
    else:  # the customer moved to another rep's territory
        path, body = f"customers/{customer}", {"territory_id": str(world.territories["A2"])}
    response = client.patch(f"/api/v1/{path}", json=body, headers=admin)
    assert response.status_code == 200, response.json


HOW = ["rep taken off the territory", "customer moved to another rep's territory"]


@pytest.mark.parametrize("how", HOW)
def test_a_first_sync_behind_a_held_horizon_still_removes_what_leaves(
    app, client, world, login, how
):
    rep_a = login("rep.a@example.com")
    with horizon_held(app):
        made = _create_customer_with_children(client, login, world)
        changes, cursor, _ = pull_all(client, rep_a)
        for table, record_id in made.items():
            assert record_id in ids_of(changes, table), table  # the walk sent them
        _lose(client, login, world, how, made["customers"])
        removed, cursor, _ = pull_all(client, rep_a, cursor)
    changes, _, _ = pull_all(client, rep_a, cursor)
    assert set(made.items()) <= _removed(removed + changes)


@pytest.mark.parametrize("how", HOW)
def test_watermelon_behind_a_held_horizon_still_deletes_what_leaves(app, client, world, login, how):
    rep_a = login("rep.a@example.com")
    with horizon_held(app):
        made = _create_customer_with_children(client, login, world)
        first = client.get(WATERMELON, headers=rep_a)
        assert first.status_code == 200, first.json
        for table, record_id in made.items():
            assert record_id in {r["id"] for r in first.json["changes"][table]["created"]}
        _lose(client, login, world, how, made["customers"])
    response = client.get(
        WATERMELON, query_string={"last_pulled_at": first.json["timestamp"]}, headers=rep_a
    )
    assert response.status_code == 200, response.json
    deleted = {(t, i) for t, c in response.json["changes"].items() for i in c["deleted"]}
    assert set(made.items()) <= deleted


def test_a_record_a_log_page_sends_as_moved_in_later_still_leaves(app, client, world, login):
    """A log row below the horizon sends the record as it is now: moved into the scope by
    a transaction above the horizon. When the scope then loses it, it is removed."""
    rep_a, admin = login("rep.a@example.com"), _admin(login)
    _, cursor, _ = pull_all(client, rep_a)
    other = str(world.records["A2"]["customers"])
    response = client.patch(f"/api/v1/customers/{other}", json={"notes": "x"}, headers=admin)
    assert response.status_code == 200, response.json
    settled(app)  # the notes' row is below the horizon
    with horizon_held(app):
        response = client.patch(
            f"/api/v1/customers/{other}",
            json={"territory_id": str(world.territories["A"])},
            headers=admin,
        )
        assert response.status_code == 200, response.json
        changes, cursor, _ = pull_all(client, rep_a, cursor)
        assert other in ids_of(changes, "customers")  # from the notes' row, as it is now
        _lose(client, login, world, "rep taken off the territory", other)
        removed, cursor, _ = pull_all(client, rep_a, cursor)
    changes, _, _ = pull_all(client, rep_a, cursor)
    assert ("customers", other) in _removed(removed + changes)


def test_behind_a_held_horizon_what_joins_a_lost_territory_afterwards_is_not_named(
    app, client, world, login
):
    rep_a = login("rep.a@example.com")
    with horizon_held(app):
        made = _create_customer_with_children(client, login, world)
        _, cursor, _ = pull_all(client, rep_a)
        _lose(client, login, world, "rep taken off the territory", made["customers"])
        later = client.post(
            "/api/v1/customers",
            json={"name": "Later", "territory_id": str(world.territories["A"])},
            headers=_admin(login),
        )
        assert later.status_code == 201, later.json
        removed, cursor, _ = pull_all(client, rep_a, cursor)
    changes, _, _ = pull_all(client, rep_a, cursor)
    named = {c.get("id") or c["record"]["id"] for c in removed + changes}
    assert made["customers"] in named and later.json["id"] not in named
