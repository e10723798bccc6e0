"""Tunable limits of the sync engine; the server sets them once, in `create_app`.

A module-level value rather than an argument everywhere: the engine reads it deep
inside pulls and pushes, and code that runs without the server (scripts, tests)
gets the defaults.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class SyncSettings:
    #: Config keys of these settings: `SYNC_RETENTION_DAYS`… (server/config.py).
    CONFIG_PREFIX: ClassVar[str] = "SYNC_"

    #: Client schema versions this server speaks (others get 426).
    schema_versions: frozenset[int] = frozenset({1})
    #: A page as large as allowed unless the client asks for less: on a slow link each
    #: page costs a round trip, and the largest page is the one any client may ask for
    #: anyway (ADR 0025: a first sync over 3G in 2.4 s instead of 5.4 s).
    pull_default_limit: int = 5000
    pull_max_limit: int = 5000
    #: A streamed pull's (`/sync/pull/stream`) page when the client sends no `limit`:
    #: smaller pages leave sooner and a cut stream loses less (ADR 0025)...
    pull_stream_default_limit: int = 1000
    #: ...and the pages it sends at most before the client asks again: a bound on how long
    #: one phone holds a server thread.
    pull_stream_max_pages: int = 50
    push_max_mutations: int = 500
    #: Change log and tombstones older than this are pruned; older cursors reset.
    retention_days: int = 90
    #: Pushed mutation ids are remembered this long (longer than any offline period).
    idempotency_days: int = 30
    #: Each record's field-level history is kept this long.
    history_days: int = 365
    #: A check-in within this distance of the customer is `verified`.
    check_in_radius_m: float = 150.0
    #: Conflict-log entries one device may add per push, and per 24 hours: beyond them a
    #: rejection is answered in the push result (`logged: false`) but not kept.
    conflict_log_per_push: int = 200
    conflict_log_per_day: int = 2000
    #: Secrets the pull cursor's key is derived from: the current one signs, all verify
    #: (the service's key, then previous ones: a rotation does not force a re-sync).
    #: Without a server: one made up for this process.
    cursor_secrets: tuple[str, ...] = (secrets.token_urlsafe(32),)
    #: The history window of a phone (ADR 0024): closed visits and orders older than this
    #: many days are not synced, except the last `window_last_n` per customer; 0: no window.
    #: One per role: reps, managers, admins (admins' devices are often integrations).
    window_days_rep: int = 90
    window_days_manager: int = 90
    window_days_admin: int = 0
    window_last_n: int = 3

    def __post_init__(self) -> None:
        for name in ("window_days_rep", "window_days_manager", "window_days_admin"):
            if not 0 <= getattr(self, name) <= 36500:
                raise ValueError(f"{name} must be 0 (no window) to 36500 days")
        if not 0 <= self.window_last_n <= 100:
            raise ValueError("window_last_n must be 0 to 100")

    def window_days(self, role: str) -> int:
        """The history window of a role, in days (0: the whole history)."""
        return getattr(self, f"window_days_{role}", 0)


_current = SyncSettings()


def current() -> SyncSettings:
    return _current


def configure(settings: SyncSettings) -> SyncSettings:
    """Use these settings from now on (the app factory calls this)."""
    global _current
    _current = settings
    return _current
