"""`/api/v1/kpis` and `/api/v1/quotas`: team and rep KPIs, and the monthly targets behind them.

Thin HTTP around `service` (reading) and `domain.kpis` (meaning).
"""

from __future__ import annotations

from flask import current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from domain import periods
from domain.times import utc_now
from sync import Invalid

from ..auth.guard import store
from ..config import section
from ..errors import documented_errors
from ..extensions import db
from ..fairness import heavy_view
from ..route_plans.settings import RoutingSettings
from . import service
from .schemas import (
    KpiQuerySchema,
    KpiReportSchema,
    QuotaBodySchema,
    QuotaListSchema,
    QuotaQuerySchema,
    QuotaSchema,
)

blp = Blueprint(
    "kpis",
    __name__,
    url_prefix="/api/v1",
    description="Sales KPIs per rep and team, with a weekly trend; monthly quotas per rep.",
)

_errors = documented_errors(blp, 401, 403, 404, 422)


def _month(text: str | None, field_name: str = "month"):
    if text is None:
        return None
    try:
        return periods.parse_month(text)
    except ValueError as exc:
        raise Invalid({field_name: [str(exc)]}) from exc


@blp.route("/kpis")
class Kpis(MethodView):
    @heavy_view(blp)
    @blp.arguments(KpiQuerySchema, location="query")
    @blp.response(200, KpiReportSchema)
    @_errors
    def get(self, args):
        """Visits, orders, revenue, coverage and quota attainment per rep and team.

        Scope: a rep sees themselves; a manager the reps of their teams (`team_id`
        must be one of them); an admin every rep; anything else is 404.
        Days are local days in the service's time zone; a period is
        `[from 00:00, to + 1 day 00:00)`. Visits and orders count for their `rep_id`.

        - `visits_planned`: visits with planned_at in the period (any status) =
          planned_completed + missed + cancelled + upcoming.
        - `visits_missed`: planned in the period, status missed, or still planned / in
          progress after their local day ended.
        - `plan_adherence`: visits_planned_completed ÷ (visits_planned − visits_upcoming).
        - `visits_completed`: completed visits with check-in (else planned) time in the period.
        - `verified_check_in_rate`: verified check-ins ÷ completed visits with a check-in.
        - `orders` / `revenue`: submitted orders (drafts and cancelled excluded) by
          submitted_at in the period, in `currency`; exact decimal sum of `total`.
        - `average_order_value`: revenue ÷ orders, half-up to the cent; null without orders.
        - `conversion_rate`: completed visits with ≥ 1 submitted order (by visit_id) ÷
          visits_completed.
        - `coverage`: owned active/prospect customers seen (a completed visit by anyone)
          within visit_every_days before `as_of` (the period end, or now) ÷ those customers.
        - `overdue_customers`: the rest, never seen first, then most overdue; capped at
          `overdue_limit`, with `overdue_total`.
        - `new_customers`: customers owned by the rep created in the period.
        - `quota`: monthly targets, prorated by days for partial months; attainment =
          revenue ÷ revenue_target, visits_completed ÷ visits_target.
        - Team rows: sums and ratios of sums; their quota counts reps with a quota only.
        - `trend`: each ISO week overlapping the period, clipped to it: completed
          visits, submitted orders and revenue (weeks sum to the totals).
        """
        first = args.get("from_")
        settings = section(RoutingSettings, current_app.config)
        now = utc_now()
        try:
            period = periods.parse_period(
                args.get("period"),
                first,
                args.get("to"),
                now.astimezone(settings.zone).date(),
                settings.zone,
            )
        except periods.PeriodError as exc:
            raise Invalid({exc.field: [exc.message]}) from exc
        scope = store().scope
        reps = service.reps_in_scope(db.session, scope, args.get("team_id"), args.get("rep_id"))
        body = service.report(
            db.session,
            reps,
            period,
            now,
            currency=args["currency"],
            team_id=args.get("team_id"),
            overdue_limit=args["overdue_limit"],
        )
        # jsonify directly: the schema documents the shape, dumping it again only costs time.
        return jsonify(body)


@blp.route("/quotas")
class Quotas(MethodView):
    @blp.arguments(QuotaQuerySchema, location="query")
    @blp.response(200, QuotaListSchema)
    @_errors
    def get(self, args):
        """Monthly quotas of the reps you may see (a rep: their own), by month then rep name."""
        month = _month(args.get("month"))
        items = service.list_quotas(
            db.session, store().scope, month, args.get("team_id"), args.get("rep_id")
        )
        return {"items": items}


@blp.route("/quotas/<uuid:rep_id>/<month>")
class QuotaItem(MethodView):
    @blp.arguments(QuotaBodySchema)
    @blp.response(200, QuotaSchema)
    @_errors
    def put(self, body, rep_id, month):
        """Set a rep's targets for a month (`YYYY-MM`): managers for their teams' reps, admins
        for any; reps get 403. Revenue is a decimal string ≥ 0 with at most 2 places; visits
        0–5000."""
        first = _month(month)
        quota, _ = service.put_quota(db.session, store().scope, rep_id, first, body, utc_now())
        db.session.commit()
        return service.quota_json(quota)

    @blp.response(204)
    @_errors
    def delete(self, rep_id, month):
        """Remove a rep's quota for a month (managers and admins)."""
        first = _month(month)
        service.delete_quota(db.session, store().scope, rep_id, first)
        db.session.commit()
