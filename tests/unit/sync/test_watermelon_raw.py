"""The WatermelonDB schema an app ships declares every column the server sends."""

from __future__ import annotations

from sync.watermelon import TABLES, columns
from tests.support import ROOT


def test_the_shipped_schema_js_declares_every_column():
    import re

    text = (ROOT / "clients/watermelondb/schema.js").read_text()
    tables = dict(re.findall(r"name: '(\w+)',\n      columns: \[(.*?)\n      \]", text, re.S))
    assert set(tables) == set(TABLES)
    kinds = {"date": "number", "json": "string"}
    for table, body in tables.items():
        declared = dict(re.findall(r"\{ name: '(\w+)', type: '(\w+)'", body))
        expected = {c: kinds.get(k, k) for c, k in columns(table).items() if c != "id"}
        assert declared == expected, table
