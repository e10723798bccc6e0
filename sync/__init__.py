"""The sync engine: the one write path, scopes and the rules every writer obeys.

No Flask here: the server, the CLI, the demo seeder and the tests all call it
directly. This module is its public surface; other packages import from here.
(`settings` and `stored_json` are modules: their state is the engine's.)
"""

from __future__ import annotations

from . import settings, stored_json
from .changes import Actor, create_record, delete_record, resend_record, update_record
from .conflict_log import list_conflicts, restore
from .cursor import Holder
from .errors import (
    Conflict,
    EmailTaken,
    Forbidden,
    Invalid,
    InvalidCursor,
    NotFound,
    RecordError,
    UnsupportedSchemaVersion,
)
from .merge import effective_time, merge_fields
from .mutations import (
    PushRequestSchema,
    audit_refused_push,
    check_schema_version,
    claim_device,
)
from .page import PullResult
from .pull import Puller, read_cursor
from .push import Pusher
from .records_json import record_json
from .retention import prune
from .scopes import Scope
from .settings import SyncSettings
from .store import RecordStore

__all__ = [
    "Actor",
    "Conflict",
    "EmailTaken",
    "Forbidden",
    "Holder",
    "Invalid",
    "InvalidCursor",
    "NotFound",
    "PullResult",
    "Puller",
    "PushRequestSchema",
    "Pusher",
    "RecordError",
    "RecordStore",
    "Scope",
    "SyncSettings",
    "UnsupportedSchemaVersion",
    "audit_refused_push",
    "check_schema_version",
    "claim_device",
    "create_record",
    "delete_record",
    "effective_time",
    "list_conflicts",
    "merge_fields",
    "prune",
    "read_cursor",
    "record_json",
    "resend_record",
    "restore",
    "settings",
    "stored_json",
    "update_record",
]
