"""Push: protocol rules 1-6, idempotency, limits and server-derived fields."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.models import ConflictEntry, Customer, DeviceSession, SyncMutation, User, Visit
from domain.times import utc_iso
from server.extensions import db
from sync import Pusher, claim_device
from tests.support.phones import flask_transport, phone
from tests.support.sync_calls import PUSH, engine_phone_push, mutation, pull_all, push, results


def phone_edit(customer_id, value, changed_at):
    return mutation("customers", "update", customer_id, {"phone": value}, 1, changed_at=changed_at)


def customer_of(world, territory="A") -> str:
    return str(world.records[territory]["customers"])


def server_record(app, model, record_id):
    with app.app_context():
        return db.session.get(model, uuid.UUID(str(record_id)))


def test_an_empty_push_applies_nothing(client, world, login, app):
    """Found by fuzzing: `{"mutations": []}` used to insert a NULL claim row: a 500."""
    response = client.post(PUSH, json={"mutations": []}, headers=login("rep.a@example.com"))
    assert response.status_code == 200, response.json
    assert response.json["results"] == []
    with app.app_context():
        assert db.session.scalars(select(SyncMutation)).all() == []


def test_update_is_applied_and_bumps_the_version(client, world, login, app):
    headers = login("rep.a@example.com")
    cid = customer_of(world)
    [result] = results(client, headers, mutation("customers", "update", cid, {"phone": "+84 9"}, 1))
    assert result["status"] == "applied"
    assert result["record"]["phone"] == "+84 9"
    assert result["record"]["version"] == 2


def test_create_with_device_chosen_id_and_unicode_round_trip(client, world, login):
    headers = login("rep.a@example.com")
    new_id = uuid.uuid4()
    names = "Nguyễn Thị Hương · مريم الحسيني · مهسا رضایی · Анна Кузнецова"
    fields = {"customer_id": customer_of(world), "name": names, "notes": "Ghi chú: Phở 🍜"}
    [result] = results(client, headers, mutation("contacts", "create", new_id, fields))
    assert result["status"] == "applied"
    assert result["record"]["id"] == str(new_id)
    assert result["record"]["name"] == names
    fetched = client.get(f"/api/v1/contacts/{new_id}", headers=headers).json
    assert fetched["name"] == names and fetched["notes"] == "Ghi chú: Phở 🍜"


def test_rejected_mutation_does_not_stop_the_others(client, world, login):
    headers = login("rep.a@example.com")
    cid = customer_of(world)
    good = mutation("customers", "update", cid, {"notes": "ok"}, 1)
    bad = mutation("customers", "update", cid, {"tier": "Z"}, 1)
    after = mutation("customers", "update", cid, {"city": "Huế"}, 1)
    res = results(client, headers, good, bad, after)
    assert [r["status"] for r in res] == ["applied", "rejected", "applied"]
    assert res[1]["error"]["code"] == "validation_failed"
    assert "tier" in res[1]["error"]["fields"]


def test_replayed_mutation_is_not_applied_twice(client, world, login, app):
    headers = login("rep.a@example.com")
    m = mutation(
        "contacts", "create", uuid.uuid4(), {"customer_id": customer_of(world), "name": "X"}
    )
    u = mutation("customers", "update", customer_of(world), {"notes": "once"}, 1)
    first = results(client, headers, m, u)
    again = results(client, headers, m, u)
    assert [r["status"] for r in again] == [r["status"] for r in first]
    assert all(r["replayed"] for r in again)
    assert server_record(app, Customer, customer_of(world)).version == 2
    with app.app_context():
        assert db.session.query(SyncMutation).count() == 2


def test_lost_response_is_retried_without_duplicates(client, world, app):
    transport = flask_transport(client, lose_responses={2})  # call 1 = login, 2 = push
    device = phone(client, "rep.a@example.com", transport=transport)
    cid = customer_of(world)
    device.pull()
    ids = [device.create("tasks", {"customer_id": cid, "title": f"Task {i}"}) for i in range(3)]
    device.update("customers", cid, {"notes": "after the tunnel"})
    device.push()
    assert device.outbox() == []
    with app.app_context():
        assert db.session.query(SyncMutation).count() == 4
    customer = server_record(app, Customer, cid)
    assert customer.version == 2 and customer.notes == "after the tunnel"
    rows = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {device.access_token}"})
    created = [t for t in rows.json["items"] if t["id"] in ids]
    assert sorted(t["title"] for t in created) == ["Task 0", "Task 1", "Task 2"]


def test_edits_to_different_fields_merge(client, world, login):
    headers_a = login("rep.a@example.com")
    headers_m = login("north.manager@example.com")
    cid = customer_of(world)
    results(client, headers_m, mutation("customers", "update", cid, {"phone": "+84 1"}, 1))
    [result] = results(client, headers_a, mutation("customers", "update", cid, {"notes": "n"}, 1))
    assert result["status"] == "applied"
    assert result["record"]["phone"] == "+84 1" and result["record"]["notes"] == "n"


def test_same_field_later_effective_edit_wins(client, world, login, app):
    headers_a = login("rep.a@example.com")
    headers_m = login("north.manager@example.com")
    cid = customer_of(world)
    now = datetime.now(UTC)
    # The rep edited offline 10 minutes ago; the manager's edit is applied first but is older.
    results(
        client,
        headers_m,
        phone_edit(cid, "manager", now - timedelta(minutes=20)),
    )
    [result] = results(
        client,
        headers_a,
        mutation(
            "customers", "update", cid, {"phone": "rep"}, 1, changed_at=now - timedelta(minutes=10)
        ),
    )
    assert result["status"] == "applied"
    assert result["record"]["phone"] == "rep"
    with app.app_context():
        [lost] = db.session.query(ConflictEntry).all()
    assert lost.loser == "server" and lost.lost_values == {"phone": "manager"}


def test_same_field_earlier_edit_loses_and_is_logged(client, world, login, app):
    headers_a = login("rep.a@example.com")
    headers_m = login("north.manager@example.com")
    cid = customer_of(world)
    now = datetime.now(UTC)
    results(client, headers_m, mutation("customers", "update", cid, {"phone": "manager"}, 1))
    [result] = results(
        client,
        headers_a,
        mutation(
            "customers",
            "update",
            cid,
            {"phone": "rep", "notes": "mine"},
            1,
            changed_at=now - timedelta(hours=1),
        ),
    )
    assert result["status"] == "merged"
    assert result["record"]["phone"] == "manager" and result["record"]["notes"] == "mine"
    [conflict] = result["conflicts"]
    assert conflict["field"] == "phone" and conflict["yours"] == "rep"
    assert conflict["kept"] == "server" and conflict["server"] == "manager"
    log = client.get(f"/api/v1/conflicts?record_id={cid}", headers=headers_m).json["items"]
    assert [(e["field"], e["lost_values"], e["loser"]) for e in log] == [
        ("phone", {"phone": "rep"}, "device")
    ]


def test_tie_keeps_the_server_value(session, world):
    """Engine level, so both pushes have exactly the same effective edit time."""
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    moment = now - timedelta(minutes=5)

    def push_as(key, value):
        return engine_phone_push(session, world, key, value, changed_at=moment, now=now)

    assert push_as("north.manager", "m")["status"] == "applied"
    tie = push_as("rep.a", "r")
    assert tie["status"] == "merged" and tie["record"]["phone"] == "m"


def test_a_phone_three_hours_ahead_does_not_win_a_conflict_it_lost_in_real_time(
    client, world, login
):
    headers_a = login("rep.a@example.com")
    headers_m = login("north.manager@example.com")
    cid = customer_of(world)
    real_now = datetime.now(UTC)
    ahead = timedelta(hours=3)
    # The rep really edited 30 minutes ago, but the phone's clock says +3h.
    rep_edit = phone_edit(cid, "rep", real_now - timedelta(minutes=30) + ahead)
    # The manager edited 10 minutes ago (server-side, real time).
    results(
        client,
        headers_m,
        phone_edit(cid, "manager", real_now - timedelta(minutes=10)),
    )
    [result] = results(client, headers_a, rep_edit, device_time=real_now + ahead)
    assert result["status"] == "merged"
    assert result["record"]["phone"] == "manager"


def test_a_future_edit_time_is_capped_at_the_receive_time(session, world):
    """An edit stamped a day ahead counts as made when it arrived, so it only ties."""
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def push_as(key, value, changed_at):
        return engine_phone_push(session, world, key, value, changed_at=changed_at, now=now)

    assert push_as("north.manager", "manager", now)["status"] == "applied"
    future = push_as("rep.a", "rep", now + timedelta(days=1))
    assert future["status"] == "merged" and future["record"]["phone"] == "manager"


def test_delete_wins_and_update_of_deleted_record_is_rejected(client, world, login, app):
    headers_a = login("rep.a@example.com")
    headers_m = login("north.manager@example.com")
    contact = str(world.records["A"]["contacts"])
    results(client, headers_m, mutation("contacts", "update", contact, {"phone": "1"}, 1))
    [deleted] = results(client, headers_a, mutation("contacts", "delete", contact, base_version=1))
    assert deleted["status"] == "applied" and "record" not in deleted
    [late] = results(
        client, headers_m, mutation("contacts", "update", contact, {"name": "late"}, 2)
    )
    assert late["status"] == "rejected" and late["error"]["code"] == "record_deleted"
    log = client.get(f"/api/v1/conflicts?record_id={contact}", headers=headers_m).json["items"]
    assert [e["code"] for e in log] == ["record_deleted"]
    assert log[0]["lost_values"] == {"name": "late"}


@pytest.mark.parametrize("table", ["products", "territories", "users"])
def test_reps_cannot_write_read_only_tables(client, world, login, table):
    headers = login("rep.a@example.com")
    target = {
        "products": world.products["active"],
        "territories": world.territories["A"],
        "users": world.users["rep.a"],
    }[table]
    [result] = results(client, headers, mutation(table, "update", target, {"name": "Mine"}, 1))
    assert result["status"] == "rejected" and result["error"]["code"] == "read_only"


def test_submitted_order_is_locked(client, world, login):
    headers = login("rep.a@example.com")
    order = str(world.records["A"]["orders"])
    [submit] = results(
        client, headers, mutation("orders", "update", order, {"status": "submitted"}, 1)
    )
    assert submit["status"] == "applied" and submit["record"]["submitted_at"]
    [edit] = results(client, headers, mutation("orders", "update", order, {"notes": "more"}, 2))
    assert edit["status"] == "rejected" and edit["error"]["code"] == "order_locked"


def test_check_in_is_written_once(client, world, login):
    headers = login("rep.a@example.com")
    visit = str(world.records["A"]["visits"])
    first = {"check_in_at": "2026-11-22T08:00:00Z", "check_in_lat": 10.77, "check_in_lon": 106.70}
    [ok] = results(client, headers, mutation("visits", "update", visit, first, 1))
    assert ok["status"] == "applied"
    again = {"check_in_at": "2026-11-22T09:00:00Z"}
    [second] = results(client, headers, mutation("visits", "update", visit, again, 2))
    assert second["status"] == "rejected" and second["error"]["code"] == "already_checked_in"


def test_check_in_location_is_derived_and_never_refused(client, world, login):
    headers = login("rep.a@example.com")
    cid = customer_of(world)  # at 10.77, 106.70
    cases = {
        "verified": {"check_in_lat": 10.7705, "check_in_lon": 106.7004, "check_in_accuracy_m": 20},
        "out_of_range": {"check_in_lat": 10.80, "check_in_lon": 106.70, "check_in_accuracy_m": 10},
        "unverified": {"check_in_lat": 10.77, "check_in_lon": 106.70, "check_in_accuracy_m": 900},
    }
    distances = {}
    for expected, fix in cases.items():
        fields = {
            "customer_id": cid,
            "status": "completed",
            "check_in_at": "2026-11-21T08:00:00Z",
            **fix,
        }
        [result] = results(client, headers, mutation("visits", "create", uuid.uuid4(), fields))
        assert result["status"] == "applied"
        assert result["record"]["location_status"] == expected
        distances[expected] = result["record"]["check_in_distance_m"]
    assert distances["verified"] < 150
    assert 3300 < distances["out_of_range"] < 3350  # 0.03° of latitude
    no_fix = {"customer_id": cid, "check_in_at": "2026-11-21T08:00:00Z"}
    [result] = results(client, headers, mutation("visits", "create", uuid.uuid4(), no_fix))
    assert result["record"]["location_status"] == "unverified"
    customer = client.get(f"/api/v1/customers/{cid}", headers=headers).json
    assert customer["last_visit_at"] == "2026-11-21T08:00:00.000000Z"


def test_order_total_is_computed_by_the_server(client, world, login):
    headers = login("rep.a@example.com")
    lines = [{"product_id": str(world.products["active"]), "quantity": "3", "discount_pct": "10"}]
    fields = {"customer_id": customer_of(world), "lines": lines}
    [result] = results(client, headers, mutation("orders", "create", uuid.uuid4(), fields))
    assert result["record"]["total"] == "6.75"  # 3 × 2.50 − 10 %


@pytest.mark.parametrize(
    ("actor", "territory"), [("rep.a", "B"), ("rep.a", "A2"), ("north.manager", "B")]
)
def test_pushes_outside_scope_are_forbidden(client, world, login, app, actor, territory):
    headers = login(f"{actor}@example.com")
    cid = customer_of(world, territory)
    res = results(
        client,
        headers,
        mutation("customers", "update", cid, {"notes": "x"}, 1),
        mutation("contacts", "create", uuid.uuid4(), {"customer_id": cid, "name": "spy"}),
        mutation("visits", "delete", world.records[territory]["visits"], base_version=1),
    )
    assert [r["error"]["code"] for r in res] == ["forbidden"] * 3
    assert all("record" not in r for r in res)
    assert server_record(app, Customer, cid).version == 1
    assert server_record(app, Visit, world.records[territory]["visits"]).deleted_at is None


def test_update_needs_a_base_version(client, world, login):
    headers = login("rep.a@example.com")
    [result] = results(
        client, headers, mutation("customers", "update", customer_of(world), {"notes": "x"})
    )
    assert result["status"] == "rejected" and "base_version" in result["error"]["fields"]


def test_malformed_push_bodies_are_refused_whole(client, world, login):
    headers = login("rep.a@example.com")
    bad_op = {
        "mutations": [{**mutation("customers", "update", customer_of(world), {}), "op": "upsert"}]
    }
    assert client.post(PUSH, json=bad_op, headers=headers).status_code == 422
    assert client.post(PUSH, json={"nope": 1}, headers=headers).status_code == 422
    malformed = client.post(PUSH, data="{", headers={**headers, "Content-Type": "application/json"})
    assert malformed.status_code == 400


def test_limits_answer_413(client, world, login):
    headers = login("rep.a@example.com")
    many = [mutation("customers", "update", customer_of(world), {"notes": "x"}, 1)] * 501
    response = push(client, headers, *many)
    assert response.status_code == 413 and response.json["error"]["code"] == "too_many_mutations"
    huge = mutation(
        "customers", "update", customer_of(world), {"notes": "x" * (3 * 1024 * 1024)}, 1
    )
    response = push(client, headers, huge)
    assert response.status_code == 413 and response.json["error"]["code"] == "payload_too_large"


def test_unsupported_schema_version_gets_426(client, world, login):
    headers = login("rep.a@example.com")
    response = push(client, headers, schema_version=99)
    assert response.status_code == 426
    assert response.json["error"]["code"] == "unsupported_schema_version"
    assert "99" in response.json["error"]["message"]
    pulled = client.get("/api/v1/sync/pull?schema_version=0", headers=headers)
    assert pulled.status_code == 426


def test_expired_session_logs_in_again_and_keeps_the_outbox(client, world, app):
    device = phone(client, "rep.a@example.com")
    device.pull()
    device.update("customers", customer_of(world), {"notes": "written offline"})
    device.access_token = "expired.token.value"
    device.refresh_token = "spent-refresh-token-value"
    device.push()
    assert device.outbox() == []
    assert server_record(app, Customer, customer_of(world)).notes == "written offline"


def test_revoked_device_push_is_refused_whole_and_audited(client, world, login, app):
    device = phone(client, "rep.a@example.com", device_id="phone-1")
    device.pull()
    device.update("customers", customer_of(world), {"notes": "never applied"})
    manager = login("north.manager@example.com")
    sessions = client.get("/api/v1/devices", headers=manager).json["items"]
    [target] = [s for s in sessions if s["device_id"] == "phone-1"]
    revoked = client.post(
        f"/api/v1/devices/{target['id']}/revoke", json={"wipe": True}, headers=manager
    )
    assert revoked.status_code == 200
    body = {"mutations": device.outbox(), "device_time": utc_iso(datetime.now(UTC))}
    response = client.post(
        PUSH, json=body, headers={"Authorization": f"Bearer {device.access_token}"}
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "device_revoked" and response.json["wipe"] is True
    assert server_record(app, Customer, customer_of(world)).notes is None
    with app.app_context():
        [audit] = db.session.query(ConflictEntry).all()
    assert audit.code == "device_revoked" and audit.lost_values == {"notes": "never applied"}


def test_revoke_racing_a_push_never_half_applies(client, world, login, app):
    """The push holds the device-session row: a concurrent revoke waits for its commit."""
    login("rep.a@example.com", device_id="racer")
    cid = world.records["A"]["customers"]
    notes = [f"note {i}" for i in range(20)]
    with app.app_context():
        engine = db.engine
        with Session(engine) as pushing:
            device_id = pushing.scalars(select(DeviceSession.id).filter_by(device_id="racer")).one()
            user = pushing.get(User, world.users["rep.a"])
            now = datetime.now(UTC)
            assert claim_device(pushing, device_id, now)
            batch = [
                {
                    "id": uuid.uuid4(),
                    "table": "customers",
                    "op": "update",
                    "record_id": cid,
                    "base_version": 1,
                    "changed_at": now - timedelta(seconds=len(notes) - i),
                    "fields": {"notes": n},
                }
                for i, n in enumerate(notes)
            ]
            half_done = Pusher(pushing, user, device_id="racer", now=now).push(batch[:10], now)
            assert all(r["status"] == "applied" for r in half_done)
            revoke = threading.Thread(target=_revoke, args=(engine, device_id))
            revoke.start()
            time.sleep(0.3)  # the revoke is now waiting for the push's lock
            Pusher(pushing, user, device_id="racer", now=now).push(batch[10:], now)
            pushing.commit()
            revoke.join(10)
        with Session(engine) as check:
            assert check.get(Customer, cid).notes == "note 19"  # the whole push landed
            assert check.get(DeviceSession, device_id).ended_at is not None
            # Afterwards the same device's push is refused whole.
            assert not claim_device(check, device_id, datetime.now(UTC))


def _revoke(engine, session_id) -> None:
    with Session(engine) as revoking:
        revoking.execute(
            update(DeviceSession)
            .where(DeviceSession.id == session_id)
            .values(ended_at=datetime.now(UTC), end_reason="revoked", wipe=True)
        )
        revoking.commit()


def rep_loses_a_phone_conflict(client, world, login):
    """The manager sets the phone; rep.a's older offline edit of it loses."""
    headers_m = login("north.manager@example.com")
    cid = customer_of(world)
    results(client, headers_m, mutation("customers", "update", cid, {"phone": "m"}, 1))
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    rep_edit = mutation("customers", "update", cid, {"phone": "r"}, 1, changed_at=an_hour_ago)
    results(client, login("rep.a@example.com"), rep_edit)
    return headers_m


def test_conflicts_are_visible_to_owner_and_managers_only(client, world, login):
    headers_m = rep_loses_a_phone_conflict(client, world, login)
    for email, expected in [
        ("rep.a", 1),
        ("north.manager", 1),
        ("admin", 1),
        ("rep.b", 0),
        ("south.manager", 0),
        ("rep.a2", 0),
    ]:
        viewer = login(f"{email}@example.com", device_id="viewer")
        items = client.get("/api/v1/conflicts", headers=viewer).json["items"]
        assert len(items) == expected, email
    filtered = client.get("/api/v1/conflicts?table=contacts", headers=headers_m).json["items"]
    assert filtered == []
    later = utc_iso(datetime.now(UTC) + timedelta(minutes=1))
    assert client.get(f"/api/v1/conflicts?since={later}", headers=headers_m).json["items"] == []


def test_restore_writes_the_losing_value_as_a_new_change(client, world, login):
    headers_m = rep_loses_a_phone_conflict(client, world, login)
    [entry] = client.get("/api/v1/conflicts", headers=headers_m).json["items"]
    restored = client.post(f"/api/v1/conflicts/{entry['id']}/restore", headers=headers_m)
    assert restored.status_code == 200
    assert restored.json["record"]["phone"] == "r" and restored.json["record"]["version"] == 3
    assert restored.json["conflict"]["restored_at"]
    again = client.post(f"/api/v1/conflicts/{entry['id']}/restore", headers=headers_m)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_restored"
    outsider = client.post(
        f"/api/v1/conflicts/{entry['id']}/restore", headers=login("rep.b@example.com")
    )
    assert outsider.status_code == 404


def test_restoring_values_that_were_refused_as_invalid_is_422_not_500(client, world, login):
    """A rejected mutation keeps its values in the conflict log; they stay invalid."""
    headers = login("rep.a@example.com")
    bad = mutation("customers", "update", customer_of(world), {"visit_every_days": -3}, 1)
    [result] = results(client, headers, bad)
    assert result["status"] == "rejected" and result["error"]["code"] == "validation_failed"
    [entry] = client.get("/api/v1/conflicts", headers=headers).json["items"]
    restored = client.post(f"/api/v1/conflicts/{entry['id']}/restore", headers=headers)
    assert restored.status_code == 422, restored.json
    assert restored.json["error"]["fields"]["visit_every_days"]
    listed = client.get("/api/v1/conflicts", headers=headers).json["items"]
    assert listed[0]["restored_at"] is None  # nothing was written


def test_a_concurrent_duplicate_waits_for_the_first_and_replays_its_result(app, world):
    """Two requests carry the same mutation: the second waits, then replays; one change."""
    cid = world.records["A"]["customers"]
    now = datetime.now(UTC)
    m = {
        "id": uuid.uuid4(),
        "table": "customers",
        "op": "update",
        "record_id": cid,
        "base_version": 1,
        "changed_at": now,
        "fields": {"notes": "only once"},
    }
    second: dict = {}

    def duplicate(engine):
        with Session(engine) as other:
            user = other.get(User, world.users["rep.a"])
            second["result"] = Pusher(other, user, device_id="d", now=now).push([dict(m)], now)[0]
            other.commit()

    with app.app_context():
        engine = db.engine
        with Session(engine) as first:
            user = first.get(User, world.users["rep.a"])
            [applied] = Pusher(first, user, device_id="d", now=now).push([dict(m)], now)
            waiting = threading.Thread(target=duplicate, args=(engine,))
            waiting.start()
            time.sleep(0.3)
            assert "result" not in second  # still waiting on the first request
            first.commit()
        waiting.join(10)
        assert applied["status"] == "applied"
        assert second["result"]["replayed"] is True
        assert second["result"]["record"]["version"] == applied["record"]["version"] == 2
        with Session(engine) as check:
            assert check.get(Customer, cid).version == 2


def test_a_database_constraint_rejects_only_its_own_mutation(client, world, login):
    """Two products with one SKU: the checks cannot see it coming; the database does."""
    headers = login("admin@example.com")
    first, second = uuid.uuid4(), uuid.uuid4()
    product = {"sku": "DUP-1", "name": "Nước mắm", "unit_price": "3.00"}
    res = results(
        client,
        headers,
        mutation("products", "create", first, product),
        mutation("products", "create", second, {**product, "name": "Copy"}),
        mutation("customers", "update", customer_of(world), {"notes": "still applied"}, 1),
    )
    assert [r["status"] for r in res] == ["applied", "rejected", "applied"]
    assert res[1]["error"]["code"] == "conflict"
    assert client.get(f"/api/v1/products/{first}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/products/{second}", headers=headers).status_code == 404
    assert res[2]["record"]["notes"] == "still applied"


def test_a_device_own_queued_edits_apply_in_order_without_conflicts(client, world, login, app):
    """Two offline edits of one field by the same phone: the later one in the queue wins,
    even if the phone's clock went backwards in between, and nothing is logged as lost."""
    headers = login("rep.a@example.com")
    cid = customer_of(world)
    now = datetime.now(UTC)
    first = phone_edit(cid, "first", now - timedelta(minutes=5))
    second = phone_edit(cid, "second", now - timedelta(minutes=9))  # clock moved back
    res = results(client, headers, first, second)
    assert [r["status"] for r in res] == ["applied", "applied"]
    assert res[1]["record"]["phone"] == "second"
    with app.app_context():
        assert db.session.query(ConflictEntry).count() == 0


def test_a_password_is_never_synced_nor_kept(client, world, login, caplog):
    """Not applied with nothing changed: refused with its own code, and the value itself
    appears in no answer, no pull, no conflict-log entry and no log line."""
    secret = "new-Secret-Passw0rd"
    admin = login("admin@example.com")
    rep = str(world.users["rep.a"])
    mutations = [
        mutation("users", "update", rep, {"password": secret}, 1),
        mutation("users", "update", rep, {"name": "Rep A", "password_hash": secret}, 1),
        mutation(
            "users",
            "create",
            uuid.uuid4(),
            {"email": "x@example.com", "name": "X", "role": "rep", "password": secret},
        ),
    ]
    with caplog.at_level("DEBUG"):
        answered = push(client, admin, *mutations)
        for result in answered.json["results"]:
            assert result["status"] == "rejected"
            assert result["error"]["code"] == "password_not_synced"
        entries = client.get("/api/v1/conflicts", headers=admin)
        pulled, _, _ = pull_all(client, admin)
    assert (
        client.post(
            "/api/v1/auth/login",
            json={"email": "rep.a@example.com", "password": "test-pass-2026", "device_id": "d"},
        ).status_code
        == 200
    )  # unchanged
    for text in (
        answered.get_data(as_text=True),
        entries.get_data(as_text=True),
        str(pulled),
        caplog.text,
    ):
        assert secret not in text
    assert all("password" not in (e["lost_values"] or {}) for e in entries.json["items"])
