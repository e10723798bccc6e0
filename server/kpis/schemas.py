"""The KPI report and quotas as documented: every field with its definition (ADR 0009)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain import kpis
from domain.schemas import Day, ExactDecimal, Pattern, UTCDateTime
from domain.types import MONEY_MAX

CURRENCY = Pattern(r"^[A-Z]{3}$", error="Use an ISO 4217 code.")
RATE = {"description": "A share in [0, 1], 4 places; null when the denominator is 0."}
#: Highest values a quota accepts (the Money column holds 12 integer digits).
MAX_REVENUE_TARGET = MONEY_MAX
MAX_VISITS_TARGET = 5000


def _doc(text: str) -> dict:
    return {"description": text}


class KpiQuerySchema(Schema):
    period = fields.String(
        validate=validate.Length(max=20),
        metadata=_doc("`YYYY-MM` (a month) or `YYYY-Www` (an ISO week). Default: this month."),
    )
    from_ = Day(data_key="from", metadata=_doc("First local day (with `to`)."))
    to = Day(metadata=_doc("Last local day, inclusive; at most 366 days after `from`."))
    team_id = fields.UUID(metadata=_doc("Only this team's reps (one of yours)."))
    rep_id = fields.UUID(metadata=_doc("Only this rep (one you may see)."))
    currency = fields.String(
        load_default="VND",
        validate=CURRENCY,
        metadata=_doc("Revenue is reported in this currency; other currencies are listed apart."),
    )
    overdue_limit = fields.Integer(
        load_default=kpis.OVERDUE_LIMIT,
        validate=validate.Range(0, 1000),
        metadata=_doc("Overdue customers listed per row (`overdue_total` counts them all)."),
    )


class OverdueCustomerSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    owner_id = fields.UUID(allow_none=True)
    visit_every_days = fields.Integer(required=True)
    last_visit_at = UTCDateTime(allow_none=True, metadata=_doc("Null: never visited."))
    days_overdue = fields.Integer(
        allow_none=True,
        metadata=_doc(
            "Whole days since the last visit (rounded up) − visit_every_days; null: never visited."
        ),
    )


class QuotaMonthSchema(Schema):
    month = fields.String(metadata={"example": "2026-11"})
    revenue_target = fields.String(metadata=_doc("The month's full target (decimal string)."))
    visits_target = fields.Integer()
    share = fields.Float(
        metadata=_doc("Share of the month inside the period (1 for a whole month).")
    )


class QuotaAttainmentSchema(Schema):
    currency = fields.String()
    revenue_target = fields.String(metadata=_doc("Prorated to the period; decimal string."))
    visits_target = fields.Integer(metadata=_doc("Prorated to the period, rounded half-up."))
    revenue_attainment = fields.Float(
        allow_none=True,
        metadata=_doc("revenue ÷ revenue_target; null for a zero target or another currency."),
    )
    visits_attainment = fields.Float(
        allow_none=True, metadata=_doc("visits_completed ÷ visits_target; null for a zero target.")
    )
    months = fields.List(fields.Nested(QuotaMonthSchema), metadata=_doc("Rep rows only."))
    missing_months = fields.List(
        fields.String(), metadata=_doc("Rep rows only: months of the period without a quota.")
    )


class CurrencyTotalSchema(Schema):
    orders = fields.Integer()
    revenue = fields.String()


class KpiRowSchema(Schema):
    visits_planned = fields.Integer(
        metadata=_doc("Visits (not deleted) with planned_at in the period, any status.")
    )
    visits_planned_completed = fields.Integer(metadata=_doc("Of those, completed."))
    visits_missed = fields.Integer(
        metadata=_doc(
            "Of those, status missed, or still planned/in progress after their local day ended."
        )
    )
    visits_cancelled = fields.Integer(metadata=_doc("Of those, cancelled."))
    visits_upcoming = fields.Integer(
        metadata=_doc("Of those, still planned/in progress for today or later (not yet due).")
    )
    plan_adherence = fields.Float(
        allow_none=True,
        metadata=_doc("visits_planned_completed ÷ (visits_planned − visits_upcoming)."),
    )
    visits_completed = fields.Integer(
        metadata=_doc(
            "Completed visits whose check-in (else planned time) is in the period, planned or not."
        )
    )
    verified_check_in_rate = fields.Float(
        allow_none=True,
        metadata=_doc(
            "Completed visits with location_status verified ÷ completed visits with a check-in."
        ),
    )
    orders = fields.Integer(
        metadata=_doc(
            "Submitted orders (not draft, cancelled or deleted) submitted in the period, "
            "in `currency`."
        )
    )
    revenue = fields.String(metadata=_doc("Exact sum of those orders' totals (decimal string)."))
    average_order_value = fields.String(
        allow_none=True,
        metadata=_doc("revenue ÷ orders, half-up to the cent; null without orders."),
    )
    conversion_rate = fields.Float(
        allow_none=True,
        metadata=_doc(
            "Completed visits with ≥ 1 submitted order linked by visit_id ÷ visits_completed."
        ),
    )
    other_currencies = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(CurrencyTotalSchema),
        metadata=_doc("Submitted orders in other currencies, never added to revenue; usually {}."),
    )
    customers_responsible = fields.Integer(
        metadata=_doc(
            "Active and prospect customers owned by the rep (current owner), created before as_of."
        )
    )
    customers_covered = fields.Integer(
        metadata=_doc(
            "Of those, with a completed visit (by anyone) within visit_every_days before as_of."
        )
    )
    coverage = fields.Float(
        allow_none=True, metadata=_doc("customers_covered ÷ customers_responsible.")
    )
    overdue_total = fields.Integer(metadata=_doc("customers_responsible − customers_covered."))
    overdue_customers = fields.List(
        fields.Nested(OverdueCustomerSchema),
        metadata=_doc("Never visited first, then most overdue; at most `overdue_limit`."),
    )
    new_customers = fields.Integer(
        metadata=_doc("Customers (any status) owned by the rep, created in the period.")
    )
    quota = fields.Nested(
        QuotaAttainmentSchema,
        allow_none=True,
        metadata=_doc("Null when no month of the period has a quota."),
    )


class KpiRepSchema(KpiRowSchema):
    rep_id = fields.UUID(required=True)
    name = fields.String(required=True)
    team_id = fields.UUID(allow_none=True)


class KpiTeamSchema(KpiRowSchema):
    team_id = fields.UUID(allow_none=True)
    name = fields.String(allow_none=True)
    reps = fields.Integer(metadata=_doc("Reps in the row."))


class KpiPeriodSchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    timezone = fields.String(metadata={"example": "Asia/Ho_Chi_Minh"})
    days = fields.Integer()
    as_of = UTCDateTime(metadata=_doc("Coverage is measured here: the period end, or now."))


class TrendWeekSchema(Schema):
    week_start = fields.Date(metadata=_doc("Monday of the ISO week."))
    from_ = fields.Date(
        data_key="from", metadata=_doc("First day counted (weeks are clipped to the period).")
    )
    to = fields.Date()
    visits_completed = fields.Integer()
    orders = fields.Integer()
    revenue = fields.String()


class KpiReportSchema(Schema):
    period = fields.Nested(KpiPeriodSchema)
    currency = fields.String()
    team = fields.Nested(KpiTeamSchema, metadata=_doc("All listed reps together."))
    teams = fields.List(fields.Nested(KpiTeamSchema), metadata=_doc("One row per team."))
    reps = fields.List(fields.Nested(KpiRepSchema), metadata=_doc("One row per rep, by name."))
    trend = fields.List(fields.Nested(TrendWeekSchema))


class QuotaQuerySchema(Schema):
    month = fields.String(validate=validate.Length(max=20), metadata=_doc("YYYY-MM"))
    team_id = fields.UUID()
    rep_id = fields.UUID()


class QuotaBodySchema(Schema):
    revenue_target = ExactDecimal(
        required=True,
        as_string=True,
        places=2,
        validate=validate.Range(min=0, max=MAX_REVENUE_TARGET),
        metadata={"description": "Decimal string, at most 2 places.", "example": "150000000.00"},
    )
    visits_target = fields.Integer(
        required=True, strict=True, validate=validate.Range(0, MAX_VISITS_TARGET)
    )
    currency = fields.String(load_default="VND", validate=CURRENCY)


class QuotaSchema(Schema):
    rep_id = fields.UUID(required=True)
    month = fields.String(required=True, metadata={"example": "2026-11"})
    revenue_target = fields.String(required=True)
    visits_target = fields.Integer(required=True)
    currency = fields.String(required=True)
    updated_at = fields.String(metadata={"format": "date-time"})
    updated_by = fields.UUID(allow_none=True)


class QuotaListSchema(Schema):
    items = fields.List(fields.Nested(QuotaSchema), required=True)
