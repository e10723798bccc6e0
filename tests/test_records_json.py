"""The fast record serialiser must write exactly what the marshmallow schemas write."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from domain.models import RECORD_MODELS, User
from domain.schemas import RECORD_SCHEMAS
from server.planning.service import Planner
from server.planning.settings import RoutingSettings
from sync.records_json import record_json, row_columns, row_json


def test_every_table_serialises_like_its_schema(session, world):
    admin = session.get(User, world.users["admin"])
    Planner(session, admin, RoutingSettings()).plan_day(world.users["rep.a"], date(2026, 11, 3))
    tables_seen = set()
    for table, model in RECORD_MODELS.items():
        for record in session.query(model).all():
            assert record_json(record) == RECORD_SCHEMAS[table]().dump(record), table
            tables_seen.add(table)
    assert tables_seen == set(RECORD_MODELS)


def test_rows_serialise_like_records(session, world):
    """Pulls write plain-column tables from rows (`row_json`): the same JSON, every table."""
    admin = session.get(User, world.users["admin"])
    Planner(session, admin, RoutingSettings()).plan_day(world.users["rep.a"], date(2026, 11, 3))
    session.flush()
    row_tables = set()
    for table, model in RECORD_MODELS.items():
        columns = row_columns(table)
        if columns is None:
            continue
        records = {r.id: record_json(r) for r in session.query(model).all()}
        rows = session.execute(select(*columns)).all()
        assert rows and {row.id: row_json(table, row) for row in rows} == records, table
        row_tables.add(table)
    # The bulk of every pull: customers and everything under them.
    assert row_tables >= {"customers", "contacts", "visits", "orders", "tasks", "route_plans"}
