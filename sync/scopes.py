"""Who may see which record (protocol section "Scopes").

A `Scope` is computed once per request from the user's role, teams and
territories and turned into SQL `WHERE` clauses, so that a list, a get and a
write all use the same rule and a record outside it simply does not exist for
the caller.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, any_, bindparam, false, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from domain.models import (
    Customer,
    CustomerChild,
    Product,
    RoutePlan,
    SyncedRecord,
    Team,
    Territory,
    User,
    team_managers,
    territory_reps,
)

# A scope is computed on every request: its queries are built once, with bind parameters
# (building them cost more CPU than running them).
_TEAMS = bindparam("teams", expanding=True)
_MANAGED_TEAMS = select(team_managers.c.team_id).where(
    team_managers.c.user_id == bindparam("user_id")
)
_TEAMS_TERRITORIES = select(Territory.id).where(
    Territory.team_id.in_(_TEAMS), Territory.deleted_at.is_(None)
)
_TEAMS_MEMBERS = select(User.id).where(User.team_id.in_(_TEAMS))
_TEAMS_MANAGERS = select(team_managers.c.user_id).where(team_managers.c.team_id.in_(_TEAMS))
_REP_TERRITORIES = (
    select(territory_reps.c.territory_id)
    .join(Territory, Territory.id == territory_reps.c.territory_id)
    .where(territory_reps.c.user_id == bindparam("user_id"), Territory.deleted_at.is_(None))
)


def in_ids(column, ids) -> ColumnElement[bool]:
    """`column IN ids`; for a statement built once (`sync.pull`), `ids` may be a bind
    parameter: a PostgreSQL array (`= ANY`), which unlike an expanding IN is not rendered
    again into the SQL on every execution."""
    if isinstance(ids, BindParameter) and not ids.expanding:
        return column == any_(ids)
    return column.in_(ids)


@dataclass(frozen=True)
class Scope:
    user_id: uuid.UUID
    role: str
    #: Teams the user belongs to (rep) or manages (manager).
    team_ids: frozenset[uuid.UUID]
    #: Territories whose customers the user works on.
    territory_ids: frozenset[uuid.UUID]
    #: Users whose customers (by ownership) and profiles the user sees.
    member_ids: frozenset[uuid.UUID]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    @property
    def is_rep(self) -> bool:
        return self.role == "rep"

    @classmethod
    def for_user(cls, session: Session, user: User) -> Scope:
        if not user.active or user.deleted_at is not None:  # sees nothing, whatever its role
            return cls(user.id, "rep", frozenset(), frozenset(), frozenset())
        if user.role == "admin":
            return cls(user.id, "admin", frozenset(), frozenset(), frozenset())
        if user.role == "manager":
            teams = set(session.scalars(_MANAGED_TEAMS, {"user_id": user.id}))
            by_teams = {"teams": list(teams)}
            territories = session.scalars(_TEAMS_TERRITORIES, by_teams)
            members = session.scalars(_TEAMS_MEMBERS, by_teams)
            co_managers = session.scalars(_TEAMS_MANAGERS, by_teams)
            return cls(
                user.id,
                "manager",
                frozenset(teams),
                frozenset(territories),
                frozenset({user.id, *members, *co_managers}),
            )
        territories = session.scalars(_REP_TERRITORIES, {"user_id": user.id})
        teams = frozenset({user.team_id} if user.team_id else set())
        return cls(user.id, "rep", teams, frozenset(territories), frozenset({user.id}))

    def customers_where(self) -> ColumnElement[bool]:
        if self.is_admin:
            return true()
        return or_(
            in_ids(Customer.territory_id, self.territory_ids),
            in_ids(Customer.owner_id, self.member_ids),
        )

    def where(self, model: type[SyncedRecord]) -> ColumnElement[bool]:
        """The SQL condition selecting the rows of `model` this user may see."""
        if self.is_admin:
            return true()
        if model is Customer:
            return self.customers_where()
        if issubclass(model, CustomerChild):
            return model.customer_id.in_(select(Customer.id).where(self.customers_where()))
        if model is Product:
            return true() if self.is_manager else Product.active.is_(True)
        if model is Territory:
            if self.is_manager:
                return in_ids(Territory.team_id, self.team_ids)
            return in_ids(Territory.id, self.territory_ids)
        if model is Team:
            return in_ids(Team.id, self.team_ids)
        if model is RoutePlan:
            return in_ids(RoutePlan.rep_id, self.member_ids)
        if model is User:
            managers_of_my_teams = select(team_managers.c.user_id).where(
                in_ids(team_managers.c.team_id, self.team_ids)
            )
            return or_(
                in_ids(User.id, self.member_ids),
                in_ids(User.team_id, self.team_ids),
                User.id.in_(managers_of_my_teams),
            )
        return false()

    def can_see(self, session: Session, record: SyncedRecord) -> bool:
        model = type(record)
        found = session.scalar(select(model.id).where(model.id == record.id, self.where(model)))
        return found is not None
