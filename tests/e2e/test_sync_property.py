"""Convergence, as a property: phones editing offline always end up equal to the server.

Hypothesis drives six devices of five users (two phones for one rep) through
random offline edits, creates and deletes, syncs in random orders with lost
responses and skewed clocks, and server-side changes: edits, contacts and
tasks moved between customers, reps moved between teams, territories' reps
changed. Visits and orders come and go with the history window (ADR 0024):
the server's clock moves on by days, visits and orders are recorded, closed,
reopened and deleted. Afterwards, once everyone syncs: every device holds
exactly the server's state of its user's current scope and window (nothing
stale, nothing missing; the window also read independently, in Python);
every acknowledged write is in the data, superseded by a later change, or in
the conflict log; every rejection is in the conflict log; no mutation was
applied twice.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule
from sqlalchemy import select, text

from domain.models import (
    RECORD_MODELS,
    Base,
    ConflictEntry,
    Order,
    SyncMutation,
    Territory,
    User,
    Visit,
)
from domain.times import utc_iso
from fieldsync_client import SyncClient, TransportError
from server.extensions import db
from sync import RecordStore
from sync.changes import create_record
from sync.pull import Puller
from tests.support.factories import build_world
from tests.support.phones import flask_transport
from tests.support.windows import use_window, windowed_view

DEVICES = (
    ("rep.a", timedelta(0)),
    ("rep.a", timedelta(hours=3)),  # a phone whose clock runs 3 hours ahead
    ("rep.a2", timedelta(minutes=-20)),
    ("north.manager", timedelta(0)),
    ("rep.b", timedelta(seconds=40)),
    ("admin", timedelta(0)),
)
TABLES = ("customers", "contacts", "tasks")
TEXT = st.text(
    alphabet=st.sampled_from("aăâbcdđeêghiklmnoôơpqrstuưvxyạảấầẩẫậ ابتثجحخ бвгдеёжз 0123"),
    min_size=1,
    max_size=12,
)
EDITABLE = {
    "customers": ("phone", "notes", "name"),
    "contacts": ("phone", "notes", "name"),
    "tasks": ("notes", "title"),
}


class LossyTransport:
    """Flask test client transport that loses the response of chosen requests."""

    def __init__(self, client):
        self.send = flask_transport(client)
        self.lose_next = 0

    def __call__(self, method, path, **kwargs):
        status, body, headers = self.send(method, path, **kwargs)
        assert status < 500, body
        if self.lose_next and path.endswith("/sync/push"):
            self.lose_next -= 1
            raise TransportError("response lost after the server handled the request")
        return status, body, headers


class ServerClock:
    """The server's clock (pulls judge the history window by it): moved on by days."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _with_history(session, world, now: datetime) -> None:
    """Closed visits and orders of the last two months at each customer."""
    for territory, records in world.records.items():
        rep = world.users[{"A": "rep.a", "A2": "rep.a2", "B": "rep.b"}[territory]]
        customer = records["customers"]
        for days, status in ((2, "completed"), (6, "missed"), (12, "completed"), (40, "cancelled")):
            when = now - timedelta(days=days)
            values = {"customer_id": customer, "rep_id": rep, "planned_at": when, "status": status}
            create_record(session, Visit, values, now=when)
        for days in (3, 15, 50):
            when = now - timedelta(days=days)
            values = {
                "customer_id": customer,
                "rep_id": rep,
                "status": "submitted",
                "lines": [],
                "submitted_at": when,
            }
            create_record(session, Order, values, now=when)


def make_machine(app, server_clock: ServerClock):
    class Phones(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.app = app
            server_clock.now = datetime.now(UTC)
            with app.app_context():
                _empty_database()
                self.world = build_world(db.session)
                _with_history(db.session, self.world, server_clock.now)
                db.session.commit()
            self.client = app.test_client()
            self.clock = datetime.now(UTC)
            self.devices = []
            for key, skew in DEVICES:
                transport = LossyTransport(self.client)
                device = SyncClient(
                    transport,
                    email=f"{key}@example.com",
                    password="test-pass-2026",
                    clock=lambda skew=skew: self._now() + skew,
                    sleep=lambda s: None,
                )
                device.user_key, device.lossy = key, transport
                device.sync()
                self.devices.append(device)
            self.acknowledged: list[tuple[dict, dict]] = []
            self.sent_ids: set[str] = set()

        def _now(self) -> datetime:
            self.clock += timedelta(seconds=1)
            return self.clock

        def _pick(self, device, table, index):
            ids = sorted(device.all(table))
            return ids[index % len(ids)] if ids else None

        @rule(
            d=st.integers(0, 5),
            table=st.sampled_from(TABLES),
            i=st.integers(0, 50),
            field=st.integers(0, 2),
            value=TEXT,
        )
        def edit(self, d, table, i, field, value):
            device = self.devices[d]
            record_id = self._pick(device, table, i)
            if record_id is None:
                return
            fields = EDITABLE[table]
            device.update(table, record_id, {fields[field % len(fields)]: value})

        @rule(d=st.integers(0, 5), i=st.integers(0, 50), name=TEXT)
        def create_contact(self, d, i, name):
            device = self.devices[d]
            customer = self._pick(device, "customers", i)
            if customer is not None:
                device.create("contacts", {"customer_id": customer, "name": name})

        @rule(d=st.integers(0, 5), i=st.integers(0, 50))
        def delete_contact(self, d, i):
            device = self.devices[d]
            contact = self._pick(device, "contacts", i)
            if contact is not None:
                device.delete("contacts", contact)

        @rule(d=st.integers(0, 5), lose=st.integers(0, 2), pull=st.booleans())
        def sync(self, d, lose, pull):
            device = self.devices[d]
            device.lossy.lose_next = lose
            pending = device.outbox()
            results = device.push()
            self.sent_ids |= {m["id"] for m in pending}
            by_id = {m["id"]: m for m in pending}
            self.acknowledged += [(by_id[r["id"]], r) for r in results]
            if pull:
                device.pull()

        @rule(days=st.integers(1, 9))
        def days_pass_on_the_server(self, days):
            server_clock.now += timedelta(days=days)

        @rule(
            d=st.integers(0, 5),
            i=st.integers(0, 50),
            ago=st.integers(0, 30),
            status=st.sampled_from(("completed", "missed", "planned")),
        )
        def record_a_visit(self, d, i, ago, status):
            device = self.devices[d]
            customer = self._pick(device, "customers", i)
            if customer is not None:
                when = server_clock.now - timedelta(days=ago)
                fields = {"customer_id": customer, "planned_at": utc_iso(when), "status": status}
                device.create("visits", fields)

        @rule(
            d=st.integers(0, 5),
            i=st.integers(0, 50),
            status=st.sampled_from(("completed", "cancelled", "planned")),
        )
        def visit_changes_status(self, d, i, status):
            device = self.devices[d]
            visit = self._pick(device, "visits", i)
            if visit is not None:
                device.update("visits", visit, {"status": status})

        @rule(d=st.integers(0, 5), i=st.integers(0, 50))
        def delete_a_visit(self, d, i):
            device = self.devices[d]
            visit = self._pick(device, "visits", i)
            if visit is not None:
                device.delete("visits", visit)

        @rule(d=st.integers(0, 5), i=st.integers(0, 50))
        def submit_an_order(self, d, i):
            device = self.devices[d]
            customer = self._pick(device, "customers", i)
            if customer is not None:
                fields = {"customer_id": customer, "status": "submitted", "lines": []}
                device.create("orders", fields)

        @rule(i=st.integers(0, 50), status=st.sampled_from(("planned", "completed")))
        def manager_reopens_or_closes_a_visit(self, i, status):
            """On the server, at the server's (moved on) time, as REST would write it."""
            visits = self._server_ids(Visit)
            if not visits:
                return
            with self.app.app_context():
                admin = db.session.get(User, self.world.users["admin"])
                store = RecordStore(db.session, admin, now=server_clock.now)
                store.update(Visit, uuid.UUID(visits[i % len(visits)]), {"status": status})
                db.session.commit()

        @rule(i=st.integers(0, 50), value=TEXT)
        def manager_edits_on_the_server(self, i, value):
            customers = sorted(self.devices[5].all("customers"))
            customer = customers[i % len(customers)]
            headers = {"Authorization": f"Bearer {self.devices[5].access_token}"}
            response = self.client.patch(
                f"/api/v1/customers/{customer}", json={"notes": value}, headers=headers
            )
            assert response.status_code in (200, 404)

        def _admin(self, method: str, path: str, body: dict) -> None:
            headers = {"Authorization": f"Bearer {self.devices[5].access_token}"}
            response = self.client.open(
                f"/api/v1/{path}", method=method, json=body, headers=headers
            )
            assert response.status_code in (200, 404, 409, 422), response.json

        def _server_ids(self, model) -> list[str]:
            with self.app.app_context():
                ids = sorted(
                    str(i)
                    for i in db.session.scalars(select(model.id).where(model.deleted_at.is_(None)))
                )
                db.session.rollback()
            return ids

        @rule(
            table=st.sampled_from(("contacts", "tasks")), i=st.integers(0, 50), j=st.integers(0, 50)
        )
        def child_moves_to_another_customer(self, table, i, j):
            children = self._server_ids(RECORD_MODELS[table])
            customers = self._server_ids(RECORD_MODELS["customers"])
            if children and customers:
                child, customer = children[i % len(children)], customers[j % len(customers)]
                self._admin("PATCH", f"{table}/{child}", {"customer_id": customer})

        @rule(
            rep=st.sampled_from(("rep.a", "rep.a2", "rep.b")),
            team=st.sampled_from(("North", "South")),
        )
        def rep_changes_team(self, rep, team):
            self._admin(
                "PATCH", f"users/{self.world.users[rep]}", {"team_id": str(self.world.teams[team])}
            )

        @rule(
            territory=st.sampled_from(("A", "A2", "B")),
            keep=st.lists(st.booleans(), min_size=3, max_size=3),
        )
        def territory_reps_change(self, territory, keep):
            with self.app.app_context():
                team = db.session.get(Territory, self.world.territories[territory]).team_id
                reps = sorted(
                    str(u.id)
                    for u in db.session.scalars(
                        select(User).where(User.team_id == team, User.role == "rep")
                    )
                )
                db.session.rollback()
            chosen = [rep for rep, kept in zip(reps, keep, strict=False) if kept]
            self._admin(
                "PATCH", f"territories/{self.world.territories[territory]}", {"rep_ids": chosen}
            )

        def check_convergence(self):
            for device in self.devices:
                device.lossy.lose_next = 0
                pending = device.outbox()
                results = device.push()
                by_id = {m["id"]: m for m in pending}
                self.sent_ids |= set(by_id)
                self.acknowledged += [(by_id[r["id"]], r) for r in results]
            # On PostgreSQL a transaction running anywhere in the cluster (autovacuum's
            # ANALYZE, say) holds the pull horizon back for a moment: changes are
            # delayed, never skipped. Converged means "equal once the horizon passed".
            deadline = time.monotonic() + 20
            while True:
                for device in self.devices:
                    device.pull()
                with self.app.app_context():
                    try:
                        self._check_scopes()
                        break
                    except AssertionError:
                        if time.monotonic() > deadline:
                            raise
                time.sleep(0.2)
            with self.app.app_context():
                self._check_nothing_lost()

        def _check_scopes(self):
            for device in self.devices:
                expected = _server_scope(device.user_key, server_clock.now)
                for table in RECORD_MODELS:
                    local = {i: r for i, r in device.all(table).items()}
                    server = expected.get(table, {})
                    diff = {
                        # repr: values may be lists (an order's lines), which a set cannot
                        # hold; a TypeError would skip the retry above.
                        (
                            i,
                            k,
                            repr((local.get(i) or {}).get(k)),
                            repr((server.get(i) or {}).get(k)),
                        )
                        for i in set(local) | set(server)
                        for k in set(local.get(i) or {}) | set(server.get(i) or {})
                        if (local.get(i) or {}).get(k) != (server.get(i) or {}).get(k)
                    }
                    assert not diff, (device.user_key, table, sorted(diff, key=str)[:5])

        def _check_nothing_lost(self):
            stored = {str(i) for i in db.session.scalars(select(SyncMutation.id))}
            assert stored == self.sent_ids  # each mutation recorded once, none applied twice
            log = db.session.scalars(select(ConflictEntry)).all()
            lost = {(str(e.mutation_id), e.field) for e in log if e.loser == "device"}
            rejected = {str(e.mutation_id) for e in log if e.kind == "rejected"}
            first_result: dict[str, dict] = {}
            for mutation, result in self.acknowledged:
                previous = first_result.setdefault(mutation["id"], result)
                assert {k: v for k, v in result.items() if k != "replayed"} == {
                    k: v for k, v in previous.items() if k != "replayed"
                }
                if result["status"] == "rejected":
                    assert mutation["id"] in rejected
                    continue
                if mutation["op"] != "update":
                    continue
                model = RECORD_MODELS[mutation["table"]]
                record = db.session.get(model, uuid.UUID(mutation["record_id"]))
                for field, value in mutation["fields"].items():
                    if (mutation["id"], field) in lost or record.deleted_at is not None:
                        continue
                    now_value = getattr(record, field)
                    changed_in = (record.field_meta.get(field) or {}).get("v", 0)
                    superseded = changed_in > result["record"]["version"]
                    assert now_value == value or superseded, (mutation, field, now_value)

    return Phones


def _empty_database() -> None:
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))


def _server_scope(user_key: str, now: datetime) -> dict[str, dict[str, dict]]:
    """The user's scope and window as a first sync sends it, checked against the window
    read in Python."""
    user = db.session.scalar(select(User).where(User.email == f"{user_key}@example.com"))
    scope: dict[str, dict[str, dict]] = {}
    cursor = None
    while True:
        result = Puller(db.session, user, now=now).pull(cursor, 5000)
        cursor = result.cursor
        for change in result.changes:
            if change["op"] == "put":
                scope.setdefault(change["table"], {})[change["record"]["id"]] = change["record"]
        if not result.has_more:
            break
    view = windowed_view(db.session, user, now)
    for table in ("visits", "orders"):
        assert set(scope.get(table, {})) == view[table], (user_key, table)
    db.session.rollback()
    return scope


def test_devices_converge_and_nothing_is_lost(app, monkeypatch):
    server_clock = ServerClock()
    monkeypatch.setattr("server.sync.routes.utc_now", server_clock)
    machine = make_machine(app, server_clock)

    class Final(machine):
        def teardown(self):
            self.check_convergence()

    Final.TestCase.settings = settings(
        max_examples=20,
        stateful_step_count=25,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    # Reps hold 10 days, managers 20, admins everything; and the last 2 per customer.
    with use_window(rep=10, manager=20, admin=0, last_n=2):
        Final.TestCase().runTest()
