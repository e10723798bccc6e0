"""Which user writes end the user's device sessions, and why (`sync.session_ends`)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.models import User
from sync.session_ends import end_reason

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def test_end_reason_names_the_change_that_ends_sessions():
    user = User(active=True, deleted_at=None)
    assert end_reason(user, {}) is None
    assert end_reason(user, {"active": False}) is None  # re-enabled
    assert end_reason(user, {"password_hash": "old"}) == "password_changed"
    user.active = False
    assert end_reason(user, {"active": True, "password_hash": "old"}) == "disabled"
    user.deleted_at = NOW
    assert end_reason(user, {}) == "deleted"
