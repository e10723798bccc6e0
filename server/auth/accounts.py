"""Accounts: what an account's API input becomes in its columns, and creating one
outside the API (the CLI's `create-user`, the demo seeder)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import Team, User, fold_email
from domain.schemas import UserCreateSchema
from domain.times import utc_now
from sync import create_record, update_record

from .passwords import hash_password


def account_columns(values: dict[str, Any]) -> dict[str, Any]:
    """API input -> stored columns: the password hashed (REST and the CLI only: a password
    never syncs). The write path folds the email."""
    if "password" not in values:
        return values
    values = dict(values)
    values["password_hash"] = hash_password(values.pop("password"))
    return values


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
    now = utc_now()
    values = {
        "email": email,
        "password": password,
        "role": role,
        "name": name or email.split("@")[0],
    }
    errors = UserCreateSchema().validate(values)
    if role == "rep" and not team:
        errors.setdefault("team", []).append("Every rep belongs to a team: give --team.")
    if errors:
        raise ValueError("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
    columns = account_columns(values)
    if session.scalar(select(User.id).where(User.email == fold_email(email))):
        raise ValueError(f"A user with email {fold_email(email)} already exists.")
    team_record = find_or_create_team(session, team, now) if team else None
    user = create_record(
        session, User, {**columns, "team_id": team_record.id if team_record else None}, now=now
    )
    if team_record is not None and role == "manager":
        managers = [m.id for m in team_record.managers]
        update_record(session, team_record, {"manager_ids": [*managers, user.id]}, now=now)
    return user
