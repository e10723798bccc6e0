"""Sync requests as tests make them: mutations, pushes and whole pulls via the test client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from domain.models import User
from domain.times import utc_iso
from sync import settings
from sync.push import Pusher

PULL = "/api/v1/sync/pull"
PUSH = "/api/v1/sync/push"


@contextmanager
def sync_settings(**values) -> Iterator[settings.SyncSettings]:
    """`with sync_settings(pull_stream_max_pages=2):` the engine's settings, put back after."""
    kept = settings.current()
    try:
        yield settings.configure(replace(kept, **values))
    finally:
        settings.configure(kept)


def mutation(table, op, record_id, fields=None, base_version=None, changed_at=None, **extra):
    m = {"id": str(uuid.uuid4()), "table": table, "op": op, "record_id": str(record_id)}
    if fields is not None:
        m["fields"] = fields
    if base_version is not None:
        m["base_version"] = base_version
    m["changed_at"] = utc_iso(changed_at or datetime.now(UTC))
    m.update(extra)
    return m


def engine_phone_push(session, world, user_key, value, *, changed_at, now):
    """Push one phone edit of customer A through the engine, with a fixed server clock."""
    user = session.get(User, world.users[user_key])
    m = {
        "id": uuid.uuid4(),
        "table": "customers",
        "op": "update",
        "base_version": 1,
        "record_id": world.records["A"]["customers"],
        "changed_at": changed_at,
        "fields": {"phone": value},
    }
    return Pusher(session, user, device_id=user_key, now=now).push([m], device_time=now)[0]


def push(client, headers, *mutations, device_time=None, schema_version=1):
    body = {"schema_version": schema_version, "mutations": list(mutations)}
    body["device_time"] = utc_iso(device_time or datetime.now(UTC))
    response = client.post(PUSH, json=body, headers=headers)
    assert response.status_code < 500, response.json
    return response


def results(client, headers, *mutations, **kwargs):
    response = push(client, headers, *mutations, **kwargs)
    assert response.status_code == 200, response.json
    return response.json["results"]


def pull_all(client, headers, cursor=None, limit=500):
    """Pull pages until `has_more` is false; return (changes, last cursor, pages)."""
    changes, pages = [], 0
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(PULL, query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        pages += 1
        changes += response.json["changes"]
        cursor = response.json["cursor"]
        if not response.json["has_more"]:
            return changes, cursor, pages


def ids_of(changes, table, op="put"):
    return {
        (c["record"]["id"] if op == "put" else c["id"])
        for c in changes
        if c["table"] == table and c["op"] == op
    }
