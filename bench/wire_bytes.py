"""What a first sync's bytes are made of, and what other wire formats would save.

Issue 18 asks the first sync to be 1.5× as fast as Kinto behind nginx's gzip on every
link; the link bench finds it bound by bytes both peers carry alike. This prints the
evidence for that decision: a rep's first sync as `/sync/pull/stream` sends it, compressed
as fieldsync (zstd 3) and nginx (gzip 6) would, then the same records

- with every UUID replaced by one letter (what the ids and references cost),
- as columns per table instead of one object per record (`{"customers": {"id": [...],
  "name": [...]}}`): a wire format no client reads today,
- with time-ordered UUIDv7 ids (created over a year, as a year of real use would),
- both.

on two scopes: the link bench's (5,000 records, short values: ids are most of it) and a
demo rep's (the demo distributor: names, addresses, a month of visits and orders).

    ./bench/run wire
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bench.common import PASSWORD, Sizes, load_sync_data, migrated_app, print_columns
from server.demo import DOMAIN, seed_demo_data
from server.demo import PASSWORD as DEMO_PASSWORD
from server.extensions import db

try:
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # Python < 3.14
    from backports import zstd

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TABLE_ORDER = ("teams", "users", "territories", "products", "customers")
YEAR_MS = 365 * 86_400_000


def first_sync(app, email: str, password: str) -> bytes:
    """The stream a new phone of `email` receives, uncompressed."""
    client = app.test_client()
    login = {"email": email, "password": password, "device_id": "wire-bytes"}
    signed_in = client.post("/api/v1/auth/login", json=login)
    assert signed_in.status_code == 200, signed_in.get_json()
    token = signed_in.get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    answer = client.get("/api/v1/sync/pull/stream", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.data


def changes_of(stream: bytes) -> list[dict]:
    return [c for line in stream.splitlines() if line for c in json.loads(line)["changes"]]


def dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def as_columns(changes: list[dict]) -> bytes:
    tables: dict[str, list[dict]] = defaultdict(list)
    for change in changes:
        if change["op"] == "put":
            tables[change["table"]].append(change["record"])
    columns = {
        table: {key: [r.get(key) for r in records] for key in records[0]}
        for table, records in tables.items()
    }
    return dumps(columns)


def as_rows(changes: list[dict]) -> bytes:
    return dumps(changes)


def uuid7(ms: int, rng: random.Random) -> bytes:
    """A UUIDv7 (RFC 9562): 48 bits of milliseconds, version, 74 random bits."""
    rand = rng.getrandbits(74)
    high = (ms << 16) | (0x7 << 12) | (rand >> 62)
    low = (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=(high << 64) | low)).encode()


def with_uuid7(changes: list[dict]) -> list[dict]:
    """The same records with each id replaced everywhere by a UUIDv7 made within a year,
    sorted by id per table again, as a walk sends them."""
    rng = random.Random(7)
    ids = sorted(set(UUID.findall(dumps(changes))))
    start = 1_733_000_000_000
    new = {old: uuid7(start + rng.randrange(YEAR_MS), rng) for old in ids}
    renamed = json.loads(UUID.sub(lambda m: new[m.group(0)], dumps(changes)))

    def order(change: dict) -> tuple:
        table = change["table"]
        rank = TABLE_ORDER.index(table) if table in TABLE_ORDER else len(TABLE_ORDER)
        return rank, table, change.get("record", {}).get("id", "")

    return sorted(renamed, key=order)


def sizes(data: bytes) -> tuple[int, int, int]:
    return len(data), len(zstd.compress(data, level=3)), len(gzip.compress(data, 6))


def report(name: str, stream: bytes) -> list[list[str]]:
    changes = changes_of(stream)
    v7 = with_uuid7(changes)
    cases: list[tuple[str, Callable[[], bytes]]] = [
        ("as sent (NDJSON stream)", lambda: stream),
        ("every UUID one letter", lambda: UUID.sub(b"U", stream)),
        ("columns per table", lambda: as_columns(changes)),
        ("UUIDv7 ids", lambda: as_rows(v7)),
        ("columns + UUIDv7", lambda: as_columns(v7)),
    ]
    rows = []
    base = sizes(stream)[1]
    for case, make in cases:
        raw, zstd3, gzip6 = sizes(make())
        rows.append(
            [
                name,
                case,
                f"{raw / 1024:,.0f}",
                f"{zstd3 / 1024:,.1f}",
                f"{(zstd3 - base) / base:+.0%}",
                f"{gzip6 / 1024:,.1f}",
            ]
        )
        name = ""
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5000, help="the link bench's scope")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{Path(workdir) / 'link.db'}"
        data = load_sync_data(url, Sizes(args.records, args.records, 10, 0))
        stream = first_sync(migrated_app(url), data["rep"], PASSWORD)
        rows += report(f"link bench ({len(changes_of(stream)):,} records)", stream)
        url = f"sqlite:///{Path(workdir) / 'demo.db'}"
        app = migrated_app(url)
        with app.app_context():
            seed_demo_data(db.session)
            db.session.commit()
        stream = first_sync(app, f"rep1@{DOMAIN}", DEMO_PASSWORD)
        rows += report(f"demo rep ({len(changes_of(stream)):,} records)", stream)
    print_columns([["scope", "records as", "KB", "KB zstd 3", "vs sent", "KB gzip 6"], *rows])


if __name__ == "__main__":
    main()
