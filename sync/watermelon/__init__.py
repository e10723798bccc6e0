"""WatermelonDB's sync contract on top of our pull and push (ADR 0011).

WatermelonDB pulls with a number (`last_pulled_at`) and pushes whole raw
records per table. This package translates, and nothing more: pulls run
`sync.pull.Puller` to the end of the log, pushes become ordinary push
mutations run by `sync.push.Pusher`, so scopes, write rules, merges, the
conflict log, idempotency and server-derived fields are the engine's own.

`raw` maps raw columns, `timestamps` the `last_pulled_at` number, `pull`
and `push` the two halves of `synchronize()`. This module is only the
surface the endpoint and the tests use.
"""

from __future__ import annotations

from .pull import WatermelonPuller
from .push import WatermelonPusher, count_mutations, parse_changes
from .raw import SCHEMA_VERSION, TABLES, check_schema_version, columns

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "WatermelonPuller",
    "WatermelonPusher",
    "check_schema_version",
    "columns",
    "count_mutations",
    "parse_changes",
]
