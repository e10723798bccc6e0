"""Database tables of fieldsync.

Every synced table carries `id` (UUID chosen by the creator), `version`,
`created_at`, `updated_at`, a `deleted_at` tombstone and `field_meta`, the
per-field change metadata that the sync engine's conflict rules rely on.
Rows are only ever written through `sync.changes`, which keeps those columns
right for every writer.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .text import fold, fold_email, search_key
from .types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SyncedRecord:
    """Columns shared by every synced table."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {field: {"v": version, "t": ISO edit time}}: when each field last changed.
    field_meta: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    #: Fields whose folded text feeds `search_text` (the `q` filter).
    search_fields: ClassVar[tuple[str, ...]] = ()
    #: Field whose folded text feeds `sort_key` (alphabetical listing).
    sort_field: ClassVar[str | None] = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def derive(self) -> None:
        """Recompute server-derived columns after a write."""
        if self.search_fields:
            self.search_text = search_key(*(getattr(self, f) for f in self.search_fields))
        if self.sort_field:
            self.sort_key = fold(getattr(self, self.sort_field))[:200]


class PulledAsJson:
    """The record's JSON as pulls send it, kept by `sync.stored_json` on every write.

    A first sync sends thousands of records; sending stored JSON instead of
    rebuilding each record's JSON per pull is what Kinto does too (ADR 0014).
    Deferred: only pulls read it. NULL (rows written before it existed) is
    filled by `fieldsync init-db`, and a pull builds the JSON meanwhile.
    """

    sync_json: Mapped[str | None] = mapped_column(Text, deferred=True)


class Searchable:
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    sort_key: Mapped[str] = mapped_column(String(200), nullable=False, default="", index=True)


team_managers = Table(
    "team_managers",
    Base.metadata,
    Column("team_id", Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

territory_reps = Table(
    "territory_reps",
    Base.metadata,
    Column(
        "territory_id", Uuid, ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Team(SyncedRecord, Searchable, Base):
    __tablename__ = "teams"
    search_fields = ("name",)
    sort_field = "name"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    managers: Mapped[list[User]] = relationship(secondary=team_managers, lazy="selectin")

    @property
    def manager_ids(self) -> list[uuid.UUID]:
        return sorted(m.id for m in self.managers)


class User(SyncedRecord, Searchable, Base):
    __tablename__ = "users"
    search_fields = ("name", "email")
    sort_field = "name"

    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="rep")
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"), index=True)
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    locale: Mapped[str] = mapped_column(String(35), nullable=False, default="en")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)

    territories: Mapped[list[Territory]] = relationship(
        secondary=territory_reps, lazy="selectin", back_populates="reps"
    )

    @property
    def territory_ids(self) -> list[uuid.UUID]:
        return sorted(t.id for t in self.territories if not t.is_deleted)

    def derive(self) -> None:
        """Emails are compared as folded: whoever writes one (REST, push, CLI, seeders)."""
        if self.email:
            self.email = fold_email(self.email)
        super().derive()


class Territory(SyncedRecord, Searchable, Base):
    __tablename__ = "territories"
    search_fields = ("name",)
    sort_field = "name"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), nullable=False, index=True)
    color: Mapped[str] = mapped_column(String(7), nullable=False, default="#3388ff")
    geometry: Mapped[dict | None] = mapped_column(JSON)
    reps: Mapped[list[User]] = relationship(
        secondary=territory_reps, lazy="selectin", back_populates="territories"
    )

    @property
    def rep_ids(self) -> list[uuid.UUID]:
        return sorted(r.id for r in self.reps)


class Customer(SyncedRecord, PulledAsJson, Searchable, Base):
    __tablename__ = "customers"
    search_fields = ("name", "address", "city", "postal_code", "phone", "email")
    sort_field = "name"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    territory_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("territories.id"), index=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="lead")
    tier: Mapped[str] = mapped_column(String(1), nullable=False, default="C")
    visit_every_days: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    visit_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    opening_hours: Mapped[dict | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Coordinates are master data: set or approved by a manager (or an import), not by
    #: a rep in the field. Check-ins are verified only against approved coordinates.
    location_approved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: A rep's new location for the customer, waiting for a manager (`sync.locations`).
    proposed_lat: Mapped[float | None] = mapped_column(Float)
    proposed_lon: Mapped[float | None] = mapped_column(Float)
    proposed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomerChild:
    """A record that belongs to a customer and shares its scope."""

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id"), nullable=False, index=True
    )


class Contact(CustomerChild, SyncedRecord, PulledAsJson, Searchable, Base):
    __tablename__ = "contacts"
    search_fields = ("name", "phone", "email")
    sort_field = "name"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    notes: Mapped[str | None] = mapped_column(Text)


class Product(SyncedRecord, PulledAsJson, Searchable, Base):
    __tablename__ = "products"
    search_fields = ("sku", "name")
    sort_field = "name"

    sku: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="VND")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


#: Visit statuses after which a checked-in visit is no longer open.
CLOSED_VISIT_STATUSES = ("completed", "cancelled", "missed")
_OPEN_VISIT = text(
    "check_in_at IS NOT NULL AND check_out_at IS NULL AND deleted_at IS NULL"
    " AND status NOT IN ('completed', 'cancelled', 'missed')"
)


class Visit(CustomerChild, SyncedRecord, PulledAsJson, Base):
    __tablename__ = "visits"
    #: One open visit (checked in, not out) per rep and customer, whoever writes.
    __table_args__ = (
        Index(
            "uq_visits_one_open",
            "rep_id",
            "customer_id",
            unique=True,
            sqlite_where=_OPEN_VISIT,
            postgresql_where=_OPEN_VISIT,
        ),
    )

    rep_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned")
    check_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_in_lat: Mapped[float | None] = mapped_column(Float)
    check_in_lon: Mapped[float | None] = mapped_column(Float)
    check_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    #: The phone's own signal that the position came from a mock-location app.
    check_in_mocked: Mapped[bool | None] = mapped_column(Boolean)
    check_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_out_lat: Mapped[float | None] = mapped_column(Float)
    check_out_lon: Mapped[float | None] = mapped_column(Float)
    check_out_accuracy_m: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    # Server-derived from the check-in fix and the customer's coordinates.
    check_in_distance_m: Mapped[float | None] = mapped_column(Float)
    location_status: Mapped[str | None] = mapped_column(String(16))


class Order(CustomerChild, SyncedRecord, PulledAsJson, Base):
    __tablename__ = "orders"

    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)
    rep_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    # [{product_id, quantity, unit_price, discount_pct}] with decimal strings.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="VND")
    total: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)

    def derive(self) -> None:
        from .orders import order_total

        self.total = order_total(self.lines)


class Task(CustomerChild, SyncedRecord, PulledAsJson, Searchable, Base):
    __tablename__ = "tasks"
    search_fields = ("title", "notes")
    sort_field = "title"

    assignee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    done: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    notes: Mapped[str | None] = mapped_column(Text)


class RoutePlan(SyncedRecord, PulledAsJson, Base):
    """A rep's planned route for one day, computed by the server and synced to the phone.

    One plan per rep and day: planning the day again updates it in place, so the
    phone gets a new version of the same record rather than a second plan.
    """

    __tablename__ = "route_plans"
    __table_args__ = (UniqueConstraint("rep_id", "plan_date"),)

    rep_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    plan_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    start_lat: Mapped[float] = mapped_column(Float, nullable=False)
    start_lon: Mapped[float] = mapped_column(Float, nullable=False)
    end_lat: Mapped[float] = mapped_column(Float, nullable=False)
    end_lon: Mapped[float] = mapped_column(Float, nullable=False)
    #: Leaving the start point, and back at the end point.
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: The latest the rep works that day (a re-plan fills the day up to it).
    shift_end_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: Ordered stops: customer, arrival/departure, travel and distance from the previous point.
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    lunch: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Customers that could not be fitted, each with a reason code.
    unassigned: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    needs_location: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    total_travel_s: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_distance_m: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_service_s: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_waiting_s: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: GeoJSON LineString through start, stops and end (straight legs).
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    travel_provider: Mapped[str] = mapped_column(String(16), nullable=False)


class DeviceSession(Base):
    """One logged-in device; revoking it cuts every token it holds."""

    __tablename__ = "device_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    device_id: Mapped[str] = mapped_column(String(200), nullable=False)
    device_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it ended: "logout", "revoked", "refresh_reuse", "replaced", or an account change
    # (`sync.session_ends`): "password_changed", "disabled", "deleted".
    end_reason: Mapped[str | None] = mapped_column(String(20))
    wipe: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RefreshToken(Base):
    """A single-use refresh token; only a hash of its secret is stored."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("device_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The token this one was spent for: a retry of a lost refresh answer gets it again.
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("refresh_tokens.id", ondelete="SET NULL"), index=True
    )


_BIGINT = BigInteger().with_variant(Integer, "sqlite")


class ChangeLogEntry(Base):
    """One row per write to a synced record: what pulls read, in `(txid, seq)` order.

    `txid` is the writing transaction's id on PostgreSQL (0 on SQLite) so that a
    pull can stop before transactions that are still running (ADR 0005).
    `prev_*` hold where a record was before a move (a customer's territory and
    owner, a child's former customer's, a user's team), so that users who lose
    it learn to `remove` it. A write's row also carries the record's history
    (`changes`, who, which mutation): one row per write serves pulls and
    `GET …/history`; pulls stop reading rows past the log's retention, the
    history keeps them for `SyncSettings.history_days`.
    """

    __tablename__ = "sync_changes"
    __table_args__ = (
        Index("ix_sync_changes_position", "txid", "seq"),
        # Not (table_name, …): SQLite would then answer a pull's OR of tables from it.
        Index("ix_sync_changes_record", "record_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=True)
    # PostgreSQL fills it with the writing transaction's id (migration 0002).
    txid: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    table_name: Mapped[str] = mapped_column(String(32), nullable=False)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    #: "create", "update", "delete" or "move" (who may see the record changed).
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    prev_territory_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    prev_owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: A user's team before a move (or the team whose managers they joined or left).
    prev_team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    # The record's history, on the row of each write (none on rows that only re-send):
    # each changed field's JSON {field: [old, new]}, the version the write made, and who
    # (never a secret: the values are the record's API JSON, which holds none).
    changes: Mapped[dict | None] = mapped_column(JSON)
    version: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    device_id: Mapped[str | None] = mapped_column(String(200))
    mutation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class SyncMutation(Base):
    """A pushed mutation already handled: its result is replayed on a retry."""

    __tablename__ = "sync_mutations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    device_id: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class ConflictEntry(Base):
    """A value that lost a conflict, or a rejected mutation: nothing is lost (rule 6)."""

    __tablename__ = "conflicts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    table_name: Mapped[str] = mapped_column(String(32), nullable=False)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    #: "field_lost" (one field's value lost a merge) or "rejected" (a whole mutation).
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    field: Mapped[str | None] = mapped_column(String(64))
    #: The losing values: {field: value} (a rejected mutation's whole `fields`).
    lost_values: Mapped[dict | None] = mapped_column(JSON)
    kept_values: Mapped[dict | None] = mapped_column(JSON)
    #: "device" when the device's value lost, "server" when the server's did.
    loser: Mapped[str] = mapped_column(String(8), nullable=False, default="device")
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(200))
    mutation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    mutation_op: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restored_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class SyncState(Base):
    """Small server-wide facts of the sync engine (e.g. how far the log was pruned)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, nullable=False)


class Quota(Base):
    """A rep's targets for one calendar month, set by their manager or an admin.

    Not a synced record: quotas are read through `/api/v1/quotas` and the KPIs.
    `month` is the first day of the month (local calendar); the API spells it `YYYY-MM`.
    """

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("rep_id", "month"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    rep_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    month: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    revenue_target: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="VND")
    visits_target: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


#: The record tables by their public (URL and sync) name.
RECORD_MODELS: dict[str, type[SyncedRecord]] = {
    "users": User,
    "teams": Team,
    "territories": Territory,
    "customers": Customer,
    "contacts": Contact,
    "products": Product,
    "visits": Visit,
    "orders": Order,
    "tasks": Task,
    "route_plans": RoutePlan,
}

#: Parents before children: the order in which a first sync sends the tables.
WALK_TABLES: tuple[type[SyncedRecord], ...] = (
    Team,
    User,
    Territory,
    Product,
    Customer,
    Contact,
    Visit,
    Order,
    Task,
    RoutePlan,
)
#: The tables whose records belong to a customer (and follow it in and out of scope).
CHILD_TABLES: tuple[type[CustomerChild], ...] = (Contact, Visit, Order, Task)
#: A customer's table and its children's, by name: what a customer's scope covers.
CUSTOMER_TABLES: tuple[str, ...] = ("customers", *(m.__tablename__ for m in CHILD_TABLES))
