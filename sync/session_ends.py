"""Device sessions end with the account change that makes them stale (issue 15, ADR 0018).

The one write path calls `end_stale_sessions` for every write to a user, so REST,
sync push, WatermelonDB push, the CLI and the seeders all end sessions alike:

- a new password (`password_hash` changed) ends every session of the user,
  except, when the user changed it themselves, the session of the device they
  did it from: a lost phone is signed out, the hand that typed the password is not;
- disabling the account (`active` false) or deleting it ends every session.

An ended session stays ended: re-enabling the account revives none of them
(the guard refuses an ended session whatever the account's state).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import DeviceSession, User

if TYPE_CHECKING:
    from .changes import Actor

PASSWORD_CHANGED = "password_changed"
DISABLED = "disabled"
DELETED = "deleted"


def end_reason(user: User, before: dict[str, Any]) -> str | None:
    """Why this write ends the user's sessions (`before`: the changed fields' old values)."""
    if user.deleted_at is not None:
        return DELETED
    if "active" in before and not user.active:
        return DISABLED
    if "password_hash" in before:
        return PASSWORD_CHANGED
    return None


def end_stale_sessions(
    session: Session, user: User, before: dict[str, Any], now: datetime, actor: Actor
) -> int:
    """End the user's open sessions that this write makes stale; return how many."""
    reason = end_reason(user, before)
    if reason is None:
        return 0
    query = select(DeviceSession).where(
        DeviceSession.user_id == user.id, DeviceSession.ended_at.is_(None)
    )
    if reason == PASSWORD_CHANGED and actor.user_id == user.id and actor.device_id is not None:
        query = query.where(DeviceSession.device_id != actor.device_id)
    ended = session.scalars(query).all()
    for device in ended:
        device.ended_at, device.end_reason = now, reason
    return len(ended)
