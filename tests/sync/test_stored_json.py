"""Each record's stored pull JSON (ADR 0014) must be the record as the database holds it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import orjson
from sqlalchemy import update

from domain.models import Customer, User
from server.extensions import db
from server.route_plans.service import Planner
from server.route_plans.settings import RoutingSettings
from sync.pull import Puller
from sync.records_json import record_json
from sync.stored_json import STORED_MODELS, fill_missing
from tests.support.sync_calls import mutation, pull_all, results


def stored_vs_read_back(session) -> dict[str, tuple[list, list]]:
    """Per table: (stored JSON, JSON of the row read back from the database)."""
    session.expire_all()
    compared = {}
    for model in STORED_MODELS:
        records = session.query(model).order_by(model.id).all()
        stored = [orjson.loads(r.sync_json) if r.sync_json else None for r in records]
        compared[model.__tablename__] = (stored, [record_json(r) for r in records])
    return compared


def test_every_writer_stores_the_json_the_row_reads_back_as(app, client, world, login):
    rep = login("rep.a@example.com")
    customer_id, order_id, visit_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    product = str(world.products["active"])
    applied = results(
        client,
        rep,
        # Only the required field: the column defaults (status, tier…) must be in it.
        mutation("customers", "create", customer_id, {"name": "Tạp hoá Minh"}),
        mutation(
            "orders",
            "create",
            order_id,
            {
                "customer_id": str(customer_id),
                "lines": [{"product_id": product, "quantity": "2.5", "unit_price": "12.1"}],
            },
        ),
        # Completing a visit derives the customer's last_visit_at.
        mutation(
            "visits",
            "create",
            visit_id,
            {
                "customer_id": str(customer_id),
                "planned_at": "2026-11-20T09:00:00+07:00",
                "check_in_at": "2026-11-20T09:05:00+07:00",
                "status": "completed",
            },
        ),
        mutation("tasks", "delete", world.records["A"]["tasks"]),
    )
    assert [r["status"] for r in applied] == ["applied"] * 4, applied
    patched = client.patch(
        f"/api/v1/contacts/{world.records['A']['contacts']}",
        json={"name": "Chị Lan"},
        headers=rep,
    )
    assert patched.status_code == 200, patched.json
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        Planner(db.session, admin, RoutingSettings()).plan_day(
            world.users["rep.a"], date(2026, 11, 3)
        )
        db.session.commit()
        compared = stored_vs_read_back(db.session)
        customer = db.session.get(Customer, customer_id)
        assert (customer.status, customer.last_visit_at) == (
            "lead",
            datetime(2026, 11, 20, 2, 5, tzinfo=UTC),
        )
    for table, (stored, read_back) in compared.items():
        assert read_back and stored == read_back, table


def test_a_pull_builds_json_not_stored_yet_and_init_db_fills_it(app, client, world, login):
    headers = login("north.manager@example.com")
    before, _, _ = pull_all(client, headers)
    with app.app_context():
        for model in STORED_MODELS:  # as after a migration that changed what JSON holds
            db.session.execute(update(model).values(sync_json=None))
        db.session.commit()
    assert pull_all(client, headers)[0] == before
    with app.app_context():
        assert fill_missing(db.session) == sum(
            db.session.query(model).count() for model in STORED_MODELS
        )
        for table, (stored, read_back) in stored_vs_read_back(db.session).items():
            assert None not in stored and stored == read_back, table
    assert pull_all(client, headers)[0] == before


def test_http_and_in_process_pulls_send_the_stored_json(app, client, world, login):
    """HTTP passes the stored text on (`orjson.Fragment`), in-process pulls parse it:
    both are the record's stored JSON."""
    over_http, _, _ = pull_all(client, login("rep.a@example.com"))
    with app.app_context():
        rep = db.session.get(User, world.users["rep.a"])
        in_process = Puller(db.session, rep).pull(None, 5000)
        assert not in_process.has_more
        assert over_http == in_process.changes
        customer = db.session.get(Customer, world.records["A"]["customers"])
        stored = orjson.loads(customer.sync_json)
    assert stored in [c.get("record") for c in over_http]


def test_a_plain_sqlalchemy_session_keeps_the_stored_json_too(app, world):
    """Not only the app's sessions: a script or test writing through its own session."""
    from sqlalchemy.orm import Session

    from sync.changes import update_record

    with app.app_context(), Session(db.engine) as plain:
        customer = plain.get(Customer, world.records["A"]["customers"])
        update_record(plain, customer, {"notes": "written outside the app"}, now=datetime.now(UTC))
        plain.commit()
        assert orjson.loads(customer.sync_json)["notes"] == "written outside the app"
        assert all(stored == read for stored, read in stored_vs_read_back(plain).values())
