"""Tunable limits of the sync engine, set once from the server's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class SyncSettings:
    #: Client schema versions this server speaks (others get 426).
    schema_versions: frozenset[int] = frozenset({1})
    pull_default_limit: int = 500
    pull_max_limit: int = 5000
    push_max_mutations: int = 500
    push_max_bytes: int = 2 * 1024 * 1024
    #: Change log and tombstones older than this are pruned; older cursors reset.
    retention_days: int = 90
    #: Pushed mutation ids are remembered this long (longer than any offline period).
    idempotency_days: int = 30
    #: A check-in within this distance of the customer is `verified`.
    check_in_radius_m: float = 150.0
    extra: dict = field(default_factory=dict)


_current = SyncSettings()


def current() -> SyncSettings:
    return _current


def configure(**values) -> SyncSettings:
    """Replace settings (the app factory calls this from its config)."""
    global _current
    _current = replace(_current, **values)
    return _current
