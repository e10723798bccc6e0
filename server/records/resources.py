"""The record resources of `/api/v1` and what each can be filtered by."""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import fields, validate

from domain import models, schemas
from domain.models import SyncedRecord
from domain.schemas import RecordSchema


@dataclass(frozen=True)
class Resource:
    name: str
    model: type[SyncedRecord]
    schema: type[RecordSchema]
    #: Columns that can be filtered on by equality, with their query field.
    filters: dict[str, fields.Field] = field(default_factory=dict)
    #: Input schema for create when it differs from `schema` (users need a password).
    create_schema: type[RecordSchema] | None = None
    description: str = ""

    @property
    def title(self) -> str:
        return "".join(part.title() for part in self.name.split("_"))


RESOURCES: tuple[Resource, ...] = (
    Resource(
        "users",
        models.User,
        schemas.UserSchema,
        create_schema=schemas.UserCreateSchema,
        filters={
            "team_id": fields.UUID(),
            "role": fields.String(validate=validate.OneOf(schemas.ROLES)),
            "active": fields.Boolean(),
        },
        description="People: reps, managers and admins. Managers and admins write.",
    ),
    Resource(
        "teams",
        models.Team,
        schemas.TeamSchema,
        description="Teams of reps and their managers. Admins write.",
    ),
    Resource(
        "territories",
        models.Territory,
        schemas.TerritorySchema,
        filters={"team_id": fields.UUID()},
        description="Sales territories with their polygon and reps. Managers and admins write.",
    ),
    Resource(
        "customers",
        models.Customer,
        schemas.CustomerSchema,
        filters={
            "territory_id": fields.UUID(),
            "owner_id": fields.UUID(),
            "status": fields.String(validate=validate.OneOf(schemas.CUSTOMER_STATUSES)),
            "tier": fields.String(validate=validate.OneOf(schemas.TIERS)),
        },
        description="Shops and businesses the reps visit.",
    ),
    Resource(
        "contacts",
        models.Contact,
        schemas.ContactSchema,
        filters={"customer_id": fields.UUID()},
        description="People at a customer.",
    ),
    Resource(
        "products",
        models.Product,
        schemas.ProductSchema,
        filters={"active": fields.Boolean()},
        description="The catalogue. Reps see active products; managers and admins write.",
    ),
    Resource(
        "visits",
        models.Visit,
        schemas.VisitSchema,
        filters={
            "customer_id": fields.UUID(),
            "rep_id": fields.UUID(),
            "status": fields.String(validate=validate.OneOf(schemas.VISIT_STATUSES)),
        },
        description="Planned and done visits, with check-in and check-out.",
    ),
    Resource(
        "orders",
        models.Order,
        schemas.OrderSchema,
        filters={
            "customer_id": fields.UUID(),
            "visit_id": fields.UUID(),
            "rep_id": fields.UUID(),
            "status": fields.String(validate=validate.OneOf(schemas.ORDER_STATUSES)),
        },
        description="Orders; `total` is computed by the server, exactly, from the lines.",
    ),
    Resource(
        "tasks",
        models.Task,
        schemas.TaskSchema,
        filters={
            "customer_id": fields.UUID(),
            "assignee_id": fields.UUID(),
            "done": fields.Boolean(),
        },
        description="Follow-up tasks.",
    ),
)
