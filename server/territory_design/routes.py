"""Territory design endpoints: assignment by polygon, bulk reassignment, the balancer.

Thin HTTP around `service`: parse, call, commit once, serialise.
Only managers (for their own teams) and admins; reps get 403, a team outside
the caller's scope is 404.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.guard import store
from ..errors import documented_errors
from ..extensions import db
from ..fairness import heavy_view
from . import service
from .schemas import (
    ApplyProposalRequestSchema,
    AssignmentAppliedSchema,
    AssignmentApplyRequestSchema,
    AssignmentPreviewSchema,
    ProposalAppliedSchema,
    ProposalRequestSchema,
    ProposalSchema,
    ReassignRequestSchema,
    ReassignResultSchema,
    TeamRequestSchema,
)

blp = Blueprint(
    "territory_design",
    __name__,
    url_prefix="/api/v1",
    description="Territory design for managers: assign customers by polygon (preview, then "
    "apply), reassign in bulk, and balance workload across k compact territories.",
)

_errors = documented_errors(blp, 401, 403, 404, 422)


@blp.route("/territory-assignments/preview")
class AssignmentPreview(MethodView):
    @blp.arguments(TeamRequestSchema)
    @blp.response(200, AssignmentPreviewSchema)
    @_errors
    def post(self, args):
        """Which customers of the team would move to the territory whose polygon holds them.

        Nothing is written. A point on an edge shared by several polygons goes to the
        territory with the smallest id (as text); located customers in no polygon are
        listed in `outside` and keep their territory; `digest` names this set of moves.
        """
        return service.preview_assignment(db.session, store().scope, args["team_id"])


@blp.route("/territory-assignments")
class AssignmentApply(MethodView):
    @blp.arguments(AssignmentApplyRequestSchema)
    @blp.response(200, AssignmentAppliedSchema)
    @blp.alt_response(409, response="CONFLICT")
    @_errors
    def post(self, args):
        """Apply exactly the moves of the preview, in one transaction.

        With `digest`, 409 `preview_outdated` if the preview is no longer the one
        seen. Phones of reps who lose a customer get `remove` on their next pull.
        """
        result = service.apply_assignment(store(), args["team_id"], args.get("digest"))
        db.session.commit()
        return result


@blp.route("/customers/reassign")
class Reassign(MethodView):
    @blp.arguments(ReassignRequestSchema)
    @blp.response(200, ReassignResultSchema)
    @_errors
    def post(self, args):
        """Move up to 1,000 customers to a territory and/or owner: all of them or none.

        404 if any customer is missing or not visible to you (none is named); the
        territory must be one of your teams'.
        """
        values = {f: args[f] for f in ("territory_id", "owner_id") if f in args}
        result = service.reassign(store(), args["customer_ids"], values)
        db.session.commit()
        return result


@blp.route("/territory-balancer/proposals")
class BalancerProposals(MethodView):
    @heavy_view(blp)
    @blp.arguments(ProposalRequestSchema)
    @blp.response(200, ProposalSchema)
    @_errors
    def post(self, args):
        """Today's territories and k proposed compact ones of balanced workload, side by side.

        Workload (minutes a month) = Σ visits a month × (visit minutes + drive from the
        nearest other customer); imbalance = max / min workload; compactness =
        Polsby–Popper score of the convex hull of the customers (1 = circle). Nothing
        is written; send the proposal (optionally edited) to `/territory-balancer/apply`.
        """
        return service.propose(db.session, store().scope, args["team_id"], args.get("k"))


@blp.route("/territory-balancer/apply")
class BalancerApply(MethodView):
    @blp.arguments(ApplyProposalRequestSchema)
    @blp.response(200, ProposalAppliedSchema)
    @_errors
    def post(self, args):
        """Write a proposal: polygons and customer moves, in one transaction.

        Territories given by `territory_id` are reused (polygon, and name if given), the
        others are created. Every customer of the team must appear exactly once.
        Territories not named keep their polygon; new territories have no reps until you
        assign them.
        """
        result = service.apply_proposal(store(), args["team_id"], args["territories"])
        db.session.commit()
        return result
