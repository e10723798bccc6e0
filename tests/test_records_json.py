"""The fast record serialiser must write exactly what the marshmallow schemas write."""

from __future__ import annotations

from domain.models import RECORD_MODELS
from domain.schemas import RECORD_SCHEMAS
from sync.records_json import record_json


def test_every_table_serialises_like_its_schema(session, world):
    tables_seen = set()
    for table, model in RECORD_MODELS.items():
        for record in session.query(model).all():
            assert record_json(record) == RECORD_SCHEMAS[table]().dump(record), table
            tables_seen.add(table)
    assert tables_seen == set(RECORD_MODELS)
