"""Pull: scopes, paging, cursors, ordering, scope changes, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.models import Contact, Customer, Territory, User
from server.extensions import db
from sync import pull as pull_module
from sync.changes import create_record, update_record
from sync.pull import Puller
from sync.retention import prune
from tests.support.databases import on_postgres, recorded_statements
from tests.support.phones import phone
from tests.support.sync_calls import PULL, ids_of, pull_all

CHILDREN = ("contacts", "visits", "orders", "tasks")


def world_ids(world, territory, table):
    return {str(world.records[territory][table])}


def test_a_rep_receives_exactly_their_scope(client, world, login):
    changes, _, _ = pull_all(client, login("rep.a@example.com"))
    assert ids_of(changes, "customers") == world_ids(world, "A", "customers")
    for table in CHILDREN:
        assert ids_of(changes, table) == world_ids(world, "A", table)
    assert ids_of(changes, "territories") == {str(world.territories["A"])}
    assert ids_of(changes, "products") == {str(world.products["active"])}
    users = {c["record"]["id"]: c["record"] for c in changes if c["table"] == "users"}
    assert str(world.users["rep.b"]) not in users  # other team
    teammate = users[str(world.users["rep.a2"])]
    assert "home_lat" not in teammate  # public profile only
    assert "password_hash" not in str(changes) and "password" not in teammate


def test_a_manager_receives_their_teams_and_an_admin_everything(client, world, login):
    manager, _, _ = pull_all(client, login("north.manager@example.com"))
    assert ids_of(manager, "customers") == world_ids(world, "A", "customers") | world_ids(
        world, "A2", "customers"
    )
    assert str(world.products["inactive"]) in ids_of(manager, "products")
    admin, _, _ = pull_all(client, login("admin@example.com"))
    assert len(ids_of(admin, "customers")) == 3
    assert len(ids_of(admin, "users")) == 6


def test_parents_arrive_before_children_and_each_record_once(client, world, login):
    changes, _, _ = pull_all(client, login("admin@example.com"), limit=2)
    seen = set()
    for change in changes:
        record = change.get("record", {})
        if change["table"] in CHILDREN:
            assert record["customer_id"] in seen, "a child arrived before its customer"
        if change["table"] == "customers":
            seen.add(record["id"])
    keys = [(c["table"], c["record"]["id"]) for c in changes]
    assert len(keys) == len(set(keys))


def test_paging_delivers_everything_with_has_more(client, world, login):
    headers = login("admin@example.com")
    whole, _, one_page = pull_all(client, headers)
    paged, _, pages = pull_all(client, headers, limit=3)
    assert one_page == 1 and pages > 5
    assert sorted((c["table"], c["record"]["id"]) for c in whole) == sorted(
        (c["table"], c["record"]["id"]) for c in paged
    )


def test_incremental_pull_carries_only_new_changes_including_deletes(client, world, login):
    headers = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, headers)
    empty, cursor, _ = pull_all(client, headers, cursor)
    assert empty == []
    contact = world.records["A"]["contacts"]
    client.patch(f"/api/v1/contacts/{contact}", json={"phone": "+84 2"}, headers=headers)
    client.delete(f"/api/v1/tasks/{world.records['A']['tasks']}", headers=headers)
    client.patch(
        f"/api/v1/contacts/{world.records['B']['contacts']}",
        json={"phone": "x"},
        headers=login("rep.b@example.com"),
    )
    changes, cursor, _ = pull_all(client, headers, cursor)
    assert [(c["table"], c["op"]) for c in changes] == [("contacts", "put"), ("tasks", "delete")]
    assert changes[0]["record"]["phone"] == "+84 2" and changes[0]["record"]["version"] == 2
    assert changes[1]["id"] == str(world.records["A"]["tasks"])


def test_a_record_changed_many_times_arrives_once_in_its_latest_state(client, world, login):
    headers = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, headers)
    contact = world.records["A"]["contacts"]
    for i in range(5):
        client.patch(f"/api/v1/contacts/{contact}", json={"notes": f"v{i}"}, headers=headers)
    changes, _, _ = pull_all(client, headers, cursor)
    assert [c["record"]["notes"] for c in changes] == ["v4"]


def test_bad_cursor_and_limits_are_client_errors(client, world, login):
    headers = login("rep.a@example.com")
    for cursor in ("garbage", "eyJ2IjogOX0", "x" * 50):
        response = client.get(PULL, query_string={"cursor": cursor}, headers=headers)
        assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"
    assert client.get(PULL, query_string={"limit": 5001}, headers=headers).status_code == 422
    assert client.get(PULL, query_string={"limit": 0}, headers=headers).status_code == 422
    assert client.get(PULL).status_code == 401


def test_reassigned_customer_is_removed_from_the_loser_and_sent_whole_to_the_gainer(
    client, world, login
):
    rep_a, rep_b = login("rep.a@example.com"), login("rep.b@example.com")
    _, cursor_a, _ = pull_all(client, rep_a)
    _, cursor_b, _ = pull_all(client, rep_b)
    customer = world.records["A"]["customers"]
    moved = client.patch(
        f"/api/v1/customers/{customer}",
        json={"territory_id": str(world.territories["B"])},
        headers=login("admin@example.com"),
    )
    assert moved.status_code == 200, moved.json
    lost, _, _ = pull_all(client, rep_a, cursor_a)
    assert ids_of(lost, "customers", "remove") == {str(customer)}
    for table in CHILDREN:
        assert ids_of(lost, table, "remove") == world_ids(world, "A", table)
    gained, _, _ = pull_all(client, rep_b, cursor_b)
    assert ids_of(gained, "customers") == {str(customer)}
    for table in CHILDREN:
        assert ids_of(gained, table) == world_ids(world, "A", table)
    order = [c["table"] for c in gained]
    assert order.index("customers") < min(order.index(t) for t in CHILDREN)


def test_customers_handed_over_together_bring_their_records_in_one_read_per_table(
    app, client, world, login
):
    """A territory's customers handed to another rep come each with its records, read
    with one statement per child table for the page, not one per customer."""
    admin, rep_b = login("admin@example.com"), login("rep.b@example.com")
    shops = []
    for i in range(5):
        shop = {"name": f"Handed {i}", "territory_id": str(world.territories["A"])}
        created = client.post("/api/v1/customers", json=shop, headers=admin).json
        contact = {"customer_id": created["id"], "name": f"Owner {i}"}
        assert client.post("/api/v1/contacts", json=contact, headers=admin).status_code == 201
        shops.append(created["id"])
    _, cursor, _ = pull_all(client, rep_b)
    for shop in shops:
        moved = client.patch(
            f"/api/v1/customers/{shop}",
            json={"territory_id": str(world.territories["B"])},
            headers=admin,
        )
        assert moved.status_code == 200, moved.json
    with recorded_statements(app) as statements:
        gained, _, _ = pull_all(client, rep_b, cursor)
    assert ids_of(gained, "customers") == set(shops)
    contacts = [c["record"] for c in gained if c["table"] == "contacts"]
    assert {c["customer_id"] for c in contacts} == set(shops)
    order = [(c["table"], c["record"].get("customer_id", c["record"]["id"])) for c in gained]
    for contact in contacts:  # each after its customer
        assert order.index(("customers", contact["customer_id"])) < order.index(
            ("contacts", contact["customer_id"])
        )
    assert len([s for s in statements if "FROM contacts" in s]) == 1, statements


def test_gaining_a_territory_delivers_all_its_records_whatever_the_cursor(
    client, world, login, app
):
    rep_a = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep_a)
    territory = client.patch(
        f"/api/v1/territories/{world.territories['A2']}",
        json={"rep_ids": [str(world.users["rep.a2"]), str(world.users["rep.a"])]},
        headers=login("admin@example.com"),
    )
    assert territory.status_code == 200, territory.json
    gained, cursor, _ = pull_all(client, rep_a, cursor)
    assert ids_of(gained, "customers") == world_ids(world, "A2", "customers")
    for table in CHILDREN:
        assert ids_of(gained, table) == world_ids(world, "A2", table)
    assert str(world.territories["A2"]) in ids_of(gained, "territories")
    # And taking it away sends removes.
    client.patch(
        f"/api/v1/territories/{world.territories['A2']}",
        json={"rep_ids": [str(world.users["rep.a2"])]},
        headers=login("admin@example.com", device_id="admin-2"),
    )
    lost, _, _ = pull_all(client, rep_a, cursor)
    assert ids_of(lost, "customers", "remove") == world_ids(world, "A2", "customers")
    assert ids_of(lost, "territories", "remove") == {str(world.territories["A2"])}
    for table in CHILDREN:
        assert ids_of(lost, table, "remove") == world_ids(world, "A2", table)


def test_deactivated_product_is_removed_for_reps(client, world, login):
    rep_a = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep_a)
    client.patch(
        f"/api/v1/products/{world.products['active']}",
        json={"active": False},
        headers=login("admin@example.com"),
    )
    changes, _, _ = pull_all(client, rep_a, cursor)
    assert ids_of(changes, "products", "remove") == {str(world.products["active"])}


def test_a_cursor_older_than_the_retention_gets_reset(client, world, login, app):
    headers = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, headers)
    client.patch(
        f"/api/v1/contacts/{world.records['A']['contacts']}", json={"notes": "x"}, headers=headers
    )
    contact = f"/api/v1/contacts/{world.records['A']['contacts']}/history"
    with app.app_context():
        counts = prune(db.session, now=datetime.now(UTC) + timedelta(days=91))
        db.session.commit()
    assert counts["log_rows"] == 0  # retired for pulls, kept as history
    response = client.get(PULL, query_string={"cursor": cursor}, headers=headers)
    assert response.json["reset"] is True
    changes, _, _ = pull_all(client, headers)
    assert ids_of(changes, "customers") == world_ids(world, "A", "customers")
    assert len(client.get(contact, headers=headers).json["items"]) == 2
    with app.app_context():
        counts = prune(db.session, now=datetime.now(UTC) + timedelta(days=366))
        db.session.commit()
    assert counts["log_rows"] > 0
    assert client.get(contact, headers=headers).json["items"] == []


def test_pruning_drops_old_tombstones_but_keeps_recent_ones(client, world, login, app):
    headers = login("rep.a@example.com")
    task = world.records["A"]["tasks"]
    client.delete(f"/api/v1/tasks/{task}", headers=headers)
    with app.app_context():
        assert prune(db.session, now=datetime.now(UTC) + timedelta(days=30))["tombstones"] == 0
        assert prune(db.session, now=datetime.now(UTC) + timedelta(days=91))["tombstones"] == 1
        db.session.commit()


@pytest.mark.parametrize("how", ["sync", "pull"])
def test_a_phone_whose_cursor_is_refused_starts_over_and_keeps_its_outbox(
    client, world, login, how
):
    """A cursor the server no longer takes (400 `invalid_cursor`: here one issued to
    another device) is not the end of the phone: the reference client pulls again from
    nothing, applied as a reset, and its queued work is pushed once."""
    device = phone(client, "rep.a@example.com")
    device.sync()
    other = phone(client, "rep.a@example.com", device_id="other")
    other.pull()
    device._set_meta("cursor", other._meta("cursor"))
    device._save("customers", {"id": "gone", "name": "left over"}, 1)  # a reset drops it
    device.db.commit()
    cid = str(world.records["A"]["customers"])
    task = device.create("tasks", {"customer_id": cid, "title": "Gọi lại"})
    if how == "pull":
        device.push()
    getattr(device, how)()
    assert device.get("customers", "gone") is None
    assert device.get("tasks", task)["version"] == 1 and device.outbox() == []
    tasks = client.get("/api/v1/tasks", headers=login("rep.a@example.com")).json["items"]
    assert [t["title"] for t in tasks].count("Gọi lại") == 1
    for table in ("customers", *CHILDREN, "products", "territories", "users"):
        assert set(device.all(table)) == set(other.all(table)) | (
            {task} if table == "tasks" else set()
        ), table


def test_a_device_converges_with_its_own_pushes_and_others_changes(client, world, login):
    device = phone(client, "rep.a@example.com")
    device.sync()
    cid = str(world.records["A"]["customers"])
    task = device.create("tasks", {"customer_id": cid, "title": "Gọi lại cho chị Hương"})
    client.patch(
        f"/api/v1/customers/{cid}",
        json={"phone": "+84 7"},
        headers=login("north.manager@example.com"),
    )
    device.sync()
    assert device.get("tasks", task)["version"] == 1
    assert device.get("customers", cid)["phone"] == "+84 7"
    fresh = phone(client, "rep.a@example.com", device_id="fresh")
    fresh.pull()
    for table in ("customers", *CHILDREN, "products", "territories", "users"):
        assert device.all(table) == fresh.all(table), table


def test_engine_pull_without_http(session, world):
    """The engine is plain Python: pull as a user, page by page."""
    user = session.get(User, world.users["rep.b"])
    result = Puller(session, user).pull(None, limit=1000)
    assert not result.has_more and not result.reset
    assert ids_of(result.changes, "customers") == world_ids(world, "B", "customers")


def test_a_pull_without_a_limit_sends_pages_as_large_as_allowed(session, world):
    """Each page is a round trip, 600 ms at the edge of coverage (ADR 0025): a client that
    sends no `limit` gets pages of 5,000, no longer of 500."""
    territory = session.get(Territory, world.territories["A"])
    now = datetime.now(UTC)
    for i in range(600):
        create_record(
            session, Customer, {"name": f"Shop {i}", "territory_id": territory.id}, now=now
        )
    session.commit()
    admin = session.get(User, world.users["admin"])
    page = Puller(session, admin).pull(None)
    assert not page.has_more
    assert len(ids_of(page.changes, "customers")) > 600


@pytest.mark.parametrize("recent_read_whole", [True, False])
def test_customers_created_during_a_first_sync_come_before_their_contacts(
    session, world, monkeypatch, recent_read_whole
):
    """A page of a walk's children is preceded by their customers created since the walk
    began, whether what was placed since is read whole (the usual case) or, when there
    is much of it, looked up per customer."""
    if not recent_read_whole:
        monkeypatch.setattr(pull_module, "_RECENT_PLACED", 10)
    admin = session.get(User, world.users["admin"])
    changes, cursor = [], None
    while not any(c["table"] == "contacts" for c in changes):  # the walk is past customers
        page = Puller(session, admin).pull(cursor, limit=1)
        changes, cursor = changes + page.changes, page.cursor
    now = datetime.now(UTC)
    territory = session.get(Territory, world.territories["A"])
    for i in range(60):
        shop = create_record(
            session, Customer, {"name": f"New {i}", "territory_id": territory.id}, now=now
        )
        create_record(session, Contact, {"customer_id": shop.id, "name": f"Owner {i}"}, now=now)
    session.commit()
    while page.has_more:
        page = Puller(session, admin).pull(page.cursor, limit=100)
        changes += page.changes
    seen = set()
    for change in changes:
        if change["table"] == "customers":
            seen.add(change["record"]["id"])
        elif change["table"] == "contacts":
            assert change["record"]["customer_id"] in seen, "a contact before its customer"
    assert len(ids_of(changes, "contacts")) >= 60


@pytest.mark.parametrize("writes", [1, 30])
def test_changes_made_during_a_paged_initial_sync_are_not_lost(session, world, writes):
    """Records written between the pages of a first sync still arrive."""
    admin = session.get(User, world.users["admin"])
    puller = Puller(session, admin)
    page = puller.pull(None, limit=2)
    now = datetime.now(UTC)
    territory = session.get(Territory, world.territories["A"])
    created = [
        create_record(
            session, Customer, {"name": f"Late {i}", "territory_id": territory.id}, now=now
        )
        for i in range(writes)
    ]
    first = session.get(Customer, world.records["A"]["customers"])
    update_record(session, first, {"notes": "changed mid-sync"}, now=now)
    session.commit()
    changes = list(page.changes)
    cursor = page.cursor
    while page.has_more:
        page = Puller(session, admin).pull(cursor, limit=2)
        changes += page.changes
        cursor = page.cursor
    received = {c["record"]["id"]: c["record"] for c in changes if c["table"] == "customers"}
    assert {str(c.id) for c in created} <= set(received)
    assert received[str(first.id)]["notes"] == "changed mid-sync"


def test_an_idle_phones_pull_asks_no_log_query_until_something_is_written(
    app, client, world, login
):
    """A phone polling with nothing new costs no read of the change log; once anything
    is written, the same cursor reads it. (On PostgreSQL the horizon moves with every
    transaction of the whole server, so the idle half is checked on SQLite.)"""
    headers = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, headers)
    with recorded_statements(app) as statements:
        idle = client.get(f"{PULL}?cursor={cursor}", headers=headers).json
        log_reads = [s for s in statements if "FROM sync_changes" in s and "max(" not in s]
        assert idle["changes"] == [] and not idle["has_more"]
        if not on_postgres():
            assert log_reads == []
        contact = client.get("/api/v1/contacts", headers=headers).json["items"][0]
        client.patch(
            f"/api/v1/contacts/{contact['id']}", json={"notes": "called back"}, headers=headers
        )
        changes, _, _ = pull_all(client, headers, idle["cursor"])
    assert [c["record"]["notes"] for c in changes] == ["called back"]


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL reads its reach itself")
def test_a_pull_of_a_few_changes_reads_its_reach_with_the_records(app, client, world, login):
    """What a fleet costs is small pulls: on PostgreSQL the reach of a page (the newest
    change its records may carry) comes with the records, not in a round trip of its own
    (issue 18)."""
    headers = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, headers)
    contacts = client.get("/api/v1/contacts", headers=headers).json["items"][:2]
    for contact in contacts:
        client.patch(f"/api/v1/contacts/{contact['id']}", json={"notes": "x"}, headers=headers)
    with recorded_statements(app) as statements:
        page = client.get(PULL, query_string={"cursor": cursor}, headers=headers).json
    assert {c["record"]["id"] for c in page["changes"]} == {c["id"] for c in contacts}
    reach = [s for s in statements if "pg_snapshot_xmax" in s]
    # The contacts, and their customers (sent first when new), each with its reach.
    assert len(reach) == 2 and all("FROM contacts" in s or "FROM customers" in s for s in reach)
    # The next pull from the cursor it got sends nothing again (the reach was right).
    again = client.get(PULL, query_string={"cursor": page["cursor"]}, headers=headers).json
    assert again["changes"] == []
