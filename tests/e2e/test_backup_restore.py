"""Back up and restore as docs/operations.md says: nothing a phone was told is saved is lost.

A rep's phone syncs, then pushes edits the server acknowledges. The database is dumped
with `pg_dump --format=custom` and restored with `pg_restore` into a fresh PostgreSQL
cluster (a new server after losing the old one: `initdb`, bench/chaos_pg.py), followed by
the documented step that moves the new cluster's transaction ids past the dump's (pull
positions are PostgreSQL transaction ids; ADR 0026). Against the restored database:
every acknowledged mutation is there (its value in the record, and its id remembered, so
the phone's retry is answered with the same results and applies nothing twice), and the
phone's pull cursor from before the backup still works: it brings the acknowledged edits
and a write made after the restore.

Runs in the PostgreSQL run only; needs the server binaries (pg_dump, pg_restore, initdb,
pg_resetwal): without them it skips with the reason, and fails in CI.
"""

from __future__ import annotations

import subprocess

import psycopg
import pytest

from bench.chaos_pg import ThrowawayCluster, find_bindir
from server.demo import DOMAIN, PASSWORD
from tests.support import ROOT
from tests.support.databases import dispose, migrated_app, on_postgres
from tests.support.live_server import unavailable
from tests.support.sync_calls import mutation, pull_all, results

EDITS = 20
#: The epoch a fresh cluster needs, exactly as docs/operations.md runs it.
EPOCH_SQL = (
    "SELECT (greatest((SELECT coalesce(max(txid), 0) FROM sync_changes), "
    "(SELECT coalesce(max((value->>0)::bigint), 0) FROM sync_state "
    "WHERE key = 'log_pruned_through')) >> 32) + 2"
)


def test_the_documented_restore_step_is_the_one_tested():
    assert EPOCH_SQL in (ROOT / "docs" / "operations.md").read_text()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _login(client, email: str) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "device_id": "backup-phone"}
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def _customers(changes: list[dict]) -> dict[str, dict]:
    return {
        c["record"]["id"]: c["record"]
        for c in changes
        if c["table"] == "customers" and c["op"] == "put"
    }


def test_a_restore_from_pg_dump_loses_no_acknowledged_mutation(demo, tmp_path):
    if not on_postgres():
        pytest.skip("runs in the PostgreSQL run (TEST_DATABASE_URL=postgresql://…)")
    bindir = find_bindir()
    tools = ("pg_dump", "pg_restore", "initdb", "pg_ctl", "pg_resetwal")
    if bindir is None or not all((bindir / tool).exists() for tool in tools):
        unavailable(f"the PostgreSQL server binaries are needed: {', '.join(tools)}")
    dump = tmp_path / "fieldsync.dump"
    email = f"rep1@{DOMAIN}"

    with demo.copy("backup") as url:
        app = migrated_app(url)
        client = app.test_client()
        headers = _login(client, email)
        changes, cursor, _ = pull_all(client, headers)  # the phone's first sync
        own = list(_customers(changes).values())[:EDITS]
        edits = [
            mutation(
                "customers",
                "update",
                record["id"],
                fields={"notes": f"acknowledged before the backup {i}"},
                base_version=record["version"],
            )
            for i, record in enumerate(own)
        ]
        acknowledged = results(client, headers, *edits)
        assert {result["status"] for result in acknowledged} == {"applied"}
        dispose(app)
        # The backup, as docs/operations.md runs it.
        subprocess.run(
            [str(bindir / "pg_dump"), "--format=custom", "--file", str(dump), _libpq(url)],
            check=True,
            capture_output=True,
        )

    cluster = ThrowawayCluster(bindir)  # the new server: a fresh cluster
    try:
        cluster.start()
        subprocess.run(
            [str(bindir / "pg_restore"), "--no-owner", "--dbname", cluster.url, str(dump)],
            check=True,
            capture_output=True,
        )
        # The documented step: the new cluster's transaction ids after every position the
        # dump (and the phones' cursors) hold.
        with psycopg.connect(cluster.url) as conn:
            epoch = conn.execute(EPOCH_SQL).fetchone()[0]
        cluster.while_stopped("pg_resetwal", "-e", str(epoch))
        with psycopg.connect(cluster.url) as conn:
            now, highest = conn.execute(
                "SELECT pg_current_xact_id()::text::bigint, max(txid) FROM sync_changes"
            ).fetchone()
        assert now > highest

        restored = migrated_app(cluster.url)  # the same FIELDSYNC_SECRET_KEY as before
        client = restored.test_client()
        headers = _login(client, email)
        # The phone never got the answer: its retry is recognised, nothing runs twice.
        replayed = results(client, headers, *edits)
        assert all(result.pop("replayed") for result in replayed)
        assert replayed == acknowledged
        # A write after the restore, by the same phone.
        later = list(_customers(changes).values())[EDITS]
        after = mutation(
            "customers",
            "update",
            later["id"],
            fields={"notes": "written after the restore"},
            base_version=later["version"],
        )
        assert results(client, headers, after)[0]["status"] == "applied"
        # The cursor from before the backup brings both.
        pulled, _, _ = pull_all(client, headers, cursor=cursor)
        notes = {record_id: r["notes"] for record_id, r in _customers(pulled).items()}
        for i, record in enumerate(own):
            assert notes.get(record["id"]) == f"acknowledged before the backup {i}"
        assert notes.get(later["id"]) == "written after the restore"
        dispose(restored)
    finally:
        cluster.stop()
