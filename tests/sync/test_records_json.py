"""The fast record serialiser must write exactly what the marshmallow schemas write."""

from __future__ import annotations

from datetime import date

from domain.models import RECORD_MODELS, User
from domain.schemas import RECORD_SCHEMAS
from server.route_plans.service import Planner
from server.route_plans.settings import RoutingSettings
from sync.records_json import record_json


def test_every_table_serialises_like_its_schema(session, world):
    admin = session.get(User, world.users["admin"])
    Planner(session, admin, RoutingSettings()).plan_day(world.users["rep.a"], date(2026, 11, 3))
    tables_seen = set()
    for table, model in RECORD_MODELS.items():
        for record in session.query(model).all():
            assert record_json(record) == RECORD_SCHEMAS[table]().dump(record), table
            tables_seen.add(table)
    assert tables_seen == set(RECORD_MODELS)
