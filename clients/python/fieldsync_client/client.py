"""Reference sync client: the model for mobile implementations.

A phone keeps a local SQLite copy of its scope and an *outbox* of mutations
made offline. `sync()` pushes the outbox, then pulls until `has_more` is
false. Every request is retried with exponential backoff on network errors,
5xx and 429, with the same mutation ids, so a lost response never applies a
change twice. An expired session logs in again and keeps the outbox; a
revoked device (`wipe: true`) erases its local data.

The client talks through a `Transport` (a callable), so tests drive it against
the Flask test client and tools against a real server over HTTP.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .transport import Transport, TransportError, retry_after


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _refused_cursor(status: int, body: dict) -> bool:
    """The server no longer takes the stored cursor (signed with a key it dropped, or from
    before cursors were signed for a device): 400 `invalid_cursor`, nothing applied."""
    return status == 400 and (body.get("error") or {}).get("code") == "invalid_cursor"


class SyncError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class DeviceWiped(SyncError):
    """The server revoked this device and asked it to erase its data."""


class SyncClient:
    """One device: a local store, an outbox and the sync loop."""

    def __init__(
        self,
        transport: Transport,
        *,
        email: str,
        password: str,
        device_id: str | None = None,
        path: str = ":memory:",
        schema_version: int = 1,
        clock: Callable[[], datetime] = _now,
        retries: int = 5,
        backoff_s: float = 0.2,
        max_backoff_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 5000,  # each page is a round trip on a slow link (ADR 0025)
        push_batch: int = 200,
    ):
        self.transport = transport
        self.email, self.password = email, password
        self.device_id = device_id or f"device-{uuid.uuid4()}"
        self.schema_version = schema_version
        self.clock = clock
        self.retries, self.backoff_s, self.sleep = retries, backoff_s, sleep
        self.max_backoff_s = max_backoff_s
        self.page_size, self.push_batch = page_size, push_batch
        # One sync at a time, but not necessarily on the thread that made the client.
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS records (
                tbl TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
                data TEXT NOT NULL, PRIMARY KEY (tbl, id));
            CREATE TABLE IF NOT EXISTS outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, mutation TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            """
        )
        #: Results of mutations the server rejected (the app would show them).
        self.rejected: list[dict] = []
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    # -- local edits (work offline) ---------------------------------------------------------

    def create(self, table: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        record_id = record_id or str(uuid.uuid4())
        self._save(table, {**fields, "id": record_id}, version=0)
        self._enqueue({"table": table, "op": "create", "record_id": record_id, "fields": fields})
        return record_id

    def update(self, table: str, record_id: str, fields: dict[str, Any]) -> None:
        current = self.get(table, record_id)
        if current is None:
            raise KeyError(f"{table}/{record_id} is not on this device")
        self._save(table, {**current, **fields}, version=current.get("version", 0))
        pending_create = self._pending(table, record_id, "create")
        if pending_create is not None:
            seq, mutation = pending_create
            mutation["fields"].update(fields)
            self._write_outbox(seq, mutation)
            return
        self._enqueue(
            {
                "table": table,
                "op": "update",
                "record_id": record_id,
                "base_version": current.get("version", 0),
                "fields": fields,
            }
        )

    def delete(self, table: str, record_id: str) -> None:
        self.db.execute("DELETE FROM records WHERE tbl = ? AND id = ?", (table, record_id))
        self._enqueue({"table": table, "op": "delete", "record_id": record_id})

    def get(self, table: str, record_id: str) -> dict | None:
        row = self.db.execute(
            "SELECT data FROM records WHERE tbl = ? AND id = ?", (table, record_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, table: str) -> dict[str, dict]:
        rows = self.db.execute("SELECT id, data FROM records WHERE tbl = ?", (table,))
        return {record_id: json.loads(data) for record_id, data in rows}

    def outbox(self) -> list[dict]:
        rows = self.db.execute("SELECT mutation FROM outbox ORDER BY seq")
        return [json.loads(m) for (m,) in rows]

    # -- sync ------------------------------------------------------------------------

    def sync(self) -> None:
        """Push the outbox, its last batch with the first pull page (one round trip after a
        dead zone, ADR 0028); then pull on only if that page said `has_more`."""
        _, more = self._push(pull=True)
        if more is not False:
            self.pull()

    def push(self) -> list[dict]:
        """Push the outbox in batches; return the server's results."""
        return self._push(pull=False)[0]

    def _push(self, *, pull: bool) -> tuple[list[dict], bool | None]:
        """Push the outbox; with `pull`, the last batch also brings a pull page. Return the
        results and that page's `has_more` (None: no page came)."""
        results: list[dict] = []
        more: bool | None = None
        restart = False  # the cursor was refused: pull from nothing, applied as a reset
        while True:
            rows = self.db.execute(
                "SELECT seq, mutation FROM outbox ORDER BY seq LIMIT ?", (self.push_batch + 1,)
            ).fetchall()
            last = len(rows) <= self.push_batch
            rows = rows[: self.push_batch]
            if not rows:
                return results, more
            body = {
                "schema_version": self.schema_version,
                "device_time": _iso(self.clock()),
                "mutations": [json.loads(m) for _, m in rows],
            }
            if pull and last:
                cursor = None if restart else self._meta("cursor")
                body["pull"] = {"cursor": cursor, "limit": self.page_size}
            status, answer = self._request("POST", "/api/v1/sync/push", body=body)
            if _refused_cursor(status, answer) and "pull" in body and not restart:
                restart = True  # refused before anything was applied: again, from nothing
                continue
            if status != 200:
                raise SyncError(status, answer)
            for (seq, _), result in zip(rows, answer["results"], strict=True):
                self._settle(seq, result)
            results.extend(answer["results"])
            if "pull" in body:
                self._apply_page(answer["pull"], reset=restart)
                more = answer["pull"]["has_more"]
            self.db.commit()

    def pull(self) -> int:
        """Pull until up to date; return the number of changes applied."""
        applied, restart = 0, False
        while True:
            params = {
                "cursor": None if restart else self._meta("cursor"),
                "limit": self.page_size,
                "schema_version": self.schema_version,
            }
            status, page = self._request("GET", "/api/v1/sync/pull", params=params)
            if _refused_cursor(status, page) and not restart:
                restart = True  # a cursor this server no longer takes: a full sync, as a reset
                continue
            if status != 200:
                raise SyncError(status, page)
            self._apply_page(page, reset=restart)
            restart = False
            applied += len(page["changes"])
            self.db.commit()
            if not page["has_more"]:
                return applied

    # -- internals -------------------------------------------------------------------

    def _apply_page(self, page: dict, reset: bool = False) -> None:
        """A pull page and its cursor, in the caller's transaction (`reset`: the first page
        of a full sync the client started itself, as if the server had said `reset`)."""
        if page["reset"] or reset:
            self.db.execute("DELETE FROM records")
        for change in page["changes"]:
            self._apply(change)
        self._set_meta("cursor", page["cursor"])

    def _settle(self, seq: int, result: dict) -> None:
        mutation = json.loads(
            self.db.execute("SELECT mutation FROM outbox WHERE seq = ?", (seq,)).fetchone()[0]
        )
        self.db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
        if result["status"] == "rejected":
            self.rejected.append(result)
        record = result.get("record")
        if record is not None:
            self._save(mutation["table"], record, record["version"])
        elif result["status"] == "rejected" and mutation["op"] == "create":
            self._drop(mutation["table"], mutation["record_id"])

    def _apply(self, change: dict) -> None:
        table = change["table"]
        if change["op"] == "put":
            record = change["record"]
            local = {**record}
            for _, pending in self._pending_all(table, record["id"]):
                local.update(pending.get("fields") or {})
            self._save(table, local, record["version"])
        else:
            self._drop(table, change["id"])

    def _save(self, table: str, record: dict, version: int) -> None:
        self.db.execute(
            "INSERT INTO records (tbl, id, version, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (tbl, id) DO UPDATE SET version = excluded.version, data = excluded.data",
            (table, record["id"], version, json.dumps(record)),
        )

    def _drop(self, table: str, record_id: str) -> None:
        self.db.execute("DELETE FROM records WHERE tbl = ? AND id = ?", (table, record_id))

    def _enqueue(self, mutation: dict) -> None:
        mutation = {"id": str(uuid.uuid4()), "changed_at": _iso(self.clock()), **mutation}
        self.db.execute("INSERT INTO outbox (mutation) VALUES (?)", (json.dumps(mutation),))
        self.db.commit()

    def _write_outbox(self, seq: int, mutation: dict) -> None:
        self.db.execute("UPDATE outbox SET mutation = ? WHERE seq = ?", (json.dumps(mutation), seq))
        self.db.commit()

    def _pending_all(self, table: str, record_id: str) -> list[tuple[int, dict]]:
        rows = self.db.execute("SELECT seq, mutation FROM outbox ORDER BY seq").fetchall()
        found = [(seq, json.loads(m)) for seq, m in rows]
        return [(s, m) for s, m in found if m["table"] == table and m["record_id"] == record_id]

    def _pending(self, table: str, record_id: str, op: str) -> tuple[int, dict] | None:
        for seq, mutation in self._pending_all(table, record_id):
            if mutation["op"] == op:
                return seq, mutation
        return None

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def login(self) -> None:
        status, body = self._send(
            "POST",
            "/api/v1/auth/login",
            body={"email": self.email, "password": self.password, "device_id": self.device_id},
        )
        if status != 200:
            raise SyncError(status, body)
        self.access_token, self.refresh_token = body["access_token"], body["refresh_token"]

    def _refresh(self) -> bool:
        if not self.refresh_token:
            return False
        status, body = self._send(
            "POST", "/api/v1/auth/refresh", body={"refresh_token": self.refresh_token}
        )
        if status != 200:
            return False
        self.access_token, self.refresh_token = body["access_token"], body["refresh_token"]
        return True

    def _request(self, method: str, path: str, **kwargs) -> tuple[int, dict]:
        if self.access_token is None:
            self.login()
        status, body = self._send(method, path, token=self.access_token, **kwargs)
        if status == 401:
            if body.get("wipe"):
                self.db.execute("DELETE FROM records")
                self.db.execute("DELETE FROM outbox")
                self.db.execute("DELETE FROM meta")
                self.db.commit()
                raise DeviceWiped(status, body)
            if not self._refresh():
                self.login()
            status, body = self._send(method, path, token=self.access_token, **kwargs)
        return status, body

    def _send(self, method: str, path: str, **kwargs) -> tuple[int, dict]:
        """Send with retries: network errors, 5xx and 429 back off and try again.

        The wait doubles per attempt (capped), with jitter so that phones coming out
        of the same dead zone do not retry in step, and is never shorter than the
        server's `Retry-After` (503 `overloaded`, `database_unavailable`; 429).
        """
        for attempt in range(self.retries + 1):
            wait_at_least = 0.0
            try:
                status, body, headers = self.transport(method, path, **kwargs)
            except TransportError:
                if attempt == self.retries:
                    raise
            else:
                if status < 500 and status != 429:
                    return status, body
                if attempt == self.retries:
                    return status, body
                wait_at_least = retry_after(headers)
            backoff = min(self.backoff_s * 2**attempt, self.max_backoff_s)
            self.sleep(max(backoff * random.uniform(0.5, 1.0), wait_at_least))
        raise AssertionError("unreachable")
