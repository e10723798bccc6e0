"""Two small helpers both the pull and the push side need, kept in one place."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any


def as_uuid(value: Any) -> uuid.UUID | None:
    """A raw id as a UUID; None when it is empty or not one (ours are UUIDs)."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def chunks(items: list, size: int = 500) -> Iterator[list]:
    """Slices small enough for an `IN (...)` list on every database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
