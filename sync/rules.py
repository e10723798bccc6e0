"""What a user may write (protocol: scopes and table rules 4-5).

Each check raises a `RecordError`; the caller turns it into an HTTP error or a
rejected push result. References to records the user cannot see are reported
exactly like references to records that do not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import (
    CLOSED_VISIT_STATUSES,
    Customer,
    CustomerChild,
    Order,
    Product,
    RoutePlan,
    SyncedRecord,
    Team,
    Territory,
    User,
    Visit,
    fold_email,
)
from domain.schemas import check_order_total

from .errors import Conflict, EmailTaken, Forbidden, Invalid
from .location import CHECK_IN_FIELDS
from .locations import route_location
from .scopes import Scope

#: Tables that only managers and admins write (protocol rule 5: `read_only`).
MANAGED_TABLES = (User, Team, Territory, Product)
CHECK_OUT_FIELDS = ("check_out_at", "check_out_lat", "check_out_lon", "check_out_accuracy_m")
LOCKED_ORDER_STATUSES = ("submitted", "cancelled")
REP_NEEDS_TEAM = "Every rep belongs to a team: choose one."


class WriteRules:
    """The write rules for one user, against one database session."""

    def __init__(self, session: Session, scope: Scope):
        self.session = session
        self.scope = scope
        #: References already found visible (a push checks the same ones often).
        self._seen: set[tuple[type, uuid.UUID]] = set()

    # -- helpers ---------------------------------------------------------------

    def _visible(self, model: type[SyncedRecord], record_id: uuid.UUID | None) -> bool:
        if record_id is None:
            return False
        if (model, record_id) in self._seen:
            return True
        found = self.session.scalar(
            select(model.id).where(
                model.id == record_id, model.deleted_at.is_(None), self.scope.where(model)
            )
        )
        if found is not None:
            self._seen.add((model, record_id))
        return found is not None

    def _require_visible(self, field: str, model: type[SyncedRecord], record_id) -> None:
        if record_id is not None and not self._visible(model, record_id):
            raise Invalid({field: [f"No {model.__tablename__[:-1]} with this id."]})

    def forget(self, model: type[SyncedRecord], record_id: uuid.UUID) -> None:
        """A record was deleted or moved: check references to it again."""
        self._seen.discard((model, record_id))

    # -- entry points ----------------------------------------------------------

    def check_table(self, model: type[SyncedRecord]) -> None:
        if model is RoutePlan:
            raise Forbidden(
                "route_plans are computed by the server: ask for one with "
                "POST /api/v1/route-plans.",
                code="read_only",
            )
        if self.scope.is_admin:
            return
        if model in MANAGED_TABLES and self.scope.is_rep:
            raise Forbidden(f"{model.__tablename__} are read-only for reps.", code="read_only")
        if model is Team and not self.scope.is_admin:
            raise Forbidden("Only an admin changes teams.", code="read_only")

    def check_create(self, model: type[SyncedRecord], values: dict[str, Any]) -> dict[str, Any]:
        """Validate references and fill defaults; return the values to store."""
        self.check_table(model)
        values = dict(values)
        if model is Customer:
            if self.scope.is_rep and values.get("owner_id") is None:
                values["owner_id"] = self.scope.user_id
            self._check_customer_placement(values)
            values["location_approved"] = not self.scope.is_rep
        if issubclass(model, CustomerChild):
            self._require_visible("customer_id", Customer, values.get("customer_id"))
        if model in (Visit, Order):
            values.setdefault("rep_id", self.scope.user_id)
            self._check_credit(values["rep_id"])
        if model is Visit:
            self._check_one_open_visit(values, None)
        if model.__tablename__ == "tasks":
            values.setdefault("assignee_id", self.scope.user_id)
        self._check_references(model, values)
        return values

    def check_update(self, record: SyncedRecord, values: dict[str, Any]) -> None:
        model = type(record)
        self.check_table(model)
        self._check_manager_bounds(record)
        if model is Customer:
            moves = {f for f in ("territory_id", "owner_id") if f in values}
            moves = {f for f in moves if getattr(record, f) != values[f]}
            if moves and self.scope.is_rep:
                raise Forbidden(
                    "Only managers reassign customers.",
                    fields={f: ["Only managers reassign customers."] for f in sorted(moves)},
                )
            if moves:
                self._check_customer_placement(
                    {f: values.get(f, getattr(record, f)) for f in ("territory_id", "owner_id")}
                )
            route_location(record, values, self.scope)
        if isinstance(record, CustomerChild) and values.get("customer_id", record.customer_id) != (
            record.customer_id
        ):
            self._require_visible("customer_id", Customer, values["customer_id"])
        if isinstance(record, (Visit, Order)):
            self._check_own_work(record)
            if values.get("rep_id", record.rep_id) != record.rep_id:
                self._check_credit(values["rep_id"])
        if isinstance(record, Order):
            check_order_unlocked(record, values)
        if isinstance(record, Visit):
            check_visit_times_once(record, values)
            self._check_one_open_visit(values, record)
        self._check_references(model, values, record)

    def check_delete(self, record: SyncedRecord) -> None:
        self.check_table(type(record))
        self._check_manager_bounds(record)
        if (
            isinstance(record, Customer)
            and self.scope.is_rep
            and (record.owner_id != self.scope.user_id)
        ):
            raise Forbidden("Reps delete only the customers they own.")
        if isinstance(record, (Visit, Order)):
            self._check_own_work(record)
        if isinstance(record, Order) and record.status in LOCKED_ORDER_STATUSES:
            raise Conflict(f"A {record.status} order cannot be deleted.", code="order_locked")
        if isinstance(record, User) and record.id == self.scope.user_id:
            raise Forbidden("You cannot delete yourself.")

    # -- table specifics -------------------------------------------------------

    def _check_manager_bounds(self, record: SyncedRecord) -> None:
        """Managers change users only among the reps of their teams."""
        if self.scope.is_manager and isinstance(record, User) and record.role != "rep":
            raise Forbidden("Managers change rep accounts only.")

    def _check_credit(self, rep_id: uuid.UUID | None) -> None:
        """Work is credited to whoever did it: a rep to themselves, a manager to the
        people of their teams (an admin to anyone)."""
        if self.scope.is_admin or rep_id is None:
            return
        if self.scope.is_rep and rep_id != self.scope.user_id:
            raise Forbidden(
                "Reps record their own visits and orders only.",
                code="not_your_work",
                fields={"rep_id": ["Leave it out: it is you."]},
            )
        if self.scope.is_manager and rep_id not in self.scope.member_ids:
            raise Invalid({"rep_id": ["Choose someone in your teams."]})

    def _check_own_work(self, record: Visit | Order) -> None:
        """A rep changes or deletes only their own visits and orders: a colleague's
        are their evidence (a manager may correct them, and the history shows it)."""
        if self.scope.is_rep and record.rep_id != self.scope.user_id:
            raise Forbidden(
                f"This {record.__tablename__[:-1]} is a colleague's: only they or a manager "
                "change it.",
                code="not_your_work",
            )

    def _check_one_open_visit(self, values: dict[str, Any], visit: Visit | None) -> None:
        """A rep is at a customer once at a time: a second check-in there while a visit is
        open (checked in, not out) is refused, whichever device sends it."""

        def now(field: str) -> Any:
            return values[field] if field in values else getattr(visit, field, None)

        opening = (
            now("check_in_at") is not None
            and now("check_out_at") is None
            and now("status") not in CLOSED_VISIT_STATUSES
        )
        if not opening:
            return
        other = self.session.scalar(
            select(Visit.id).where(
                Visit.rep_id == now("rep_id"),
                Visit.customer_id == now("customer_id"),
                Visit.id != getattr(visit, "id", values.get("id")),
                Visit.check_in_at.is_not(None),
                Visit.check_out_at.is_(None),
                Visit.deleted_at.is_(None),
                Visit.status.not_in(CLOSED_VISIT_STATUSES),
            )
        )
        if other is not None:
            raise Conflict(
                f"This rep has an open visit at this customer ({other}): check out first.",
                code="visit_already_open",
            )

    def _check_customer_placement(self, values: dict[str, Any]) -> None:
        territory_id, owner_id = values.get("territory_id"), values.get("owner_id")
        self._require_visible("territory_id", Territory, territory_id)
        self._require_visible("owner_id", User, owner_id)
        if self.scope.is_admin:
            return
        in_scope = territory_id in self.scope.territory_ids or owner_id in self.scope.member_ids
        if not in_scope:
            raise Invalid({"territory_id": ["Give a territory or an owner within your scope."]})

    def _check_references(
        self, model: type[SyncedRecord], values: dict[str, Any], record: SyncedRecord | None = None
    ) -> None:
        for field, target in (
            ("rep_id", User),
            ("assignee_id", User),
            ("visit_id", Visit),
        ):
            if field in values:
                self._require_visible(field, target, values[field])
        if model is Order and "lines" in values:
            self._check_order_lines(values)
        if model is User:
            self._check_user_values(values, record)
        if model is Territory:
            if "team_id" in values:
                self._require_visible("team_id", Team, values["team_id"])
            for rep_id in values.get("rep_ids") or []:
                self._require_visible("rep_ids", User, rep_id)
            if values.get("rep_ids"):
                team_id = values.get("team_id", getattr(record, "team_id", None))
                self._check_territory_reps(values["rep_ids"], team_id)
        if model is Team:
            for manager_id in values.get("manager_ids") or []:
                self._require_visible("manager_ids", User, manager_id)

    def _check_territory_reps(self, rep_ids: list[uuid.UUID], team_id: uuid.UUID | None) -> None:
        """A rep's territories belong to their team (a team change leaves the others)."""
        rows = self.session.execute(select(User.id, User.team_id).where(User.id.in_(rep_ids)))
        teams = {user_id: team for user_id, team in rows}
        strangers = [str(i) for i in rep_ids if teams.get(i) != team_id]
        if strangers:
            raise Invalid(
                {"rep_ids": [f"Not reps of this territory's team: {', '.join(strangers[:5])}."]}
            )

    def _check_user_values(self, values: dict[str, Any], record: User | None = None) -> None:
        """Every rep belongs to a team (for a manager, one of theirs); then, once the caller
        may make this account, its folded email must be no other account's."""
        if "team_id" in values:
            self._require_visible("team_id", Team, values["team_id"])
        role = values.get("role", record.role if record is not None else "rep")
        team_id = values.get("team_id", record.team_id if record is not None else None)
        placed = record is None or (role, team_id) != (record.role, record.team_id)
        if role == "rep" and team_id is None and placed:
            raise Invalid({"team_id": [REP_NEEDS_TEAM]})
        if self.scope.is_manager:
            if values.get("role", "rep") != "rep":
                raise Forbidden("Managers create and edit rep accounts only.")
            if "team_id" in values and values["team_id"] not in self.scope.team_ids:
                raise Invalid({"team_id": ["Choose one of your teams."]})
        if "email" in values:
            self._check_email_free(values["email"], record)

    def _check_email_free(self, email: str, record: User | None) -> None:
        """Deleted accounts keep their email (the unique index covers them); whichever
        account holds it, visible or not, the answer is the same `EmailTaken`."""
        holder = select(User.id).where(User.email == fold_email(email))
        if record is not None:
            holder = holder.where(User.id != record.id)
        if self.session.scalar(holder.limit(1)) is not None:
            raise EmailTaken()

    def _check_order_lines(self, values: dict[str, Any]) -> None:
        lines = values["lines"] or []
        ids = {line["product_id"] for line in lines}
        products = {
            p.id: p
            for p in self.session.scalars(
                select(Product).where(
                    Product.id.in_(ids), Product.deleted_at.is_(None), self.scope.where(Product)
                )
            )
        }
        errors: dict[int, dict[str, list[str]]] = {}
        for i, line in enumerate(lines):
            product = products.get(line["product_id"])
            if product is None:
                errors[i] = {"product_id": ["No product with this id."]}
                continue
            if line.get("unit_price") is None:
                line["unit_price"] = product.unit_price
            values.setdefault("currency", product.currency)
        if errors:
            raise Invalid({"lines": errors})
        try:  # prices filled from the products: the total must still fit its column
            check_order_total(lines)
        except ValidationError as exc:
            raise Invalid(exc.normalized_messages()) from exc
        values["lines"] = [_line_json(line) for line in lines]


def _line_json(line: dict[str, Any]) -> dict[str, Any]:
    """Order lines are stored as JSON with decimal strings, never floats."""
    return {
        "product_id": str(line["product_id"]),
        "quantity": str(line["quantity"]),
        "unit_price": str(line["unit_price"]),
        "discount_pct": str(line["discount_pct"]) if line.get("discount_pct") is not None else "0",
    }


def check_order_unlocked(order: Order, values: dict[str, Any]) -> None:
    """A submitted order only moves to cancelled; a cancelled one never changes."""
    if order.status not in LOCKED_ORDER_STATUSES:
        return
    changing = {f for f, v in values.items() if getattr(order, f, None) != v}
    if (
        order.status == "submitted"
        and changing <= {"status"}
        and (values.get("status") in ("submitted", "cancelled"))
    ):
        return
    if changing:
        raise Conflict(
            f"This order is {order.status}; it can no longer change.", code="order_locked"
        )


def check_visit_times_once(visit: Visit, values: dict[str, Any]) -> None:
    """Check-in and check-out are facts: written once, never moved."""
    for group, label in ((CHECK_IN_FIELDS, "check-in"), (CHECK_OUT_FIELDS, "check-out")):
        if getattr(visit, group[0]) is None:
            continue
        moved = [f for f in group if f in values and values[f] != getattr(visit, f)]
        if moved:
            raise Conflict(
                f"The {label} of this visit is already recorded.",
                code="already_checked_in",
                fields={f: [f"The {label} is already recorded."] for f in moved},
            )
