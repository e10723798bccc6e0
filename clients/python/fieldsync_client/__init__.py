"""fieldsync's reference sync client: a local store, an outbox and the sync loop.

The model for mobile implementations of the protocol (docs/sync-protocol.md),
and the phone that tests, the chaos bench and tools drive. Standard library
only, so it installs anywhere Python does.
"""

from __future__ import annotations

from .client import DeviceWiped, SyncClient, SyncError
from .transport import Transport, TransportError, http_transport, retry_after

__all__ = [
    "DeviceWiped",
    "SyncClient",
    "SyncError",
    "Transport",
    "TransportError",
    "http_transport",
    "retry_after",
]
