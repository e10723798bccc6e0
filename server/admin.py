"""Account administration used by the CLI and the demo seeder."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import Team, User
from domain.schemas import UserCreateSchema
from sync.changes import create_record, update_record

from .auth.sessions import hash_password


def find_or_create_team(session: Session, name_or_id: str, now: datetime) -> Team:
    try:
        team = session.get(Team, uuid.UUID(name_or_id))
    except ValueError:
        team = session.scalar(select(Team).where(Team.name == name_or_id))
    return team or create_record(session, Team, {"name": name_or_id}, now=now)


def create_user_account(
    session: Session,
    *,
    email: str,
    password: str,
    role: str,
    name: str | None = None,
    team: str | None = None,
) -> User:
    """Validate like the API does, then write through the one write path."""
    now = datetime.now(UTC)
    name = name or email.split("@")[0]
    values = {"email": email, "password": password, "role": role, "name": name}
    errors = UserCreateSchema().validate(values)
    if errors:
        raise ValueError("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)):
        raise ValueError(f"A user with email {email} already exists.")
    team_record = find_or_create_team(session, team, now) if team else None
    user = create_record(
        session,
        User,
        {
            "email": email,
            "name": values["name"],
            "role": role,
            "team_id": team_record.id if team_record else None,
            "password_hash": hash_password(password),
        },
        now=now,
    )
    if team_record is not None and role == "manager":
        managers = [m.id for m in team_record.managers]
        update_record(session, team_record, {"manager_ids": [*managers, user.id]}, now=now)
    return user
