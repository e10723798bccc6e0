"""Stored pull JSON holds only a table's own columns (nothing that depends on who reads it)."""

from __future__ import annotations

from sqlalchemy import inspect

from domain.schemas import RECORD_SCHEMAS
from sync.stored_json import STORED_MODELS


def test_stored_tables_send_only_their_own_columns():
    """Stored JSON is rebuilt when its row is written, so it may hold only the row's
    columns: a field computed from other tables (like a territory's `rep_ids`) would
    go stale. Such a table must leave `PulledAsJson`."""
    for model in STORED_MODELS:
        columns = set(inspect(model).columns.keys())
        schema = RECORD_SCHEMAS[model.__tablename__]()
        fields = {field.attribute or key for key, field in schema.dump_fields.items()}
        assert fields <= columns, (model.__tablename__, fields - columns)
    assert {m.__tablename__ for m in STORED_MODELS} >= {
        "customers",
        "contacts",
        "visits",
        "orders",
        "tasks",
        "products",
        "route_plans",
    }
