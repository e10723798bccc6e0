"""`/api/v1/location-reviews`: customer locations that wait for a manager."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from domain.schemas import CustomerSchema

from ..auth.guard import store
from ..errors import documented_errors
from ..extensions import db
from . import service
from .schemas import WaitingSchema

blp = Blueprint(
    "location_reviews",
    __name__,
    url_prefix="/api/v1/location-reviews",
    description="Customer locations proposed in the field, approved or rejected by a manager.",
)
#: What approving or rejecting may answer besides the customer.
_decision_errors = documented_errors(blp, 401, 403, 404, 409)


@blp.route("")
class Waiting(MethodView):
    @blp.response(200, WaitingSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self):
        """Customers whose location waits for approval: a rep's proposed move
        (`proposed_lat`/`proposed_lon`) or a customer a rep created in the field
        (`location_approved: false`). Reps see their own proposals."""
        return {"items": service.waiting(store())}


@blp.route("/<uuid:customer_id>/approve", methods=["POST"])
@blp.response(200, CustomerSchema)
@_decision_errors
def approve(customer_id):
    """Approve: the proposed location becomes the customer's (or, for a customer created
    in the field, where it is); check-ins are verified against it from now on."""
    customer = service.approve(store(), customer_id)
    db.session.commit()
    return customer


@blp.route("/<uuid:customer_id>/reject", methods=["POST"])
@blp.response(200, CustomerSchema)
@_decision_errors
def reject(customer_id):
    """Reject a proposed move: the customer stays where it is."""
    customer = service.reject(store(), customer_id)
    db.session.commit()
    return customer
