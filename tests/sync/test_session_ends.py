"""The write path itself ends a user's device sessions (`sync.session_ends`), so any
writer does, with no HTTP: the CLI, a seeder, a server job."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain.models import DeviceSession, User
from sync import Actor, delete_record, update_record

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def open_sessions(session, user, *device_ids):
    for device_id in device_ids:
        session.add(
            DeviceSession(user_id=user.id, device_id=device_id, created_at=NOW, last_seen_at=NOW)
        )
    session.flush()


def reasons(session, user) -> dict[str, str | None]:
    rows = session.scalars(select(DeviceSession).filter_by(user_id=user.id)).all()
    return {row.device_id: row.end_reason for row in rows}


@pytest.fixture
def rep(session, world):
    user = session.get(User, world.users["rep.a"])
    open_sessions(session, user, "phone", "tablet")
    return user


def test_a_new_password_hash_written_by_the_server_ends_every_session(session, rep):
    """What a CLI password reset does: the server writes the hash, no device is spared."""
    update_record(session, rep, {"password_hash": "pbkdf2:sha256:1$new$hash"}, now=NOW)
    assert reasons(session, rep) == {"phone": "password_changed", "tablet": "password_changed"}
    ended = session.scalars(select(DeviceSession.ended_at).filter_by(user_id=rep.id)).all()
    assert ended == [NOW, NOW]


def test_your_own_new_password_spares_the_device_you_changed_it_from(session, rep):
    me = Actor(rep.id, "phone")
    update_record(session, rep, {"password_hash": "pbkdf2:sha256:1$mine$hash"}, now=NOW, actor=me)
    assert reasons(session, rep) == {"phone": None, "tablet": "password_changed"}


@pytest.mark.parametrize(
    ("values", "expected"),
    [({"active": False}, "disabled"), ({"active": False, "password_hash": "x"}, "disabled")],
)
def test_disabling_ends_every_session_even_the_writers_own(session, rep, values, expected):
    update_record(session, rep, values, now=NOW, actor=Actor(rep.id, "phone"))
    assert reasons(session, rep) == {"phone": expected, "tablet": expected}


def test_deleting_ends_every_session(session, rep):
    delete_record(session, rep, now=NOW)
    assert reasons(session, rep) == {"phone": "deleted", "tablet": "deleted"}


def test_only_the_written_users_sessions_end_and_only_for_these_changes(session, rep, world):
    update_record(session, rep, {"name": "Renamed", "active": True}, now=NOW)
    other = session.get(User, world.users["rep.b"])
    open_sessions(session, other, "phone")
    update_record(session, other, {"active": False}, now=NOW)
    assert reasons(session, other) == {"phone": "disabled"}
    assert reasons(session, rep) == {"phone": None, "tablet": None}


def test_an_ended_session_keeps_its_first_end(session, rep):
    update_record(session, rep, {"active": False}, now=NOW)
    update_record(session, rep, {"active": True}, now=NOW)
    update_record(session, rep, {"password_hash": "pbkdf2:sha256:1$later$hash"}, now=NOW)
    assert reasons(session, rep) == {"phone": "disabled", "tablet": "disabled"}
