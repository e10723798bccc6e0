"""Protocol rules 2-3: concurrent edits of one field go to the later effective edit time.

Pure functions over a record and a mutation's values, so the merge can be read
(and tested) apart from the push that applies it. See ADR 0006.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.models import SyncedRecord
from domain.times import shifted

from .records_json import record_json


def effective_time(changed_at: datetime | None, skew: timedelta, now: datetime) -> datetime:
    """Rule 3: the device's edit time corrected by its clock skew, never in the future.

    Held within the times fieldsync stores: a clock set to year 9999 (or 1) must not
    overflow the sum and fail the push on every retry.
    """
    if changed_at is None:
        return now
    return min(shifted(changed_at, skew), now)


def merge_fields(
    record: SyncedRecord,
    values: dict[str, Any],
    sent: dict[str, Any],
    base_version: int,
    author: str,
    edited_at: datetime,
) -> tuple[dict[str, Any], list[dict], list[tuple]]:
    """Per field, the value that wins against the record's newer changes.

    `values` are the loaded fields, `sent` as the device sent them (what it is
    told it lost). Returns the winning values, the device's losses (for the
    result) and every loser on either side, as (field, lost value, kept value,
    loser), for the conflict log once applied. A field is concurrent when the
    record changed it after `base_version`, by someone other than `author`
    (a device's own queue is ordered).
    """
    winners: dict[str, Any] = {}
    lost: list[dict] = []
    losers: list[tuple] = []
    server_json = None
    meta = record.field_meta or {}
    for field, value in values.items():
        stamp = meta.get(field)
        concurrent = stamp is not None and stamp["v"] > base_version and stamp.get("d") != author
        if not concurrent or getattr(record, field, None) == value:
            winners[field] = value
            continue
        server_json = server_json or record_json(record)
        server_time = datetime.fromisoformat(stamp["t"])
        entry = {"field": field, "yours": sent.get(field), "server": server_json.get(field)}
        if edited_at > server_time:
            winners[field] = value
            losers.append((field, entry["server"], entry["yours"], "server"))
        else:
            lost.append(
                {**entry, "kept": "server", "reason": "changed on the server after your edit"}
            )
            losers.append((field, entry["yours"], entry["server"], "device"))
    return winners, lost, losers
